// chatter-bench sim: the simulator's speed (simulated events per wall-clock and per CPU second) with
// and without the verification cache its nodes share (SimOptions::shared_verify_cache), fault-free or
// under every fault (`all`), and the machine's Ed25519 verify rate measured in the same run.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/bench_util.h"
#include "engine/crypto.h"
#include "sim/simulator.h"

namespace chatter::bench {
namespace {

using Json = nlohmann::ordered_json;

struct Options {
  std::size_t nodes = 4;
  std::uint64_t seeds = 3;
  double duration_s = 20;
  std::string faults = "none";
};

double verify_per_s() {
  const KeyPair kp = KeyPair::from_name("bench");
  const Hash h = blake2b(std::string_view("bench sim"));
  const Signature s = kp.sign(h);
  const double t0 = thread_cpu_s();
  int n = 0;
  for (; n < 4000; ++n)
    if (!verify(kp.public_key(), h, s)) std::abort();
  return n / (thread_cpu_s() - t0);
}

Json measure(const Options& o, bool cache) {
  std::uint64_t events = 0, hits = 0, misses = 0;
  double wall = 0, cpu = 0;
  for (std::uint64_t seed = 1; seed <= o.seeds; ++seed) {
    SimOptions s;
    s.nodes = o.nodes;
    s.seed = seed;
    s.duration_ns = static_cast<std::int64_t>(o.duration_s * 1e9);
    s.shared_verify_cache = cache;
    if (o.faults == "all") {
      s.faults = SimFaults{true, true, true, true, true, true, true, true, true, true, true, true, true};
      s.crashes = 2;
      s.crash_downtime_ns = 1'000'000'000;
      s.lying_fastforward = true;
      s.late_nodes = 1;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_s();
    const SimResult r = run_simulation(s);
    cpu += thread_cpu_s() - c0;
    wall += seconds_since(t0);
    if (!r.safety_ok || !r.liveness_ok || !r.bounds_ok) {
      std::fprintf(stderr, "chatter-bench sim: seed %llu failed: %s\n", static_cast<unsigned long long>(seed),
                   r.failure.c_str());
      std::exit(1);
    }
    events += r.events_total;
    hits += r.faults.verify_cache_hits;
    misses += r.faults.verify_cache_misses;
  }
  Json j;
  j["sim_events"] = events;
  j["wall_s"] = rounded(wall, 3);
  j["cpu_s"] = rounded(cpu, 3);
  j["sim_events_per_wall_s"] = rounded(static_cast<double>(events) / wall, 0);
  j["sim_events_per_cpu_s"] = rounded(static_cast<double>(events) / cpu, 0);
  j["verify_cache_hits"] = hits;
  j["verify_cache_misses"] = misses;
  return j;
}

}  // namespace

int sim_main(int argc, char** argv) {
  Options o;
  CLI::App app{"Simulator speed with and without the shared verification cache; prints one JSON document.",
               "chatter-bench sim"};
  app.add_option("--nodes", o.nodes, "simulated validators")->check(CLI::Range(1, 100));
  app.add_option("--seeds", o.seeds, "runs (seeds 1..K) per measurement")->check(CLI::Range(1, 100000));
  app.add_option("--duration", o.duration_s, "virtual seconds per run")->check(CLI::Range(0.1, 1e5));
  app.add_option("--faults", o.faults, "none or all")->check(CLI::IsMember({"none", "all"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (!what.empty() && what.back() != '.') what += '.';
    std::fprintf(stderr, "chatter-bench sim: %s\n", what.c_str());
    return 2;
  }
  crypto_init();
  Json out;
  out["benchmark"] = "sim";
  out["build_type"] = CHATTER_BUILD_TYPE;
  out["nodes"] = o.nodes;
  out["seeds"] = o.seeds;
  out["duration_s"] = o.duration_s;
  out["faults"] = o.faults;
  out["verify_per_s"] = rounded(verify_per_s(), 0);
  out["uncached"] = measure(o, false);
  out["cached"] = measure(o, true);
  out["speedup_cpu"] = rounded(out["cached"]["sim_events_per_cpu_s"].get<double>() /
                                   out["uncached"]["sim_events_per_cpu_s"].get<double>(),
                               2);
  std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace chatter::bench
