// Virtual voting (spec/consensus.md, "Fame" and "Round received and consensus order").
//
// Votes are cached: vote(y, x) depends only on the graph below y, so it is computed once, when the
// pass first meets the pair, and kept until x's round is decided. A pass therefore only computes
// the votes of witnesses that arrived since the last pass; a pass runs only when a witness arrived.
#include <algorithm>

#include "engine/hashgraph_impl.h"

namespace chatter {

void Hashgraph::Impl::decide_fame() {
  for (std::int64_t r = fame_lo; r <= last_round; ++r) {
    RoundInfo& R = rnd(r);
    if (R.decided) continue;
    if (R.decided_witnesses < R.witnesses.size()) {
      for (std::int64_t j = r + 1; j <= last_round; ++j) {
        const auto& wj = rnd(j).witnesses;
        for (std::size_t k = 0; k < wj.size(); ++k) {
          vote_on_round(R, r, j, wj[k]);
          if (R.decided_witnesses == R.witnesses.size()) break;
        }
        if (R.decided_witnesses == R.witnesses.size()) break;
      }
    }
    if (R.decided_witnesses == R.witnesses.size() &&
        static_cast<std::int64_t>(R.decided_witnesses) >= R.ps->sm) {
      R.decided = true;
      R.decided_at = ev.size();
      for (std::uint32_t w : R.witnesses)
        if (fame[w] == 1) R.famous.push_back(w);
      R.votes.clear();
      R.votes.rehash(0);
      rr_dirty = true;
    }
  }
  while (fame_lo <= last_round && rnd(fame_lo).decided) {
    // A witness y of round fame_lo + 1 or lower only votes on rounds below fame_lo, all decided:
    // its strongly-seen set is no longer needed.
    if (const RoundInfo* below = find_round(fame_lo - 1))
      for (std::uint32_t y : below->witnesses) strongly_seen_prev.erase(y);
    ++fame_lo;
  }
}

// Witness y (of round j > r) votes on every undecided witness of round r it has not voted on yet.
void Hashgraph::Impl::vote_on_round(RoundInfo& R, std::int64_t r, std::int64_t j, std::uint32_t y) {
  const std::size_t n = R.witnesses.size();
  std::vector<std::uint8_t>& mine = R.votes[y];
  const std::size_t from = mine.size();
  if (from == n) return;  // voted on every witness of r already
  mine.resize(n, kVoteUnset);
  const std::int64_t d = j - r;

  if (d == 1) {
    for (std::size_t i = from; i < n; ++i) {
      const std::uint32_t x = R.witnesses[i];
      if (fame[x] < 0) mine[i] = sees(y, x) ? kVoteYes : kVoteNo;
    }
    return;
  }

  // S: the witnesses of round j-1 that y strongly sees (with PS(j-1)); they voted before y.
  const std::vector<std::uint32_t>& S = strongly_seen_witnesses(y);
  std::vector<const std::vector<std::uint8_t>*> sv;
  sv.reserve(S.size());
  for (std::uint32_t w : S) {
    auto it = R.votes.find(w);
    CHATTER_INVARIANT(it != R.votes.end());
    sv.push_back(&it->second);
  }
  const std::int64_t sm_j = ps_at(j).sm;
  const bool coin_round = d % 4 == 0;
  const auto total = static_cast<std::int64_t>(S.size());
  for (std::size_t i = from; i < n; ++i) {
    const std::uint32_t x = R.witnesses[i];
    if (fame[x] >= 0) continue;
    std::int64_t yays = 0;
    for (const auto* v : sv) {
      const std::uint8_t b = i < v->size() ? (*v)[i] : kVoteUnset;
      CHATTER_INVARIANT(b != kVoteUnset);
      yays += b;
    }
    const std::int64_t nays = total - yays;
    const bool v = yays >= nays;
    const std::int64_t t = v ? yays : nays;
    if (!coin_round) {
      if (t >= sm_j) {
        fame[x] = v ? 1 : 0;  // decided; examination of x stops
        ++R.decided_witnesses;
      }
      mine[i] = v ? kVoteYes : kVoteNo;
    } else {
      mine[i] = (t >= sm_j ? v : coin(y)) ? kVoteYes : kVoteNo;
    }
  }
}

void Hashgraph::Impl::decide_round_received() {
  std::size_t keep = 0;
  for (std::size_t k = 0; k < undetermined.size(); ++k) {
    const std::uint32_t x = undetermined[k];
    std::int64_t i = undetermined_next[k];
    bool received = false;
    for (; i <= last_round; ++i) {
      RoundInfo& R = rnd(i);
      if (!R.decided) break;
      if (static_cast<std::int64_t>(R.famous.size()) < R.ps->sm) continue;
      bool all = true;
      for (std::uint32_t f : R.famous) {
        if (!sees(f, x)) {
          all = false;
          break;
        }
      }
      if (all) {
        // A decided round's famous witnesses all exist, so everything they see was inserted
        // before the round was processed.
        CHATTER_INVARIANT(!R.processed);
        rr[x] = static_cast<std::int32_t>(i);
        if (ev[x]->has_payload()) --undetermined_payload;
        R.received.push_back(x);
        received = true;
        break;
      }
    }
    if (!received) {
      undetermined[keep] = x;
      undetermined_next[keep] = i;
      ++keep;
    }
  }
  undetermined.resize(keep);
  undetermined_next.resize(keep);
}

std::uint64_t Hashgraph::Impl::resume_position(std::int64_t r) const {
  // Every event not received in a round <= r: the undetermined ones and those received in later
  // rounds that are decided but not processed yet.
  std::uint64_t low = store.event_count();
  for (std::uint32_t x : undetermined) low = std::min(low, spos[x]);
  for (std::int64_t k = r + 1; k <= last_round; ++k)
    for (std::uint32_t x : rnd(k).received) low = std::min(low, spos[x]);
  return low;
}

std::string Hashgraph::resume_key(std::int64_t round) { return "resume:" + std::to_string(round); }

void Hashgraph::Impl::process_decided_rounds() {
  while (!awaiting && next_process <= last_round && next_process <= process_cap && rnd(next_process).decided) {
    const std::int64_t r = next_process;
    RoundInfo& R = rnd(r);
    // Consensus order: Lamport timestamp, ties broken by the event hash as bytes.
    std::sort(R.received.begin(), R.received.end(), [&](std::uint32_t a, std::uint32_t b) {
      if (lamport[a] != lamport[b]) return lamport[a] < lamport[b];
      return ev[a]->hash() < ev[b]->hash();
    });
    std::vector<Hash> hashes;
    hashes.reserve(R.received.size());
    for (std::uint32_t x : R.received) {
      hashes.push_back(ev[x]->hash());
      last_consensus_of[slot[x]] = static_cast<std::int32_t>(x);
    }
    consensus.insert(consensus.end(), hashes.begin(), hashes.end());
    consensus_total += hashes.size();
    Frame f = build_frame(r);
    R.processed = true;
    ++next_process;
    if (r <= replay_until) {
      // compact() replaying a round processed before: rebuild the state, write nothing again.
      if (has_block_payload(f)) ++next_block_index;
      if (replay_check_store && !replay_mismatch) {
        const auto stored = store.get_frame(r);
        if (!stored || stored->hash() != f.hash()) replay_mismatch = r;
      }
      keep_frame(std::move(f));
      continue;
    }
    store.append_consensus_events(hashes);
    make_block(f);
    // A Block with internal transactions may change the peer set from round r + 6: nothing after r
    // is processed until the application's receipts are in (Hashgraph::apply_receipts).
    for (const FrameEvent& fe : f.events)
      if (!fe.event->body().internal_transactions.empty()) awaiting = r;
    store.put_frame(f);
    // Where a restart from this Frame resumes re-inserting stored events (Hashgraph::resume_key).
    Writer w;
    w.u64(resume_position(r));
    store.put_meta(resume_key(r), w.take());
    keep_frame(std::move(f));
  }
}

}  // namespace chatter
