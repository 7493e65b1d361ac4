// The node state machine. See node.h for the contract; the gossip protocol is DESIGN.md's
// (pull then push) and Babble's (a node creates an event after each sync that brought it something
// or when it has something to pack).
#include "engine/node.h"

#include <exception>

#include "engine/node_impl.h"

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

Node::Node(NodeConfig config, Store& store, AppProxy& app)
    : impl_(std::make_unique<Impl>(std::move(config), store, app)) {
  if (impl_->cfg.bootstrap) {
    store.begin_batch();
    impl_->bootstrap();
    store.end_batch();
  }
  impl_->initial_state();  // Joining when the trusted schedule's newest set lacks this node
  CHATTER_INVARIANT(impl_->cfg.snapshot_chunk_size > 0);
  if (impl_->state == NodeState::kCatchingUp) {
    impl_->stats.catch_up_status = "starting with fast-sync";
    ++impl_->stats.fast_forwards_started;
    store.begin_batch();
    impl_->resume_transfer();  // a transfer interrupted by a crash or a restart goes on
    store.end_batch();
  }
  impl_->app.on_state_changed(impl_->state);
}

Node::~Node() = default;

// One store batch per call (see node.h, "Batches").
struct BatchScope {
  explicit BatchScope(Store& s) : store(s), exceptions(std::uncaught_exceptions()) { store.begin_batch(); }
  // A store failure at the end of the batch is an environment failure: it propagates to the host
  // (unless an exception is already on its way).
  ~BatchScope() noexcept(false) {
    if (std::uncaught_exceptions() > exceptions) {
      try {
        store.end_batch();
      } catch (...) {
      }
      return;
    }
    store.end_batch();
  }
  Store& store;
  int exceptions;
};

// Fast-forward metrics (NodeStats::fast_forwards_started, fast_forward_refusals_by_reason), counted
// per call from what the CatchingUp code records: an entry into CatchingUp, and each new refusal
// under the reason of its sentence (a call refuses at most one answer: one target at a time).
// Kept here so that node_fastforward.cpp stays the one place that decides.
struct FastForwardTally {
  explicit FastForwardTally(NodeStats& s, const NodeState& st)
      : stats(s), state(st), before(st), refusals(s.fast_forward_refusals) {}
  ~FastForwardTally() {
    if (state == NodeState::kCatchingUp && before != NodeState::kCatchingUp) ++stats.fast_forwards_started;
    if (stats.fast_forward_refusals > refusals) {
      // The sentence is "peer N: reason".
      const auto reason = classify_fast_forward_refusal(stats.last_fast_forward_error);
      stats.fast_forward_refusals_by_reason[static_cast<std::size_t>(reason)] +=
          stats.fast_forward_refusals - refusals;
    }
  }
  FastForwardTally(const FastForwardTally&) = delete;
  FastForwardTally& operator=(const FastForwardTally&) = delete;
  NodeStats& stats;
  const NodeState& state;
  NodeState before;
  std::uint64_t refusals;
};

namespace {

// Answers produced while committing (JoinResponses) go out with the call's own messages; then the
// membership transitions (Suspended, Shutdown after leaving) that the call's consensus caused.
std::vector<Envelope> finish_call(Node::Impl& m, std::vector<Envelope> out, std::int64_t now) {
  m.check_membership(now);
  if (!m.outbox.empty()) {
    for (Envelope& e : m.outbox) out.push_back(std::move(e));
    m.outbox.clear();
  }
  return out;
}

}  // namespace

std::vector<Envelope> Node::tick(std::int64_t now) {
  Impl& m = *impl_;
  BatchScope batch(m.store);
  FastForwardTally tally(m.stats, m.state);
  m.last_now = std::max(m.last_now, now);
  return finish_call(m, tick_body(now), now);
}

std::vector<Envelope> Node::tick_body(std::int64_t now) {
  Impl& m = *impl_;
  std::vector<Envelope> out;
  if (m.state == NodeState::kCatchingUp) return m.catch_up_tick(now);
  if (m.state == NodeState::kJoining) {
    m.join_tick(now, out);
    return out;
  }
  if (m.state != NodeState::kBabbling && m.state != NodeState::kLeaving && m.state != NodeState::kSuspended) return out;
  if (!m.uncommitted.empty() || !m.recommit.empty() || m.pending_restore) {
    m.commit_pending();
    if (m.receipts_applied) m.advance();
  }
  if (m.in_flight && now >= m.in_flight->deadline) {
    // An unanswered peer is left aside for a while (doubling up to kMaxBackoff) so that a node that
    // is down does not cost every gossip round that picks it a whole timeout.
    auto& b = m.backoff[m.in_flight->peer];
    b.period = b.period == 0 ? 5 * m.cfg.timeout_ns : std::min(2 * b.period, Impl::kMaxBackoffNs);
    b.until = now + b.period;
    m.in_flight.reset();
    ++m.stats.sync_errors;
  }
  if (now < m.next_heartbeat) return out;
  if (m.peers.empty()) {
    // Alone: create events on our own while there is something to reach consensus on.
    if (m.may_create_events() && (m.busy() || !m.graph->last_event_of(m.my_key))) {
      m.create_event(std::nullopt, now);
      m.advance();
    }
    m.schedule_heartbeat(now);
    return out;
  }
  m.schedule_heartbeat(now);
  if (m.in_flight) return out;
  // A random peer other than the last one (when there is a choice) among those not backing off
  // after a timeout; else the last one again if it is not backing off; else the peer whose backoff
  // ends soonest (not the last one when there is a choice), so that a node whose peers all timed
  // out, after a partition say, does not wait on one picked at random.
  std::vector<std::uint32_t> choice;
  auto backoff_until = [&](std::uint32_t p) -> std::int64_t {
    const auto b = m.backoff.find(p);
    return b == m.backoff.end() ? 0 : b->second.until;
  };
  for (auto p : m.peers)
    if (!(m.peers.size() > 1 && p == m.last_peer) && backoff_until(p) <= now) choice.push_back(p);
  if (choice.empty() && m.last_peer && backoff_until(*m.last_peer) <= now) choice.push_back(*m.last_peer);
  if (choice.empty()) {
    std::optional<std::uint32_t> soonest;
    for (auto p : m.peers) {
      if (m.peers.size() > 1 && p == m.last_peer) continue;
      if (!soonest || backoff_until(p) < backoff_until(*soonest)) soonest = p;
    }
    choice.push_back(soonest ? *soonest : m.peers.front());
  }
  const std::uint32_t peer = choice[m.rng.below(choice.size())];
  m.last_peer = peer;
  m.in_flight = Impl::InFlight{peer, now + m.cfg.timeout_ns, now};
  ++m.stats.sync_requests;
  out.push_back(Envelope{peer, SyncRequest{m.my_id, m.known()}});
  return out;
}

std::vector<Envelope> Node::receive(std::uint32_t from, const Message& message, std::int64_t now) {
  Impl& m = *impl_;
  BatchScope batch(m.store);
  FastForwardTally tally(m.stats, m.state);
  m.last_now = std::max(m.last_now, now);
  if (m.state == NodeState::kShutdown) return {};
  return finish_call(m, receive_body(from, message, now), now);
}

std::vector<Envelope> Node::receive_body(std::uint32_t from, const Message& message, std::int64_t now) {
  Impl& m = *impl_;
  std::vector<Envelope> out;
  // A JoinRequest comes from a node outside the peer set by nature.
  if (const auto* join = std::get_if<JoinRequest>(&message)) {
    m.on_join_request(from, *join, out);
    return out;
  }
  if (!m.known_sender(from)) return out;  // neither in the schedule nor a contact
  if (const auto* answer = std::get_if<JoinResponse>(&message)) {
    m.on_join_response(from, *answer, now);
    return out;
  }
  // A peer backing off after a timeout that sends anything is reachable again: its wait ends (its
  // period stays, so that one timing out again waits twice as long).
  if (auto b = m.backoff.find(from); b != m.backoff.end()) b->second.until = 0;

  // Answered in every state (but Shutdown): where this node stands, and its anchor to fast-forward.
  if (std::holds_alternative<PositionRequest>(message)) {
    PositionResponse pos;
    pos.from_id = m.my_id;
    pos.anchor_index = m.stats.snapshot_anchor;
    pos.last_consensus_round = m.graph->last_consensus_round().value_or(-1);
    if (m.stats.snapshot_anchor)
      if (const Impl::ServedSnapshot* s = m.served_snapshot(*m.stats.snapshot_anchor)) pos.snapshot_hash = s->commitment;
    out.push_back(Envelope{from, pos});
    return out;
  }
  if (const auto* ff = std::get_if<FastForwardRequest>(&message)) {
    out.push_back(Envelope{from, m.serve(from, *ff, now)});
    return out;
  }
  if (const auto* chunk = std::get_if<SnapshotChunkRequest>(&message)) {
    out.push_back(Envelope{from, m.serve_chunk(from, *chunk, now)});
    return out;
  }
  if (m.state == NodeState::kCatchingUp) {
    // Gossip answers continue (from the graph as it is); pushes wait for the fast-forward.
    if (const auto* req = std::get_if<SyncRequest>(&message)) {
      SyncResponse resp;
      resp.from_id = m.my_id;
      resp.events = m.beyond(req->known, &resp.more);
      resp.known = m.known();
      out.push_back(Envelope{from, std::move(resp)});
      return out;
    }
    if (std::holds_alternative<EagerSyncRequest>(message)) {
      out.push_back(Envelope{from, EagerSyncResponse{m.my_id, false}});
      return out;
    }
    return m.catch_up_receive(from, message, now);
  }
  if (m.state == NodeState::kJoining) return out;  // nothing to gossip before the join is accepted

  if (const auto* req = std::get_if<SyncRequest>(&message)) {
    SyncResponse resp;
    resp.from_id = m.my_id;
    resp.events = m.beyond(req->known, &resp.more);
    resp.known = m.known();
    out.push_back(Envelope{from, std::move(resp)});
  } else if (const auto* resp = std::get_if<SyncResponse>(&message)) {
    if (!m.in_flight || m.in_flight->peer != from) return out;  // stale or unsolicited
    m.stats.sync_latency.record(now - m.in_flight->sent);
    m.in_flight.reset();
    m.backoff.erase(from);
    if (m.cfg.catch_up_threshold > 0 && now >= m.no_catch_up_before) {
      const std::uint64_t lacking = m.events_lacking(resp->known);
      if (lacking > m.cfg.catch_up_threshold) {
        m.enter_catching_up(now, std::to_string(lacking) + " events behind peer " + std::to_string(from) +
                                     ": fast-forwarding");
        return out;
      }
    }
    const std::size_t added = m.insert_all(resp->events) + m.handle_below_frame(now);
    if (m.state == NodeState::kCatchingUp) return out;  // re-synchronising (node_below_frame.cpp)
    // After a fast-forward this node's own later events may still be on their way back from its
    // peers: it creates none until a sync came back complete (a new one could fork its chain).
    if (!resp->more) m.tail_pending = false;
    if ((added > 0 || m.busy()) && !m.tail_pending && m.may_create_events()) m.create_event(m.head_of(from), now);
    m.advance();
    EagerSyncRequest push;
    push.from_id = m.my_id;
    push.events = m.beyond(resp->known, nullptr);
    if (!push.events.empty()) out.push_back(Envelope{from, std::move(push)});
    if (resp->more) m.next_heartbeat = now;  // more to pull: go again at once
  } else if (const auto* push = std::get_if<EagerSyncRequest>(&message)) {
    const std::uint64_t refused_before = m.stats.refused_events;
    const std::size_t added = m.insert_all(push->events) + m.handle_below_frame(now);
    if (m.state == NodeState::kCatchingUp) {
      out.push_back(Envelope{from, EagerSyncResponse{m.my_id, false}});
      return out;
    }
    if (added > 0 && !m.tail_pending && m.may_create_events()) m.create_event(m.head_of(from), now);
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

void Node::shutdown() { impl_->set_state(NodeState::kShutdown); }

NodeState Node::state() const { return impl_->state; }
std::uint32_t Node::id() const { return impl_->my_id; }
const Hashgraph& Node::graph() const { return *impl_->graph; }
std::int64_t Node::next_tick() const { return impl_->next_heartbeat; }

std::optional<std::uint64_t> Node::block_of_round(std::int64_t round_received) const {
  const auto it = impl_->recent_blocks.find(round_received);
  if (it == impl_->recent_blocks.end()) return std::nullopt;
  return it->second;
}

NodeStats Node::stats() const {
  const Impl& m = *impl_;
  NodeStats s = m.stats;
  s.state = m.state;
  s.last_consensus_round = m.graph->last_consensus_round();
  s.consensus_events = m.graph->consensus_event_count();
  s.compactions = m.compactions;
  s.undetermined_events = m.graph->undetermined_count();
  s.events = m.graph->event_count();
  s.transaction_pool = m.pool.size();
  s.num_peers = m.peers.size() + 1;
  return s;
}

}  // namespace chatter
