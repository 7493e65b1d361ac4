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

std::unique_ptr<Hashgraph::Impl> Hashgraph::Impl::compacted(const KeptFrame& base, std::string* why) const {
  auto fail = [&](std::string reason) -> std::unique_ptr<Impl> {
    if (why) *why = std::move(reason);
    return nullptr;
  };
  auto g = std::make_unique<Impl>(base.frame.schedule, store, options, false);
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
    if (!res.ok())
      return fail("event " + to_hex(ev[id]->hash()) + " cannot be replayed above the frame of round " +
                  std::to_string(b) + ": " + res.detail);
    CHATTER_INVARIANT(spos[id] != kNoPos);
    g->add(ev[id], sp_id, op_id, spos[id]);
  }
  pass_until(ev.size());
  g->replay_until = -1;
  g->fame_dirty = g->fame_dirty || fame_dirty;
  g->rr_dirty = g->rr_dirty || rr_dirty;

  // Self-check: the replayed processed rounds gave the same Frames and block numbering.
  if (g->next_process != next_process || g->next_block_index != next_block_index)
    return fail("the replay did not reach the same processed round and block index");
  for (const KeptFrame& mine : kept_frames) {
    if (mine.frame.round <= b) continue;
    auto it = std::find_if(g->kept_frames.begin(), g->kept_frames.end(),
                           [&](const KeptFrame& k) { return k.frame.round == mine.frame.round; });
    if (it != g->kept_frames.end() && it->frame.hash() != mine.frame.hash())
      return fail("the replay rebuilt another frame for round " + std::to_string(mine.frame.round));
  }
  g->consensus_total = consensus_total;
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
