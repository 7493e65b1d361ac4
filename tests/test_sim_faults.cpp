// The simulator under faults (issue 8, spec/cli.md `chatter sim --faults`): for each fault alone,
// safety (honest nodes' blocks are prefixes of one another with equal state hashes; fast-forwarded
// blocks carry more than TrustCount trusted signatures), liveness after the heal, bounded growth,
// and proof that the fault really happened (its counters). Then every fault mixed (`all`) over 200
// seeds, determinism (trace hash), and checks that the checkers themselves can fail.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <string>

#include "sim/simulator.h"

using namespace chatter;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

SimOptions fault_options(std::size_t nodes, std::uint64_t seed, std::int64_t seconds) {
  SimOptions o;
  o.nodes = nodes;
  o.seed = seed;
  o.duration_ns = seconds * kSecond;
  o.tx_per_s = 100;
  return o;
}

std::string describe(const SimResult& r) { return r.failure + "\n" + r.diagnostics; }

// Safety among honest nodes, checked from the outside: at every block index two honest nodes both
// hold, the same block (so their sequences are prefixes of one another, from where a fast-forward
// started), and equal state hashes when they hold as many blocks.
void check_honest_agreement(const SimResult& r) {
  for (std::size_t i = 0; i < r.nodes.size(); ++i) {
    for (std::size_t j = i + 1; j < r.nodes.size(); ++j) {
      const SimNodeSummary &a = r.nodes[i], &b = r.nodes[j];
      if (a.byzantine || b.byzantine) continue;
      CAPTURE(i);
      CAPTURE(j);
      const std::uint64_t fa = a.fast_forward_block.value_or(0), fb = b.fast_forward_block.value_or(0);
      for (std::uint64_t idx = std::max(fa, fb);
           idx < fa + a.block_hashes.size() && idx < fb + b.block_hashes.size(); ++idx)
        CHECK(a.block_hashes[idx - fa] == b.block_hashes[idx - fb]);
      if (a.blocks == b.blocks) CHECK(a.state_hash == b.state_hash);
    }
  }
}

void check_held(const SimResult& r) {
  INFO(describe(r));
  CHECK(r.safety_ok);
  CHECK(r.bounds_ok);
  CHECK(r.liveness_checked);
  CHECK(r.liveness_ok);
  CHECK(r.common_blocks >= 1);
  check_honest_agreement(r);
  for (const auto& n : r.nodes)
    if (!n.byzantine) CHECK(n.first_commit_after_heal_ns > r.heal_ns);
}

// `all`: every fault, 2 crashes, node 0 lying to one late node, fast-forward answers awaited 1 s.
SimOptions all_faults(std::size_t nodes, std::uint64_t seed, std::int64_t seconds) {
  SimOptions o = fault_options(nodes, seed, seconds);
  o.tx_per_s = 50;
  o.faults = SimFaults{true, true, true, true, true, true, true, true, true, true, true, true, true};
  o.crashes = 2;
  o.crash_downtime_ns = kSecond / 2;
  o.lying_fastforward = true;
  o.late_nodes = 1;
  o.fast_forward_timeout_ns = kSecond;
  o.late_start_ns = kSecond / 2;
  return o;
}

struct FaultCase {
  const char* name;
  std::function<void(SimOptions&)> set;
  std::function<std::uint64_t(const SimResult&)> happened;  // > 0: the fault demonstrably acted
};

std::vector<FaultCase> fault_cases() {
  return {
      {"drop", [](SimOptions& o) { o.faults.drop = true; },
       [](const SimResult& r) { return r.faults.dropped; }},
      {"delay", [](SimOptions& o) { o.faults.delay = true; },
       [](const SimResult& r) { return r.faults.delayed; }},
      {"duplicate", [](SimOptions& o) { o.faults.duplicate = true; },
       [](const SimResult& r) { return r.faults.duplicated; }},
      {"reorder", [](SimOptions& o) { o.faults.reorder = true; },
       [](const SimResult& r) { return std::min(r.faults.reordered, r.faults.overtaken); }},
      {"corrupt", [](SimOptions& o) { o.faults.corrupt = true; },
       // corrupted frames were sent and were refused: by the decoder, or by the node (signatures)
       [](const SimResult& r) {
         return std::min(r.faults.corrupted, r.faults.decode_errors + r.faults.honest_refused_events);
       }},
      {"partition", [](SimOptions& o) { o.faults.partition = true; },
       [](const SimResult& r) {
         return r.faults.partitions == r.faults.partitions_healed ? r.faults.partition_dropped : 0;
       }},
      {"crash",
       [](SimOptions& o) {
         o.crashes = 2;
         o.crash_downtime_ns = kSecond;
       },
       [](const SimResult& r) { return r.faults.crashes == r.faults.restarts ? r.faults.restarts : 0; }},
      {"clock-drift", [](SimOptions& o) { o.faults.clock_drift = true; },
       [](const SimResult& r) {
         std::uint64_t drifting = 0;
         for (const auto& n : r.nodes) drifting += n.drift_ppm != 0 ? 1 : 0;
         return drifting;
       }},
      {"bad-signature", [](SimOptions& o) { o.faults.bad_signature = true; },
       [](const SimResult& r) {
         return std::min(r.faults.bad_signatures_sent, r.faults.honest_refused_events);
       }},
      {"fake-parents", [](SimOptions& o) { o.faults.fake_parents = true; },
       [](const SimResult& r) {
         return std::min(r.faults.fake_parents_sent, r.faults.honest_refused_events);
       }},
      {"replay", [](SimOptions& o) { o.faults.replay = true; },
       [](const SimResult& r) { return r.faults.replayed; }},
      {"oversized", [](SimOptions& o) { o.faults.oversized = true; },
       // oversized frames dropped on their length prefix, malformed ones by the decoder
       [](const SimResult& r) {
         const bool all_capped = r.faults.oversized_dropped == r.faults.oversized_sent;
         return all_capped
                    ? std::min({r.faults.oversized_dropped, r.faults.decode_errors, r.faults.malformed_sent})
                    : 0;
       }},
      {"silence", [](SimOptions& o) { o.faults.silence = true; },
       [](const SimResult& r) { return r.faults.silenced; }},
      {"lying-fastforward",
       [](SimOptions& o) {
         o.lying_fastforward = true;
         o.late_nodes = 1;
       },
       [](const SimResult& r) { return std::min(r.forged_answers, r.faults.honest_ff_refusals); }},
  };
}

}  // namespace

TEST_CASE(
    "sim faults: each fault alone keeps safety, liveness after the heal and bounds, and really acts "
    "(4 and 7 nodes)") {
  for (const FaultCase& fc : fault_cases()) {
    for (std::size_t nodes : {4u, 7u}) {
      for (std::uint64_t seed = 1; seed <= (nodes == 4 ? 3u : 1u); ++seed) {
        CAPTURE(fc.name);
        CAPTURE(nodes);
        CAPTURE(seed);
        SimOptions o = fault_options(nodes, seed, nodes == 4 ? 8 : 6);
        fc.set(o);
        const SimResult r = run_simulation(o);
        check_held(r);
        CHECK(fc.happened(r) > 0);
        // Byzantine behaviours on f = (n-1)/3 nodes; lying-fastforward alone is node 0's.
        const std::size_t byzantine = o.faults.byzantine() ? (nodes - 1) / 3 : o.lying_fastforward ? 1 : 0;
        CHECK(r.byzantine_nodes.size() == byzantine);
      }
    }
  }
}

TEST_CASE(
    "sim faults: every fault mixed (`all`) over 200 seeds: no safety violation, no liveness failure, "
    "bounded growth") {
  std::uint64_t refused = 0, decode_errors = 0, crashes = 0, ff_refused = 0, partitions = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    CAPTURE(seed);
    SimOptions o = all_faults(4, seed, 4);
    o.fault_until_ns = 6 * kSecond / 5;  // then 2.8 s to recover
    const SimResult r = run_simulation(o);
    INFO(describe(r));
    REQUIRE(r.safety_ok);
    REQUIRE(r.bounds_ok);
    REQUIRE(r.liveness_ok);
    check_honest_agreement(r);
    refused += r.faults.honest_refused_events;
    decode_errors += r.faults.decode_errors;
    crashes += r.faults.crashes;
    ff_refused += r.faults.honest_ff_refusals;  // the liar's claimed anchor was refused
    partitions += r.faults.partitions_healed;
  }
  CHECK(refused > 200);
  CHECK(decode_errors > 200);
  CHECK(crashes >= 200);
  CHECK(partitions >= 200);
  CHECK(ff_refused > 0);
}

TEST_CASE("sim faults: `all` with 7 nodes (f = 2 Byzantine) over 5 seeds") {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    CAPTURE(seed);
    SimOptions o = all_faults(7, seed, 6);
    o.fault_until_ns = 2 * kSecond;
    const SimResult r = run_simulation(o);
    check_held(r);
    CHECK(r.byzantine_nodes.size() == 2);
  }
}

TEST_CASE(
    "sim faults: same seed and options, same trace hash; another seed, another hash (reproducibility)") {
  SimOptions o = fault_options(4, 11, 4);
  o.faults = SimFaults{true, true, true, true, true, true, true, true, true, true, true, true, true};
  o.crashes = 1;
  const SimResult a = run_simulation(o), b = run_simulation(o);
  CHECK(a.trace_hash == b.trace_hash);
  CHECK(a.blocks_per_node == b.blocks_per_node);
  CHECK(a.faults.corrupted == b.faults.corrupted);
  CHECK(a.faults.honest_refused_events == b.faults.honest_refused_events);
  SimOptions other = o;
  other.seed = 12;
  CHECK(run_simulation(other).trace_hash != a.trace_hash);
  // The shared verification cache changes nothing but speed.
  SimOptions uncached = o;
  uncached.shared_verify_cache = false;
  const SimResult c = run_simulation(uncached);
  CHECK(c.trace_hash == a.trace_hash);
  CHECK(c.faults.verify_cache_hits == 0);
  CHECK(a.faults.verify_cache_hits > 0);
}

TEST_CASE(
    "sim faults: the safety checker can fail: a planted divergence is reported, and its seed "
    "reproduces alone") {
  std::uint64_t failing = 0, hash = 0;
  std::string what;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    SimOptions o = fault_options(4, seed, 3);
    o.diverge_node = 2;
    o.diverge_from_block = 3;
    const SimResult r = run_simulation(o);
    CHECK_FALSE(r.safety_ok);
    CHECK(r.failure.find("safety: ") == 0);
    CHECK(r.failure.find("block 3") != std::string::npos);
    CHECK(r.failure.find("differs in state_hash (") != std::string::npos);
    if (failing == 0) {
      failing = seed;
      hash = r.trace_hash;
      what = r.failure;
    }
  }
  SimOptions again = fault_options(4, failing, 3);
  again.diverge_node = 2;
  again.diverge_from_block = 3;
  const SimResult r = run_simulation(again);
  CHECK(r.trace_hash == hash);
  CHECK(r.failure == what);
}

TEST_CASE("sim faults: the bounds checker can fail: a queue bound below the traffic is reported") {
  SimOptions o = fault_options(4, 1, 3);
  o.faults.duplicate = true;
  o.max_queue = 10;
  const SimResult r = run_simulation(o);
  CHECK_FALSE(r.bounds_ok);
  CHECK(r.failure.find("bounds: ") == 0);
  CHECK(r.failure.find("queue") != std::string::npos);
}

TEST_CASE("sim faults: options that break n >= 3f+1 or the fault window are refused") {
  auto refused = [](SimOptions o) { CHECK_THROWS_AS(run_simulation(o), std::invalid_argument); };
  SimOptions o = fault_options(3, 1, 5);
  o.faults.silence = true;
  refused(o);  // 3 nodes: f = 0
  o = fault_options(4, 1, 5);
  o.faults.replay = true;
  o.byzantine = 2;
  refused(o);  // more than f
  o = fault_options(4, 1, 5);
  o.fault_until_ns = 4 * kSecond;
  o.liveness_bound_ns = 2 * kSecond;
  refused(o);  // window + bound beyond the run
}
