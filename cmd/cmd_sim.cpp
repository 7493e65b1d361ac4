// `chatter sim`: deterministic simulations (spec/cli.md, `chatter sim`), one per seed, summarised as
// one JSON document. The simulation itself is sim/simulator.h; this file parses the command line,
// refuses what is not implemented, times the runs on the wall clock and prints the summary.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cmd/commands.h"
#include "engine/bytes.h"
#include "sim/simulator.h"

namespace chatter::cmd {
namespace {

struct SimArgs {
  std::string seeds = "1..1";
  std::size_t nodes = 4;
  std::string faults = "none";
  std::uint64_t steps = 0;
  double duration_s = 20;
  std::size_t slow = 0;
  double tx_rate = 200;
  bool log = false;
  std::string log_file;
  int byzantine = -1;
  double fault_until_s = -1;
  double liveness_bound_s = -1;
  bool compact = false;
  std::size_t late = 0;
};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::uint64_t parse_u64(const std::string& s, const std::string& what) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 19)
    throw UsageError(what + " '" + s + "' is not a non-negative integer");
  return std::stoull(s);
}

// "A..B" (inclusive) or "A".
std::pair<std::uint64_t, std::uint64_t> parse_seeds(const std::string& s) {
  const auto dots = s.find("..");
  if (dots == std::string::npos) {
    const std::uint64_t a = parse_u64(s, "seed");
    return {a, a};
  }
  const std::uint64_t a = parse_u64(s.substr(0, dots), "seed");
  const std::uint64_t b = parse_u64(s.substr(dots + 2), "seed");
  if (b < a) throw UsageError("the seed range '" + s + "' is empty (the first seed is above the last)");
  return {a, b};
}

// Every fault name of spec/cli.md. Returns the names.
std::vector<std::string> check_faults(const std::string& list) {
  static const std::vector<std::string> kKnown{
      "none",         "drop",      "delay",     "duplicate",   "reorder",
      "corrupt",      "partition", "crash",     "clock-drift", "bad-signature",
      "fake-parents", "replay",    "oversized", "silence",     "lying-fastforward",
      "all"};
  std::stringstream in(list);
  std::string name;
  std::vector<std::string> names;
  while (std::getline(in, name, ',')) {
    names.push_back(name);
    bool known = false;
    for (const auto& k : kKnown) known = known || k == name;
    if (!known) {
      std::string all;
      for (const auto& k : kKnown) all += (all.empty() ? "" : ", ") + k;
      throw UsageError("unknown fault '" + name + "'; the faults are " + all);
    }
  }
  if (names.empty()) throw UsageError("--faults needs at least one fault name (e.g. none)");
  return names;
}

// Turns fault names into simulator options (sim/simulator.h says what each one does).
void apply_faults(const std::vector<std::string>& names, SimOptions& o) {
  SimFaults& f = o.faults;
  for (const auto& n : names) {
    const bool all = n == "all";
    if (all) f.mix = true;
    if (all || n == "drop") f.drop = true;
    if (all || n == "delay") f.delay = true;
    if (all || n == "duplicate") f.duplicate = true;
    if (all || n == "reorder") f.reorder = true;
    if (all || n == "corrupt") f.corrupt = true;
    if (all || n == "partition") f.partition = true;
    if (all || n == "clock-drift") f.clock_drift = true;
    if (all || n == "bad-signature") f.bad_signature = true;
    if (all || n == "fake-parents") f.fake_parents = true;
    if (all || n == "replay") f.replay = true;
    if (all || n == "oversized") f.oversized = true;
    if (all || n == "silence") f.silence = true;
    if (all || n == "crash") {
      o.crashes = 2;
      o.crash_downtime_ns = 1'000'000'000;
    }
    if (all || n == "lying-fastforward") {
      // Node 0 lies in every fast-forward answer; someone must be catching up to be lied to.
      o.lying_fastforward = true;
      o.late_nodes = std::max<std::size_t>(o.late_nodes, 1);
    }
  }
}

std::string hex64(std::uint64_t v) {
  static const char* kDigits = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = kDigits[v & 15];
  return s;
}

int run_sim(const SimArgs& args) {
  std::pair<std::uint64_t, std::uint64_t> seeds;
  SimOptions base;
  std::unique_ptr<std::ofstream> log_file;
  try {
    seeds = parse_seeds(args.seeds);
    const auto faults = check_faults(args.faults);
    if (!(args.duration_s > 0) || args.duration_s > 1e6)
      throw UsageError("--duration must be a positive number of virtual seconds (at most 1e6)");
    if (args.slow >= args.nodes && args.slow > 0)
      throw UsageError("--slow must leave at least one node at normal speed (it is " +
                       std::to_string(args.slow) + " of " + std::to_string(args.nodes) + " nodes)");
    base.nodes = args.nodes;
    base.duration_ns = std::llround(args.duration_s * 1e9);
    for (std::size_t i = 0; i < args.slow; ++i) base.slow_nodes.push_back(args.nodes - 1 - i);
    base.tx_per_s = args.tx_rate;
    base.max_deliveries = args.steps;
    if (args.log) base.log = &std::cerr;
    if (!args.log_file.empty()) {
      log_file = std::make_unique<std::ofstream>(args.log_file);
      if (!*log_file) throw UsageError("cannot write the event log to '" + args.log_file + "'");
      base.log = log_file.get();
    }
    base.late_nodes = args.late;
    apply_faults(faults, base);
    if (!(faults.size() == 1 && faults[0] == "none")) base.fast_forward_timeout_ns = 2'000'000'000;
    if (args.byzantine >= 0) base.byzantine = args.byzantine;
    if (args.fault_until_s >= 0) base.fault_until_ns = std::llround(args.fault_until_s * 1e9);
    if (args.liveness_bound_s > 0) base.liveness_bound_ns = std::llround(args.liveness_bound_s * 1e9);
    validate(base);
  } catch (const std::exception& e) {
    std::cerr << "chatter sim: " << e.what() << "\n";
    return kExitUsage;
  }

  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  nlohmann::ordered_json failures = nlohmann::ordered_json::array();
  std::uint64_t count = 0, safety = 0, liveness = 0, bounds = 0, events = 0;
  double wall_total = 0;
  for (std::uint64_t seed = seeds.first;; ++seed) {
    SimOptions o = base;
    o.seed = seed;
    if (base.log) *base.log << "# seed " << seed << "\n";
    const auto t0 = std::chrono::steady_clock::now();
    const SimResult r = run_simulation(o);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++count;
    wall_total += wall;
    events += r.events_total;
    if (!r.safety_ok) ++safety;
    if (!r.liveness_ok) ++liveness;
    if (!r.bounds_ok) ++bounds;
    if (!r.safety_ok || !r.liveness_ok || !r.bounds_ok)
      failures.push_back({{"seed", seed}, {"what", r.failure}, {"trace_hash", hex64(r.trace_hash)}});

    nlohmann::ordered_json run;
    run["seed"] = seed;
    run["safety_ok"] = r.safety_ok;
    run["liveness_ok"] = r.liveness_ok;
    run["liveness_checked"] = r.liveness_checked;
    run["bounds_ok"] = r.bounds_ok;
    run["heal_s"] = static_cast<double>(r.heal_ns) / 1e9;
    if (!r.byzantine_nodes.empty()) run["byzantine_nodes"] = r.byzantine_nodes;
    if (!r.failure.empty()) run["failure"] = r.failure;
    run["blocks_per_node"] = r.blocks_per_node;
    run["common_blocks"] = r.common_blocks;
    std::vector<std::uint64_t> txs;
    for (const auto& n : r.nodes) txs.push_back(n.transactions);
    run["transactions_per_node"] = txs;
    run["transactions_submitted"] = r.transactions_submitted;
    run["messages"] = r.messages;
    run["message_bytes"] = r.message_bytes;
    run["sim_events"] = r.events_total;
    run["virtual_s"] = static_cast<double>(r.virtual_ns) / 1e9;
    run["wall_s"] = wall;
    run["sim_events_per_wall_s"] = wall > 0 ? static_cast<double>(r.events_total) / wall : 0.0;
    run["trace_hash"] = hex64(r.trace_hash);
    if (!r.nodes.empty()) run["state_hash_node0"] = to_hex(r.nodes[0].state_hash);
    if (base.late_nodes > 0) {
      nlohmann::ordered_json late = nlohmann::ordered_json::array();
      for (std::size_t i = 0; i < r.nodes.size(); ++i) {
        const auto& n = r.nodes[i];
        if (!n.late) continue;
        nlohmann::ordered_json l;
        l["node"] = i;
        l["fast_forwards"] = n.fast_forwards;
        l["fast_forward_block"] =
            n.fast_forward_block ? nlohmann::ordered_json(*n.fast_forward_block) : nullptr;
        l["refused_answers"] = n.fast_forward_refusals;
        if (!n.last_fast_forward_error.empty()) l["last_refusal"] = n.last_fast_forward_error;
        l["babbling_at_s"] = n.babbling_ns < 0
                                 ? nlohmann::ordered_json(nullptr)
                                 : nlohmann::ordered_json(static_cast<double>(n.babbling_ns) / 1e9);
        l["blocks"] = n.blocks;
        late.push_back(std::move(l));
      }
      run["late_nodes"] = std::move(late);
    }
    if (base.lying_fastforward) run["forged_answers"] = r.forged_answers;
    const SimFaultCounters& c = r.faults;
    run["faults"] = {{"dropped", c.dropped},
                     {"partition_dropped", c.partition_dropped},
                     {"delayed", c.delayed},
                     {"duplicated", c.duplicated},
                     {"reordered", c.reordered},
                     {"overtaken", c.overtaken},
                     {"corrupted", c.corrupted},
                     {"decode_errors", c.decode_errors},
                     {"oversized_dropped", c.oversized_dropped},
                     {"partitions", c.partitions},
                     {"partitions_healed", c.partitions_healed},
                     {"crashes", c.crashes},
                     {"restarts", c.restarts},
                     {"drifting_clocks", c.drifting_clocks},
                     {"bad_signatures_sent", c.bad_signatures_sent},
                     {"fake_parents_sent", c.fake_parents_sent},
                     {"replayed", c.replayed},
                     {"oversized_sent", c.oversized_sent},
                     {"malformed_sent", c.malformed_sent},
                     {"silenced", c.silenced},
                     {"honest_refused_events", c.honest_refused_events},
                     {"honest_ff_refusals", c.honest_ff_refusals}};
    if (!r.diagnostics.empty()) run["diagnostics"] = r.diagnostics;
    runs.push_back(std::move(run));
    if (seed == seeds.second) break;
  }

  nlohmann::ordered_json out;
  out["runs"] = count;
  out["safety_violations"] = safety;
  out["liveness_failures"] = liveness;
  out["bound_violations"] = bounds;
  out["failures"] = std::move(failures);
  out["nodes"] = args.nodes;
  out["faults"] = args.faults;
  out["duration_s"] = args.duration_s;
  out["slow_nodes"] = base.slow_nodes;
  out["late_nodes"] = base.late_nodes;
  out["tx_per_s"] = args.tx_rate;
  if (args.steps > 0) out["steps"] = args.steps;
  out["wall_s"] = wall_total;
  out["sim_events_per_wall_s"] = wall_total > 0 ? static_cast<double>(events) / wall_total : 0.0;
  out["results"] = std::move(runs);
  std::cout << out.dump(args.compact ? -1 : 2) << "\n";
  return safety == 0 && liveness == 0 && bounds == 0 ? 0 : 1;
}

}  // namespace

Command add_sim_command(CLI::App& root) {
  auto args = std::make_shared<SimArgs>();
  CLI::App* app = root.add_subcommand(
      "sim",
      "Run deterministic simulations of a network of nodes in virtual time, one per seed, check safety "
      "(every node commits the same blocks) and liveness, and print a JSON summary. Exit 0 only when "
      "every run passed; a failing seed reproduces alone with --seeds S..S.");
  app->add_option("--seeds", args->seeds, "Seeds to run, inclusive range A..B or one seed (default 1..1)");
  app->add_option("--nodes", args->nodes, "Validators in the simulated network (default 4)")
      ->check(CLI::Range(1, 1000));
  app->add_option(
      "--faults", args->faults,
      "Comma-separated faults to inject (spec/cli.md): none (the default), drop, delay, duplicate, "
      "reorder, corrupt, partition, crash, clock-drift, bad-signature, fake-parents, replay, "
      "oversized, silence, lying-fastforward (implies --late 1), all (every one, mixed by the seed)");
  app->add_option("--byzantine", args->byzantine,
                  "Byzantine validators when a Byzantine fault is on (default f = (n-1)/3; at most f)")
      ->check(CLI::Range(0, 333));
  app->add_option(
         "--fault-until", args->fault_until_s,
         "Virtual second at which network faults and crashes stop and the network heals (default: 60% "
         "of the run when a fault is on)")
      ->check(CLI::Range(0.0, 1e6));
  app->add_option("--liveness-bound", args->liveness_bound_s,
                  "Every honest node must commit a block within this many virtual seconds after the heal "
                  "(default: the rest of the run)")
      ->check(CLI::Range(1e-6, 1e6));
  app->add_option("--steps", args->steps, "Stop each run after K delivered messages (default: no cap)")
      ->check([](const std::string& s) -> std::string {
        if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos ||
            std::stoull(s) == 0)
          return "must be a positive integer, not '" + s + "'";
        return "";
      });
  app->add_option("--duration", args->duration_s, "Virtual seconds per run (default 20)");
  app->add_option(
      "--slow", args->slow,
      "Make the last K nodes slow: 200 ms extra latency on every message to or from them (default 0)");
  app->add_option("--tx-rate", args->tx_rate, "Transactions submitted per virtual second (default 200)")
      ->check(CLI::Range(0.0, 1e6));
  app->add_option(
      "--late", args->late,
      "The last K validators are down for the first quarter of the run, then start with fast-sync "
      "(default 0)");
  app->add_flag(
      "--log", args->log,
      "Print each run's event log (every delivery, fault action and block commit) on standard error");
  app->add_option("--log-file", args->log_file, "Write each run's event log to FILE instead");
  app->add_flag("--compact", args->compact, "Print the JSON on one line");
  return Command{app, [args] { return run_sim(*args); }};
}

}  // namespace chatter::cmd
