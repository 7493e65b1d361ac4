// Events whose parent lies below the Frame (spec/consensus.md, "Frames and roots": "An event whose
// parent lies below the Frame is not an error of the sender: the engine fetches the missing
// ancestry or re-synchronises, and never stalls on it"). Such an event arrives late: its creator
// crashed right after making it (kill -9 before the socket write: the simulator's planned crash
// with lose_in_flight), stayed down for many rounds, and sends it after restarting; its
// other-parent is by then far below the graph base of a node that compacted or fast-forwarded.
#include <doctest/doctest.h>

#include "sim/simulator.h"

using namespace chatter;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

std::string describe(const SimResult& r) {
  std::string s = r.failure + "\n" + r.diagnostics;
  for (std::size_t i = 0; i < r.nodes.size(); ++i) {
    const auto& n = r.nodes[i];
    s += "node" + std::to_string(i) + " blocks=" + std::to_string(n.blocks) + " refused=" +
         std::to_string(n.refused_events) + " below=" + std::to_string(n.events_below_frame) +
         " parent_below=" + std::to_string(n.parent_below_frame) + " deepened=" + std::to_string(n.graph_deepened) +
         " resyncs=" + std::to_string(n.below_frame_resyncs) + " ff=" + std::to_string(n.fast_forwards) + "\n";
  }
  return s;
}

}  // namespace

TEST_CASE("Frames and roots: a node that compacted its graph takes an event whose parent lies below its base (from its store)") {
  std::uint64_t deepened = 0;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    CAPTURE(seed);
    SimOptions o;
    o.nodes = 4;
    o.seed = seed;
    o.duration_ns = 14 * kSecond;
    o.tx_until_ns = 12 * kSecond;
    o.compact_every_rounds = 8;  // compacting often: the base moves past the returning event's parent
    o.compact_keep_rounds = 2;
    o.planned_crashes = {{2, 2 * kSecond, 4 * kSecond, true}};
    const SimResult r = run_simulation(o);
    INFO(describe(r));
    REQUIRE(r.safety_ok);
    REQUIRE(r.liveness_ok);
    for (const auto& n : r.nodes) {
      CHECK(n.refused_events == 0);  // nothing honest was refused
      CHECK(n.blocks == r.nodes.front().blocks);
      CHECK(n.state_hash == r.nodes.front().state_hash);
      deepened += n.graph_deepened;
    }
  }
  CHECK(deepened > 0);  // the case happened, and was handled from the store
}

TEST_CASE("Frames and roots: a fast-forwarded node meeting an event whose parent lies below its Frame fast-forwards again and keeps committing") {
  std::uint64_t resyncs = 0, met = 0;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    CAPTURE(seed);
    SimOptions o;
    o.nodes = 5;
    o.late_nodes = 1;  // node 4: down for the first quarter (5 s), then fast-forwards
    o.seed = seed;
    o.duration_ns = 20 * kSecond;
    o.tx_until_ns = 18 * kSecond;
    o.catch_up_threshold = 300;
    // Node 1 crashes at 3 s with its last event unsent and comes back at 9 s, after node 4's
    // fast-forward: that event's other-parent is far below node 4's Frame.
    o.planned_crashes = {{1, 3 * kSecond, 6 * kSecond, true}};
    const SimResult r = run_simulation(o);
    INFO(describe(r));
    REQUIRE(r.safety_ok);
    REQUIRE(r.liveness_ok);
    const auto& late = r.nodes.back();
    CHECK(late.fast_forwards >= 1);
    CHECK(late.refused_events == 0);
    for (const auto& n : r.nodes) {
      CHECK(n.blocks == r.nodes.front().blocks);
      CHECK(n.state_hash == r.nodes.front().state_hash);
    }
    met += late.parent_below_frame;
    resyncs += late.below_frame_resyncs;
  }
  CHECK(met > 0);      // the case happened
  CHECK(resyncs > 0);  // and was handled by fast-forwarding again
}
