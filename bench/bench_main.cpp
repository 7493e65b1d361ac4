// chatter-bench: dispatches to one benchmark per subcommand. Each prints one JSON document on
// standard output (progress on standard error); bad arguments get one sentence and exit status 2.
#include <cstdio>
#include <cstring>
#include <string>

namespace chatter::bench {
int consensus_main(int argc, char** argv);  // bench_consensus.cpp
int fastsync_main(int argc, char** argv);   // bench_fastsync.cpp
int store_main(int argc, char** argv);      // bench_store.cpp
int socketproxy_main(int argc, char** argv);  // bench_socketproxy.cpp
int node_main(int argc, char** argv);         // bench_node.cpp
int sim_main(int argc, char** argv);          // bench_sim.cpp
int join_main(int argc, char** argv);         // bench_join.cpp
}  // namespace chatter::bench

namespace {

constexpr const char* kUsage =
    "usage: chatter-bench <benchmark> [options]\n"
    "benchmarks:\n"
    "  consensus   insertion and consensus throughput on a seeded random gossip graph\n"
    "  fastsync    a late node's catch-up by fast-forward (and by gossip from genesis)\n"
    "  store       LMDB store: batched inserts, lookups of recent and old events, reopen time\n"
    "  socketproxy tx/s committed through the socket app proxy vs the in-process app\n"
    "  node        one real node under a long stream of gossip: memory, rate, restart time\n"
    "  sim         simulator speed (events per second) with and without the shared verification cache\n"
    "  join        join latency on a loopback network under load (runs chatter testnet --join)\n"
    "run 'chatter-bench <benchmark> --help' for its options\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs("chatter-bench: name a benchmark (try chatter-bench --help).\n", stderr);
    return 2;
  }
  const std::string sub = argv[1];
  if (sub == "--help" || sub == "-h" || sub == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (sub == "consensus") return chatter::bench::consensus_main(argc - 1, argv + 1);
  if (sub == "fastsync") return chatter::bench::fastsync_main(argc - 1, argv + 1);
  if (sub == "store") return chatter::bench::store_main(argc - 1, argv + 1);
  if (sub == "socketproxy") return chatter::bench::socketproxy_main(argc - 1, argv + 1);
  if (sub == "node") return chatter::bench::node_main(argc - 1, argv + 1);
  if (sub == "sim") return chatter::bench::sim_main(argc - 1, argv + 1);
  if (sub == "join") return chatter::bench::join_main(argc - 1, argv + 1);
  std::fprintf(stderr, "chatter-bench: unknown benchmark '%s' (try chatter-bench --help).\n", sub.c_str());
  return 2;
}
