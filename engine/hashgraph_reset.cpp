// A graph reset from a Frame (spec/consensus.md, "Frames and roots"): the node that fast-forwards
// (or restarts) starts from the Frame of a block instead of replaying history.
//
// The Frame's events and its Roots become the base of the graph, with the round, Lamport timestamp
// and witness flag the Frame carries (a signed Block commits to them through the frame hash). Their
// coordinates are computed from the parents that are present; ancestry below the Roots is absent.
// Rounds up to the Frame's round are decided and processed; consensus continues with the next one.
// Every check runs before anything is built. Nothing is written to the store here: the caller
// persists the Frame's events once the whole fast-forward (or restart) has succeeded.
#include <algorithm>
#include <map>
#include <set>

#include "engine/hashgraph_impl.h"

namespace chatter {

namespace {

struct BaseEvent {
  const FrameEvent* fe;
  bool in_frame;
};

}  // namespace

std::string Hashgraph::Impl::reset_from(const Frame& f, std::uint64_t next_block, bool verify) {
  if (f.round < 0) return "frame round is negative";
  if (!(schedule.at(f.round) == f.peers)) return "frame peer set is not the schedule's set at its round";

  // Gather the base events: Roots first (they precede the Frame's events of their creator).
  std::vector<BaseEvent> base;
  std::set<Hash> seen;
  for (const Root& root : f.roots) {
    for (const FrameEvent& fe : root.events) {
      if (!fe.event) return "null event in a root";
      if (fe.event->creator() != root.creator) return "root of " + pubkey_hex(root.creator) + " holds another creator's event";
      base.push_back(BaseEvent{&fe, false});
    }
  }
  for (const FrameEvent& fe : f.events) {
    if (!fe.event) return "null event in the frame";
    base.push_back(BaseEvent{&fe, true});
  }
  std::map<Hash, const BaseEvent*> by_hash;
  for (const BaseEvent& b : base) {
    const Event& e = *b.fe->event;
    if (!seen.insert(e.hash()).second) return "event " + to_hex(e.hash()) + " appears twice";
    if (!slot_of.contains(e.creator())) return "creator " + pubkey_hex(e.creator()) + " is in no peer set";
    if (b.fe->round < 0 || b.fe->lamport < 0) return "negative round or lamport timestamp";
    if (b.fe->round > f.round) return "an event of the frame has a round above the frame's";
    if (verify && !e.verify()) return "signature of event " + to_hex(e.hash()) + " does not verify";
    by_hash.emplace(e.hash(), &b);
  }

  // Per creator: consecutive indexes linked by self-parent hashes.
  std::map<std::uint32_t, std::vector<const BaseEvent*>> per_creator;
  for (const BaseEvent& b : base) per_creator[slot_of.at(b.fe->event->creator())].push_back(&b);
  for (auto& [s, list] : per_creator) {
    std::sort(list.begin(), list.end(),
              [](const BaseEvent* a, const BaseEvent* b) { return a->fe->event->index() < b->fe->event->index(); });
    for (std::size_t k = 1; k < list.size(); ++k) {
      const Event& e = *list[k]->fe->event;
      const Event& prev = *list[k - 1]->fe->event;
      if (e.index() != prev.index() + 1 || !e.self_parent() || *e.self_parent() != prev.hash())
        return "the events of " + pubkey_hex(e.creator()) + " in the frame are not one self-chain";
    }
  }
  // Parents present in the base come first: Lamport timestamps must grow along every edge.
  for (const BaseEvent& b : base) {
    const Event& e = *b.fe->event;
    for (const auto& parent : {e.self_parent(), e.other_parent()}) {
      if (!parent) continue;
      auto it = by_hash.find(*parent);
      if (it == by_hash.end()) continue;
      if (it->second->fe->lamport >= b.fe->lamport || it->second->fe->round > b.fe->round)
        return "event " + to_hex(e.hash()) + " has a Lamport timestamp or round below its parent's";
    }
  }

  // Checks passed: build. Topological order = increasing Lamport timestamp (ties by hash).
  std::vector<const BaseEvent*> order;
  order.reserve(base.size());
  for (const BaseEvent& b : base) order.push_back(&b);
  std::sort(order.begin(), order.end(), [](const BaseEvent* a, const BaseEvent* b) {
    if (a->fe->lamport != b->fe->lamport) return a->fe->lamport < b->fe->lamport;
    return a->fe->event->hash() < b->fe->event->hash();
  });
  for (const auto& [s, list] : per_creator) chain_base[s] = static_cast<std::int64_t>(list.front()->fe->event->index());

  floor_round = f.round;
  round_base = f.round;  // rounds below hold only Root events: low_rounds
  round_info(f.round);
  for (const BaseEvent* b : order) {
    const EventPtr& e = b->fe->event;
    std::int32_t sp_id = kNone, op_id = kNone;
    if (e->self_parent())
      if (auto p = id_of(*e->self_parent())) sp_id = static_cast<std::int32_t>(*p);
    if (e->other_parent())
      if (auto p = id_of(*e->other_parent())) op_id = static_cast<std::int32_t>(*p);
    const std::uint32_t id = push_event(e, sp_id, op_id);
    const auto r = static_cast<std::int32_t>(b->fe->round);
    round.push_back(r);
    lamport.push_back(static_cast<std::int32_t>(b->fe->lamport));
    rr.push_back(b->in_frame ? static_cast<std::int32_t>(f.round) : kNone);
    fame.push_back(-1);
    witness.push_back(b->fe->witness ? 1 : 0);
    spos.push_back(kNoPos);
    RoundInfo& info = round_info(r);
    if (b->fe->witness) {
      wpos.push_back(static_cast<std::int32_t>(info.witnesses.size()));
      info.witnesses.push_back(id);
    } else {
      wpos.push_back(-1);
    }
    last_round = std::max<std::int64_t>(last_round, r);
    last_consensus_of[slot[id]] = static_cast<std::int32_t>(id);
  }
  last_round = std::max(last_round, f.round);
  base_events = static_cast<std::uint32_t>(ev.size());
  RoundInfo& top = round_info(f.round);  // rounds below were created decided and processed
  top.decided = true;
  top.processed = true;
  fame_lo = next_process = f.round + 1;
  for (const FrameEvent& fe : f.events) consensus.push_back(fe.event->hash());
  consensus_total = consensus.size();
  next_block_index = next_block;
  keep_frame(f);
  return {};
}

std::unique_ptr<Hashgraph> Hashgraph::from_frame(const Frame& frame, std::uint64_t next_block_index, Store& store,
                                                 Options options, std::string* error) {
  if (frame.schedule.empty()) {
    if (error) *error = "frame has an empty peer-set schedule";
    return nullptr;
  }
  auto g = std::unique_ptr<Hashgraph>(new Hashgraph(frame.schedule, store, options));
  std::string why = g->impl_->reset_from(frame, next_block_index);
  if (!why.empty()) {
    if (error) *error = std::move(why);
    return nullptr;
  }
  return g;
}

}  // namespace chatter
