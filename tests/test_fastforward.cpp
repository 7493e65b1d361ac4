// FastSync (issue: "FastSync done right") in the deterministic simulator: a validator that was down
// starts with fast-sync, fast-forwards from the peer furthest ahead (spec/consensus.md, "Frames and
// roots": a graph reset from a Frame), and then commits exactly the blocks the others commit.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sim/simulator.h"

using namespace chatter;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

SimOptions late_options(std::uint64_t seed, std::size_t nodes, std::int64_t late_start_ns) {
  SimOptions o;
  o.nodes = nodes;
  o.late_nodes = 1;
  o.seed = seed;
  o.duration_ns = 20 * kSecond;
  o.late_start_ns = late_start_ns;
  return o;
}

std::string describe(const SimResult& r) {
  std::string s = r.failure + "\n" + r.diagnostics;
  for (const auto& n : r.nodes)
    s += "blocks=" + std::to_string(n.blocks) + " ff=" + std::to_string(n.fast_forwards) + " refusals=" +
         std::to_string(n.fast_forward_refusals) + " served=" + std::to_string(n.fast_forwards_served) +
         " ff_block=" + (n.fast_forward_block ? std::to_string(*n.fast_forward_block) : "none") + " error=\"" +
         n.last_fast_forward_error + "\"\n";
  return s;
}

// The late node's blocks, from the one it fast-forwarded to, equal the first node's at every index.
void check_late_node_agrees(const SimResult& r) {
  const SimNodeSummary& late = r.nodes.back();
  const SimNodeSummary& ref = r.nodes.front();
  REQUIRE(late.late);
  REQUIRE(late.fast_forward_block.has_value());
  const std::uint64_t first = *late.fast_forward_block;
  CHECK(first > 0);  // a real anchor beyond genesis, not the trivial case
  REQUIRE(late.block_hashes.size() == late.blocks - first);
  REQUIRE(late.blocks > first + 1);  // it committed blocks of its own after the fast-forward
  for (std::uint64_t i = first; i < late.blocks && i < ref.blocks; ++i) {
    CAPTURE(i);
    CHECK(late.block_hashes[i - first] == ref.block_hashes[i]);
  }
  if (late.blocks == ref.blocks) CHECK(late.state_hash == ref.state_hash);
}

}  // namespace

TEST_CASE("FastSync (sim): a late validator fast-forwards once, then commits the same blocks as the others") {
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    CAPTURE(seed);
    const SimResult r = run_simulation(late_options(seed, 5, 5 * kSecond));
    INFO(describe(r));
    REQUIRE(r.safety_ok);
    REQUIRE(r.liveness_ok);
    const SimNodeSummary& late = r.nodes.back();
    CHECK(late.fast_forwards == 1);
    CHECK(late.fast_forward_refusals == 0);
    CHECK(late.babbling_ns >= 5 * kSecond);
    check_late_node_agrees(r);
    // Someone served it.
    std::uint64_t served = 0;
    for (const auto& n : r.nodes) served += n.fast_forwards_served;
    CHECK(served >= 1);
  }
}

TEST_CASE("FastSync (sim): fast-forward at several points of the run, with 4 and 7 validators") {
  for (std::int64_t start : {4 * kSecond, 8 * kSecond, 12 * kSecond}) {
    for (std::size_t nodes : {4u, 7u}) {
      CAPTURE(start);
      CAPTURE(nodes);
      SimOptions o = late_options(11 + static_cast<std::uint64_t>(start / kSecond), nodes, start);
      o.snapshot_interval = 2;
      const SimResult r = run_simulation(o);
      INFO(describe(r));
      REQUIRE(r.safety_ok);
      REQUIRE(r.liveness_ok);
      CHECK(r.nodes.back().fast_forwards == 1);
      check_late_node_agrees(r);
    }
  }
}

TEST_CASE("FastSync (sim): after a long idle period the late node still fast-forwards to the last snapshot") {
  SimOptions o = late_options(21, 5, 12 * kSecond);
  o.tx_until_ns = 4 * kSecond;  // transactions stop long before the late node starts
  o.snapshot_interval = 1;
  const SimResult r = run_simulation(o);
  INFO(describe(r));
  REQUIRE(r.safety_ok);
  const SimNodeSummary& late = r.nodes.back();
  CHECK(late.fast_forwards == 1);
  REQUIRE(late.fast_forward_block.has_value());
  // Nothing was committed after the transactions stopped: the late node reached the last block.
  CHECK(late.blocks == r.nodes.front().blocks);
  CHECK(late.state_hash == r.nodes.front().state_hash);
}

TEST_CASE("FastSync (sim): a large snapshot (1 MB) travels and is verified byte for byte") {
  SimOptions o = late_options(31, 5, 6 * kSecond);
  o.snapshot_padding = 1'000'000;
  const SimResult r = run_simulation(o);
  INFO(describe(r));
  REQUIRE(r.safety_ok);
  REQUIRE(r.liveness_ok);
  CHECK(r.nodes.back().fast_forwards == 1);
  check_late_node_agrees(r);
}

TEST_CASE(
    "Snapshots (sim): a large state is snapshotted less often (NodeConfig::snapshot_bytes_per_block), at the same "
    "blocks on every node, the fast-forwarded one included") {
  for (const std::uint64_t budget : {std::uint64_t{0}, std::uint64_t{100'000}}) {
    CAPTURE(budget);
    SimOptions o = late_options(33, 5, 6 * kSecond);
    o.snapshot_padding = 1'000'000;  // every snapshot is a little over 1 MB
    o.snapshot_interval = 2;
    o.snapshot_bytes_per_block = budget;
    const SimResult r = run_simulation(o);
    INFO(describe(r));
    REQUIRE(r.safety_ok);
    REQUIRE(r.liveness_ok);
    const SimNodeSummary& ref = r.nodes.front();
    REQUIRE(ref.snapshot_blocks.size() >= 3);
    CHECK(ref.snapshot_blocks.front() == 0);
    for (std::size_t k = 1; k < ref.snapshot_blocks.size(); ++k) {
      const std::uint64_t gap = ref.snapshot_blocks[k] - ref.snapshot_blocks[k - 1];
      CAPTURE(k);
      CHECK(gap % o.snapshot_interval == 0);
      if (budget == 0) {
        CHECK(gap == o.snapshot_interval);  // no spacing: every interval
      } else {
        // ceil(S / budget) with S a little over 1,000,000 bytes: 11 blocks, so the next multiple of 2.
        CHECK(gap >= 11);
        CHECK(gap <= 14);
      }
    }
    // Every node, the late one from its fast-forward on, took its snapshots at the same blocks.
    for (const SimNodeSummary& n : r.nodes) {
      const std::uint64_t first = n.fast_forward_block.value_or(0);
      std::vector<std::uint64_t> expected;
      for (const std::uint64_t b : ref.snapshot_blocks)
        if (b >= first && b < n.blocks) expected.push_back(b);
      CHECK(n.snapshot_blocks == expected);
    }
    const SimNodeSummary& late = r.nodes.back();
    CHECK(late.fast_forwards == 1);
    check_late_node_agrees(r);
  }
}

TEST_CASE("FastSync (sim): without any block yet the late node falls back to gossip and catches up") {
  SimOptions o = late_options(41, 5, 0);  // starts at once: nobody has a snapshot to serve
  const SimResult r = run_simulation(o);
  INFO(describe(r));
  REQUIRE(r.safety_ok);
  REQUIRE(r.liveness_ok);
  CHECK(r.nodes.back().fast_forwards == 0);
  CHECK(r.nodes.back().blocks == r.nodes.front().blocks);
}

TEST_CASE("FastSync (sim): forged answers are refused one kind at a time, the app is untouched, an honest peer then serves") {
  // lying_kind: 0 too few signatures, 1 unknown keys, 2 wrong frame, 3 wrong snapshot bytes,
  // 4 truncated snapshot, 5 unproven schedule change, 6 altered peers hash.
  const char* expected[] = {"valid signatures", "valid signatures", "frame does not hash",
                            "snapshot does not hash", "snapshot does not hash", "frame does not hash",
                            "valid signatures"};
  for (int kind = 0; kind <= 6; ++kind) {
    CAPTURE(kind);
    SimOptions o = late_options(50 + static_cast<std::uint64_t>(kind), 5, 6 * kSecond);
    o.lying_fastforward = true;
    o.lying_kind = kind;
    const SimResult r = run_simulation(o);
    INFO(describe(r));
    REQUIRE(r.safety_ok);
    REQUIRE(r.liveness_ok);
    CHECK(r.forged_answers >= 1);
    const SimNodeSummary& late = r.nodes.back();
    CHECK(late.fast_forward_refusals >= 1);
    CHECK(late.last_fast_forward_error.rfind("peer ", 0) == 0);  // names the peer
    CHECK(late.last_fast_forward_error.find(expected[kind]) != std::string::npos);
    CHECK(late.fast_forwards == 1);
    CHECK(late.app_restores == 1);  // only the verified snapshot reached the application
    check_late_node_agrees(r);
  }
}
