// Dynamic membership (issue 7): joining, leaving, suspension, and the peer lists that follow the
// schedule. See node.h ("States") for the contract; the schedule itself changes in commit_pending
// (Hashgraph::apply_receipts) and its proof travels with fast-forwards (node_fastforward.cpp).
#include <set>
#include <stdexcept>

#include "engine/node_impl.h"

namespace chatter {

namespace {

constexpr std::int64_t kMaxJoinWaitNs = 60'000'000'000;
const std::string kMembershipBlocksKey = "membership.blocks";

std::string seconds(std::int64_t ns) {
  const std::int64_t tenths = ns / 100'000'000;
  std::string s = std::to_string(tenths / 10);
  if (tenths % 10 != 0) s += "." + std::to_string(tenths % 10);
  return s + " s";
}

std::string name_of(const Peer& p) {
  return "peer " + std::to_string(p.id()) + (p.moniker.empty() ? "" : " (" + p.moniker + ")");
}

}  // namespace

std::vector<Peer> Node::Impl::contact_list() const {
  std::vector<Peer> out;
  for (const Peer& p : cfg.contacts.empty() ? cfg.genesis.peers() : cfg.contacts)
    if (p.pub_key != my_key) out.push_back(p);
  return out;
}

bool Node::Impl::is_contact(std::uint32_t id) const {
  for (const Peer& p : contact_list())
    if (p.id() == id) return true;
  for (const Peer& p : hints)
    if (p.id() == id) return true;
  return false;
}

bool Node::Impl::member_now_or_later() const {
  const PeerSchedule& s = graph->schedule();
  const std::int64_t next = graph->last_consensus_round().value_or(-1) + 1;
  if (s.at(next).contains(my_key)) return true;
  for (auto it = s.entries().upper_bound(next); it != s.entries().end(); ++it)
    if (it->second.contains(my_key)) return true;
  return false;
}

bool Node::Impl::may_create_events() const {
  return (state == NodeState::kBabbling || state == NodeState::kLeaving) && member_now_or_later();
}

void Node::Impl::refresh_peers() {
  // The validators in effect from the next round to process on, in schedule order (so that a
  // fixed genesis gives the order it always gave), then whom this node was told to ask.
  std::vector<std::uint32_t> next_peers;
  std::set<std::uint32_t> seen{my_id};
  auto add = [&](const Peer& p) {
    if (seen.insert(p.id()).second) next_peers.push_back(p.id());
  };
  const PeerSchedule& s = graph->schedule();
  const std::int64_t next = graph->last_consensus_round().value_or(-1) + 1;
  for (const Peer& p : s.at(next).peers()) add(p);
  for (auto it = s.entries().upper_bound(next); it != s.entries().end(); ++it)
    for (const Peer& p : it->second.peers()) add(p);
  if (!member_now_or_later()) {
    for (const Peer& p : hints) add(p);
    if (state == NodeState::kJoining) for (const Peer& p : contact_list()) add(p);
  }
  peers = std::move(next_peers);
}

bool Node::Impl::known_sender(std::uint32_t id) const {
  if (std::find(peers.begin(), peers.end(), id) != peers.end()) return true;
  for (const auto& [round, set] : graph->schedule().entries())
    if (set.by_id(id)) return true;
  if (is_contact(id)) return true;
  for (const auto& [key, p] : pending_joins)
    if (p.reply_to == id) return true;
  return false;
}

InternalTransaction Node::Impl::own_tx(InternalTransactionType type) const {
  InternalTransaction t;
  t.type = type;
  t.peer = Peer{my_key, cfg.net_addr, cfg.moniker};
  t.sign(cfg.key);
  return t;
}

void Node::Impl::initial_state() {
  suspend_baseline = graph->undetermined_of(my_key);
  const PeerSchedule& s = graph->schedule();
  if (std::prev(s.entries().end())->second.contains(my_key)) return;
  state = NodeState::kJoining;
  stats.membership_status = "not in the peer set: joining";
  refresh_peers();
  next_heartbeat = 0;
}

void Node::Impl::join_tick(std::int64_t now, std::vector<Envelope>& out) {
  if (joining.asked && now < joining.deadline) return;
  const std::vector<Peer> contacts = contact_list();
  if (contacts.empty()) {
    stats.membership_status = "no contact to ask to join (contacts and genesis name only this node)";
    next_heartbeat = now + cfg.join_timeout_ns;
    return;
  }
  std::string previous;
  if (joining.asked) {
    for (const Peer& p : contacts)
      if (p.id() == *joining.asked) previous = name_of(p);
    if (previous.empty()) previous = "peer " + std::to_string(*joining.asked);
    previous = "no answer from " + previous + " after " + seconds(joining.wait) + "; ";
    joining.wait = std::min(2 * joining.wait, kMaxJoinWaitNs);
  } else {
    joining.wait = std::max<std::int64_t>(cfg.join_timeout_ns, 1);
  }
  const Peer& c = contacts[joining.next_contact % contacts.size()];
  ++joining.next_contact;
  joining.asked = c.id();
  joining.deadline = now + joining.wait;
  next_heartbeat = joining.deadline;
  ++stats.join_requests_sent;
  if (stats.join_requested_ns < 0) stats.join_requested_ns = now;
  out.push_back(Envelope{c.id(), JoinRequest{my_id, own_tx(InternalTransactionType::kPeerAdd)}});
  stats.membership_status = previous + "join request sent to " + name_of(c) + (previous.empty() ? "" : ", waiting " + seconds(joining.wait));
}

void Node::Impl::on_join_request(std::uint32_t from, const JoinRequest& req, std::vector<Envelope>& out) {
  // Only a validator in a working state submits: the joiner asks another one otherwise.
  if (state != NodeState::kBabbling || !member_now_or_later()) return;
  const InternalTransaction& tx = req.tx;
  if (tx.type != InternalTransactionType::kPeerAdd || req.from_id != from || tx.peer.id() != from || !tx.verify()) {
    ++stats.refused_events;  // counted with the other refused peer input
    return;
  }
  const PeerSchedule& s = graph->schedule();
  const PeerSet& newest = std::prev(s.entries().end())->second;
  if (newest.contains(tx.peer.pub_key)) {
    // Already in (a retry after its answer was lost, or a restart): the round it was accepted in.
    std::int64_t since = std::prev(s.entries().end())->first;
    for (auto it = s.entries().rbegin(); it != s.entries().rend() && it->second.contains(tx.peer.pub_key); ++it)
      since = it->first;
    out.push_back(Envelope{from, JoinResponse{my_id, true, since - PeerSchedule::kEffectDelay, newest, {}}});
    return;
  }
  if (newest.by_id(from)) {
    out.push_back(Envelope{from, JoinResponse{my_id, false, -1, newest,
                                              "peer id " + std::to_string(from) + " collides with a validator's"}});
    return;
  }
  auto it = pending_joins.find(tx.peer.pub_key);
  if (it != pending_joins.end()) {
    it->second.reply_to = from;  // submitted already: not twice
    return;
  }
  if (pending_joins.size() >= kMaxPendingJoins) return;
  pending_joins.emplace(tx.peer.pub_key, PendingJoin{from, tx});
  itx_pool.push_back(tx);
  next_heartbeat = std::min(next_heartbeat, last_now + cfg.heartbeat_ns);
}

void Node::Impl::on_join_response(std::uint32_t from, const JoinResponse& resp, std::int64_t now) {
  if (state != NodeState::kJoining || !is_contact(from)) return;
  if (!resp.accepted) {
    stats.membership_status = "join refused by the application (answer of peer " + std::to_string(from) + ")" +
                              (resp.reason.empty() ? std::string() : ": " + resp.reason);
    set_state(NodeState::kShutdown);
    return;
  }
  stats.join_accepted_round = resp.accepted_round;
  hints = resp.peers.peers();
  std::erase_if(hints, [&](const Peer& p) { return p.pub_key == my_key; });
  stats.membership_status = "join accepted at round " + std::to_string(resp.accepted_round) +
                            " (a validator from round " + std::to_string(resp.accepted_round + PeerSchedule::kEffectDelay) +
                            "); catching up";
  joining = Joining{};
  refresh_peers();
  if (peers.empty()) {
    set_state(NodeState::kBabbling);
    return;
  }
  enter_catching_up(now, "joined at round " + std::to_string(resp.accepted_round) + ": catching up");
}

void Node::Impl::on_block_committed(const Block& b, bool changed) {
  const BlockBody& body = b.body();
  if (changed) {
    membership_blocks[b.index()] = b;
    save_membership_blocks();
  }
  for (const InternalTransactionReceipt& rc : body.internal_transaction_receipts) {
    const InternalTransaction& tx = rc.transaction;
    if (tx.type == InternalTransactionType::kPeerAdd) {
      auto it = pending_joins.find(tx.peer.pub_key);
      if (it == pending_joins.end() || !(it->second.tx == tx)) continue;
      const PeerSet& set = graph->schedule().at(body.round_received + PeerSchedule::kEffectDelay);
      outbox.push_back(Envelope{it->second.reply_to,
                                JoinResponse{my_id, rc.accepted, body.round_received, set,
                                             rc.accepted ? std::string() : "the application refused the peer-set change"}});
      pending_joins.erase(it);
    } else if (tx.peer.pub_key == my_key && leave_requested && !leave_effective_round) {
      if (!rc.accepted) {
        stats.membership_status = "leave refused by the application (block " + std::to_string(b.index()) + ")";
        set_state(NodeState::kShutdown);
      } else {
        leave_effective_round = body.round_received + PeerSchedule::kEffectDelay;
        stats.membership_status = "removal accepted in block " + std::to_string(b.index()) + "; not a validator from round " +
                                  std::to_string(*leave_effective_round);
      }
    }
  }
}

void Node::Impl::check_membership(std::int64_t now) {
  if (state == NodeState::kShutdown || state == NodeState::kJoining || state == NodeState::kCatchingUp) return;
  refresh_peers();
  const bool member = member_now_or_later();
  if (member && state == NodeState::kBabbling && stats.join_requested_ns >= 0 && stats.joined_ns < 0) {
    stats.joined_ns = now;
    stats.membership_status = "joined: a validator" + (stats.join_accepted_round
                                                           ? " from round " + std::to_string(*stats.join_accepted_round +
                                                                                             PeerSchedule::kEffectDelay)
                                                           : std::string()) +
                              ", " + std::to_string((stats.joined_ns - stats.join_requested_ns) / 1'000'000) +
                              " ms after its join request";
  }
  if (leave_requested && (state == NodeState::kBabbling || state == NodeState::kSuspended)) set_state(NodeState::kLeaving);
  if (state == NodeState::kLeaving) {
    if (!member) {
      stats.membership_status = "left the validator set" +
                                (leave_effective_round ? " at round " + std::to_string(*leave_effective_round) : std::string());
      set_state(NodeState::kShutdown);
    }
    return;
  }
  if (state != NodeState::kBabbling) return;
  const std::int64_t processed = graph->last_consensus_round().value_or(-1);
  if (!member) {
    // Removed, unless this node is a joiner whose accepted round its graph has not processed yet.
    if (stats.join_accepted_round && processed < *stats.join_accepted_round + PeerSchedule::kEffectDelay) return;
    bool was_member = false;
    std::int64_t removed_at = 0;
    for (const auto& [round, set] : graph->schedule().entries()) {
      if (set.contains(my_key)) was_member = true;
      else if (was_member && round <= processed + 1) removed_at = round;
    }
    if (!was_member) return;
    stats.membership_status = "removed from the validator set at round " + std::to_string(removed_at);
    set_state(NodeState::kSuspended);
    return;
  }
  if (cfg.suspend_limit > 0) {
    const std::uint64_t validators = graph->schedule().at(processed + 1).size();
    // Counted from this process's start: the events a node restarted with (still undetermined from
    // before) do not suspend it again at once, so a restart gives it a fresh budget.
    const std::uint64_t all_own = graph->undetermined_of(my_key);
    const std::uint64_t own = all_own > suspend_baseline ? all_own - suspend_baseline : 0;
    if (own > cfg.suspend_limit * validators) {
      stats.suspended_by_limit = true;
      stats.membership_status = std::to_string(own) + " own undetermined events exceed suspend_limit " +
                                std::to_string(cfg.suspend_limit) + " x " + std::to_string(validators) +
                                " validators: suspended";
      set_state(NodeState::kSuspended);
    }
  }
}

void Node::Impl::save_membership_blocks() {
  std::vector<Block> blocks;
  for (const auto& [index, b] : membership_blocks) blocks.push_back(b);
  Writer w;
  encode_seq(w, blocks);
  store.put_meta(kMembershipBlocksKey, w.take());
}

void Node::Impl::load_membership_blocks() {
  const auto bytes = store.get_meta(kMembershipBlocksKey);
  if (!bytes || bytes->empty()) return;
  try {
    Reader r(bytes->data(), bytes->size());
    for (Block& b : decode_seq<Block>(r, 4)) membership_blocks[b.index()] = std::move(b);
  } catch (const DecodeError& e) {
    throw std::runtime_error(std::string("the store's membership blocks do not decode: ") + e.what());
  }
}

std::vector<Envelope> Node::leave(std::int64_t now) {
  Impl& m = *impl_;
  std::vector<Envelope> out;
  m.last_now = std::max(m.last_now, now);
  if (m.state == NodeState::kShutdown) return out;
  const PeerSchedule& s = m.graph->schedule();
  const PeerSet& current = s.at(m.graph->last_consensus_round().value_or(-1) + 1);
  const bool alone = current.size() <= 1 && std::prev(s.entries().end())->second.size() <= 1;
  if (m.state == NodeState::kJoining || !m.member_now_or_later() || alone) {
    m.stats.membership_status = m.state == NodeState::kJoining ? "asked to leave while joining: stopped"
                                : alone                         ? "asked to leave while alone in the peer set: stopped"
                                                                : "asked to leave while not a validator: stopped";
    m.set_state(NodeState::kShutdown);
    return out;
  }
  if (m.leave_requested) return out;
  m.leave_requested = true;
  m.itx_pool.push_back(m.own_tx(InternalTransactionType::kPeerRemove));
  m.stats.membership_status = "leave requested: PEER_REMOVE submitted";
  m.next_heartbeat = std::min(m.next_heartbeat, now);
  if (m.state == NodeState::kBabbling || m.state == NodeState::kSuspended) m.set_state(NodeState::kLeaving);
  return out;
}

std::vector<Peer> Node::known_peers() const {
  const Impl& m = *impl_;
  std::vector<Peer> out;
  std::set<PublicKey> seen;
  auto add = [&](const Peer& p) {
    if (seen.insert(p.pub_key).second) out.push_back(p);
  };
  for (const auto& [round, set] : m.graph->schedule().entries())
    for (const Peer& p : set.peers()) add(p);
  for (const Peer& p : m.contact_list()) add(p);
  for (const Peer& p : m.hints) add(p);
  for (const auto& [key, p] : m.pending_joins) add(p.tx.peer);
  return out;
}

}  // namespace chatter
