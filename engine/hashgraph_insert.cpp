// Insertion: the checks that refuse an event (each with its own InsertError), then the bookkeeping
// for an accepted one: coordinates (lastAncestors, firstDescendants), round, witness flag and
// Lamport timestamp (spec/consensus.md, "Coordinates" and "Rounds, witnesses, Lamport timestamps").
#include <algorithm>

#include "engine/hashgraph_impl.h"

namespace chatter {

InsertResult Hashgraph::Impl::check(const Event& e, bool preverified, std::int32_t& sp_id,
                                    std::int32_t& op_id) const {
  if (id_of(e.hash())) return {InsertError::kDuplicate, "already in the graph"};
  auto cs = slot_of.find(e.creator());
  if (cs == slot_of.end())
    return {InsertError::kUnknownCreator, "creator " + pubkey_hex(e.creator()) + " is in no peer set"};
  const std::uint32_t s = cs->second;
  const auto& mine = chain[s];

  if (e.self_parent()) {
    // The only acceptable self-parent is the creator's last event: compare with it directly and
    // look the hash up only to explain a refusal.
    if (mine.empty() || ev[mine.back()]->hash() != *e.self_parent()) {
      auto found = id_of(*e.self_parent());
      if (!found) return {InsertError::kSelfParentNotLast, "self-parent not in the graph"};
      return {InsertError::kSelfParentNotLast,
              slot[*found] != s ? "self-parent has another creator"
                                : "self-parent is not the creator's last event (fork)"};
    }
    const std::uint32_t p = mine.back();
    sp_id = static_cast<std::int32_t>(p);
    if (e.index() != static_cast<std::uint64_t>(idx[p]) + 1)
      return {InsertError::kBadIndex, "index " + std::to_string(e.index()) + ", self-parent index " +
                                          std::to_string(idx[p])};
  } else {
    if (!mine.empty())
      return {InsertError::kSelfParentNotLast, "no self-parent but the creator already has events"};
    if (e.index() != 0)
      return {InsertError::kBadIndex, "index " + std::to_string(e.index()) + " without a self-parent"};
  }

  if (e.other_parent()) {
    auto found = id_of(*e.other_parent());
    if (!found) return {InsertError::kUnknownOtherParent, "other-parent not in the graph"};
    op_id = static_cast<std::int32_t>(*found);
  }

  // A reset graph (from the Frame of round floor_round) holds every witness of the rounds from
  // floor_round - 1 on (each is received in a later round, so it is in the Frame or after it) and
  // every event that descends from one: rounds computed from parents of those rounds are exact. The
  // witnesses of older rounds were received before the Frame and are gone, so for an event whose
  // parents are older (one that stayed undetermined long: a late or crashed creator) the graph can
  // only confirm a promotion (what it holds is a subset of the true graph, so what it sees strongly
  // is seen strongly there too); when it finds too few witnesses, the true round may still be
  // parentRound + 1. Such an event is refused rather than given a round that may differ from the
  // one every other node computes, and the node brings back the ancestry it needs
  // (node_below_frame.cpp, node_bootstrap.cpp).
  if (floor_round >= 0) {
    std::int32_t pr = -1;
    if (sp_id != kNone) pr = std::max(pr, round[sp_id]);
    if (op_id != kNone) pr = std::max(pr, round[op_id]);
    if (pr >= 0 && pr < floor_round - 1 && !promotion_certain(e, s, sp_id, op_id, pr)) {
      InsertResult res{InsertError::kParentRoundBelowBase,
                       "its parents are of round " + std::to_string(pr) + ", below the round " +
                           std::to_string(floor_round - 1) + " from which this graph (reset from the Frame of round " +
                           std::to_string(floor_round) + ") computes rounds exactly"};
      res.parent_round = pr;
      return res;
    }
  }

  // Last, because it is the expensive check: malformed input is refused before it costs a verify.
  if (!preverified && !(options.verify_event ? options.verify_event(e) : e.verify()))
    return {InsertError::kBadSignature, "signature does not verify for " + pubkey_hex(e.creator())};
  return {};
}

// Whether an event of creator slot `s` with parents sp_id/op_id (not inserted yet) strongly sees a
// supermajority of the witnesses of round pr that this graph holds: then its round is pr + 1 in
// any graph that holds more. Computes the event's lastAncestors and the firstDescendants it would
// set without inserting it.
bool Hashgraph::Impl::promotion_certain(const Event& e, std::uint32_t s, std::int32_t sp_id, std::int32_t op_id,
                                        std::int32_t pr) const {
  const RoundInfo* prev = find_round(pr);
  if (!prev) return false;
  const PsView& ps = *prev->ps;
  if (static_cast<std::int64_t>(prev->witnesses.size()) < ps.sm) return false;
  std::vector<std::int32_t> lax(C, kNone);
  if (sp_id != kNone) std::copy_n(&la[std::size_t(sp_id) * C], C, lax.begin());
  if (op_id != kNone)
    for (std::size_t p = 0; p < C; ++p) lax[p] = std::max(lax[p], la[std::size_t(op_id) * C + p]);
  lax[s] = static_cast<std::int32_t>(e.index());
  std::int64_t seen = 0;
  for (std::uint32_t w : prev->witnesses) {
    const bool descends = lax[slot[w]] >= idx[w];
    std::int64_t count = 0;
    for (std::uint32_t p : ps.slots) {
      std::int32_t f = fd[std::size_t(w) * C + p];
      if (f == kNoDescendant && p == s && descends) f = lax[s];  // this event would be the first
      if (lax[p] >= f) ++count;
    }
    if (count >= ps.sm && ++seen >= ps.sm) return true;
  }
  return false;
}

std::uint32_t Hashgraph::Impl::push_event(EventPtr e, std::int32_t sp_id, std::int32_t op_id) {
  CHATTER_INVARIANT(ev.size() < static_cast<std::size_t>(kNoDescendant));
  const auto id = static_cast<std::uint32_t>(ev.size());
  const std::uint32_t s = slot_of.at(e->creator());
  const auto index = static_cast<std::int32_t>(e->index());

  ev.push_back(e);
  slot.push_back(s);
  idx.push_back(index);
  sp.push_back(sp_id);
  op.push_back(op_id);
  id_index.insert(e->hash(), id);
  chain[s].push_back(id);

  // lastAncestors: element-wise max of the parents', plus this event itself.
  la.resize(la.size() + C, kNone);
  std::int32_t* lax = &la[std::size_t(id) * C];
  if (sp_id != kNone) std::copy_n(&la[std::size_t(sp_id) * C], C, lax);
  if (op_id != kNone) {
    const std::int32_t* lo = &la[std::size_t(op_id) * C];
    for (std::size_t p = 0; p < C; ++p) lax[p] = std::max(lax[p], lo[p]);
  }
  lax[s] = index;

  // firstDescendants: this event is the first descendant from creator s of every ancestor that has
  // none yet. Those form, per creator p, a suffix of p's chain ending at lastAncestors[p]: an
  // ancestor that already has one implies all its self-ancestors have one. Each (event, creator)
  // entry is set once, so this is O(C) amortised per event.
  fd.resize(fd.size() + C, kNoDescendant);
  for (std::size_t p = 0; p < C; ++p) {
    if (lax[p] == kNone) continue;
    std::int64_t off = lax[p] - chain_base[p];
    while (off >= 0) {
      const std::uint32_t a = chain[p][static_cast<std::size_t>(off)];
      std::int32_t& f = fd[std::size_t(a) * C + s];
      if (f != kNoDescendant) break;
      f = index;
      --off;
    }
  }
  return id;
}

void Hashgraph::Impl::add(EventPtr e, std::int32_t sp_id, std::int32_t op_id, std::uint64_t position,
                          std::optional<std::int32_t> known_round) {
  const std::uint32_t s = slot_of.at(e->creator());
  const std::uint32_t id = push_event(e, sp_id, op_id);

  // Round (spec: parentRound, then +1 when x strongly sees a supermajority of its witnesses).
  std::int32_t r = 0;
  std::int32_t lam = 0;
  if (sp_id != kNone || op_id != kNone) {
    std::int32_t pr = -1;
    if (sp_id != kNone) {
      pr = std::max(pr, round[sp_id]);
      lam = std::max(lam, lamport[sp_id] + 1);
    }
    if (op_id != kNone) {
      pr = std::max(pr, round[op_id]);
      lam = std::max(lam, lamport[op_id] + 1);
    }
    const RoundInfo& prev = rnd(pr);
    const PsView& ps = *prev.ps;
    std::int64_t seen = 0;
    r = pr;
    if (known_round) {
      CHATTER_INVARIANT(*known_round == pr || *known_round == pr + 1);
      r = *known_round;
    } else if (static_cast<std::int64_t>(prev.witnesses.size()) >= ps.sm) {
      for (std::uint32_t w : prev.witnesses) {
        if (strongly_sees(id, w, ps) && ++seen >= ps.sm) {
          r = pr + 1;
          break;
        }
      }
    }
  }
  round.push_back(r);
  lamport.push_back(lam);
  rr.push_back(kNone);
  fame.push_back(-1);

  RoundInfo& info = round_info(r);
  last_round = std::max<std::int64_t>(last_round, r);
  const std::int32_t sp_round = sp_id == kNone ? -1 : round[sp_id];
  const bool is_witness = info.ps->member[s] && r > sp_round;
  witness.push_back(is_witness ? 1 : 0);
  if (is_witness) {
    wpos.push_back(static_cast<std::int32_t>(info.witnesses.size()));
    info.witnesses.push_back(id);
    // Even in a decided round (where its own fame stays undecided for good: "once decided, a round
    // stays decided") it votes on the witnesses of earlier undecided rounds.
    fame_dirty = true;
  } else {
    wpos.push_back(-1);
  }

  if (e->has_payload()) ++undetermined_payload;
  undetermined.push_back(id);
  // After a reset from the Frame of round floor_round, every undetermined event is received later.
  undetermined_next.push_back(std::max<std::int64_t>(r + 1, floor_round + 1));
  if (position == kNoPos) {
    position = store.event_count();
    store.put_event(e);
  }
  spos.push_back(position);
}

}  // namespace chatter
