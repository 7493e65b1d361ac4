// The node state machine. See node.h for the contract; the gossip protocol is DESIGN.md's
// (pull then push) and Babble's (a node creates an event after each sync that brought it something
// or when it has something to pack).
#include "engine/node.h"

#include <algorithm>
#include <map>

#include "engine/invariant.h"

namespace chatter {

const char* to_string(NodeState s) {
  switch (s) {
    case NodeState::kBabbling: return "Babbling";
    case NodeState::kCatchingUp: return "CatchingUp";
    case NodeState::kJoining: return "Joining";
    case NodeState::kLeaving: return "Leaving";
    case NodeState::kShutdown: return "Shutdown";
    case NodeState::kSuspended: return "Suspended";
  }
  return "Unknown";
}

struct Node::Impl {
  Impl(NodeConfig c, Store& s, AppProxy& a)
      : cfg(std::move(c)), store(s), app(a), graph(PeerSchedule(cfg.genesis), s), rng(cfg.seed) {
    my_key = cfg.key.public_key();
    my_id = peer_id_of(my_key);
    CHATTER_INVARIANT(cfg.genesis.contains(my_key));
    for (const auto& p : cfg.genesis.peers())
      if (p.pub_key != my_key) peers.push_back(p.id());
    const auto& creators = graph.known_creators();
    for (std::size_t s = 0; s < creators.size(); ++s) slot_of_id.emplace(peer_id_of(creators[s]), s);
    stats.id = my_id;
    stats.moniker = cfg.moniker;
  }

  NodeConfig cfg;
  Store& store;
  AppProxy& app;
  Hashgraph graph;
  Rng rng;
  PublicKey my_key;
  std::uint32_t my_id = 0;
  NodeState state = NodeState::kBabbling;
  std::vector<std::uint32_t> peers;  // other validators' ids
  std::map<std::uint32_t, std::size_t> slot_of_id;

  std::deque<Bytes> pool;
  std::vector<BlockSignature> own_signatures;  // to pack into the next event
  std::deque<Block> uncommitted;               // produced by consensus, not yet committed to the app
  std::map<std::uint64_t, std::vector<BlockSignature>> early_signatures;  // for blocks not committed yet
  Hash last_block_hash;                        // of the last committed block (zero before block 0)

  std::optional<std::uint32_t> last_peer;
  struct InFlight {
    std::uint32_t peer;
    std::int64_t deadline;
  };
  std::optional<InFlight> in_flight;
  std::int64_t next_heartbeat = 0;
  std::int64_t last_now = 0;  // the latest time a call brought in
  NodeStats stats;

  static constexpr std::size_t kMaxEarlySignatureBlocks = 1024;

  bool busy() const {
    return !pool.empty() || !own_signatures.empty() || !uncommitted.empty() ||
           graph.undetermined_payload_count() > 0;
  }

  KnownIndexes known() const {
    KnownIndexes k;
    const auto idx = graph.known_indexes();
    const auto& creators = graph.known_creators();
    for (std::size_t s = 0; s < creators.size(); ++s)
      if (idx[s] >= 0) k.emplace_back(peer_id_of(creators[s]), static_cast<std::uint64_t>(idx[s]));
    std::sort(k.begin(), k.end());
    return k;
  }

  std::vector<WireEvent> beyond(const KnownIndexes& theirs, bool* more) const {
    std::vector<std::int64_t> by_slot(graph.known_creators().size(), -1);
    for (const auto& [id, index] : theirs) {
      auto it = slot_of_id.find(id);
      if (it != slot_of_id.end()) by_slot[it->second] = static_cast<std::int64_t>(index);
    }
    std::vector<WireEvent> out;
    for (const EventPtr& e : graph.events_beyond(by_slot, cfg.sync_limit, more)) {
      auto w = graph.to_wire(e->hash());
      CHATTER_INVARIANT(w.has_value());
      out.push_back(std::move(*w));
    }
    return out;
  }

  // Inserts the events in order; returns how many were new. Refusals are counted, never thrown.
  std::size_t insert_all(const std::vector<WireEvent>& events) {
    std::size_t added = 0;
    for (const WireEvent& w : events) {
      Event e;
      InsertResult r = graph.resolve_wire(w, e);
      if (r.ok()) r = graph.insert(e);
      if (r.error == InsertError::kDuplicate) continue;
      if (!r.ok()) {
        ++stats.refused_events;
        continue;
      }
      ++added;
      for (const BlockSignature& s : e.body().block_signatures)
        if (s.validator == e.creator()) take_signature(s);
    }
    return added;
  }

  std::optional<Hash> head_of(std::uint32_t peer) const {
    auto it = slot_of_id.find(peer);
    if (it == slot_of_id.end()) return std::nullopt;
    return graph.last_event_of(graph.known_creators()[it->second]);
  }

  void create_event(std::optional<Hash> other_parent, std::int64_t now) {
    EventBody b;
    b.creator = my_key;
    if (auto last = graph.last_event_of(my_key)) {
      b.self_parent = *last;
      b.index = graph.info(*last)->index + 1;
    }
    b.other_parent = other_parent;
    b.timestamp = now;
    const std::size_t n = std::min(pool.size(), cfg.max_tx_per_event);
    b.transactions.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      b.transactions.push_back(std::move(pool.front()));
      pool.pop_front();
    }
    b.block_signatures = std::move(own_signatures);
    own_signatures.clear();
    InsertResult r = graph.insert(Event::create(std::move(b), cfg.key), true);
    CHATTER_INVARIANT(r.ok());
    ++stats.events_created;
  }

  void take_signature(const BlockSignature& s) {
    if (stats.last_block_index && s.index <= *stats.last_block_index) {
      auto b = store.get_block(s.index);
      if (b && b->add_signature(s)) {
        update_anchor(*b);
        store.put_block(std::move(*b));
      }
    } else if (early_signatures.size() < kMaxEarlySignatureBlocks || early_signatures.count(s.index)) {
      auto& v = early_signatures[s.index];
      if (v.size() < 4 * cfg.genesis.size()) v.push_back(s);
    }
  }

  void update_anchor(const Block& b) {
    if (b.valid_for(graph.schedule().at(b.body().round_received)) &&
        (!stats.anchor_block || b.index() > *stats.anchor_block))
      stats.anchor_block = b.index();
  }

  // Runs consensus and commits every new block to the app, in order, never skipping one.
  void advance() {
    graph.run_consensus();
    for (Block& b : graph.take_new_blocks()) uncommitted.push_back(std::move(b));
    commit_pending();
  }

  void commit_pending() {
    while (!uncommitted.empty()) {
      Block& b = uncommitted.front();
      b.mutable_body().prev_block_hash = last_block_hash;
      CommitResponse res;
      try {
        res = app.commit_block(b);
      } catch (const AppBusy&) {
        return;  // the adapter is still waiting for the app: ask again on a later tick
      } catch (const AppError&) {
        ++stats.app_errors;
        return;  // retried on the next tick; the block stays first in line
      }
      b.mutable_body().state_hash = res.state_hash;
      b.mutable_body().internal_transaction_receipts = std::move(res.receipts);
      if (graph.schedule().at(b.body().round_received).contains(my_key)) own_signatures.push_back(b.sign(cfg.key));
      auto early = early_signatures.find(b.index());
      if (early != early_signatures.end()) {
        for (const auto& s : early->second) b.add_signature(s);
        early_signatures.erase(early);
      }
      update_anchor(b);
      last_block_hash = b.hash();
      stats.last_block_index = b.index();
      stats.transactions += b.body().transactions.size();
      stats.state_hash = b.body().state_hash;
      store.put_block(std::move(b));
      uncommitted.pop_front();
    }
  }

  void schedule_heartbeat(std::int64_t now) {
    const std::int64_t period = busy() ? cfg.heartbeat_ns : cfg.slow_heartbeat_ns;
    // +-10% jitter from the seeded generator, so nodes do not gossip in lockstep.
    next_heartbeat = now + period * static_cast<std::int64_t>(90 + rng.below(21)) / 100;
  }
};

Node::Node(NodeConfig config, Store& store, AppProxy& app)
    : impl_(std::make_unique<Impl>(std::move(config), store, app)) {
  impl_->app.on_state_changed(NodeState::kBabbling);
}

Node::~Node() = default;

std::vector<Envelope> Node::tick(std::int64_t now) {
  Impl& m = *impl_;
  std::vector<Envelope> out;
  m.last_now = std::max(m.last_now, now);
  if (m.state != NodeState::kBabbling) return out;
  if (!m.uncommitted.empty()) m.commit_pending();
  if (m.in_flight && now >= m.in_flight->deadline) {
    m.in_flight.reset();
    ++m.stats.sync_errors;
  }
  if (now < m.next_heartbeat) return out;
  if (m.peers.empty()) {
    // Alone: create events on our own while there is something to reach consensus on.
    if (m.busy() || !m.graph.last_event_of(m.my_key)) {
      m.create_event(std::nullopt, now);
      m.advance();
    }
    m.schedule_heartbeat(now);
    return out;
  }
  m.schedule_heartbeat(now);
  if (m.in_flight) return out;
  // A random peer other than the last one (when there is a choice).
  std::vector<std::uint32_t> choice;
  for (auto p : m.peers)
    if (m.peers.size() == 1 || p != m.last_peer) choice.push_back(p);
  const std::uint32_t peer = choice[m.rng.below(choice.size())];
  m.last_peer = peer;
  m.in_flight = Impl::InFlight{peer, now + m.cfg.timeout_ns};
  ++m.stats.sync_requests;
  out.push_back(Envelope{peer, SyncRequest{m.my_id, m.known()}});
  return out;
}

std::vector<Envelope> Node::receive(std::uint32_t from, const Message& message, std::int64_t now) {
  Impl& m = *impl_;
  std::vector<Envelope> out;
  m.last_now = std::max(m.last_now, now);
  if (m.state == NodeState::kShutdown) return out;
  if (std::find(m.peers.begin(), m.peers.end(), from) == m.peers.end()) return out;  // not a validator

  if (const auto* req = std::get_if<SyncRequest>(&message)) {
    SyncResponse resp;
    resp.from_id = m.my_id;
    resp.events = m.beyond(req->known, &resp.more);
    resp.known = m.known();
    out.push_back(Envelope{from, std::move(resp)});
  } else if (const auto* resp = std::get_if<SyncResponse>(&message)) {
    if (!m.in_flight || m.in_flight->peer != from) return out;  // stale or unsolicited
    m.in_flight.reset();
    const std::size_t added = m.insert_all(resp->events);
    if (added > 0 || m.busy()) m.create_event(m.head_of(from), now);
    m.advance();
    EagerSyncRequest push;
    push.from_id = m.my_id;
    push.events = m.beyond(resp->known, nullptr);
    if (!push.events.empty()) out.push_back(Envelope{from, std::move(push)});
    if (resp->more) m.next_heartbeat = now;  // more to pull: go again at once
  } else if (const auto* push = std::get_if<EagerSyncRequest>(&message)) {
    const std::uint64_t refused_before = m.stats.refused_events;
    const std::size_t added = m.insert_all(push->events);
    if (added > 0) m.create_event(m.head_of(from), now);
    m.advance();
    out.push_back(Envelope{from, EagerSyncResponse{m.my_id, m.stats.refused_events == refused_before}});
  }
  return out;
}

bool Node::submit(Bytes tx) {
  Impl& m = *impl_;
  if (m.state != NodeState::kBabbling || m.pool.size() >= m.cfg.max_pool) return false;
  // An idle node gossips slowly; work arriving makes it busy at once.
  if (m.pool.empty()) m.next_heartbeat = std::min(m.next_heartbeat, m.last_now + m.cfg.heartbeat_ns);
  m.pool.push_back(std::move(tx));
  return true;
}

void Node::shutdown() {
  if (impl_->state == NodeState::kShutdown) return;
  impl_->state = NodeState::kShutdown;
  impl_->app.on_state_changed(NodeState::kShutdown);
}

NodeState Node::state() const { return impl_->state; }
std::uint32_t Node::id() const { return impl_->my_id; }
const Hashgraph& Node::graph() const { return impl_->graph; }
std::int64_t Node::next_tick() const { return impl_->next_heartbeat; }

NodeStats Node::stats() const {
  const Impl& m = *impl_;
  NodeStats s = m.stats;
  s.state = m.state;
  s.last_consensus_round = m.graph.last_consensus_round();
  s.consensus_events = m.graph.consensus_events().size();
  s.undetermined_events = m.graph.undetermined_count();
  s.events = m.graph.event_count();
  s.transaction_pool = m.pool.size();
  s.num_peers = m.peers.size() + 1;
  return s;
}

}  // namespace chatter
