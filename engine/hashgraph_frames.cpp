// Frames, Roots and Blocks (spec/consensus.md, "Frames and roots", "Round received and consensus
// order", "Blocks").
#include <algorithm>

#include "engine/hashgraph_impl.h"

namespace chatter {

// The Root whose newest event is `head` (an event id, or kNone for an empty Root): head and up to
// kRootDepth of its self-ancestors, oldest first.
Root Hashgraph::Impl::build_root(std::uint32_t creator_slot, std::int32_t head) const {
  Root root;
  root.creator = creators[creator_slot];
  if (head == kNone) return root;
  const std::int64_t head_off = idx[head] - chain_base[creator_slot];
  const std::int64_t first_off = std::max<std::int64_t>(0, head_off - static_cast<std::int64_t>(kRootDepth));
  for (std::int64_t off = first_off; off <= head_off; ++off) {
    const std::uint32_t e = chain[creator_slot][static_cast<std::size_t>(off)];
    root.events.push_back(FrameEvent{ev[e], round[e], lamport[e], witness[e] != 0});
  }
  return root;
}

Frame Hashgraph::Impl::build_frame(std::int64_t r) const {
  const RoundInfo& R = rnd(r);
  Frame f;
  f.round = r;
  f.peers = *R.ps->set;
  f.schedule = schedule;
  f.events.reserve(R.received.size());

  std::vector<std::uint8_t> has_root(C, 0);
  for (std::uint32_t x : R.received) {
    f.events.push_back(FrameEvent{ev[x], round[x], lamport[x], witness[x] != 0});
    // The Root of a creator with events in the Frame ends at the self-parent of its first one.
    if (!has_root[slot[x]]) {
      has_root[slot[x]] = 1;
      f.roots.push_back(build_root(slot[x], sp[x]));
    }
  }
  // Members of PS(r) without events in the Frame: a Root ending at their last consensus event.
  for (std::uint32_t s : R.ps->slots) {
    if (has_root[s]) continue;
    has_root[s] = 1;
    f.roots.push_back(build_root(s, last_consensus_of[s]));
  }
  // Creators outside PS(r) with consensus events (validators that left, or joined for a later
  // round): a Root too, so that a graph reset from this Frame knows where their chains stand and
  // never takes their old events for new ones (a removed validator that comes back, issue 7).
  // With a fixed peer set there are none, and the Frame is what spec/consensus.md describes.
  for (std::uint32_t s = 0; s < C; ++s) {
    if (has_root[s] || last_consensus_of[s] == kNone) continue;
    has_root[s] = 1;
    f.roots.push_back(build_root(s, last_consensus_of[s]));
  }
  std::sort(f.roots.begin(), f.roots.end(),
            [](const Root& a, const Root& b) { return a.creator < b.creator; });

  // Timestamp: median of the famous witnesses' timestamps (mean of the two middle ones when even).
  std::vector<std::int64_t> ts;
  ts.reserve(R.famous.size());
  for (std::uint32_t w : R.famous) ts.push_back(ev[w]->timestamp());
  std::sort(ts.begin(), ts.end());
  if (!ts.empty()) {
    const std::size_t m = ts.size() / 2;
    f.timestamp = ts.size() % 2 ? ts[m] : ts[m - 1] + (ts[m] - ts[m - 1]) / 2;
  }
  return f;
}

bool Hashgraph::Impl::has_block_payload(const Frame& f) {
  for (const FrameEvent& fe : f.events) {
    const EventBody& eb = fe.event->body();
    if (!eb.transactions.empty() || !eb.internal_transactions.empty()) return true;
  }
  return false;
}

void Hashgraph::Impl::keep_frame(Frame f) {
  if (options.kept_frames == 0) return;
  kept_frames.push_back(KeptFrame{std::move(f), next_block_index});
  while (kept_frames.size() > options.kept_frames) kept_frames.pop_front();
}

void Hashgraph::Impl::make_block(const Frame& f) {
  BlockBody body;
  for (const FrameEvent& fe : f.events) {
    const EventBody& eb = fe.event->body();
    body.transactions.insert(body.transactions.end(), eb.transactions.begin(), eb.transactions.end());
    body.internal_transactions.insert(body.internal_transactions.end(), eb.internal_transactions.begin(),
                                      eb.internal_transactions.end());
  }
  if (body.transactions.empty() && body.internal_transactions.empty()) return;
  body.index = next_block_index++;
  body.round_received = f.round;
  body.timestamp = f.timestamp;
  body.frame_hash = f.hash();
  body.peers_hash = f.peers.hash();
  Block b(std::move(body));
  store.put_block(b);
  new_blocks.push_back(std::move(b));
}

}  // namespace chatter
