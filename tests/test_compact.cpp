// Hashgraph::compact (bounded memory for long histories): a graph compacted again and again while
// events arrive reaches exactly the consensus of a graph that keeps everything: the same consensus
// order, Frames (by hash), Blocks and restart positions in its store, round for round, each written
// once. Checked for 3, 4 and 7 creators, with and without a quiet creator (witnesses that arrive
// after their round was decided: spec/consensus.md, "Fame": once decided, a round stays decided).
#include <doctest/doctest.h>

#include "engine/hashgraph.h"
#include "sim/gossip_graph.h"
#include "store/inmem_store.h"

using namespace chatter;

namespace {

struct Outcome {
  std::size_t compactions = 0;
  std::int64_t last_round = -1;
};

Outcome compare_with_compaction(const GossipGraph& gg, std::size_t compact_every, std::int64_t keep_rounds) {
  InmemStore full_store, small_store;
  Hashgraph full(PeerSchedule(gg.peers), full_store);
  Hashgraph::Options options;
  options.kept_frames = static_cast<std::size_t>(keep_rounds) + 1;
  Hashgraph small(PeerSchedule(gg.peers), small_store, options);
  Outcome out;
  std::vector<Block> full_blocks, small_blocks;
  for (std::size_t i = 0; i < gg.events.size(); ++i) {
    const EventPtr& e = gg.events[i];
    REQUIRE(full.insert(e).ok());
    const InsertResult res = small.insert(e);
    INFO(res.detail);
    REQUIRE(res.ok());
    full.run_consensus();
    small.run_consensus();
    for (Block& b : full.take_new_blocks()) full_blocks.push_back(std::move(b));
    if (i % 3 == 0)  // blocks not taken yet must survive a compaction
      for (Block& b : small.take_new_blocks()) small_blocks.push_back(std::move(b));
    if (i % compact_every == compact_every - 1) {
      const std::uint64_t before = small.event_count();
      std::string why;
      if (small.compact(keep_rounds, &why)) {
        ++out.compactions;
        CHECK(small.event_count() <= before);
        CHECK(small.last_consensus_round() == full.last_consensus_round());
        CHECK(small.consensus_event_count() == full.consensus_event_count());
      }
    }
  }
  for (Block& b : small.take_new_blocks()) small_blocks.push_back(std::move(b));
  REQUIRE(full.last_consensus_round().has_value());
  CHECK(small.last_consensus_round() == full.last_consensus_round());
  out.last_round = *full.last_consensus_round();
  // The stores: everything written once, identical.
  CHECK(small_store.event_count() == full_store.event_count());
  CHECK(small_store.consensus_events() == full_store.consensus_events());
  for (std::int64_t r = 0; r <= out.last_round; ++r) {
    CAPTURE(r);
    const auto a = small_store.get_frame(r), b = full_store.get_frame(r);
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(a->hash() == b->hash());
    CHECK(small_store.get_meta(Hashgraph::resume_key(r)) == full_store.get_meta(Hashgraph::resume_key(r)));
  }
  REQUIRE(small_blocks.size() == full_blocks.size());
  for (std::size_t i = 0; i < full_blocks.size(); ++i) CHECK(small_blocks[i].hash() == full_blocks[i].hash());
  CHECK(small_store.last_block_index() == full_store.last_block_index());
  // The pending part of the graph agrees too.
  CHECK(small.undetermined_count() == full.undetermined_count());
  for (std::int64_t r = out.last_round + 1; r <= full.last_round(); ++r) {
    CHECK(small.round_witnesses(r) == full.round_witnesses(r));
    CHECK(small.round_decided(r) == full.round_decided(r));
  }
  CHECK(small.known_indexes() == full.known_indexes());
  return out;
}

}  // namespace

TEST_CASE("compact: the consensus continues exactly as in a graph that keeps everything") {
  for (std::size_t n : {3u, 4u, 7u}) {
    for (std::uint64_t seed = 1; seed <= 2; ++seed) {
      for (bool quiet : {false, true}) {
        CAPTURE(n);
        CAPTURE(seed);
        CAPTURE(quiet);
        GossipGraphOptions o;
        o.participants = n;
        o.events = 120 * n;
        o.seed = seed;
        if (quiet) {
          o.quiet_creator = 1;
          o.quiet_from = o.events / 5;
          o.quiet_to = o.events / 2;
        }
        const GossipGraph gg = make_gossip_graph(o);
        for (std::int64_t keep : {std::int64_t{0}, std::int64_t{3}}) {
          CAPTURE(keep);
          const Outcome res = compare_with_compaction(gg, 7 * n, keep);
          CHECK(res.last_round >= 10);
          CHECK(res.compactions >= 3);
        }
      }
    }
  }
}

TEST_CASE("compact: memory is bounded by the recent rounds, and nothing to drop is refused") {
  GossipGraphOptions o;
  o.participants = 4;
  o.events = 2000;
  const GossipGraph gg = make_gossip_graph(o);
  InmemStore store;
  Hashgraph g(PeerSchedule(gg.peers), store);
  std::string why;
  CHECK_FALSE(g.compact(0, &why));  // nothing processed
  CHECK(!why.empty());
  std::uint64_t most = 0;
  for (std::size_t i = 0; i < gg.events.size(); ++i) {
    REQUIRE(g.insert(gg.events[i]).ok());
    g.run_consensus();
    most = std::max(most, g.event_count());
    if (i % 100 == 99) CHECK(g.compact(0, &why));
  }
  CHECK(most < 400);
  CHECK(g.consensus_event_count() > 1500);
  CHECK(g.consensus_events().size() < 400);
  CHECK(store.event_count() == gg.events.size());
  // Compacting again right away: the base is already the last processed round.
  if (g.compact(0)) CHECK_FALSE(g.compact(0, &why));
}
