// The simulated network host. See simulator.h for the contract (queue order, invariants, liveness).
#include "sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "engine/crypto.h"
#include "engine/messages.h"
#include "engine/node.h"
#include "engine/rng.h"
#include "sim/sim_app.h"
#include "sim/sim_lies.h"
#include "store/inmem_store.h"

namespace chatter {
namespace {

constexpr std::int64_t kMs = 1'000'000;

// Independent generator streams from one seed, so that e.g. the transaction schedule does not shift
// when the network draws a different number of latencies.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  Rng r(seed ^ (0x9e3779b97f4a7c15ULL * (stream + 1)));
  return r.next();
}
enum Stream : std::uint64_t { kNetwork = 1, kTransactions = 2, kStart = 3, kLies = 4, kCrashes = 5, kNodeBase = 100 };

// Hash of a long sequence of records without holding it: records are appended to a buffer that is
// folded into a running BLAKE2b-256 chain (digest = H(digest || buffer)) every 64 KiB and at the end.
class TraceHasher {
 public:
  Writer& out() { return buf_; }
  void maybe_fold() {
    if (buf_.data().size() >= (1u << 16)) fold();
  }
  std::uint64_t finish() {
    fold();
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | digest_.data[static_cast<std::size_t>(i)];
    return v;
  }

 private:
  void fold() {
    Bytes b(digest_.begin(), digest_.end());
    const Bytes& d = buf_.data();
    b.insert(b.end(), d.begin(), d.end());
    digest_ = blake2b(b);
    buf_ = Writer{};
  }
  Writer buf_;
  Hash digest_;
};

using Key = std::pair<std::int64_t, std::uint64_t>;  // (virtual time, insertion sequence)

struct Item {
  enum class Kind { kTick, kDeliver, kSubmit, kCrash, kRestart } kind = Kind::kTick;
  std::size_t node = 0;  // the node that acts
  std::size_t from = 0;  // deliveries: the sender
  Message message;
  std::size_t size = 0;  // deliveries: encoded payload bytes
};

struct SimNode {
  explicit SimNode(std::size_t padding) : app(padding) {}
  InmemStore store;
  SimApp app;
  std::int64_t start_ns = 0;  // down (messages lost, no ticks) before this
  bool late = false;
  bool down = false;          // crashed, not restarted yet
  std::uint64_t crashes = 0;
  NodeConfig config;          // to restart it
  std::int64_t babbling_ns = -1;
  std::unique_ptr<Node> node;
  std::uint32_t id = 0;
  bool slow = false;
  std::optional<std::uint64_t> seen_last;  // last block index already checked
  std::optional<Key> pending_tick;
  std::int64_t last_commit_ns = -1;
  std::vector<Hash> block_hashes;
  std::optional<std::uint64_t> first_target;  // the first chunked-transfer target seen
};

struct GlobalBlock {
  Hash hash;
  Bytes state_hash;
  std::size_t first_node = 0;
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& o)
      : opt_(o), net_rng_(derive_seed(o.seed, kNetwork)), tx_rng_(derive_seed(o.seed, kTransactions)),
        lie_rng_(derive_seed(o.seed, kLies)) {
    std::vector<Peer> peers;
    std::vector<KeyPair> keys;
    for (std::size_t i = 0; i < o.nodes; ++i) {
      keys.push_back(KeyPair::from_name("node" + std::to_string(i)));
      peers.push_back(Peer{keys.back().public_key(), "sim:" + std::to_string(i), "node" + std::to_string(i)});
    }
    const PeerSet genesis(peers);
    const std::int64_t late_start = o.late_start_ns >= 0 ? o.late_start_ns : o.duration_ns / 4;
    for (std::size_t i = 0; i < o.nodes; ++i) {
      auto n = std::make_unique<SimNode>(o.snapshot_padding);
      n->late = i + o.late_nodes >= o.nodes;
      if (n->late) n->start_ns = late_start;
      NodeConfig cfg;
      cfg.key = keys[i];
      cfg.genesis = genesis;
      cfg.moniker = "node" + std::to_string(i);
      cfg.heartbeat_ns = 10 * kMs;
      cfg.slow_heartbeat_ns = 1000 * kMs;
      cfg.timeout_ns = 1000 * kMs;
      cfg.seed = derive_seed(o.seed, kNodeBase + i);
      cfg.fast_sync = n->late;
      cfg.snapshot_interval = o.snapshot_interval;
      cfg.catch_up_threshold = o.catch_up_threshold;
      cfg.compact_every_rounds = o.compact_every_rounds;
      cfg.compact_keep_rounds = o.compact_keep_rounds;
      cfg.snapshot_chunk_size = o.snapshot_chunk_size;
      cfg.serve_chunk_rate = o.serve_chunk_rate;
      cfg.chunks_in_flight = o.chunks_in_flight;
      cfg.retarget_after_blocks = o.retarget_after_blocks;
      cfg.keep_snapshots = o.keep_snapshots;
      n->config = cfg;
      n->node = std::make_unique<Node>(std::move(cfg), n->store, n->app);
      n->id = n->node->id();
      index_of_id_.emplace(n->id, i);
      nodes_.push_back(std::move(n));
    }
    for (std::size_t s : o.slow_nodes) nodes_[s]->slow = true;
    tx_interval_ns_ = o.tx_per_s > 0 ? std::max<std::int64_t>(1, std::llround(1e9 / o.tx_per_s)) : 0;
  }

  SimResult run() {
    Rng start(derive_seed(opt_.seed, kStart));
    for (std::size_t i = 0; i < nodes_.size(); ++i) schedule_tick(i, nodes_[i]->start_ns + start.range(0, 10 * kMs));
    if (tx_interval_ns_ > 0 && (opt_.tx_until_ns < 0 || tx_interval_ns_ <= opt_.tx_until_ns))
      push(tx_interval_ns_, Item{Item::Kind::kSubmit, 0, 0, {}, 0});
    Rng crash_rng(derive_seed(opt_.seed, kCrashes));
    const std::size_t early = nodes_.size() - opt_.late_nodes;
    for (std::size_t k = 0; k < opt_.crashes && early > 0; ++k) {
      const std::int64_t at = crash_rng.range(opt_.duration_ns / 10, opt_.duration_ns * 6 / 10);
      const auto who = static_cast<std::size_t>(crash_rng.below(early));
      push(at, Item{Item::Kind::kCrash, who, 0, {}, 0});
    }
    if (opt_.late_crash_ns >= 0 && opt_.late_nodes > 0)
      push(opt_.late_crash_ns, Item{Item::Kind::kCrash, nodes_.size() - 1, 0, {}, 0});

    while (!queue_.empty() && result_.safety_ok) {
      auto handle = queue_.extract(queue_.begin());
      const std::int64_t now = handle.key().first;
      if (now > opt_.duration_ns) break;
      if (opt_.max_deliveries > 0 && result_.messages >= opt_.max_deliveries) {
        stopped_early_ = true;
        break;
      }
      now_ = now;
      result_.virtual_ns = now;
      ++result_.events_total;
      step(handle.mapped());
    }
    if (!stopped_early_ && result_.safety_ok) result_.virtual_ns = opt_.duration_ns;
    finish();
    return std::move(result_);
  }

 private:
  void push(std::int64_t t, Item item) { queue_.emplace(Key{t, seq_++}, std::move(item)); }

  void schedule_tick(std::size_t i, std::int64_t t) {
    SimNode& n = *nodes_[i];
    if (n.pending_tick) {
      if (n.pending_tick->first == t) return;
      queue_.erase(*n.pending_tick);
    }
    const Key k{t, seq_++};
    queue_.emplace(k, Item{Item::Kind::kTick, i, 0, {}, 0});
    n.pending_tick = k;
  }

  void reschedule(std::size_t i) {
    std::int64_t t = std::max(nodes_[i]->node->next_tick(), nodes_[i]->start_ns);
    if (t <= now_) t = now_ + kMs;
    schedule_tick(i, t);
  }

  void send(std::size_t from, std::vector<Envelope> out) {
    for (Envelope& e : out) {
      auto it = index_of_id_.find(e.to);
      if (it == index_of_id_.end()) continue;  // not a simulated node: nowhere to deliver
      const std::size_t to = it->second;
      if (now_ < nodes_[to]->start_ns || nodes_[to]->down) continue;  // the node is down: the message is lost
      if (opt_.lying_fastforward && from == 0) {
        if (is_chunk_lie(opt_.lying_kind)) {
          const bool chunk = std::holds_alternative<SnapshotChunkResponse>(e.message);
          if (forge_chunked(opt_.lying_kind, e.message, nodes_[0]->store, opt_.snapshot_interval,
                            opt_.snapshot_chunk_size))
            ++(chunk ? result_.forged_chunks : result_.forged_answers);
        } else {
          lie(e.message);
        }
      }
      if (to == 0 && result_.forged_chunks > 0 && std::holds_alternative<SnapshotChunkRequest>(e.message))
        ++result_.chunk_requests_to_liar_after_forgery;
      std::int64_t latency = net_rng_.range(opt_.min_latency_ns, opt_.max_latency_ns);
      if (nodes_[from]->slow || nodes_[to]->slow) latency += opt_.slow_latency_ns;
      Writer w;
      encode_payload(e.message, w);
      const std::size_t size = w.data().size();
      push(now_ + latency, Item{Item::Kind::kDeliver, to, from, std::move(e.message), size});
    }
  }

  // Fault lying-fastforward (see SimOptions): node 0's fast-forward answers.
  void lie(Message& m) {
    if (auto* pos = std::get_if<PositionResponse>(&m)) {
      pos->anchor_index = pos->anchor_index.value_or(0) + 1000;
      return;
    }
    auto* ff = std::get_if<FastForwardResponse>(&m);
    if (!ff || !ff->ok) return;
    ++result_.forged_answers;
    const int kind = opt_.lying_kind >= 0 ? opt_.lying_kind : static_cast<int>(lie_rng_.below(7));
    switch (kind) {
      case 0: {  // too few signatures: only the liar's own
        Block b(ff->block.body());
        b.sign(KeyPair::from_name("node0"));
        ff->block = std::move(b);
        break;
      }
      case 1: {  // signatures from keys nobody trusts
        Block b(ff->block.body());
        for (int k = 0; k < 5; ++k) b.sign(KeyPair::from_name("forger" + std::to_string(k)));
        ff->block = std::move(b);
        break;
      }
      case 2: ff->frame.timestamp += 1; break;  // a frame other than the signed one
      case 3:  // wrong snapshot bytes
        if (!ff->snapshot.empty()) ff->snapshot[ff->snapshot.size() / 2] ^= 0x01;
        break;
      case 4: ff->snapshot.resize(ff->snapshot.size() / 2); break;  // truncated
      case 5: {  // a peer-set change slipped into the frame's schedule
        std::vector<Peer> ps = ff->frame.peers.peers();
        ps.push_back(Peer{KeyPair::from_name("intruder").public_key(), "sim:x", "intruder"});
        ff->frame.schedule.add(ff->frame.round + 1, PeerSet(ps));
        break;
      }
      default: {  // a block whose peers hash was altered (its signatures no longer match)
        BlockBody body = ff->block.body();
        body.peers_hash.data[0] ^= 0x01;
        Block b(std::move(body));
        for (const auto& [key, sig] : ff->block.signatures()) b.add_signature(BlockSignature{key, b.index(), sig});
        ff->block = std::move(b);
        break;
      }
    }
  }

  void step(Item& item) {
    SimNode& n = *nodes_[item.node];
    if (n.down && item.kind != Item::Kind::kRestart && item.kind != Item::Kind::kSubmit) return;  // lost
    switch (item.kind) {
      case Item::Kind::kCrash:
        crash(item.node);
        return;
      case Item::Kind::kRestart:
        restart(item.node);
        break;
      case Item::Kind::kTick:
        n.pending_tick.reset();
        ++result_.ticks;
        send(item.node, n.node->tick(now_));
        break;
      case Item::Kind::kDeliver: {
        ++result_.messages;
        result_.message_bytes += item.size;
        const MessageType type = type_of(item.message);
        Writer& t = trace_.out();
        t.u8(1);
        t.i64(now_);
        t.u32(static_cast<std::uint32_t>(item.node));
        t.u8(static_cast<std::uint8_t>(type));
        t.u64(item.size);
        if (opt_.log)
          *opt_.log << "t=" << now_ << " deliver " << to_string(type) << " node" << item.from << "->node"
                    << item.node << " bytes=" << item.size << "\n";
        send(item.node, n.node->receive(nodes_[item.from]->id, item.message, now_));
        break;
      }
      case Item::Kind::kSubmit:
        submit();
        if (opt_.tx_until_ns < 0 || now_ + tx_interval_ns_ <= opt_.tx_until_ns)
          push(now_ + tx_interval_ns_, Item{Item::Kind::kSubmit, 0, 0, {}, 0});
        return;  // the node's tick time does not change; nothing can commit
    }
    reschedule(item.node);
    if (n.late && n.babbling_ns < 0 && n.node->state() == NodeState::kBabbling) n.babbling_ns = now_;
    if (n.late && !n.first_target) n.first_target = n.node->stats().catch_up_target_block;
    check_commits(item.node);
    trace_.maybe_fold();
  }

  // Fault crash: the node and its app are gone; the store survives.
  void crash(std::size_t i) {
    SimNode& n = *nodes_[i];
    if (n.down || now_ < n.start_ns) return;  // already down: this crash is a no-op
    if (n.pending_tick) {
      queue_.erase(*n.pending_tick);
      n.pending_tick.reset();
    }
    // Transactions still in its pool (not yet in an event) die with it: the liveness check no longer
    // expects them (they stay checked for duplicates if they were in an event after all).
    for (std::size_t seq = 0; seq < tx_block_.size(); ++seq)
      if (tx_target_[seq] == i && tx_block_[seq] == kNone) tx_block_[seq] = kLost;
    n.node.reset();
    n.down = true;
    ++n.crashes;
    if (opt_.log) *opt_.log << "t=" << now_ << " node" << i << " crashes\n";
    push(now_ + opt_.crash_downtime_ns, Item{Item::Kind::kRestart, i, 0, {}, 0});
  }

  void restart(std::size_t i) {
    SimNode& n = *nodes_[i];
    n.app = SimApp(opt_.snapshot_padding);
    NodeConfig cfg = n.config;
    // A late node that had not caught up yet starts with fast-sync again (its store kept).
    const bool catching_up = n.late && n.babbling_ns < 0;
    cfg.bootstrap = !catching_up;
    cfg.fast_sync = catching_up;
    cfg.seed = derive_seed(opt_.seed, kNodeBase + 1000 * (n.crashes + 1) + i);
    n.node = std::make_unique<Node>(cfg, n.store, n.app);
    n.down = false;
    if (opt_.log) *opt_.log << "t=" << now_ << " node" << i << " restarts from its store\n";
  }

  void submit() {
    const std::uint64_t seq = result_.transactions_submitted++;
    const std::size_t target = static_cast<std::size_t>(tx_rng_.below(nodes_.size()));
    Bytes tx(opt_.tx_size);
    for (std::size_t b = 0; b < 8; ++b) tx[b] = static_cast<std::uint8_t>(seq >> (8 * b));
    for (std::size_t b = 8; b < tx.size(); ++b) tx[b] = static_cast<std::uint8_t>(tx_rng_.next());
    tx_submitted_at_.push_back(now_);
    tx_block_.push_back(kNone);
    tx_target_.push_back(target);
    if (nodes_[target]->down || !nodes_[target]->node->submit(std::move(tx))) {
      ++result_.transactions_refused;
      tx_block_.back() = kRefused;
    }
  }

  void fail(std::string what) {
    if (!result_.safety_ok) return;
    result_.safety_ok = false;
    result_.failure = "safety: " + std::move(what);
  }

  // Reads the blocks node i committed since the last check and compares them with the first copy
  // seen of each index.
  void check_commits(std::size_t i) {
    SimNode& n = *nodes_[i];
    const std::string who = "node" + std::to_string(i);
    if (!n.app.contract_violation().empty()) return fail(who + ": " + n.app.contract_violation());
    const std::optional<std::uint64_t> last = n.store.last_block_index();
    if (!last || (n.seen_last && *last <= *n.seen_last)) return;
    // A node that fast-forwarded holds blocks from the one it fast-forwarded to.
    std::uint64_t from = n.seen_last ? *n.seen_last + 1 : 0;
    if (n.node) {
      // A fast-forward skips the blocks its snapshot covers: checking resumes at its block.
      const auto ff = n.node->stats().fast_forward_block;
      if (ff && *ff > from) from = *ff;
    }
    for (std::uint64_t idx = from; idx <= *last; ++idx) {
      const std::optional<Block> b = n.store.get_block(idx);
      if (!b)
        return fail(who + " reports block " + std::to_string(*last) + " but holds no block " +
                    std::to_string(idx));
      const Hash h = b->hash();
      Writer& t = trace_.out();
      t.u8(2);
      t.i64(now_);
      t.u32(static_cast<std::uint32_t>(i));
      t.u64(idx);
      t.fixed(h);
      n.block_hashes.push_back(h);
      if (opt_.log)
        *opt_.log << "t=" << now_ << " " << who << " commits block " << idx << " " << to_hex(h) << "\n";
      if (idx < blocks_.size()) {
        const GlobalBlock& g = blocks_[idx];
        if (g.hash == h) continue;
        const BlockBody& mine = b->body();
        const std::optional<Block> theirs = nodes_[g.first_node]->store.get_block(idx);
        std::string detail = "bodies differ";
        if (g.state_hash != mine.state_hash)
          detail = "state hash " + to_hex(mine.state_hash) + " vs " + to_hex(g.state_hash);
        if (theirs && theirs->body().transactions != mine.transactions)
          detail = "transactions differ (" + std::to_string(mine.transactions.size()) + " vs " +
                   std::to_string(theirs->body().transactions.size()) + ")";
        else if (theirs && theirs->body().round_received != mine.round_received)
          detail = "round received " + std::to_string(mine.round_received) + " vs " +
                   std::to_string(theirs->body().round_received);
        return fail(who + " committed block " + std::to_string(idx) + " " + to_hex(h) + " but node" +
                    std::to_string(g.first_node) + " committed " + to_hex(g.hash) +
                    " at that index: " + detail + " (t=" + std::to_string(now_) + " ns)");
      }
      // First copy of this index: check the chain and the transactions, then record it.
      if (idx > 0 && b->body().prev_block_hash != blocks_[idx - 1].hash)
        return fail("block " + std::to_string(idx) + " of " + who + " does not link to block " +
                    std::to_string(idx - 1));
      for (const Bytes& tx : b->body().transactions) {
        if (tx.size() < 8)
          return fail("block " + std::to_string(idx) + " holds a transaction that was never submitted");
        std::uint64_t seq = 0;
        for (int k = 7; k >= 0; --k) seq = (seq << 8) | tx[static_cast<std::size_t>(k)];
        if (seq >= tx_block_.size())
          return fail("block " + std::to_string(idx) + " holds a transaction that was never submitted");
        if (tx_block_[seq] != kNone && tx_block_[seq] != kLost)
          return fail("transaction " + std::to_string(seq) + " committed twice (blocks " +
                      std::to_string(tx_block_[seq]) + " and " + std::to_string(idx) + ")");
        tx_block_[seq] = idx;
      }
      blocks_.push_back(GlobalBlock{h, b->body().state_hash, i});
    }
    n.seen_last = last;
    n.last_commit_ns = now_;
    const std::optional<Block> tip = n.store.get_block(*last);
    if (tip && tip->body().state_hash != n.app.state_hash())
      return fail(who + "'s application reports state hash " + to_hex(n.app.state_hash()) +
                  " but its block " + std::to_string(*last) + " says " + to_hex(tip->body().state_hash));
  }

  void finish() {
    result_.trace_hash = trace_.finish();
    std::uint64_t common = ~0ULL;
    for (const auto& n : nodes_) {
      const NodeStats s = n->node ? n->node->stats() : NodeStats{};
      SimNodeSummary sum;
      sum.last_block_index = n->seen_last;
      sum.blocks = n->seen_last ? *n->seen_last + 1 : 0;
      sum.transactions = n->app.committed_transactions();
      sum.events = s.events;
      sum.compactions = s.compactions;
      sum.events_created = s.events_created;
      sum.undetermined_events = s.undetermined_events;
      sum.last_consensus_round = s.last_consensus_round;
      sum.sync_requests = s.sync_requests;
      sum.sync_errors = s.sync_errors;
      sum.refused_events = s.refused_events;
      sum.app_errors = s.app_errors;
      sum.transaction_pool = s.transaction_pool;
      sum.last_commit_ns = n->last_commit_ns;
      sum.state_hash = n->app.state_hash();
      sum.block_hashes = n->block_hashes;
      sum.late = n->late;
      sum.fast_forwards = s.fast_forwards;
      sum.fast_forward_refusals = s.fast_forward_refusals;
      sum.fast_forwards_served = s.fast_forwards_served;
      sum.fast_forward_block = s.fast_forward_block;
      sum.last_fast_forward_error = s.last_fast_forward_error;
      sum.babbling_ns = n->babbling_ns;
      sum.app_restores = n->app.restores();
      sum.crashes = n->crashes;
      sum.recommitted_blocks = s.recommitted_blocks;
      sum.app_nondeterminism = s.app_nondeterminism;
      sum.anchor_block = s.anchor_block;
      sum.snapshot_anchor = s.snapshot_anchor;
      sum.chunks_fetched = s.catch_up_chunks_fetched;
      sum.chunks_reused = s.catch_up_chunks_reused;
      sum.chunks_total = s.catch_up_chunks_total;
      sum.chunk_sources = s.catch_up_chunk_sources;
      sum.retargets = s.catch_up_retargets;
      sum.bad_chunks = s.catch_up_bad_chunks;
      sum.chunks_served = s.chunks_served;
      sum.first_target_block = n->first_target;
      sum.catch_up_status = s.catch_up_status;
      result_.blocks_per_node.push_back(sum.blocks);
      common = std::min(common, sum.blocks);
      result_.nodes.push_back(std::move(sum));
    }
    result_.common_blocks = nodes_.empty() ? 0 : common;
    if (result_.safety_ok && !stopped_early_) check_liveness();
    if (!result_.safety_ok || !result_.liveness_ok) result_.diagnostics = describe_nodes();
  }

  void check_liveness() {
    result_.liveness_checked = true;
    const std::int64_t mid = opt_.duration_ns / 2;
    const bool idle_second_half = opt_.tx_until_ns >= 0 && opt_.tx_until_ns < mid;
    for (std::size_t i = 0; i < nodes_.size() && !idle_second_half; ++i) {
      if (result_.nodes[i].last_commit_ns <= mid) {
        result_.liveness_ok = false;
        result_.failure = "liveness: node" + std::to_string(i) + " committed no block after the midpoint (" +
                          std::to_string(mid / kMs) + " ms); its last commit was at " +
                          (result_.nodes[i].last_commit_ns < 0
                               ? std::string("never")
                               : std::to_string(result_.nodes[i].last_commit_ns / kMs) + " ms");
        return;
      }
    }
    for (std::size_t seq = 0; seq < tx_block_.size() && tx_submitted_at_[seq] <= mid; ++seq) {
      if (tx_block_[seq] == kRefused || tx_block_[seq] == kLost) continue;
      if (tx_block_[seq] == kNone || tx_block_[seq] >= result_.common_blocks) {
        result_.liveness_ok = false;
        result_.failure = "liveness: transaction " + std::to_string(seq) + " submitted at " +
                          std::to_string(tx_submitted_at_[seq] / kMs) +
                          " ms is not in a block every node committed";
        return;
      }
    }
  }

  std::string describe_nodes() const {
    std::ostringstream s;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      const SimNodeSummary& n = result_.nodes[i];
      s << "node" << i << (nodes_[i]->slow ? " (slow)" : "") << ": blocks=" << n.blocks
        << " last_commit_ms=" << (n.last_commit_ns < 0 ? -1 : n.last_commit_ns / kMs)
        << " events=" << n.events << " created=" << n.events_created
        << " undetermined=" << n.undetermined_events
        << " consensus_round=" << (n.last_consensus_round ? std::to_string(*n.last_consensus_round) : "none")
        << " pool=" << n.transaction_pool << " syncs=" << n.sync_requests << " sync_errors=" << n.sync_errors
        << " refused=" << n.refused_events << " app_errors=" << n.app_errors;
      if (n.late)
        s << " late fast_forwards=" << n.fast_forwards << " ff_block="
          << (n.fast_forward_block ? std::to_string(*n.fast_forward_block) : "none")
          << " ff_refusals=" << n.fast_forward_refusals << " ff_error=\"" << n.last_fast_forward_error << "\""
          << " state=" << to_string(nodes_[i]->node->state());
      s << "\n";
    }
    return s.str();
  }

  static constexpr std::uint64_t kNone = ~0ULL;
  static constexpr std::uint64_t kRefused = ~0ULL - 1;
  static constexpr std::uint64_t kLost = ~0ULL - 2;  // in the pool of a node that crashed

  const SimOptions& opt_;
  Rng net_rng_;
  Rng tx_rng_;
  Rng lie_rng_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::map<std::uint32_t, std::size_t> index_of_id_;
  std::map<Key, Item> queue_;
  std::uint64_t seq_ = 0;
  std::int64_t now_ = 0;
  std::int64_t tx_interval_ns_ = 0;
  bool stopped_early_ = false;
  std::vector<GlobalBlock> blocks_;            // by block index: the first copy committed
  std::vector<std::int64_t> tx_submitted_at_;  // by transaction sequence number
  std::vector<std::uint64_t> tx_block_;        // by sequence number: block index, kNone, kRefused or kLost
  std::vector<std::size_t> tx_target_;         // by sequence number: the node it was submitted to
  TraceHasher trace_;
  SimResult result_;
};

}  // namespace

void validate(const SimOptions& o) {
  auto bad = [](const std::string& what) { throw std::invalid_argument(what); };
  if (o.nodes == 0) bad("the number of nodes must be at least 1");
  if (o.nodes > 1000) bad("the number of nodes must be at most 1000");
  if (o.duration_ns <= 0) bad("the duration must be positive");
  if (o.min_latency_ns < 0 || o.max_latency_ns < o.min_latency_ns)
    bad("latencies must satisfy 0 <= min_latency <= max_latency");
  if (o.slow_latency_ns < 0) bad("the slow-node latency must not be negative");
  for (std::size_t s : o.slow_nodes)
    if (s >= o.nodes)
      bad("slow node " + std::to_string(s) + " does not exist (nodes are 0.." + std::to_string(o.nodes - 1) +
          ")");
  if (!(o.tx_per_s >= 0) || o.tx_per_s > 1e9)
    bad("the transaction rate must be between 0 and 1e9 per second");
  if (o.tx_until_ns < -1) bad("tx_until must be -1 (until the end) or a time in the run");
  if (o.late_nodes >= o.nodes) bad("at least one node must not be late");
  if (o.lying_fastforward && o.late_nodes + 1 >= o.nodes)
    bad("lying-fastforward needs an honest node besides the liar (node 0) and the late nodes");
  if (o.lying_kind > 9) bad("lying_kind must be -1 (random) or 0..9");
  if (o.snapshot_chunk_size == 0) bad("the snapshot chunk size must be positive");
  if (o.tx_size < 8) bad("transactions must be at least 8 bytes (they carry their sequence number)");
}

SimResult run_simulation(const SimOptions& options) {
  validate(options);
  crypto_init();
  Simulation sim(options);
  return sim.run();
}

}  // namespace chatter
