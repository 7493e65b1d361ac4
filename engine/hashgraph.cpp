// Hashgraph: construction, the public entry points and queries. Insertion is in
// hashgraph_insert.cpp, virtual voting in hashgraph_consensus.cpp, Frames and Blocks in
// hashgraph_frames.cpp.
#include "engine/hashgraph.h"

#include <algorithm>

#include "engine/hashgraph_impl.h"

namespace chatter {

const char* to_string(InsertError e) {
  switch (e) {
    case InsertError::kNone: return "ok";
    case InsertError::kBadSignature: return "bad signature";
    case InsertError::kUnknownCreator: return "unknown creator";
    case InsertError::kSelfParentNotLast: return "self-parent is not the creator's last event";
    case InsertError::kBadIndex: return "index is not self-parent's index + 1";
    case InsertError::kUnknownOtherParent: return "unknown other-parent";
    case InsertError::kDuplicate: return "duplicate event";
    case InsertError::kMalformed: return "malformed event";
    case InsertError::kParentRoundBelowBase: return "parents' round below the graph's base";
  }
  return "unknown error";
}

bool signature_middle_bit(const Signature& s) { return (s[32] & 0x80) != 0; }

Hashgraph::Impl::Impl(PeerSchedule s, Store& st, Options o, bool write_peer_sets)
    : options(o), store(st), schedule(std::move(s)) {
  CHATTER_INVARIANT(!schedule.empty());
  creators = schedule.all_keys();
  C = creators.size();
  for (std::uint32_t i = 0; i < C; ++i) {
    slot_of.emplace(creators[i], i);
    slot_of_peer_id.emplace(peer_id_of(creators[i]), i);
  }
  for (const auto& [r, set] : schedule.entries()) {
    PsView v;
    v.set = &set;
    v.member.assign(C, 0);
    for (const auto& p : set.peers()) {
      const std::uint32_t sl = slot_of.at(p.pub_key);
      v.slots.push_back(sl);
      v.member[sl] = 1;
    }
    v.sm = set.super_majority();
    v.contiguous = true;
    for (std::size_t k = 0; k < v.slots.size(); ++k) v.contiguous = v.contiguous && v.slots[k] == k;
    ps_views.emplace(r, std::move(v));
  }
  chain.resize(C);
  chain_base.assign(C, 0);
  last_consensus_of.assign(C, kNone);
  if (write_peer_sets)
    for (const auto& [r, set] : schedule.entries()) store.put_peer_set(r, set);
}

const Hashgraph::Impl::PsView& Hashgraph::Impl::ps_at(std::int64_t r) const {
  auto it = ps_views.upper_bound(r);
  if (it == ps_views.begin()) return it->second;  // below every key: the first entry
  return std::prev(it)->second;
}

Hashgraph::Impl::RoundInfo& Hashgraph::Impl::round_info(std::int64_t r) {
  CHATTER_INVARIANT(r >= 0);
  if (r < round_base) {
    auto [it, created] = low_rounds.try_emplace(r);
    if (created) {
      it->second.ps = &ps_at(r);
      it->second.decided = it->second.processed = true;  // below a reset's Frame
    }
    return it->second;
  }
  while (round_base + static_cast<std::int64_t>(rounds.size()) <= r) {
    RoundInfo info;
    info.ps = &ps_at(round_base + static_cast<std::int64_t>(rounds.size()));
    rounds.push_back(std::move(info));
  }
  return rounds[static_cast<std::size_t>(r - round_base)];
}

const Hashgraph::Impl::RoundInfo* Hashgraph::Impl::find_round(std::int64_t r) const {
  if (r >= round_base) {
    const std::int64_t k = r - round_base;
    return k < static_cast<std::int64_t>(rounds.size()) ? &rounds[static_cast<std::size_t>(k)] : nullptr;
  }
  auto it = low_rounds.find(r);
  return it == low_rounds.end() ? nullptr : &it->second;
}

bool Hashgraph::Impl::strongly_sees(std::uint32_t x, std::uint32_t y, const PsView& ps) const {
  const std::int32_t* lax = &la[std::size_t(x) * C];
  const std::int32_t* fdy = &fd[std::size_t(y) * C];
  if (ps.contiguous) {
    // Branch-free so the compiler vectorises it; cheaper than early exits for large sets.
    std::int32_t c = 0;
    const std::size_t n = ps.slots.size();
    for (std::size_t s = 0; s < n; ++s) c += lax[s] >= fdy[s];
    return c >= ps.sm;
  }
  std::int64_t count = 0;
  std::int64_t left = static_cast<std::int64_t>(ps.slots.size());
  for (std::uint32_t s : ps.slots) {
    if (lax[s] >= fdy[s] && ++count >= ps.sm) return true;
    if (count + --left < ps.sm) return false;
  }
  return false;
}

const std::vector<std::uint32_t>& Hashgraph::Impl::strongly_seen_witnesses(std::uint32_t y) {
  auto it = strongly_seen_prev.find(y);
  if (it != strongly_seen_prev.end()) return it->second;
  std::vector<std::uint32_t> out;
  const std::int64_t j = round[y];
  if (const RoundInfo* prev = j >= 1 ? find_round(j - 1) : nullptr) {
    // Witnesses of j-1 inserted after y cannot be strongly seen by y (they are not its
    // ancestors), so computing this once is exact.
    const PsView& ps = ps_at(j - 1);
    for (std::uint32_t w : prev->witnesses)
      if (strongly_sees(y, w, ps)) out.push_back(w);
  }
  return strongly_seen_prev.emplace(y, std::move(out)).first->second;
}

bool Hashgraph::Impl::coin(std::uint32_t y) const {
  switch (options.coin) {
    case CoinMode::kTrue: return true;
    case CoinMode::kFalse: return false;
    case CoinMode::kSignature: break;
  }
  return signature_middle_bit(ev[y]->signature());
}

// ---- public ----

Hashgraph::Hashgraph(PeerSchedule schedule, Store& store, Options options)
    : impl_(std::make_unique<Impl>(std::move(schedule), store, options)) {}

Hashgraph::~Hashgraph() = default;

InsertResult Hashgraph::insert(EventPtr e, bool preverified) {
  if (!e) return {InsertError::kMalformed, "null event"};
  std::int32_t sp_id = Impl::kNone, op_id = Impl::kNone;
  InsertResult res = impl_->check(*e, preverified, sp_id, op_id);
  if (!res.ok()) return res;
  impl_->add(std::move(e), sp_id, op_id);
  return res;
}

InsertResult Hashgraph::insert_stored(EventPtr e, std::uint64_t position) {
  if (!e) return {InsertError::kMalformed, "null event"};
  std::int32_t sp_id = Impl::kNone, op_id = Impl::kNone;
  InsertResult res = impl_->check(*e, true, sp_id, op_id);
  if (!res.ok()) return res;
  impl_->add(std::move(e), sp_id, op_id, position);
  return res;
}

void Hashgraph::run_consensus() { impl_->consensus_pass(); }

void Hashgraph::Impl::consensus_pass() {
  if (fame_dirty) {
    fame_dirty = false;
    decide_fame();
  }
  if (rr_dirty) {
    rr_dirty = false;
    decide_round_received();
    process_decided_rounds();
  }
}

std::vector<Block> Hashgraph::take_new_blocks() {
  std::vector<Block> out;
  out.swap(impl_->new_blocks);
  return out;
}

InsertResult Hashgraph::resolve_wire(const WireEvent& w, Event& out) const {
  const Impl& m = *impl_;
  auto event_at_slot = [&](std::uint32_t sl, std::uint64_t index) -> const Event* {
    const std::int64_t base = m.chain_base[sl];
    if (static_cast<std::int64_t>(index) < base) return nullptr;
    const std::uint64_t off = index - static_cast<std::uint64_t>(base);
    if (off >= m.chain[sl].size()) return nullptr;
    return m.ev[m.chain[sl][off]].get();
  };
  auto cs = m.slot_of_peer_id.find(w.creator_id);
  if (cs == m.slot_of_peer_id.end())
    return {InsertError::kMalformed, "unknown creator id " + std::to_string(w.creator_id)};
  EventBody body;
  body.transactions = w.transactions;
  body.internal_transactions = w.internal_transactions;
  body.block_signatures = w.block_signatures;
  body.creator = m.creators[cs->second];
  body.index = w.index;
  body.timestamp = w.timestamp;
  if (w.self_parent_index) {
    const Event* p = event_at_slot(cs->second, *w.self_parent_index);
    if (!p) return {InsertError::kSelfParentNotLast, "unknown self-parent index"};
    body.self_parent = p->hash();
  }
  if (w.other_parent_creator_id) {
    auto os = m.slot_of_peer_id.find(*w.other_parent_creator_id);
    if (os == m.slot_of_peer_id.end() || !w.other_parent_index)
      return {InsertError::kUnknownOtherParent, "unknown other-parent creator id"};
    const Event* p = event_at_slot(os->second, *w.other_parent_index);
    if (!p) return {InsertError::kUnknownOtherParent, "unknown other-parent index"};
    body.other_parent = p->hash();
  }
  out = Event(std::move(body), w.signature);
  return {};
}

std::optional<WireEvent> Hashgraph::to_wire(const Hash& h) const {
  const Impl& m = *impl_;
  auto found = m.id_of(h);
  if (!found) return std::nullopt;
  return to_wire(*m.ev[*found]);
}

std::optional<WireEvent> Hashgraph::to_wire(const Event& e) const {
  const Impl& m = *impl_;
  const EventBody& b = e.body();
  WireEvent w;
  if (b.self_parent) {
    if (b.index == 0) return std::nullopt;
    w.self_parent_index = b.index - 1;  // a self-parent is the creator's previous event
  }
  if (b.other_parent) {
    // In the graph, or (below its base) in the store.
    if (auto id = m.id_of(*b.other_parent)) {
      w.other_parent_creator_id = peer_id_of(m.creators[m.slot[*id]]);
      w.other_parent_index = static_cast<std::uint64_t>(m.idx[*id]);
    } else if (EventPtr p = m.store.get_event(*b.other_parent)) {
      w.other_parent_creator_id = peer_id_of(p->creator());
      w.other_parent_index = p->index();
    } else {
      return std::nullopt;
    }
  }
  w.transactions = b.transactions;
  w.internal_transactions = b.internal_transactions;
  w.block_signatures = b.block_signatures;
  w.creator_id = peer_id_of(b.creator);
  w.index = b.index;
  w.timestamp = b.timestamp;
  w.signature = e.signature();
  return w;
}

bool Hashgraph::contains(const Hash& h) const { return impl_->id_of(h).has_value(); }

bool Hashgraph::sees(const Hash& x, const Hash& y) const {
  auto a = impl_->id_of(x), b = impl_->id_of(y);
  if (!a || !b) return false;
  return impl_->sees(*a, *b);
}

bool Hashgraph::strongly_sees(const Hash& x, const Hash& y, std::int64_t ps_round) const {
  auto a = impl_->id_of(x), b = impl_->id_of(y);
  if (!a || !b) return false;
  return impl_->strongly_sees(*a, *b, impl_->ps_at(ps_round));
}

EventPtr Hashgraph::event(const Hash& h) const {
  auto id = impl_->id_of(h);
  return id ? impl_->ev[*id] : nullptr;
}

std::optional<EventInfo> Hashgraph::info(const Hash& h) const {
  const Impl& m = *impl_;
  auto found = m.id_of(h);
  if (!found) return std::nullopt;
  const std::uint32_t id = *found;
  EventInfo i;
  i.round = m.round[id];
  i.lamport = m.lamport[id];
  i.witness = m.witness[id] != 0;
  if (m.fame[id] >= 0) i.famous = m.fame[id] == 1;
  if (m.rr[id] != Impl::kNone) i.round_received = m.rr[id];
  i.index = static_cast<std::uint64_t>(m.idx[id]);
  i.creator = m.ev[id]->creator();
  return i;
}

std::optional<Hash> Hashgraph::last_event_of(const PublicKey& creator) const {
  const Impl& m = *impl_;
  auto it = m.slot_of.find(creator);
  if (it == m.slot_of.end() || m.chain[it->second].empty()) return std::nullopt;
  return m.ev[m.chain[it->second].back()]->hash();
}

Hashgraph::Standing Hashgraph::standing(const WireEvent& w) const {
  const Impl& m = *impl_;
  auto lowest = [&](std::uint32_t peer_id) -> std::optional<std::int64_t> {
    const auto it = m.slot_of_peer_id.find(peer_id);
    if (it == m.slot_of_peer_id.end() || m.chain[it->second].empty()) return std::nullopt;
    return m.chain_base[it->second];
  };
  const auto own = lowest(w.creator_id);
  if (own && static_cast<std::int64_t>(w.index) < *own) return Standing::kBelowBase;
  if (w.other_parent_creator_id && w.other_parent_index) {
    const auto theirs = lowest(*w.other_parent_creator_id);
    if (theirs && static_cast<std::int64_t>(*w.other_parent_index) < *theirs) return Standing::kParentBelowBase;
  }
  return Standing::kUnknown;
}

std::vector<std::int64_t> Hashgraph::known_indexes() const {
  const Impl& m = *impl_;
  std::vector<std::int64_t> out(m.C, -1);
  for (std::size_t s = 0; s < m.C; ++s)
    if (!m.chain[s].empty()) out[s] = m.chain_base[s] + static_cast<std::int64_t>(m.chain[s].size()) - 1;
  return out;
}

const std::vector<PublicKey>& Hashgraph::known_creators() const { return impl_->creators; }

std::optional<Hash> Hashgraph::event_at(const PublicKey& creator, std::uint64_t index) const {
  const Impl& m = *impl_;
  auto it = m.slot_of.find(creator);
  if (it == m.slot_of.end()) return std::nullopt;
  const std::int64_t off = static_cast<std::int64_t>(index) - m.chain_base[it->second];
  if (off < 0 || off >= static_cast<std::int64_t>(m.chain[it->second].size())) return std::nullopt;
  return m.ev[m.chain[it->second][static_cast<std::size_t>(off)]]->hash();
}

std::int64_t Hashgraph::last_round() const { return impl_->last_round; }

std::int64_t Hashgraph::base_round() const { return impl_->floor_round; }

std::vector<Hash> Hashgraph::round_witnesses(std::int64_t r) const {
  std::vector<Hash> out;
  if (const auto* info = impl_->find_round(r))
    for (auto id : info->witnesses) out.push_back(impl_->ev[id]->hash());
  return out;
}

bool Hashgraph::round_decided(std::int64_t r) const {
  if (r < 0 || r > impl_->last_round) return false;
  if (const auto* info = impl_->find_round(r)) return info->decided;
  return r <= impl_->floor_round;  // below a reset's Frame: decided there
}

std::vector<Hash> Hashgraph::round_received_events(std::int64_t r) const {
  std::vector<Hash> out;
  if (const auto* info = impl_->find_round(r))
    for (auto id : info->received) out.push_back(impl_->ev[id]->hash());
  return out;
}

std::vector<std::int64_t> Hashgraph::pending_rounds() const {
  std::vector<std::int64_t> out;
  for (std::int64_t r = impl_->next_process; r <= impl_->last_round; ++r) out.push_back(r);
  return out;
}

std::optional<std::int64_t> Hashgraph::last_consensus_round() const {
  if (impl_->next_process == 0) return std::nullopt;
  return impl_->next_process - 1;
}

const std::vector<Hash>& Hashgraph::consensus_events() const { return impl_->consensus; }
std::uint64_t Hashgraph::consensus_event_count() const { return impl_->consensus_total; }
std::uint64_t Hashgraph::event_count() const { return impl_->ev.size(); }
std::uint64_t Hashgraph::undetermined_count() const { return impl_->undetermined.size(); }
std::size_t Hashgraph::rounds_held() const { return impl_->rounds.size() + impl_->low_rounds.size(); }
std::uint64_t Hashgraph::undetermined_payload_count() const { return impl_->undetermined_payload; }

std::vector<EventPtr> Hashgraph::events_beyond(const std::vector<std::int64_t>& known, std::size_t limit,
                                               bool* more) const {
  const Impl& m = *impl_;
  if (more) *more = false;
  // A peer lacking events below this graph's base (compact(), a reset): from the store, whose
  // insertion order is topological too, starting at the first event the peer lacks.
  bool below_base = false;
  std::optional<std::uint64_t> start;
  for (std::size_t s = 0; s < m.C; ++s) {
    const std::int64_t have = s < known.size() ? known[s] : -1;
    if (have + 1 >= m.chain_base[s] + static_cast<std::int64_t>(m.chain[s].size())) continue;  // nothing to send
    if (have + 1 < m.chain_base[s]) below_base = true;
    if (auto p = m.store.position_of(m.creators[s], static_cast<std::uint64_t>(have + 1)))
      start = start ? std::min(*start, *p) : *p;
  }
  if (below_base && start) return events_beyond_from_store(known, *start, limit, more);

  // Merge the creators' chains (each in increasing id order) by id, stopping at the limit: the
  // cost is O(limit * creators), not O(history).
  std::vector<std::size_t> next(m.C, 0);
  for (std::size_t s = 0; s < m.C; ++s) {
    const std::int64_t have = s < known.size() ? known[s] : -1;
    const std::int64_t off = have + 1 - m.chain_base[s];
    next[s] = static_cast<std::size_t>(std::max<std::int64_t>(0, off));
  }
  std::vector<EventPtr> out;
  for (;;) {
    std::size_t best = m.C;
    std::uint32_t best_id = 0;
    for (std::size_t s = 0; s < m.C; ++s) {
      if (next[s] >= m.chain[s].size()) continue;
      const std::uint32_t id = m.chain[s][next[s]];
      if (best == m.C || id < best_id) {
        best = s;
        best_id = id;
      }
    }
    if (best == m.C) break;
    if (out.size() == limit) {
      if (more) *more = true;
      break;
    }
    out.push_back(m.ev[best_id]);
    ++next[best];
  }
  return out;
}
std::vector<EventPtr> Hashgraph::events_beyond_from_store(const std::vector<std::int64_t>& known, std::uint64_t start,
                                                          std::size_t limit, bool* more) const {
  const Impl& m = *impl_;
  std::vector<std::int64_t> have(m.C, -1);
  for (std::size_t s = 0; s < m.C && s < known.size(); ++s) have[s] = known[s];
  std::vector<EventPtr> out;
  // Events the peer holds are skipped; the scan is bounded so that one request costs O(limit).
  const std::size_t budget = 8 * limit + 4096;
  constexpr std::size_t kChunk = 1024;
  std::size_t scanned = 0;
  const std::uint64_t end = m.store.event_count();
  for (std::uint64_t pos = start; pos < end;) {
    if (out.size() >= limit || scanned >= budget) {
      if (more) *more = true;
      break;
    }
    const auto chunk = m.store.events_from(pos, kChunk);
    if (chunk.empty()) break;
    for (const EventPtr& e : chunk) {
      ++pos;
      ++scanned;
      auto it = m.slot_of.find(e->creator());
      if (it == m.slot_of.end()) continue;
      const auto i = static_cast<std::int64_t>(e->index());
      if (i != have[it->second] + 1) continue;  // the peer holds it, or (a fork) not next in its chain
      have[it->second] = i;
      out.push_back(e);
      if (out.size() >= limit || scanned >= budget) break;
    }
  }
  return out;
}

const PeerSchedule& Hashgraph::schedule() const { return impl_->schedule; }

std::uint64_t Hashgraph::undetermined_of(const PublicKey& creator) const {
  const Impl& m = *impl_;
  auto it = m.slot_of.find(creator);
  if (it == m.slot_of.end() || m.chain[it->second].empty()) return 0;
  const std::uint32_t s = it->second;
  const std::int64_t last = m.chain_base[s] + static_cast<std::int64_t>(m.chain[s].size()) - 1;
  const std::int32_t lc = m.last_consensus_of[s];
  const std::int64_t done = lc == Impl::kNone ? m.chain_base[s] - 1 : m.idx[static_cast<std::size_t>(lc)];
  return last > done ? static_cast<std::uint64_t>(last - done) : 0;
}

}  // namespace chatter
