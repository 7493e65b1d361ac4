// Compaction (Hashgraph::compact): the graph rebuilt from a recent Frame, as a restart would build
// it (reset_from + the events not yet received), but from memory and without writing anything.
//
// Why it is exact. A reset graph computes the same coordinates, rounds, votes and round-received
// values as the full graph for the events it holds (tests/test_reset.cpp). The one result that
// depends on *when* consensus ran is fame in a round that was already decided when one of its
// witnesses arrived: that witness stays undecided. So the replay runs a consensus pass exactly where
// this graph's pass decided each round still in the replay (RoundInfo::decided_at, counted in
// events inserted): each round is decided with the same witnesses as here. Rounds processed here
// are processed again in memory only (replay_until), and their Frames are checked against the kept
// ones: a difference aborts the compaction instead of changing a result.
#include <algorithm>

#include "engine/hashgraph_impl.h"

namespace chatter {

std::unique_ptr<Hashgraph::Impl> Hashgraph::Impl::compacted(const KeptFrame& base, std::string* why,
                                                           const PeerSchedule* schedule_override) const {
  auto fail = [&](std::string reason) -> std::unique_ptr<Impl> {
    if (why) *why = std::move(reason);
    return nullptr;
  };
  // The current schedule, not the kept Frame's: changes applied since that Frame (apply_receipts)
  // take effect at rounds above it and must hold in the replay as they did here.
  auto g = std::make_unique<Impl>(schedule_override ? *schedule_override : schedule, store, options, false);
  if (std::string err = g->reset_from(base.frame, base.next_block, false); !err.empty())
    return fail("the kept frame of round " + std::to_string(base.frame.round) + " is inconsistent: " + err);
  const std::int64_t b = base.frame.round;
  g->replay_until = next_process - 1;

  // Where this graph decided the rounds after b, in events inserted.
  std::vector<std::uint64_t> points;
  for (std::int64_t k = b + 1; k <= last_round; ++k) {
    const RoundInfo& R = rnd(k);
    if (R.decided) points.push_back(R.decided_at);
  }
  std::sort(points.begin(), points.end());
  std::size_t next_point = 0;
  auto pass_until = [&](std::uint64_t id) {
    bool due = false;
    while (next_point < points.size() && points[next_point] <= id) {
      due = true;
      ++next_point;
    }
    if (!due) return;
    g->fame_dirty = g->rr_dirty = true;  // a pass that finds nothing new changes nothing
    g->consensus_pass();
  };

  // Insertion order is topological, and keeps each creator's chain in index order.
  for (std::uint32_t id = base_events; id < ev.size(); ++id) {
    pass_until(id);
    if (rr[id] != kNone && rr[id] <= b) continue;  // received by b: in b's Frame or gone
    if (g->id_of(ev[id]->hash())) continue;        // in b's Frame or Roots
    std::int32_t sp_id = kNone, op_id = kNone;
    const InsertResult res = g->check(*ev[id], true, sp_id, op_id);
    // Parents older than the new base allows (kParentRoundBelowBase): this graph computed the
    // event's round with the ancestry the new one lacks, and a schedule change only affects rounds
    // above b, so it keeps its round.
    const bool keep_round = res.error == InsertError::kParentRoundBelowBase;
    if (!res.ok() && !keep_round)
      return fail("event " + to_hex(ev[id]->hash()) + " cannot be replayed above the frame of round " +
                  std::to_string(b) + ": " + res.detail);
    CHATTER_INVARIANT(spos[id] != kNoPos);
    g->add(ev[id], sp_id, op_id, spos[id], keep_round ? std::optional<std::int32_t>(round[id]) : std::nullopt);
  }
  pass_until(ev.size());
  g->replay_until = -1;
  g->fame_dirty = g->fame_dirty || fame_dirty;
  g->rr_dirty = g->rr_dirty || rr_dirty;

  // Self-check: the replayed processed rounds gave the same Frames and block numbering.
  // (With a new schedule, apply_receipts, the replay may go on past the round processing waited at.)
  const bool same = schedule_override ? g->next_process >= next_process && g->next_block_index >= next_block_index
                                      : g->next_process == next_process && g->next_block_index == next_block_index;
  if (!same) return fail("the replay did not reach the same processed round and block index");
  for (const KeptFrame& mine : kept_frames) {
    if (mine.frame.round <= b) continue;
    auto it = std::find_if(g->kept_frames.begin(), g->kept_frames.end(),
                           [&](const KeptFrame& k) { return k.frame.round == mine.frame.round; });
    if (it != g->kept_frames.end() && it->frame.hash() != mine.frame.hash())
      return fail("the replay rebuilt another frame for round " + std::to_string(mine.frame.round));
  }
  g->consensus_total = consensus_total;
  if (!schedule_override) g->awaiting = awaiting;  // still waiting for the same receipts
  return g;
}

bool Hashgraph::compact(std::int64_t keep_rounds, std::string* why) {
  Impl& m = *impl_;
  if (m.next_process == 0) {
    if (why) *why = "no round processed yet";
    return false;
  }
  const std::int64_t target = m.next_process - 1 - std::max<std::int64_t>(0, keep_rounds);
  const Impl::KeptFrame* base = nullptr;
  for (const Impl::KeptFrame& k : m.kept_frames)
    if (k.frame.round <= target && k.frame.round > m.floor_round) base = &k;
  if (!base) {
    if (why) *why = "no kept frame between the current base and round " + std::to_string(target);
    return false;
  }
  auto g = m.compacted(*base, why);
  if (!g) return false;
  g->new_blocks = std::move(m.new_blocks);
  impl_ = std::move(g);
  return true;
}

// Peer-set changes: see hashgraph.h. The rebuild is compact()'s replay from the Frame of the
// round whose receipts these are (the last processed one: processing waited for them), with the
// new schedule, so every round above it gets the rounds, witnesses, fame and order the spec gives
// with the final schedule, however much of the graph this node held when it processed that round.
bool Hashgraph::apply_receipts(const Block& committed, std::string* why) {
  Impl& m = *impl_;
  const std::int64_t rr = committed.body().round_received;
  if (m.awaiting && *m.awaiting != rr) {
    if (why) *why = "receipts of round " + std::to_string(rr) + " while waiting for round " + std::to_string(*m.awaiting);
    return false;
  }
  if (!m.awaiting && m.next_process - 1 != rr) {
    if (why) *why = "round " + std::to_string(rr) + " is not the last processed round";
    return false;
  }
  PeerSchedule next = m.schedule;
  const bool changed = apply_peer_changes(next, committed.body());
  if (!changed) {
    m.awaiting.reset();
    m.rr_dirty = true;  // the rounds held back
    return true;
  }
  const Impl::KeptFrame* base = nullptr;
  for (const Impl::KeptFrame& k : m.kept_frames)
    if (k.frame.round == rr) base = &k;
  CHATTER_INVARIANT(base != nullptr);  // processing stopped at rr and its Frame is kept
  std::string err;
  auto g = m.compacted(*base, &err, &next);
  if (!g) {
    std::fprintf(stderr, "chatter::Hashgraph::apply_receipts: rebuild with the new peer set failed: %s\n", err.c_str());
    std::abort();
  }
  std::vector<Block> blocks = std::move(m.new_blocks);
  for (Block& b : g->new_blocks) blocks.push_back(std::move(b));
  g->new_blocks = std::move(blocks);
  g->fame_dirty = g->rr_dirty = true;
  const auto last = std::prev(next.entries().end());
  m.store.put_peer_set(last->first, last->second);
  impl_ = std::move(g);
  return true;
}

std::optional<std::int64_t> Hashgraph::awaiting_receipts() const { return impl_->awaiting; }

void Hashgraph::replay_stored_rounds(std::int64_t round) {
  impl_->replay_until = round;
  impl_->replay_check_store = true;
  impl_->replay_mismatch.reset();
  impl_->process_cap = round;
}

void Hashgraph::finish_replay() {
  impl_->process_cap = std::numeric_limits<std::int64_t>::max();
  impl_->rr_dirty = true;  // the rounds held back by the cap
}

std::optional<std::int64_t> Hashgraph::replay_mismatch() const { return impl_->replay_mismatch; }

std::uint64_t Hashgraph::next_block_index() const { return impl_->next_block_index; }

}  // namespace chatter
