// The simulated network host (sim/simulator.h) running real node state machines (engine/node.h):
// DESIGN.md's safety (every honest node commits the same blocks, with the same state hashes) and
// liveness, convergence of a slow node, and determinism (same seed, same trace).
#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "sim/simulator.h"

using namespace chatter;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

SimOptions options(std::size_t nodes, std::uint64_t seed, std::int64_t seconds) {
  SimOptions o;
  o.nodes = nodes;
  o.seed = seed;
  o.duration_ns = seconds * kSecond;
  return o;
}

std::string describe(const SimResult& r) { return r.failure + "\n" + r.diagnostics; }

// Agreement checked from the outside, independently of the simulator's own check: each node's
// committed blocks are a prefix of the longest node's, and nodes with as many blocks have the same
// application state hash.
void check_agreement(const SimResult& r) {
  REQUIRE(!r.nodes.empty());
  const auto longest = std::max_element(r.nodes.begin(), r.nodes.end(), [](const auto& a, const auto& b) {
    return a.block_hashes.size() < b.block_hashes.size();
  });
  for (std::size_t i = 0; i < r.nodes.size(); ++i) {
    const SimNodeSummary& n = r.nodes[i];
    CAPTURE(i);
    CHECK(n.blocks == n.block_hashes.size());
    CHECK(r.blocks_per_node[i] == n.blocks);
    CHECK(std::equal(n.block_hashes.begin(), n.block_hashes.end(), longest->block_hashes.begin()));
    if (n.blocks == longest->blocks) CHECK(n.state_hash == longest->state_hash);
  }
}

void check_healthy(const SimResult& r, std::uint64_t min_blocks, std::uint64_t max_lag) {
  INFO(describe(r));
  CHECK(r.safety_ok);
  CHECK(r.liveness_checked);
  CHECK(r.liveness_ok);
  check_agreement(r);
  const std::uint64_t most = *std::max_element(r.blocks_per_node.begin(), r.blocks_per_node.end());
  for (std::uint64_t b : r.blocks_per_node) {
    CHECK(b >= min_blocks);
    CHECK(most - b <= max_lag);
  }
  CHECK(r.common_blocks >= min_blocks);
}

}  // namespace

TEST_CASE("sim: 4 nodes over several seeds agree on every block and keep committing (safety, liveness)") {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    CAPTURE(seed);
    const SimResult r = run_simulation(options(4, seed, 10));
    check_healthy(r, 80, 5);
    CHECK(r.virtual_ns == 10 * kSecond);
    CHECK(r.messages > 1000);
    CHECK(r.transactions_submitted == 2000);
    CHECK(r.transactions_refused == 0);
  }
}

TEST_CASE("sim: 7 nodes over several seeds agree on every block and keep committing") {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    CAPTURE(seed);
    const SimResult r = run_simulation(options(7, seed, 5));
    check_healthy(r, 30, 5);
  }
}

TEST_CASE("sim: a slow node (200 ms extra latency on all its messages) commits the same blocks") {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    CAPTURE(seed);
    SimOptions o = options(4, seed, 20);
    o.slow_nodes = {3};
    const SimResult r = run_simulation(o);
    check_healthy(r, 20, 5);
  }
  SimOptions o = options(7, 4, 10);
  o.slow_nodes = {6};
  check_healthy(run_simulation(o), 10, 5);
}

TEST_CASE("sim: once transactions stop, every node (slow one included) drains to the same last block") {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    CAPTURE(seed);
    SimOptions o = options(4, seed, 12);
    o.slow_nodes = {0};
    o.tx_until_ns = 4 * kSecond;
    const SimResult r = run_simulation(o);
    check_healthy(r, 5, 0);
    INFO(describe(r));
    for (const SimNodeSummary& n : r.nodes) CHECK(n.transactions == r.transactions_submitted);
  }
}

TEST_CASE("sim: a single-node network commits blocks on its own") {
  const SimResult r = run_simulation(options(1, 1, 5));
  check_healthy(r, 50, 0);
  CHECK(r.messages == 0);
  CHECK(r.nodes[0].transactions + 20 >= r.transactions_submitted);
}

TEST_CASE("sim: same seed and options give the same run; another seed another run (determinism)") {
  const SimOptions a = options(4, 7, 5);
  const SimResult r1 = run_simulation(a);
  const SimResult r2 = run_simulation(a);
  CHECK(r1.trace_hash == r2.trace_hash);
  CHECK(r1.blocks_per_node == r2.blocks_per_node);
  CHECK(r1.messages == r2.messages);
  CHECK(r1.message_bytes == r2.message_bytes);
  CHECK(r1.events_total == r2.events_total);
  CHECK(r1.nodes[0].block_hashes == r2.nodes[0].block_hashes);
  CHECK(r1.nodes[0].state_hash == r2.nodes[0].state_hash);

  SimOptions b = a;
  b.seed = 8;
  const SimResult r3 = run_simulation(b);
  CHECK(r3.trace_hash != r1.trace_hash);
  CHECK(r3.nodes[0].state_hash != r1.nodes[0].state_hash);

  SimOptions c = a;
  c.max_latency_ns += 1;  // any option is part of the run
  CHECK(run_simulation(c).trace_hash != r1.trace_hash);
}

TEST_CASE("sim: the liveness check can fail: without transactions no block is ever committed") {
  SimOptions o = options(4, 1, 3);
  o.tx_per_s = 0;
  const SimResult r = run_simulation(o);
  CHECK(r.safety_ok);
  CHECK(r.liveness_checked);
  CHECK_FALSE(r.liveness_ok);
  CHECK(r.failure.find("liveness") == 0);
  CHECK(r.common_blocks == 0);
  CHECK(!r.diagnostics.empty());
}

TEST_CASE("sim: max_deliveries stops the run early and liveness is then not judged") {
  SimOptions o = options(4, 2, 10);
  o.max_deliveries = 500;
  const SimResult r = run_simulation(o);
  CHECK(r.messages == 500);
  CHECK(r.virtual_ns < 10 * kSecond);
  CHECK(r.safety_ok);
  CHECK_FALSE(r.liveness_checked);
  CHECK(r.liveness_ok);
}

TEST_CASE("sim: options that make no sense are refused with std::invalid_argument") {
  auto refused = [](SimOptions o) { CHECK_THROWS_AS(run_simulation(o), std::invalid_argument); };
  SimOptions o;
  o.nodes = 0;
  refused(o);
  o = SimOptions{};
  o.slow_nodes = {4};
  refused(o);
  o = SimOptions{};
  o.min_latency_ns = 5;
  o.max_latency_ns = 4;
  refused(o);
  o = SimOptions{};
  o.duration_ns = 0;
  refused(o);
  o = SimOptions{};
  o.tx_size = 7;
  refused(o);
  o = SimOptions{};
  o.tx_per_s = -1;
  refused(o);
}

TEST_CASE("sim: compaction (NodeConfig::compact_every_rounds) changes no block: same seeds, same block hashes") {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    CAPTURE(seed);
    SimOptions plain = options(4, seed, 10);
    plain.compact_every_rounds = 0;
    SimOptions compacting = plain;
    compacting.compact_every_rounds = 5;
    compacting.compact_keep_rounds = 2;
    const SimResult a = run_simulation(plain), b = run_simulation(compacting);
    check_healthy(a, 80, 5);
    check_healthy(b, 80, 5);
    REQUIRE(a.nodes.size() == b.nodes.size());
    for (std::size_t i = 0; i < a.nodes.size(); ++i) {
      CAPTURE(i);
      CHECK(a.nodes[i].compactions == 0);
      CHECK(b.nodes[i].compactions >= 3);
      CHECK(b.nodes[i].events < a.nodes[i].events);
      const std::size_t common = std::min(a.nodes[i].block_hashes.size(), b.nodes[i].block_hashes.size());
      CHECK(common >= 80);
      CHECK(std::equal(a.nodes[i].block_hashes.begin(), a.nodes[i].block_hashes.begin() + common,
                       b.nodes[i].block_hashes.begin()));
    }
  }
}
