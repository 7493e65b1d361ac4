// spec/consensus.md, "Frames and roots": "A graph reset from a Frame accepts new events whose parents
// are in the Frame or its Roots." Hashgraph::from_frame against the full graph it was cut from: the
// events after the Frame go into the reset graph, and the consensus it reaches from there (order,
// Frames, Blocks) equals the full graph's, round for round.
#include <doctest/doctest.h>

#include "engine/hashgraph.h"
#include "sim/gossip_graph.h"
#include "store/inmem_store.h"

using namespace chatter;

namespace {

struct Reset {
  std::uint64_t inserted = 0, refused = 0;
  std::int64_t compared_rounds = 0;
};

// Cuts `full` at the Frame of round r, feeds the reset graph every event of `events` it lacks (in
// order), and compares every round both processed after r.
Reset reset_and_compare(const std::vector<EventPtr>& events, const Hashgraph& full, const InmemStore& full_store,
                        std::int64_t r) {
  Reset out;
  const auto frame = full_store.get_frame(r);
  REQUIRE(frame.has_value());
  // The next block index: the blocks of rounds <= r.
  std::uint64_t next_block = 0;
  for (std::uint64_t i = 0;; ++i) {
    const auto b = full_store.get_block(i);
    if (!b || b->body().round_received > r) break;
    next_block = i + 1;
  }
  InmemStore store;
  std::string error;
  auto g = Hashgraph::from_frame(*frame, next_block, store, Hashgraph::Options{}, &error);
  INFO(error);
  REQUIRE(g != nullptr);
  CHECK(store.event_count() == 0);  // nothing written until the caller switches over
  CHECK(g->last_consensus_round() == r);
  for (const FrameEvent& fe : frame->events) CHECK(g->contains(fe.event->hash()));
  for (const Root& root : frame->roots)
    for (const FrameEvent& fe : root.events) CHECK(g->contains(fe.event->hash()));

  for (const EventPtr& e : events) {
    if (g->contains(e->hash())) continue;
    const InsertResult res = g->insert(e);
    if (res.ok()) {
      ++out.inserted;
    } else {
      // Only an event below the Frame (already received in round <= r) may be refused.
      const auto info = full.info(e->hash());
      REQUIRE(info.has_value());
      CHECK(info->round_received.has_value());
      if (info->round_received) CHECK(*info->round_received <= r);
      ++out.refused;
    }
    g->run_consensus();
  }
  const std::int64_t last = std::min(*g->last_consensus_round(), *full.last_consensus_round());
  for (std::int64_t k = r + 1; k <= last; ++k) {
    CAPTURE(k);
    CHECK(g->round_received_events(k) == full.round_received_events(k));
    const auto a = store.get_frame(k), b = full_store.get_frame(k);
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(a->hash() == b->hash());
    ++out.compared_rounds;
  }
  // Blocks after the reset carry the same bodies (before the node fills in commit-time fields).
  for (const Block& blk : g->take_new_blocks()) {
    const auto theirs = full_store.get_block(blk.index());
    REQUIRE(theirs.has_value());
    CHECK(blk.body().frame_hash == theirs->body().frame_hash);
    CHECK(blk.body().transactions == theirs->body().transactions);
    CHECK(blk.body().round_received == theirs->body().round_received);
  }
  return out;
}

}  // namespace

TEST_CASE("Frames and roots: a graph reset from a Frame reaches the same consensus as the full graph") {
  for (std::size_t n : {3u, 4u, 7u}) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      CAPTURE(n);
      CAPTURE(seed);
      GossipGraphOptions o;
      o.participants = n;
      o.events = 60 * n;
      o.seed = seed;
      const GossipGraph gg = make_gossip_graph(o);
      InmemStore full_store;
      Hashgraph full(PeerSchedule(gg.peers), full_store);
      for (const EventPtr& e : gg.events) REQUIRE(full.insert(e).ok());
      full.run_consensus();
      const std::int64_t last = *full.last_consensus_round();
      REQUIRE(last >= 6);
      for (std::int64_t r : {std::int64_t{1}, last / 2, last - 2}) {
        CAPTURE(r);
        const Reset res = reset_and_compare(gg.events, full, full_store, r);
        CHECK(res.inserted > 0);
        CHECK(res.compared_rounds >= 1);
      }
    }
  }
}

TEST_CASE("Frames and roots: an inconsistent Frame is refused with a reason and builds nothing") {
  GossipGraphOptions o;
  o.participants = 4;
  o.events = 200;
  const GossipGraph gg = make_gossip_graph(o);
  InmemStore full_store;
  Hashgraph full(PeerSchedule(gg.peers), full_store);
  for (const EventPtr& e : gg.events) REQUIRE(full.insert(e).ok());
  full.run_consensus();
  const auto frame = full_store.get_frame(*full.last_consensus_round() - 1);
  REQUIRE(frame.has_value());
  REQUIRE(frame->events.size() >= 2);
  auto refused = [](const Frame& f) {
    InmemStore s;
    std::string error;
    auto g = Hashgraph::from_frame(f, 0, s, Hashgraph::Options{}, &error);
    CHECK(s.event_count() == 0);
    return g == nullptr && !error.empty() ? error : std::string();
  };
  {
    Frame f = *frame;  // the same event twice
    f.events.push_back(f.events.front());
    CHECK(refused(f).find("twice") != std::string::npos);
  }
  {
    Frame f = *frame;  // a Lamport timestamp below a parent's
    f.events.back().lamport = 0;
    CHECK(!refused(f).empty());
  }
  {
    Frame f = *frame;  // an event of a creator nobody knows
    GossipGraphOptions other = o;
    other.participants = 5;
    other.events = 10;
    const GossipGraph g2 = make_gossip_graph(other);
    f.events.push_back(FrameEvent{g2.events[4], 0, 0, true});
    CHECK(refused(f).find("no peer set") != std::string::npos);
  }
  {
    Frame f = *frame;  // a broken self-chain: drop a middle event of a root
    for (Root& root : f.roots)
      if (root.events.size() >= 3) {
        root.events.erase(root.events.begin() + 1);
        break;
      }
    CHECK(refused(f).find("self-chain") != std::string::npos);
  }
  {
    Frame f = *frame;  // a round above the frame's
    f.events.front().round = f.round + 1;
    CHECK(!refused(f).empty());
  }
}
