// Dynamic membership (issue 7; spec/consensus.md "Peer sets": a change accepted in the block of
// round RR takes effect at RR + 6): joins, leaves, a rejoin, a join under load and after a long
// history (fast-forward), Suspended, all in the simulator. The node-level cases (the peer-set proof,
// JoinRequest handling, the encodings, the graph's recomputation) are in test_membership_node.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <functional>
#include <map>
#include <tuple>
#include <string>

#include "engine/crypto.h"
#include "engine/hashgraph.h"
#include "engine/messages.h"
#include "engine/rng.h"
#include "engine/node.h"
#include "sim/simulator.h"
#include "store/inmem_store.h"

using namespace chatter;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

std::string describe(const SimResult& r) { return r.failure + "\n" + r.diagnostics; }

std::string schedule_text(const SimResult& r) {
  std::string s;
  for (const auto& [round, members] : r.schedule) {
    s += std::to_string(round) + ":{";
    for (std::size_t m : members) s += std::to_string(m) + ",";
    s += "} ";
  }
  return s;
}

// What every membership scenario must hold: the simulator's own safety and bounds checks (equal
// blocks and state hashes at equal indexes among honest nodes after every step), liveness of the
// genesis nodes that stayed, every running node ending with the schedule the committed blocks give,
// and, checked here from the outside, equal block hashes at every index two nodes both hold and
// equal state hashes for nodes at the same last block.
void check_common(const SimResult& r) {
  INFO(describe(r));
  INFO(schedule_text(r));
  REQUIRE(r.safety_ok);
  REQUIRE(r.bounds_ok);
  CHECK(r.liveness_checked);
  CHECK(r.liveness_ok);
  CHECK(r.schedules_equal);
  REQUIRE(r.reference_node >= 0);
  std::map<std::uint64_t, Hash> by_index;
  for (std::size_t i = 0; i < r.nodes.size(); ++i) {
    const SimNodeSummary& n = r.nodes[i];
    CAPTURE(i);
    if (!n.last_block_index) continue;
    // The blocks it committed (from 0, or from the block it fast-forwarded to last) end its list.
    const std::uint64_t first = n.fast_forward_block.value_or(0);
    REQUIRE(*n.last_block_index + 1 - first <= n.block_hashes.size());
    const std::size_t skip = n.block_hashes.size() - static_cast<std::size_t>(*n.last_block_index + 1 - first);
    for (std::size_t k = skip; k < n.block_hashes.size(); ++k) {
      auto [it, fresh] = by_index.emplace(first + (k - skip), n.block_hashes[k]);
      if (!fresh) CHECK(it->second == n.block_hashes[k]);
    }
    for (std::size_t j = 0; j < i; ++j)
      if (r.nodes[j].last_block_index == n.last_block_index) CHECK(r.nodes[j].state_hash == n.state_hash);
  }
  CHECK(r.common_blocks >= 10);
}

std::vector<std::size_t> last_set(const SimResult& r) {
  REQUIRE(!r.schedule.empty());
  auto v = r.schedule.back().second;
  std::sort(v.begin(), v.end());
  return v;
}

// A node that became a validator: Babbling, in the newest set, with witnesses in the reference
// graph's recent rounds and signatures on the reference node's recent blocks.
void check_validator(const SimResult& r, std::size_t i) {
  CAPTURE(i);
  INFO(describe(r));
  const SimNodeSummary& n = r.nodes[i];
  CHECK(n.state == "Babbling");
  CHECK(n.validator);
  CHECK(n.witnesses > 0);
  CHECK(n.blocks_signed > 0);
  CHECK(n.peer_set_changes + (n.fast_forwards > 0 ? 1 : 0) >= 1);
}

void check_left(const SimResult& r, std::size_t i) {
  CAPTURE(i);
  INFO(describe(r));
  const SimNodeSummary& n = r.nodes[i];
  CHECK(n.state == "Shutdown");
  CHECK_FALSE(n.validator);
  CHECK(std::find(r.left.begin(), r.left.end(), i) != r.left.end());
  CHECK(n.membership_status.find("left the validator set") != std::string::npos);
}

SimOptions base(std::size_t nodes, std::uint64_t seed, std::int64_t seconds) {
  SimOptions o;
  o.nodes = nodes;
  o.seed = seed;
  o.duration_ns = seconds * kSecond;
  o.tx_per_s = 100;
  if (std::getenv("CHATTER_MEMBERSHIP_LOG")) o.log = &std::cerr;  // to reproduce a failure
  return o;
}

}  // namespace

TEST_CASE("membership: successive joins take the set from 4 to 7 validators") {
  SimOptions o = base(4, 11, 30);
  o.joins = {{3 * kSecond, -1}, {9 * kSecond, -1}, {15 * kSecond, -1}};
  const SimResult r = run_simulation(o);
  check_common(r);
  CHECK(last_set(r) == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6});
  CHECK(r.schedule.size() == 4);  // genesis and one entry per join
  CHECK(r.joined == std::vector<std::size_t>{4, 5, 6});
  for (std::size_t i = 4; i < 7; ++i) {
    check_validator(r, i);
    CHECK(r.nodes[i].join_accepted_round.has_value());
    CHECK(r.nodes[i].schedule_entries == 4);
    CHECK(r.nodes[i].membership_status.find("joined: a validator from round " +
                                            std::to_string(r.nodes[i].join_accepted_round.value_or(-100) + 6)) == 0);
  }
  // Each change at its accepted round + 6, with strictly growing rounds.
  for (std::size_t k = 1; k < r.schedule.size(); ++k) CHECK(r.schedule[k].first > r.schedule[k - 1].first);
  CHECK(r.nodes[4].join_accepted_round.value_or(-100) + 6 == r.schedule[1].first);
}

TEST_CASE("membership: successive leaves take the set from 7 to 4 validators") {
  SimOptions o = base(7, 12, 30);
  o.leaves = {{6, 3 * kSecond}, {5, 9 * kSecond}, {4, 15 * kSecond}};
  const SimResult r = run_simulation(o);
  check_common(r);
  CHECK(last_set(r) == std::vector<std::size_t>{0, 1, 2, 3});
  CHECK(r.schedule.size() == 4);
  for (std::size_t i = 4; i < 7; ++i) check_left(r, i);
  for (std::size_t i = 0; i < 4; ++i) check_validator(r, i);
}

TEST_CASE("membership: a join and a leave at the same time") {
  SimOptions o = base(4, 13, 30);
  o.joins = {{5 * kSecond, -1}};
  o.leaves = {{3, 5 * kSecond}};
  const SimResult r = run_simulation(o);
  check_common(r);
  CHECK(last_set(r) == std::vector<std::size_t>{0, 1, 2, 4});
  check_validator(r, 4);
  check_left(r, 3);
  CHECK(r.joined == std::vector<std::size_t>{4});
}

TEST_CASE("membership: a join under heavy load") {
  SimOptions o = base(4, 14, 20);
  o.tx_per_s = 3000;
  o.joins = {{4 * kSecond, -1}};
  const SimResult r = run_simulation(o);
  check_common(r);
  CHECK(last_set(r) == std::vector<std::size_t>{0, 1, 2, 3, 4});
  check_validator(r, 4);
  CHECK(r.transactions_submitted > 40'000);
  CHECK(r.nodes[0].transactions > 30'000);
}

TEST_CASE("membership: a join after a long history catches up by fast-forward") {
  SimOptions o = base(4, 15, 60);
  o.snapshot_interval = 5;
  o.compact_every_rounds = 50;
  o.compact_keep_rounds = 20;
  o.joins = {{40 * kSecond, -1}};
  const SimResult r = run_simulation(o);
  check_common(r);
  check_validator(r, 4);
  const SimNodeSummary& j = r.nodes[4];
  CHECK(j.fast_forwards >= 1);
  REQUIRE(j.fast_forward_block.has_value());
  CHECK(*j.fast_forward_block > 50);
  CHECK(j.app_restores >= 1);
}

TEST_CASE("membership: a validator leaves and joins again") {
  SimOptions o = base(5, 16, 36);
  o.leaves = {{4, 3 * kSecond}};
  o.joins = {{14 * kSecond, 4}};
  const SimResult r = run_simulation(o);
  check_common(r);
  INFO(schedule_text(r));
  CHECK(last_set(r) == std::vector<std::size_t>{0, 1, 2, 3, 4});
  REQUIRE(r.schedule.size() == 3);  // genesis, without node 4, with node 4 again
  CHECK(std::find(r.schedule[1].second.begin(), r.schedule[1].second.end(), 4) == r.schedule[1].second.end());
  check_validator(r, 4);
  CHECK(r.nodes[4].joiner);
  CHECK(r.nodes[4].join_accepted_round.value_or(-1) > r.schedule[1].first);
}

TEST_CASE("membership: runs are deterministic with joins and leaves") {
  SimOptions o = base(4, 17, 15);
  o.joins = {{3 * kSecond, -1}};
  o.leaves = {{1, 6 * kSecond}};
  const SimResult a = run_simulation(o);
  const SimResult b = run_simulation(o);
  CHECK(a.trace_hash == b.trace_hash);
  CHECK(a.schedule == b.schedule);
  check_common(a);
}

TEST_CASE("membership: Suspended when own undetermined events exceed suspend_limit x validators; a restart leaves it") {
  for (const bool restart : {false, true}) {
    CAPTURE(restart);
    SimOptions o = base(4, 5, 16);
    o.suspend_limit = 20;
    o.fault_until_ns = 9 * kSecond;
    o.planned_crashes = {{2, 2 * kSecond, 5 * kSecond, false}, {3, 2 * kSecond, 5 * kSecond, false}};
    // Node 0 restarts once the others are back (the restart leaves Suspended).
    if (restart) o.planned_crashes.push_back({0, 7 * kSecond + kSecond / 10, kSecond / 10, false});
    const SimResult r = run_simulation(o);
    INFO(describe(r));
    REQUIRE(r.safety_ok);
    REQUIRE(r.bounds_ok);
    // Node 1 never restarts: it stays Suspended, by the limit, saying why.
    CHECK(r.nodes[1].state == "Suspended");
    CHECK(r.nodes[1].membership_status.find("suspend_limit") != std::string::npos);
    if (!restart) {
      // Suspended at once the two others came back, node 0 too: 2 of 4 create events, nothing is
      // decided any more.
      CHECK(r.nodes[0].state == "Suspended");
      CHECK_FALSE(r.liveness_ok);
    } else {
      // Node 0 restarted: Babbling again, and with nodes 2 and 3 (3 of 4) the network commits again.
      CHECK(r.nodes[0].state == "Babbling");
      CHECK(r.liveness_ok);
      CHECK(r.nodes[2].blocks > 0);
      CHECK(r.nodes[0].blocks == r.nodes[2].blocks);
    }
  }
}
