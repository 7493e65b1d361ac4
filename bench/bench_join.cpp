// chatter-bench join: join latency (issue 7's figure) on a real loopback network under load. Runs
// `chatter testnet --nodes N --join K --tx-rate R --duration D` RUNS times (real `chatter run`
// processes, the key-value app, TCP) and reports every join's latency as the joining node measured
// it: from its first JoinRequest to the first moment it was Babbling as a validator (accepted,
// caught up by fast-forward or gossip, and in a set of its verified schedule). Also the network's
// committed rate and commit latency during the runs, so that "under load" is checked, not assumed.
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_util.h"

namespace chatter::bench {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct Options {
  std::size_t nodes = 4, join = 3, runs = 2;
  double tx_rate = 10000, duration_s = 20;
  std::string chatter;  // the chatter executable (default: ../cmd/chatter next to this one)
};

std::string default_chatter() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "chatter";
  return (self.parent_path().parent_path() / "cmd" / "chatter").string();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace

int join_main(int argc, char** argv) {
  Options o;
  CLI::App app{"Join latency on a loopback network under load (real chatter run processes)", "chatter-bench join"};
  app.add_option("--nodes", o.nodes, "Validators at genesis")->capture_default_str()->check(CLI::Range(1, 32));
  app.add_option("--join", o.join, "Nodes that join in each run")->capture_default_str()->check(CLI::Range(1, 16));
  app.add_option("--runs", o.runs, "Testnet runs")->capture_default_str()->check(CLI::Range(1, 100));
  app.add_option("--tx-rate", o.tx_rate, "Transactions per second offered")->capture_default_str();
  app.add_option("--duration", o.duration_s, "Seconds of load per run")->capture_default_str();
  app.add_option("--chatter", o.chatter, "The chatter executable (default: the build's cmd/chatter)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (o.chatter.empty()) o.chatter = default_chatter();
  char templ[] = "/tmp/chatter-bench-join-XXXXXX";
  if (::mkdtemp(templ) == nullptr) {
    std::fputs("chatter-bench join: cannot create a temporary directory\n", stderr);
    return 1;
  }
  const fs::path dir(templ);
  std::vector<double> latencies;
  Json runs = Json::array();
  bool all_held = true;
  for (std::size_t run = 0; run < o.runs; ++run) {
    const fs::path net = dir / ("run" + std::to_string(run));
    const fs::path summary = dir / ("run" + std::to_string(run) + ".json");
    std::ostringstream cmd;
    cmd << "'" << o.chatter << "' testnet --nodes " << o.nodes << " --join " << o.join << " --tx-rate " << o.tx_rate
        << " --duration " << o.duration_s << " --dir '" << net.string() << "' --summary '" << summary.string()
        << "' > /dev/null 2> '" << (dir / ("run" + std::to_string(run) + ".err")).string() << "'";
    std::fprintf(stderr, "chatter-bench join: run %zu of %zu\n", run + 1, o.runs);
    const int status = std::system(cmd.str().c_str());
    const bool held = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    std::ifstream in(summary);
    if (!in) {
      std::fprintf(stderr, "chatter-bench join: run %zu left no summary (see %s)\n", run + 1, dir.c_str());
      return 1;
    }
    const Json s = Json::parse(in, nullptr, false);
    if (s.is_discarded() || !s.contains("membership")) {
      std::fprintf(stderr, "chatter-bench join: run %zu wrote an unreadable summary\n", run + 1);
      return 1;
    }
    all_held = all_held && held;
    const Json& m = s.at("membership");
    for (const auto& l : m.at("join_latency_s")) latencies.push_back(l.get<double>());
    runs.push_back(Json{{"held", held},
                        {"joined", m.at("joined")},
                        {"validators", m.at("validators")},
                        {"validator_sets_equal", m.at("validator_sets_equal")},
                        {"join_latency_s", m.at("join_latency_s")},
                        {"tx_per_s", s.at("tx_per_s")},
                        {"latency_ms", s.at("latency_ms")}});
  }
  std::error_code ec;
  if (all_held) fs::remove_all(dir, ec);
  Json out{{"benchmark", "join"},
           {"nodes", o.nodes},
           {"join_per_run", o.join},
           {"runs", o.runs},
           {"tx_rate", o.tx_rate},
           {"duration_s", o.duration_s},
           {"all_held", all_held},
           {"joins", latencies.size()},
           {"join_latency_s", {{"p50", rounded(percentile(latencies, 0.5), 3)},
                               {"max", rounded(latencies.empty() ? 0 : *std::max_element(latencies.begin(), latencies.end()), 3)}}},
           {"per_run", runs}};
  if (!all_held) out["kept_dir"] = dir.string();
  std::cout << out.dump(2) << "\n";
  return all_held ? 0 : 1;
}

}  // namespace chatter::bench
