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
  std::size_t most_rounds = 0;
  for (std::size_t i = 0; i < gg.events.size(); ++i) {
    REQUIRE(g.insert(gg.events[i]).ok());
    g.run_consensus();
    most = std::max(most, g.event_count());
    most_rounds = std::max(most_rounds, g.rounds_held());
    if (i % 100 == 99) CHECK(g.compact(0, &why));
  }
  CHECK(most < 400);
  // The round records follow the base too (a round offset, not one record per round since genesis).
  CHECK(g.last_round() > 60);
  CHECK(most_rounds < 40);
  CHECK(g.rounds_held() < static_cast<std::size_t>(g.last_round()) / 2);
  CHECK(g.consensus_event_count() > 1500);
  CHECK(g.consensus_events().size() < 400);
  CHECK(store.event_count() == gg.events.size());
  // Compacting again right away: the base is already the last processed round.
  if (g.compact(0)) CHECK_FALSE(g.compact(0, &why));
}

namespace {

// Pulls from `from` into `to` the way a node's sync does (known indexes out, wire events back),
// until `from` has nothing more; returns the number of requests.
std::size_t gossip_until_done(const Hashgraph& from, Hashgraph& to, std::size_t limit) {
  std::size_t requests = 0;
  for (bool more = true; more;) {
    REQUIRE(requests < 100000);
    ++requests;
    // `to`'s known indexes, in `from`'s creator order.
    const auto& mine = to.known_creators();
    const auto have = to.known_indexes();
    std::vector<std::int64_t> known;
    for (const PublicKey& k : from.known_creators()) {
      std::int64_t h = -1;
      for (std::size_t s = 0; s < mine.size(); ++s)
        if (mine[s] == k) h = have[s];
      known.push_back(h);
    }
    const auto events = from.events_beyond(known, limit, &more);
    CHECK((!events.empty() || !more));  // every answer makes progress
    for (const EventPtr& e : events) {
      const auto w = from.to_wire(*e);
      REQUIRE(w.has_value());
      Event back;
      REQUIRE(to.resolve_wire(*w, back).ok());
      CHECK(back.hash() == e->hash());
      const InsertResult res = to.insert(back);
      INFO(res.detail);
      REQUIRE(res.ok());
      to.run_consensus();
    }
  }
  return requests;
}

}  // namespace

TEST_CASE("compact: a peer that lacks events below the base gets them from the store and reaches the same consensus") {
  GossipGraphOptions o;
  o.participants = 4;
  o.events = 1500;
  o.seed = 7;
  const GossipGraph gg = make_gossip_graph(o);
  InmemStore store;  // keeps every event, as LmdbStore does
  Hashgraph::Options opts;
  opts.kept_frames = 3;
  Hashgraph a(PeerSchedule(gg.peers), store, opts);
  std::size_t compactions = 0;
  for (std::size_t i = 0; i < gg.events.size(); ++i) {
    REQUIRE(a.insert(gg.events[i]).ok());
    a.run_consensus();
    if (i % 150 == 149 && a.compact(2)) ++compactions;
  }
  REQUIRE(compactions >= 5);
  REQUIRE(a.event_count() < gg.events.size() / 2);  // most of history is only in the store now

  // A peer from genesis, and one that stopped a third of the way: both catch up by gossip alone.
  for (std::size_t had : {std::size_t{0}, gg.events.size() / 3}) {
    CAPTURE(had);
    InmemStore bs;
    Hashgraph b(PeerSchedule(gg.peers), bs);
    for (std::size_t i = 0; i < had; ++i) REQUIRE(b.insert(gg.events[i]).ok());
    b.run_consensus();
    const std::size_t requests = gossip_until_done(a, b, 40);
    CHECK(requests >= (gg.events.size() - had) / 40);  // served in bounded answers
    CHECK(b.event_count() == gg.events.size());
    CHECK(b.last_consensus_round() == a.last_consensus_round());
    CHECK(b.consensus_event_count() == a.consensus_event_count());
    for (std::int64_t r = *a.last_consensus_round() - 3; r <= *a.last_consensus_round(); ++r) {
      const auto fa = store.get_frame(r), fb = bs.get_frame(r);
      REQUIRE(fa.has_value());
      REQUIRE(fb.has_value());
      CHECK(fa->hash() == fb->hash());
    }
  }

  // The first answer to a peer from genesis starts with genesis events, which only the store holds.
  bool more = false;
  const auto first = a.events_beyond(std::vector<std::int64_t>(4, -1), 4, &more);
  REQUIRE(first.size() == 4);
  CHECK(more);
  for (const EventPtr& e : first) {
    CHECK(e->index() == 0);
    CHECK_FALSE(a.contains(e->hash()));
  }
}
