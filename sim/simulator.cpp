// The simulated network host: the event loop, the wire (encoded frames, faults, Byzantine senders)
// and the nodes' lifecycle. See simulator.h for the contract; the checks are in sim_checks.cpp.
#include "sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "engine/crypto.h"
#include "sim/sim_lies.h"
#include "sim/simulation.h"

namespace chatter {
namespace simdetail {

std::uint64_t TraceHasher::finish() {
  fold();
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | digest_.data[static_cast<std::size_t>(i)];
  return v;
}

void TraceHasher::fold() {
  Bytes b(digest_.begin(), digest_.end());
  const Bytes& d = buf_.data();
  b.insert(b.end(), d.begin(), d.end());
  digest_ = blake2b(b);
  buf_ = Writer{};
}

std::size_t VerifyCache::KeyHasher::operator()(const Key& k) const {
  std::size_t v = 0;  // the event hash is a BLAKE2b digest: any 8 of its bytes are well spread
  std::memcpy(&v, k.hash.data.data(), sizeof v);
  return v;
}

bool VerifyCache::verify(const Event& e) {
  Key k{e.hash(), e.signature(), e.creator()};
  auto it = map_.find(k);
  if (it != map_.end()) {
    ++hits;
    return it->second;
  }
  ++misses;
  const bool ok = e.verify();
  if (map_.size() >= kMaxEntries) map_.clear();
  map_.emplace(std::move(k), ok);
  return ok;
}

Simulation::Simulation(const SimOptions& o)
    : opt_(o), net_rng_(derive_seed(o.seed, kNetwork)), tx_rng_(derive_seed(o.seed, kTransactions)) {
  std::vector<Peer> peers;
  std::vector<KeyPair> keys;
  // Genesis validators, then the new nodes that join later (SimOptions::joins).
  std::size_t total = o.nodes;
  for (const SimOptions::Join& j : o.joins)
    if (j.node < 0) ++total;
  for (std::size_t i = 0; i < total; ++i) {
    keys.push_back(KeyPair::from_name("node" + std::to_string(i)));
    peers.push_back(Peer{keys.back().public_key(), "sim:" + std::to_string(i), "node" + std::to_string(i)});
  }
  genesis_ = PeerSet(std::vector<Peer>(peers.begin(), peers.begin() + static_cast<std::ptrdiff_t>(o.nodes)));
  schedule_ = PeerSchedule(genesis_);
  std::vector<std::int64_t> join_at(total, -1);
  {
    std::size_t next = o.nodes;
    for (const SimOptions::Join& j : o.joins)
      if (j.node < 0) join_at[next++] = j.at_ns;
  }
  const bool any_fault = o.faults.network() || o.faults.byzantine() || o.faults.clock_drift ||
                         o.lying_fastforward || o.crashes > 0;
  fault_until_ = o.fault_until_ns >= 0 ? o.fault_until_ns
                 : any_fault           ? o.duration_ns * 6 / 10
                                       : o.duration_ns / 2;
  const std::int64_t late_start = o.late_start_ns >= 0 ? o.late_start_ns : o.duration_ns / 4;

  // Byzantine validators: nodes 0..b-1 (b <= f, validate() checks), each behaviour on all of them,
  // or with `all` on a seeded non-empty subset of them. lying-fastforward is node 0's.
  const std::size_t f = (o.nodes - 1) / 3;
  std::size_t b = 0;
  if (o.faults.byzantine())
    b = o.byzantine >= 0 ? static_cast<std::size_t>(o.byzantine) : std::max<std::size_t>(f, 1);
  if (o.lying_fastforward) b = std::max<std::size_t>(b, 1);
  std::vector<simdetail::ByzantineBehaviours> behaviours(b);
  Rng mix(derive_seed(o.seed, kMix));
  auto spread = [&](bool on, bool simdetail::ByzantineBehaviours::*field) {
    if (!on || b == 0) return;
    const std::size_t forced = static_cast<std::size_t>(mix.below(b));
    for (std::size_t i = 0; i < b; ++i)
      behaviours[i].*field = !o.faults.mix || i == forced || mix.below(2) == 0;
  };
  spread(o.faults.bad_signature, &ByzantineBehaviours::bad_signature);
  spread(o.faults.fake_parents, &ByzantineBehaviours::fake_parents);
  spread(o.faults.replay, &ByzantineBehaviours::replay);
  spread(o.faults.oversized, &ByzantineBehaviours::oversized);
  spread(o.faults.silence, &ByzantineBehaviours::silence);
  if (o.lying_fastforward) behaviours[0].lying_fastforward = true;

  Rng drift(derive_seed(o.seed, kDrift));
  std::vector<std::uint32_t> ids;
  for (std::size_t i = 0; i < o.nodes; ++i) ids.push_back(peers[i].id());
  for (std::size_t i = 0; i < total; ++i) {
    auto n = std::make_unique<SimNode>(o.snapshot_padding);
    n->late = i < o.nodes && i + o.late_nodes >= o.nodes;
    if (n->late) n->start_ns = late_start;
    n->key = keys[i].public_key();
    if (i >= o.nodes) {
      n->joiner = true;
      n->start_ns = join_at[i];
    }
    if (static_cast<int>(i) == o.diverge_node) n->app.plant_divergence(o.diverge_from_block);
    if (o.faults.clock_drift) {
      n->clock.ppm = drift.range(-50'000, 50'000);
      n->clock.offset = drift.range(0, 2000 * kMs);
      ++result_.faults.drifting_clocks;
    }
    if (i < b)
      n->byzantine = std::make_unique<Byzantine>(i, ids, behaviours[i], o.lying_kind,
                                                 derive_seed(o.seed, kByzantineBase + i));
    NodeConfig cfg;
    cfg.key = keys[i];
    cfg.genesis = genesis_;
    cfg.moniker = "node" + std::to_string(i);
    cfg.heartbeat_ns = 10 * kMs;
    cfg.slow_heartbeat_ns = 1000 * kMs;
    cfg.timeout_ns = 1000 * kMs;
    cfg.seed = derive_seed(o.seed, kNodeBase + i);
    cfg.fast_sync = n->late;
    cfg.snapshot_interval = o.snapshot_interval;
    cfg.snapshot_bytes_per_block = o.snapshot_bytes_per_block;
    cfg.catch_up_threshold = o.catch_up_threshold;
    cfg.compact_every_rounds = o.compact_every_rounds;
    cfg.compact_keep_rounds = o.compact_keep_rounds;
    cfg.snapshot_chunk_size = o.snapshot_chunk_size;
    cfg.serve_chunk_rate = o.serve_chunk_rate;
    cfg.chunks_in_flight = o.chunks_in_flight;
    cfg.retarget_after_blocks = o.retarget_after_blocks;
    cfg.keep_snapshots = o.keep_snapshots;
    cfg.join_timeout_ns = o.join_timeout_ns;
    cfg.suspend_limit = o.suspend_limit;
    cfg.net_addr = "sim:" + std::to_string(i);
    if (o.fast_forward_timeout_ns > 0) cfg.fast_forward_timeout_ns = o.fast_forward_timeout_ns;
    if (o.shared_verify_cache)
      cfg.verify_event = [c = &verify_cache_](const Event& e) { return c->verify(e); };
    n->config = cfg;
    n->node = std::make_unique<Node>(std::move(cfg), n->store, n->app);
    n->id = n->node->id();
    index_of_id_.emplace(n->id, i);
    nodes_.push_back(std::move(n));
  }
  for (std::size_t i = 0; i < b; ++i) result_.byzantine_nodes.push_back(i);
  for (std::size_t s : o.slow_nodes) nodes_[s]->slow = true;
  if (o.faults.network())
    net_ = std::make_unique<NetworkFaults>(o, fault_until_, derive_seed(o.seed, kFaults));
  link_sent_.assign(total * total, 0);
  link_delivered_.assign(total * total, 0);
  tx_interval_ns_ = o.tx_per_s > 0 ? std::max<std::int64_t>(1, std::llround(1e9 / o.tx_per_s)) : 0;
}

SimResult Simulation::run() {
  Rng start(derive_seed(opt_.seed, kStart));
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    schedule_tick(i, nodes_[i]->start_ns + start.range(0, 10 * kMs));
  if (tx_interval_ns_ > 0 && (opt_.tx_until_ns < 0 || tx_interval_ns_ <= opt_.tx_until_ns))
    push(tx_interval_ns_, Item{Item::Kind::kSubmit, 0, 0, {}, 0});
  Rng crash_rng(derive_seed(opt_.seed, kCrashes));
  const std::size_t early = opt_.nodes - opt_.late_nodes;
  // Crashes happen in the fault window; the heal is not before the last restart.
  const std::int64_t crash_end =
      opt_.fault_until_ns >= 0 ? opt_.fault_until_ns - opt_.crash_downtime_ns : opt_.duration_ns * 6 / 10;
  result_.heal_ns = fault_until_;
  for (std::size_t k = 0; k < opt_.crashes && early > 0; ++k) {
    const std::int64_t at =
        crash_rng.range(opt_.duration_ns / 10, std::max(opt_.duration_ns / 10, crash_end));
    const auto who = static_cast<std::size_t>(crash_rng.below(early));
    push(at, Item{Item::Kind::kCrash, who, 0, {}, 0});
    result_.heal_ns = std::max(result_.heal_ns, at + opt_.crash_downtime_ns);
  }
  for (const SimOptions::PlannedCrash& c : opt_.planned_crashes) {
    if (c.node >= nodes_.size()) continue;
    Item item{Item::Kind::kCrash, c.node, 0, {}, 0};
    item.down_ns = c.down_ns;
    item.lose_in_flight = c.lose_in_flight;
    push(c.at_ns, std::move(item));
    result_.heal_ns = std::max(result_.heal_ns, c.at_ns + c.down_ns);
  }
  if (opt_.late_crash_ns >= 0 && opt_.late_nodes > 0)
    push(opt_.late_crash_ns, Item{Item::Kind::kCrash, opt_.nodes - 1, 0, {}, 0});
  for (const SimOptions::Leave& l : opt_.leaves)
    if (l.node < nodes_.size()) push(l.at_ns, Item{Item::Kind::kLeave, l.node, 0, {}, 0});
  for (const SimOptions::Join& j : opt_.joins)
    if (j.node >= 0 && static_cast<std::size_t>(j.node) < nodes_.size())
      push(j.at_ns, Item{Item::Kind::kRejoin, static_cast<std::size_t>(j.node), 0, {}, 0});
  if (net_) {
    for (const Partition& p : net_->partitions()) {
      ++result_.faults.partitions;
      if (p.end <= opt_.duration_ns) ++result_.faults.partitions_healed;
      if (!opt_.log) continue;
      *opt_.log << "partition " << (p.long_cut ? "(long cut-off) " : "") << "from t=" << p.start
                << " to t=" << p.end << ": side 1 =";
      for (std::size_t i = 0; i < p.side.size(); ++i)
        if (p.side[i]) *opt_.log << " node" << i;
      *opt_.log << "\n";
    }
  }

  while (!queue_.empty() && result_.safety_ok && result_.bounds_ok) {
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
    try {
      step(handle.mapped());
    } catch (const std::exception& e) {
      breach("node" + std::to_string(handle.mapped().node) + " threw: " + e.what());
    }
  }
  if (!stopped_early_ && result_.safety_ok && result_.bounds_ok) result_.virtual_ns = opt_.duration_ns;
  finish();
  return std::move(result_);
}

void Simulation::push(std::int64_t t, Item item) { queue_.emplace(Key{t, seq_++}, std::move(item)); }

void Simulation::schedule_tick(std::size_t i, std::int64_t t) {
  SimNode& n = *nodes_[i];
  if (n.pending_tick) {
    if (n.pending_tick->first == t) return;
    queue_.erase(*n.pending_tick);
  }
  const Key k{t, seq_++};
  queue_.emplace(k, Item{Item::Kind::kTick, i, 0, {}, 0});
  n.pending_tick = k;
}

void Simulation::reschedule(std::size_t i) {
  SimNode& n = *nodes_[i];
  std::int64_t t = std::max(n.clock.real(n.node->next_tick()), n.start_ns);
  if (t <= now_) t = now_ + kMs;
  schedule_tick(i, t);
}

void Simulation::note(const char* what, std::size_t from, std::size_t to) {
  Writer& t = trace_.out();
  t.u8(3);
  t.i64(now_);
  t.str(what);
  t.u32(static_cast<std::uint32_t>(from));
  t.u32(static_cast<std::uint32_t>(to));
  if (opt_.log) *opt_.log << "t=" << now_ << " " << what << " node" << from << "->node" << to << "\n";
}

void Simulation::send(std::size_t from, std::vector<Envelope> out) {
  for (Envelope& e : out) {
    auto it = index_of_id_.find(e.to);
    if (it == index_of_id_.end()) continue;  // not a simulated node: nowhere to deliver
    const std::size_t to = it->second;
    if (now_ < nodes_[to]->start_ns || nodes_[to]->down) continue;  // the node is down: the message is lost
    // lying-fastforward, the chunked-transfer kinds (sim/sim_lies.h): node 0 rewrites the message
    // itself (its positions stay honest); the other kinds are Byzantine::outgoing's.
    if (opt_.lying_fastforward && from == 0 && is_chunk_lie(opt_.lying_kind)) {
      const bool chunk = std::holds_alternative<SnapshotChunkResponse>(e.message);
      if (forge_chunked(opt_.lying_kind, e.message, nodes_[0]->store, opt_.snapshot_interval,
                        opt_.snapshot_chunk_size))
        ++(chunk ? result_.forged_chunks : result_.forged_answers);
    }
    if (to == 0 && result_.forged_chunks > 0 && std::holds_alternative<SnapshotChunkRequest>(e.message))
      ++result_.chunk_requests_to_liar_after_forgery;
    std::vector<WireFrame> frames;
    if (nodes_[from]->byzantine) {
      frames = nodes_[from]->byzantine->outgoing(to, std::move(e.message), result_.faults);
    } else {
      frames.push_back(encode_frame(e.message));
    }
    for (WireFrame& f : frames) {
      std::int64_t latency = net_rng_.range(opt_.min_latency_ns, opt_.max_latency_ns);
      if (nodes_[from]->slow || nodes_[to]->slow) latency += opt_.slow_latency_ns;
      const std::uint64_t link_seq = ++link_sent_[from * nodes_.size() + to];
      if (!net_) {
        push(now_ + latency, Item{Item::Kind::kDeliver, to, from, std::move(f), link_seq});
        continue;
      }
      const std::vector<std::int64_t> copies = net_->fate(from, to, now_, result_.faults);
      if (copies.empty()) note("lost", from, to);
      for (std::size_t c = 0; c < copies.size(); ++c) {
        WireFrame copy = c + 1 < copies.size() ? f : std::move(f);
        if (net_->maybe_corrupt(from, to, now_, copy, result_.faults)) note("corrupted", from, to);
        const std::int64_t extra = c == 0 ? 0 : net_rng_.range(opt_.min_latency_ns, opt_.max_latency_ns);
        push(now_ + latency + copies[c] + extra,
             Item{Item::Kind::kDeliver, to, from, std::move(copy), link_seq});
      }
    }
  }
}

// A frame arrives: the transport's cap and the real decoder first, as net/ does; what fails either
// is dropped and counted.
void Simulation::deliver(Item& item) {
  SimNode& n = *nodes_[item.node];
  const std::size_t link = item.from * nodes_.size() + item.node;
  if (net_ && now_ < fault_until_ && net_->cut(item.from, item.node, now_)) {
    ++result_.faults.partition_dropped;
    return note("lost in partition", item.from, item.node);
  }
  if (item.link_seq < link_delivered_[link]) ++result_.faults.overtaken;
  link_delivered_[link] = std::max(link_delivered_[link], item.link_seq);
  ++result_.messages;
  result_.message_bytes += item.frame.declared;
  const Bytes& bytes = item.frame.bytes;
  Writer& t = trace_.out();
  t.u8(1);
  t.i64(now_);
  t.u32(static_cast<std::uint32_t>(item.node));
  t.u8(bytes.empty() ? 0 : bytes[0]);
  t.u64(item.frame.declared);
  if (item.frame.declared > opt_.max_frame) {
    ++result_.faults.oversized_dropped;
    return note("oversized frame dropped", item.from, item.node);
  }
  std::optional<Message> m;
  try {
    if (bytes.empty()) throw DecodeError("empty frame");
    m = decode_payload(bytes[0], bytes.data() + 1, bytes.size() - 1);
  } catch (const DecodeError&) {
    ++result_.faults.decode_errors;
    return note("undecodable frame dropped", item.from, item.node);
  }
  if (opt_.log)
    *opt_.log << "t=" << now_ << " deliver " << to_string(type_of(*m)) << " node" << item.from << "->node"
              << item.node << " bytes=" << item.frame.declared << "\n";
  send(item.node, n.node->receive(nodes_[item.from]->id, *m, n.clock.node_time(now_)));
}

void Simulation::step(Item& item) {
  SimNode& n = *nodes_[item.node];
  if (n.down && item.kind != Item::Kind::kRestart && item.kind != Item::Kind::kSubmit) return;  // lost
  switch (item.kind) {
    case Item::Kind::kCrash:
      crash(item.node, item.down_ns >= 0 ? item.down_ns : opt_.crash_downtime_ns, item.lose_in_flight);
      return;
    case Item::Kind::kRestart:
      restart(item.node);
      break;
    case Item::Kind::kLeave:
      if (now_ < n.start_ns) return;
      n.asked_to_leave = true;
      if (opt_.log) *opt_.log << "t=" << now_ << " node" << item.node << " is asked to leave\n";
      send(item.node, n.node->leave(n.clock.node_time(now_)));
      break;
    case Item::Kind::kRejoin:
      rejoin(item.node);
      break;
    case Item::Kind::kTick:
      n.pending_tick.reset();
      ++result_.ticks;
      send(item.node, n.node->tick(n.clock.node_time(now_)));
      break;
    case Item::Kind::kDeliver:
      deliver(item);
      break;
    case Item::Kind::kSubmit:
      submit();
      if (opt_.tx_until_ns < 0 || now_ + tx_interval_ns_ <= opt_.tx_until_ns)
        push(now_ + tx_interval_ns_, Item{Item::Kind::kSubmit, 0, 0, {}, 0});
      return;  // submit() moved the target's tick if it had to; nothing can commit
  }
  reschedule(item.node);
  if (n.node->state() == NodeState::kShutdown && !n.pool_lost) {
    // A node that left (or stopped) takes its pool with it: those transactions are not expected.
    n.pool_lost = true;
    for (std::size_t seq = 0; seq < tx_block_.size(); ++seq)
      if (tx_target_[seq] == item.node && tx_block_[seq] == kNone) tx_block_[seq] = kLost;
    if (opt_.log) *opt_.log << "t=" << now_ << " node" << item.node << " shuts down: " << n.node->stats().membership_status << "\n";
  }
  if (n.late && n.babbling_ns < 0 && n.node->state() == NodeState::kBabbling) n.babbling_ns = now_;
  if (n.late && !n.first_target) n.first_target = n.node->stats().catch_up_target_block;
  if (honest(item.node)) check_commits(item.node);
  check_bounds(item.node);
  trace_.maybe_fold();
}

// Fault crash: the node and its app are gone; the store survives.
void Simulation::crash(std::size_t i, std::int64_t down_ns, bool lose_in_flight) {
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
  if (lose_in_flight)
    for (auto it = queue_.begin(); it != queue_.end();)
      it = it->second.kind == Item::Kind::kDeliver && it->second.from == i ? queue_.erase(it) : std::next(it);
  {
    const NodeStats s = n.node->stats();
    n.past_older_frame_rebuilds += (s.bootstrap_replayed_rounds > 0 ? 1 : 0) + s.graph_deepened;
    n.past_parent_below_frame += s.parent_below_frame;
  }
  n.node.reset();
  n.down = true;
  ++n.crashes;
  ++result_.faults.crashes;
  if (opt_.log) *opt_.log << "t=" << now_ << " node" << i << " crashes\n";
  push(now_ + down_ns, Item{Item::Kind::kRestart, i, 0, {}, 0});
}

void Simulation::restart(std::size_t i) {
  SimNode& n = *nodes_[i];
  n.app = SimApp(opt_.snapshot_padding);
  if (static_cast<int>(i) == opt_.diverge_node) n.app.plant_divergence(opt_.diverge_from_block);
  NodeConfig cfg = n.config;
  // A late node that had not caught up yet starts with fast-sync again (its store kept).
  const bool catching_up = n.late && n.babbling_ns < 0;
  cfg.bootstrap = !catching_up;
  cfg.fast_sync = catching_up;
  cfg.seed = derive_seed(opt_.seed, kNodeBase + 1000 * (n.crashes + 1) + i);
  n.down = false;
  n.fast_forwards_seen = 0;
  ++result_.faults.restarts;
  n.node = std::make_unique<Node>(cfg, n.store, n.app);
  if (opt_.log) *opt_.log << "t=" << now_ << " node" << i << " restarts from its store\n";
}

// SimOptions::joins with a node: a node that left restarts from its store (which shows it outside
// the newest set: it starts in Joining) with a fresh application, and asks to join again.
void Simulation::rejoin(std::size_t i) {
  SimNode& n = *nodes_[i];
  if (n.down || !n.node || n.node->state() != NodeState::kShutdown) return;  // only a node that left
  n.node.reset();
  n.app = SimApp(opt_.snapshot_padding);
  NodeConfig cfg = n.config;
  cfg.bootstrap = true;
  cfg.fast_sync = false;
  cfg.seed = derive_seed(opt_.seed, kNodeBase + 1000 * (n.crashes + 7) + i);
  n.fast_forwards_seen = 0;
  n.joiner = true;
  n.asked_to_leave = false;
  n.pool_lost = false;
  n.node = std::make_unique<Node>(cfg, n.store, n.app);
  if (opt_.log) *opt_.log << "t=" << now_ << " node" << i << " restarts from its store to join again\n";
}

void Simulation::submit() {
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
  } else {
    if (!honest(target)) tx_block_.back() = kLost;  // a Byzantine node need not pass it on
    // Work arriving makes an idle node busy at once (Node::submit moves its heartbeat earlier): its
    // next tick moves too, as the runtime's timer would (net/runtime.cpp wakes within 50 ms).
    reschedule(target);
  }
}

}  // namespace simdetail

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
  const std::size_t f = (o.nodes - 1) / 3;
  if ((o.faults.byzantine() || o.lying_fastforward) && f == 0 && (o.faults.byzantine() || o.byzantine > 0))
    bad("Byzantine faults need at least 4 nodes (n >= 3f + 1 with f >= 1)");
  if (o.byzantine > static_cast<int>(f))
    bad("at most f = " + std::to_string(f) + " of " + std::to_string(o.nodes) +
        " validators may be Byzantine");
  if (o.fault_until_ns < -1 || o.fault_until_ns > o.duration_ns)
    bad("the fault window must end within the run (or be -1 for the default)");
  if (o.liveness_bound_ns < -1 || o.liveness_bound_ns == 0) bad("the liveness bound must be positive");
  if (o.liveness_bound_ns > 0 && o.fault_until_ns >= 0 &&
      o.fault_until_ns + o.liveness_bound_ns > o.duration_ns)
    bad("the fault window plus the liveness bound must fit in the run");
  if (o.max_frame == 0) bad("the frame cap must be positive");
  if (o.diverge_node >= static_cast<int>(o.nodes)) bad("diverge_node does not exist");
  std::size_t new_nodes = 0;
  for (const SimOptions::Join& j : o.joins) {
    if (j.at_ns < 0 || j.at_ns > o.duration_ns) bad("a join must happen within the run");
    if (j.node < 0) ++new_nodes;
  }
  for (const SimOptions::Join& j : o.joins)
    if (j.node >= static_cast<int>(o.nodes + new_nodes)) bad("a rejoining node does not exist");
  for (const SimOptions::Leave& l : o.leaves)
    if (l.node >= o.nodes + new_nodes) bad("a leaving node does not exist");
  if (new_nodes > 0 && o.faults.network())
    bad("network faults cover the genesis nodes only: they cannot be combined with joins");
  if (o.join_timeout_ns <= 0) bad("the join timeout must be positive");
}

SimResult run_simulation(const SimOptions& options) {
  validate(options);
  crypto_init();
  simdetail::Simulation sim(options);
  return sim.run();
}

}  // namespace chatter
