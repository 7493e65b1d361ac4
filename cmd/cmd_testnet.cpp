// `chatter testnet` (spec/cli.md): a local network of N `chatter run` processes on loopback under load.
// Steps: keys and peers.json per node in DIR/node<i>/, free ports (gossip, proxy, HTTP service), one
// process per node (this same executable) writing a --report file, each service's /stats and page URLs on
// standard error, wait until every proxy accepts, load through one connection per node
// (cmd/testnet_load.h) with live progress on standard error, then let the nodes converge, stop them
// (SIGTERM, SIGKILL after 10 s) and print the summary (cmd/testnet_summary.h) on standard output.
// Exit 0 only when blocks and state hashes agree, transactions were committed and no node died on
// its own.
#include <signal.h>
#include <sys/wait.h>

#include <csignal>
#include <random>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cmd/block_diff.h"
#include "cmd/commands.h"
#include "cmd/keyfile.h"
#include "cmd/peers_file.h"
#include "cmd/testnet_load.h"
#include "cmd/testnet_membership.h"
#include "cmd/testnet_nodes.h"
#include "cmd/testnet_summary.h"
#include "engine/crypto.h"

namespace chatter::cmd {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct TestnetArgs {
  std::size_t nodes = 4;
  double duration_s = 10;
  double tx_rate = 0;
  std::size_t tx_size = 100;
  bool store = false;
  std::size_t late = 0, crash = 0, join = 0, leave = 0;
  std::string dir, summary;
  std::string heartbeat = "10ms";
};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Kills every node still running when the run ends early (an exception, a failed start).
struct NodeGuard {
  std::vector<NodeProcess>& nodes;
  ~NodeGuard() { stop_nodes(nodes, std::chrono::milliseconds(2000)); }
};

std::string report_path(const NodeProcess& p) { return (fs::path(p.dir) / "report.json").string(); }
std::string log_path(const NodeProcess& p) { return (fs::path(p.dir) / "node.log").string(); }
std::string service_url(const NodeProcess& p) { return "http://127.0.0.1:" + std::to_string(p.service_port); }

void check_args(const TestnetArgs& a) {
  if (a.late > 16) throw UsageError("--late must be at most 16");
  if (a.crash > 32) throw UsageError("--crash must be at most 32");
  if (a.nodes < 1 || a.nodes > 64) throw UsageError("--nodes must be between 1 and 64");
  if (a.join > 16) throw UsageError("--join must be at most 16");
  if (a.leave >= a.nodes) throw UsageError("--leave must be below --nodes: at least one genesis validator stays");
  if (!(a.duration_s > 0) || a.duration_s > 86400) throw UsageError("--duration must be a positive number of seconds");
  if (!(a.tx_rate >= 0) || a.tx_rate > 1e7) throw UsageError("--tx-rate must be a non-negative number");
  if (a.tx_size < 1 || a.tx_size > 1'000'000) throw UsageError("--tx-size must be between 1 and 1000000 bytes");
}

// Creates DIR (or a fresh temporary one) and DIR/node<i> with keys, ports and peers.json (the
// genesis validators, late ones included). The --join nodes come last: their keys are in no peer
// file, their peers.json and peers.genesis.json name the genesis validators (whom they ask to join).
// `keys` gets each node's public key (PubKeyHex).
std::vector<NodeProcess> prepare_nodes(const TestnetArgs& a, std::string& dir, std::vector<std::string>& keys) {
  if (dir.empty()) {
    std::string templ = (fs::temp_directory_path() / "chatter-testnet-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("cannot create a temporary directory");
    dir = templ;
  } else {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw UsageError("cannot create --dir " + dir + ": " + ec.message());
  }
  // Late validators are in the genesis set like the others; they start at half the duration.
  const std::size_t genesis = a.nodes + a.late;
  const std::size_t total = genesis + a.join;
  const auto ports = pick_free_ports(3 * total);
  std::vector<NodeProcess> nodes(total);
  std::vector<Peer> peers;
  for (std::size_t i = 0; i < total; ++i) {
    auto& n = nodes[i];
    n.index = i;
    n.dir = (fs::path(dir) / ("node" + std::to_string(i))).string();
    n.gossip_port = ports[3 * i];
    n.proxy_port = ports[3 * i + 1];
    n.service_port = ports[3 * i + 2];
    const KeyPair key = KeyPair::generate();
    std::string error;
    if (!write_key_files(n.dir, key, error)) throw UsageError(error);
    keys.push_back(pubkey_hex(key.public_key()));
    if (i < genesis)
      peers.push_back(Peer{key.public_key(), "127.0.0.1:" + std::to_string(n.gossip_port), "node" + std::to_string(i)});
  }
  for (const auto& n : nodes) {
    std::string error;
    if (!write_peers_file((fs::path(n.dir) / kPeersFile).string(), peers, error)) throw std::runtime_error(error);
    if (n.index >= genesis && !write_peers_file((fs::path(n.dir) / kGenesisPeersFile).string(), peers, error))
      throw std::runtime_error(error);
  }
  return nodes;
}

// `leaves`: the node asks to be removed from the validator set on SIGTERM (a --leave node); the
// others stop at once (--leave-timeout 0), as the whole network stops at the end of the run.
void start_node(NodeProcess& n, const TestnetArgs& a, bool fast_sync, bool bootstrap = false, bool leaves = false) {
  std::vector<std::string> args{"run",
                                "--datadir",
                                n.dir,
                                "--proxy-listen",
                                "127.0.0.1:" + std::to_string(n.proxy_port),
                                "--service-listen",
                                "127.0.0.1:" + std::to_string(n.service_port),
                                "--report",
                                report_path(n),
                                "--heartbeat",
                                a.heartbeat};
  if (fast_sync) args.push_back("--fast-sync");
  args.push_back("--listen");
  args.push_back("127.0.0.1:" + std::to_string(n.gossip_port));
  args.push_back("--leave-timeout");
  args.push_back(leaves ? "30s" : "0");
  if (a.store || a.crash > 0) args.push_back("--store");
  if (bootstrap) args.push_back("--bootstrap");
  n.stopped_by_us = false;
  n.pid = spawn_process(self_executable(), args, log_path(n));
  n.running = true;
}

// The genesis validators that start at once (the late ones start at half the duration, the --join
// ones during the run).
void start_nodes(std::vector<NodeProcess>& nodes, const TestnetArgs& a, const MembershipScenario& m) {
  for (std::size_t i = 0; i < a.nodes; ++i) start_node(nodes[i], a, false, false, m.is_leaver(i));
}


// Waits until every started node's proxy port accepts; throws with the log tail of the culprit otherwise.
void wait_ready(std::vector<NodeProcess>& nodes, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  std::vector<bool> ready(nodes.size(), false);
  for (auto& n : nodes) ready[n.index] = !n.running;
  for (;;) {
    bool all = true;
    for (auto& n : nodes) {
      if (ready[n.index]) continue;
      if (reap_if_exited(n))
        throw std::runtime_error("node" + std::to_string(n.index) + " exited at start (" + describe_status(n.status) +
                                 "); the end of " + log_path(n) + ":\n" + tail_file(log_path(n), 20));
      ready[n.index] = port_accepts(n.proxy_port);
      all = all && ready[n.index];
    }
    if (all) return;
    if (Clock::now() >= deadline) {
      for (const auto& n : nodes)
        if (!ready[n.index])
          throw std::runtime_error("node" + std::to_string(n.index) + " did not accept transactions at 127.0.0.1:" +
                                   std::to_string(n.proxy_port) + " within " + std::to_string(limit.count()) +
                                   " s; the end of " + log_path(n) + ":\n" + tail_file(log_path(n), 20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::vector<std::optional<NodeReport>> read_reports(const std::vector<NodeProcess>& nodes) {
  std::vector<std::optional<NodeReport>> out;
  for (const auto& n : nodes) {
    std::string error;
    out.push_back(read_report(report_path(n), error));
  }
  return out;
}

// Nodes that exited without being asked to: recorded once in `died`.
void check_deaths(std::vector<NodeProcess>& nodes, nlohmann::ordered_json& died) {
  for (auto& n : nodes)
    if (reap_if_exited(n) && !n.stopped_by_us) {
      std::cerr << "testnet: node" << n.index << " died (" << describe_status(n.status) << "); the end of "
                << log_path(n) << ":\n"
                << tail_file(log_path(n), 10);
      died.push_back({{"node", n.index}, {"status", describe_status(n.status)}});
    }
}

int run_testnet(TestnetArgs a) {
  std::string dir = a.dir;
  std::vector<NodeProcess> nodes;
  std::vector<std::string> keys;
  try {
    check_args(a);
    nodes = prepare_nodes(a, dir, keys);
  } catch (const UsageError& e) {
    std::cerr << "chatter testnet: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "chatter testnet: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "testnet: dir=" << dir << " nodes=" << a.nodes << " duration=" << a.duration_s << "s tx_rate="
            << a.tx_rate << " tx_size=" << a.tx_size << "\n";

  NodeGuard guard{nodes};
  nlohmann::ordered_json died = nlohmann::ordered_json::array();
  // Late nodes: when they started, and when their report first said Babbling after a fast-forward
  // or after catching up by gossip.
  bool late_started = false;
  Clock::time_point late_t0{};
  std::vector<std::optional<double>> caught_up_s(a.late);
  auto track_late = [&](const std::vector<std::optional<NodeReport>>& reports) {
    if (!late_started) return;
    for (std::size_t k = 0; k < a.late; ++k) {
      const auto& r = reports[a.nodes + k];
      if (caught_up_s[k] || !r || r->state != "Babbling" || !r->last_block_index) continue;
      caught_up_s[k] = std::chrono::duration<double>(Clock::now() - late_t0).count();
      std::cerr << "testnet: late node" << a.nodes + k << " is Babbling after " << *caught_up_s[k] << " s ("
                << (r->fast_forwards > 0 ? "fast-forwarded" : "caught up by gossip") << ")\n";
    }
  };
  std::vector<std::unique_ptr<LoadGenerator>> loads;
  std::vector<std::unique_ptr<LoadGenerator>> retired_loads;  // of nodes killed by --crash
  double load_s = 0;
  // --crash K: K moments spread over 15%..65% of the duration, each a random genesis validator.
  struct Crash {
    double at_s = 0;
    std::size_t node = 0;
    bool done = false;
    Clock::time_point restarted{};
    std::optional<std::uint64_t> block_before;
    std::optional<double> recovery_s;
    std::optional<std::size_t> load_pending;  // restart of the load once the proxy accepts
  };
  std::vector<Crash> crashes;
  {
    std::mt19937_64 rng(static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()));
    for (std::size_t k = 0; k < a.crash; ++k) {
      Crash c;
      const double slot = a.duration_s * 0.5 / static_cast<double>(a.crash);
      c.at_s = a.duration_s * 0.15 + slot * (static_cast<double>(k) + std::uniform_real_distribution<double>(0.0, 0.8)(rng));
      c.node = static_cast<std::size_t>(rng() % (a.nodes - a.leave));  // never a --leave node
      crashes.push_back(c);
    }
  }
  // --join K and --leave K (cmd/testnet_membership.h).
  MembershipScenario membership(a.nodes, a.late, a.join, a.leave, a.duration_s, keys);
  auto track_crashes = [&](const std::vector<std::optional<NodeReport>>& reports) {
    for (auto& c : crashes) {
      if (!c.done || c.recovery_s) continue;
      const auto& r = reports[c.node];
      const auto restarted_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count() -
                                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - c.restarted).count();
      if (r && r->written_unix_ms > restarted_ms && r->last_block_index &&
          (!c.block_before || *r->last_block_index > *c.block_before)) {
        c.recovery_s = std::chrono::duration<double>(Clock::now() - c.restarted).count();
        std::cerr << "testnet: node" << c.node << " recovered " << *c.recovery_s << " s after its restart (block "
                  << *r->last_block_index << ")\n";
      }
    }
  };
  try {
    start_nodes(nodes, a, membership);
    for (const auto& n : nodes)
      std::cerr << "testnet: node " << n.index << ": " << service_url(n) << "/stats page " << service_url(n)
                << "/\n";
    wait_ready(nodes, std::chrono::seconds(15));
    std::cerr << "testnet: all " << a.nodes << " nodes accept transactions\n";

    for (std::size_t i = 0; i < a.nodes; ++i) {
      const auto& n = nodes[i];
      LoadGenerator::Options o;
      o.moniker = "node" + std::to_string(n.index);
      o.port = n.proxy_port;
      o.rate = a.tx_rate / static_cast<double>(a.nodes);
      o.tx_size = a.tx_size;
      loads.push_back(std::make_unique<LoadGenerator>(o));
    }
    const auto t0 = Clock::now();
    for (auto& l : loads) l->start();

    // Live progress once a second, from the report files (rates between two report writes).
    struct Seen {
      std::int64_t unix_ms = 0;
      std::uint64_t tx = 0;
      double rate = 0;
    };
    std::vector<Seen> seen(nodes.size());
    const auto end = t0 + std::chrono::microseconds(std::llround(a.duration_s * 1e6));
    const auto late_at = t0 + std::chrono::microseconds(std::llround(a.duration_s * 5e5));
    for (auto next = t0 + std::chrono::seconds(1); Clock::now() < end; next += std::chrono::seconds(1)) {
      std::this_thread::sleep_until(std::min({end, next, late_at > Clock::now() ? late_at : end}));
      if (a.late > 0 && !late_started && Clock::now() >= late_at) {
        for (std::size_t i = a.nodes; i < nodes.size(); ++i) start_node(nodes[i], a, true);
        late_started = true;
        late_t0 = Clock::now();
        std::cerr << "testnet: started " << a.late << " late node(s) with --fast-sync\n";
      }
      const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
      for (std::size_t k = 0; k < crashes.size(); ++k) {
        Crash& c = crashes[k];
        if (c.done || elapsed < c.at_s) continue;
        NodeProcess& n = nodes[c.node];
        const auto before = read_reports(nodes)[c.node];
        if (before) c.block_before = before->last_block_index;
        // Its load stops with it (a node killed again before its load restarted has none).
        if (loads[c.node]) {
          loads[c.node]->finish(0);
          retired_loads.push_back(std::move(loads[c.node]));
        }
        for (auto& other : crashes)
          if (&other != &c && other.node == c.node) other.load_pending.reset();
        n.stopped_by_us = true;
        ::kill(n.pid, SIGKILL);
        int status = 0;
        ::waitpid(n.pid, &status, 0);
        n.running = false;
        std::cerr << "testnet: killed node" << c.node << " (kill -9) at t=" << std::llround(elapsed)
                  << "s; restarting it with --bootstrap\n";
        start_node(n, a, false, true);
        c.restarted = Clock::now();
        c.done = true;
        c.load_pending = k;
      }
      for (auto& c : crashes) {
        if (!c.load_pending || !port_accepts(nodes[c.node].proxy_port)) continue;
        LoadGenerator::Options o;
        o.moniker = "node" + std::to_string(c.node) + ".r" + std::to_string(*c.load_pending);
        o.port = nodes[c.node].proxy_port;
        o.rate = a.tx_rate / static_cast<double>(a.nodes);
        o.tx_size = a.tx_size;
        loads[c.node] = std::make_unique<LoadGenerator>(o);
        loads[c.node]->start();
        c.load_pending.reset();
      }
      membership.act(
          elapsed, [&](std::size_t i) { start_node(nodes[i], a, false); },
          [&](std::size_t i) {
            if (loads[i]) {
              loads[i]->finish(0);
              retired_loads.push_back(std::move(loads[i]));
            }
            nodes[i].stopped_by_us = true;  // its exit is expected (and checked: it must be 0)
            ::kill(nodes[i].pid, SIGTERM);
          });
      check_deaths(nodes, died);
      const auto reports = read_reports(nodes);
      track_late(reports);
      track_crashes(reports);
      membership.track(reports, nodes);
      std::ostringstream line;
      line << "testnet: t=" << std::llround(std::chrono::duration<double>(Clock::now() - t0).count()) << "s";
      std::uint64_t accepted = 0;
      for (const auto& l : loads)
        if (l) accepted += l->accepted();
      for (const auto& l : retired_loads) accepted += l->accepted();
      line << " submitted=" << accepted;
      for (std::size_t i = 0; i < nodes.size(); ++i) {
        const auto& r = reports[i];
        if (r && r->written_unix_ms > seen[i].unix_ms) {
          if (seen[i].unix_ms > 0)
            seen[i].rate = static_cast<double>(r->transactions - std::min(r->transactions, seen[i].tx)) * 1000.0 /
                           static_cast<double>(r->written_unix_ms - seen[i].unix_ms);
          seen[i].unix_ms = r->written_unix_ms;
          seen[i].tx = r->transactions;
        }
        line << " | node" << i << " blocks=" << (r && r->last_block_index ? *r->last_block_index + 1 : 0)
             << " tx/s=" << std::llround(seen[i].rate);
        if (membership.is_leaver(i) && !nodes[i].running) line << " left";
        if (i >= a.nodes)
          line << " " << (r ? r->state : std::string(nodes[i].pid > 0 ? "starting" : "waiting"));
      }
      std::cerr << line.str() << "\n";
    }
    load_s = std::chrono::duration<double>(Clock::now() - t0).count();
    for (auto& l : loads)
      if (l) l->finish(2000);

    std::uint64_t submitted = 0;
    for (const auto& l : loads)
      if (l) submitted += l->accepted();
    for (const auto& l : retired_loads) submitted += l->accepted();
    // Convergence: same last block everywhere, stable for 1.5 s, and every accepted transaction
    // committed (12 s at most).
    const auto converge_deadline = Clock::now() + std::chrono::seconds(12);
    bool converged = false;
    std::optional<std::uint64_t> stable_last;
    auto stable_since = Clock::now();
    while (Clock::now() < converge_deadline) {
      check_deaths(nodes, died);
      const auto reports = read_reports(nodes);
      bool same = true;
      track_late(reports);
      track_crashes(reports);
      membership.track(reports, nodes);
      // A crash loses what was in the killed node's pool (a leaving node may stop with some in its
      // pool too): then only the last blocks are compared. Nodes that left are done.
      for (std::size_t i = 0; i < reports.size(); ++i) {
        if (membership.is_leaver(i)) continue;
        const auto& r = reports[i];
        same = same && r && r->last_block_index && r->last_block_index == reports.front()->last_block_index &&
               (r->transactions >= submitted || r->fast_forwards > 0 || !crashes.empty() || a.leave > 0);
      }
      // The same last block on every node for 1.5 s: nothing left in flight (stopping the nodes
      // while a last block is being committed would leave them one block apart).
      const std::optional<std::uint64_t> now_last =
          same ? reports.front()->last_block_index : std::optional<std::uint64_t>{};
      if (!same || now_last != stable_last) {
        stable_last = now_last;
        stable_since = Clock::now();
      } else if (Clock::now() - stable_since >= std::chrono::milliseconds(1500)) {
        converged = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    std::cerr << "testnet: load stopped after " << load_s << " s; "
              << (converged ? "nodes converged" : "nodes did not converge within 12 s") << "; stopping nodes\n";
  } catch (const std::exception& e) {
    std::cerr << "chatter testnet: " << e.what() << "\n";
    return 1;
  }

  membership.track(read_reports(nodes), nodes);
  check_deaths(nodes, died);
  stop_nodes(nodes, std::chrono::seconds(10));
  nlohmann::ordered_json stop_status = nlohmann::ordered_json::array();
  bool clean_exit = true;
  for (const auto& n : nodes) {
    const bool ok = n.stopped_by_us && WIFEXITED(n.status) && WEXITSTATUS(n.status) == 0;
    if (n.stopped_by_us) stop_status.push_back(describe_status(n.status));
    else stop_status.push_back("died: " + describe_status(n.status));
    clean_exit = clean_exit && ok;
  }

  // The summary, from the final reports.
  std::vector<NodeReport> reports;
  bool all_reports = true;
  for (const auto& n : nodes) {
    std::string error;
    auto r = read_report(report_path(n), error);
    if (!r) {
      std::cerr << "testnet: " << error << "\n";
      all_reports = false;
      r = NodeReport{};
    }
    reports.push_back(std::move(*r));
  }
  std::vector<bool> until_end(nodes.size(), true);
  for (std::size_t i = 0; i < nodes.size(); ++i) until_end[i] = !membership.is_leaver(i);
  const Agreement agree = compare_reports(reports, &until_end);
  if (!agree.first_difference.empty()) std::cerr << "testnet: " << agree.first_difference << "\n";
  // Which fields differ, from the stores of the two nodes (stopped by now).
  std::string block_difference;
  if (agree.block_difference && (a.store || a.crash > 0)) {
    const auto& d = *agree.block_difference;
    block_difference = describe_block_difference((fs::path(nodes[d.a].dir) / "store").string(),
                                                 (fs::path(nodes[d.b].dir) / "store").string(), d.index);
    std::cerr << "testnet: node" << d.a << " vs node" << d.b << ": " << block_difference << "\n";
  }
  std::map<std::uint64_t, std::uint64_t> merged;
  for (const auto& r : reports)
    for (const auto& [ms, count] : r.histogram) merged[ms] += count;

  std::uint64_t submitted = 0, refused = 0, sent = 0;
  nlohmann::ordered_json load_errors = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < loads.size(); ++i) {
    if (!loads[i]) continue;  // a node killed too late for its load to restart
    submitted += loads[i]->accepted();
    refused += loads[i]->refused();
    sent += loads[i]->sent();
    if (!loads[i]->error().empty()) load_errors.push_back({{"node", i}, {"error", loads[i]->error()}});
  }
  // The loads of killed nodes: their connection broke with the node (not an error of the run).
  for (const auto& l : retired_loads) {
    submitted += l->accepted();
    refused += l->refused();
    sent += l->sent();
  }
  nlohmann::ordered_json last_blocks = nlohmann::ordered_json::array();
  nlohmann::ordered_json tx_per_node = nlohmann::ordered_json::array();
  for (const auto& r : reports) {
    last_blocks.push_back(r.last_block_index ? nlohmann::ordered_json(*r.last_block_index) : nlohmann::ordered_json(nullptr));
    tx_per_node.push_back(r.transactions);
  }

  nlohmann::ordered_json s;
  s["nodes"] = a.nodes + a.late + a.join;
  s["duration_s"] = a.duration_s;
  s["tx_submitted"] = submitted;
  s["tx_committed"] = agree.tx_committed;
  s["tx_per_s"] = static_cast<double>(agree.tx_committed) / a.duration_s;
  s["latency_ms"] = {{"p50", histogram_percentile(merged, 0.50)}, {"p99", histogram_percentile(merged, 0.99)}};
  s["last_block_index"] = last_blocks;
  s["state_hashes_equal"] = agree.state_hashes_equal;
  s["blocks_equal"] = agree.blocks_equal;
  nlohmann::ordered_json late = nlohmann::ordered_json::array();
  bool late_ok = true;
  for (std::size_t k = 0; k < a.late; ++k) {
    const NodeReport& r = reports[a.nodes + k];
    const bool caught_up = caught_up_s[k].has_value() && r.last_block_index.has_value();
    late_ok = late_ok && caught_up;
    late.push_back({{"id", a.nodes + k},
                    {"caught_up", caught_up},
                    {"state", r.state},
                    {"catch_up_s", caught_up_s[k] ? nlohmann::ordered_json(*caught_up_s[k]) : nlohmann::ordered_json(nullptr)},
                    {"bytes_received", r.bytes_received},
                    {"fast_forwards", r.fast_forwards},
                    {"fast_forward_block", r.fast_forward_block ? nlohmann::ordered_json(*r.fast_forward_block) : nlohmann::ordered_json(nullptr)}});
  }
  s["late_nodes"] = late;
  nlohmann::ordered_json crash_list = nlohmann::ordered_json::array();
  bool crashes_ok = true;
  for (const auto& c : crashes) {
    crashes_ok = crashes_ok && c.done && c.recovery_s.has_value();
    crash_list.push_back({{"node", c.node},
                          {"at_s", c.at_s},
                          {"recovered", c.recovery_s.has_value()},
                          {"recovery_s", c.recovery_s ? nlohmann::ordered_json(*c.recovery_s) : nlohmann::ordered_json(nullptr)},
                          {"block_before", c.block_before ? nlohmann::ordered_json(*c.block_before) : nlohmann::ordered_json(nullptr)}});
  }
  s["crashes"] = crash_list;
  const MembershipScenario::Outcome members = membership.outcome(reports, nodes, until_end);
  s["membership"] = members.json;
  if (!block_difference.empty()) s["block_difference"] = block_difference;
  s["dir"] = dir;
  s["tx_size"] = a.tx_size;
  s["tx_rate"] = a.tx_rate;
  s["tx_sent"] = sent;
  s["tx_refused"] = refused;
  s["transactions_per_node"] = tx_per_node;
  s["load_s"] = load_s;
  s["died"] = died;
  s["exit_status"] = stop_status;
  s["load_errors"] = load_errors;
  nlohmann::ordered_json services = nlohmann::ordered_json::array();
  for (const auto& n : nodes) services.push_back(service_url(n));
  s["services"] = services;
  const std::string text = s.dump(2) + "\n";
  std::cout << text << std::flush;
  if (!a.summary.empty()) {
    std::ofstream out(a.summary, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) std::cerr << "chatter testnet: cannot write the summary to " << a.summary << "\n";
  }
  const bool held = agree.blocks_equal && agree.state_hashes_equal && agree.tx_committed > 0 && died.empty() &&
                    clean_exit && all_reports && load_errors.empty() && late_ok && crashes_ok &&
                    members.joined == a.join && members.left == a.leave && members.sets_equal;
  return held ? 0 : 1;
}

}  // namespace

Command add_testnet_command(CLI::App& root) {
  auto args = std::make_shared<TestnetArgs>();
  CLI::App* app = root.add_subcommand(
      "testnet",
      "Run a local network (spec/cli.md): N `chatter run` processes on loopback with the key-value app, "
      "transactions submitted for the duration, then a JSON summary on standard output (progress on standard "
      "error). Exit 0 only when every node holds the same blocks and state and transactions were committed.");
  app->add_option("--nodes", args->nodes, "Validators at genesis")->capture_default_str();
  app->add_option("--duration", args->duration_s, "Seconds of load")->capture_default_str();
  app->add_option("--tx-rate", args->tx_rate, "Transactions per second offered (0 = as fast as they commit)")
      ->capture_default_str();
  app->add_option("--tx-size", args->tx_size, "Bytes per transaction")->capture_default_str();
  app->add_flag("--store", args->store, "Nodes persist to LMDB (chatter run --store)");
  app->add_option("--late", args->late,
                  "K extra validators of the genesis set that start at half the duration with --fast-sync and must "
                  "catch up")
      ->capture_default_str();
  app->add_option("--crash", args->crash,
                  "K times, kill -9 a random node under load and restart it with --bootstrap (implies --store)")
      ->capture_default_str();
  app->add_option("--join", args->join,
                  "K nodes outside the genesis set start during the run (20%..50% of it) and join the validators")
      ->capture_default_str();
  app->add_option("--leave", args->leave,
                  "K genesis validators are asked to leave (SIGTERM at 55%..75% of the run) and must stop once removed")
      ->capture_default_str();
  app->add_option("--dir", args->dir, "Where data directories and logs go (default: a new temporary directory)");
  app->add_option("--summary", args->summary, "Also write the summary to FILE");
  app->add_option("--heartbeat", args->heartbeat, "--heartbeat of every node")->capture_default_str();
  return Command{app, [args] { return run_testnet(*args); }};
}

}  // namespace chatter::cmd
