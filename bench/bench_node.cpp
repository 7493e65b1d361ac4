// chatter-bench node: one real engine Node under a long stream of gossip, with its default
// configuration (compaction, snapshots) and a real store, measuring what a long-running node costs
// as history grows: resident memory at 10,000 / 100,000 / 1,000,000 events, insertion rate, and the
// time a restart from the store takes (NodeConfig::bootstrap) after a short and after a long history.
//
// The network around the node is modelled, not simulated: three other validators of a 4-member
// genesis set are "virtual creators" whose events this benchmark makes and signs itself. Each gossip
// round, when the node sends a SyncRequest to one of them, the benchmark answers with a
// SyncResponse carrying --events-per-sync new events of the virtual creators (each with a seeded
// other-parent among the four creators' last events, the node's own included), so the node inserts
// them (signatures checked), creates its own event, runs consensus, commits blocks to a SimApp,
// takes snapshots and compacts, exactly as it does on a network. --tx-per-sync transactions of
// --tx-size bytes are submitted to the node each round, so blocks carry transactions. Only the
// node's last events and the virtual creators' heads are kept by the driver, so the process's
// memory is the node's (graph, store cache, LMDB's mapped pages, app).
//
// Restart: the node and its store are destroyed (as by kill -9 after the last batch), the store is
// reopened and a Node is built with bootstrap; the time runs until the app holds the last committed
// block again (snapshot restored, later blocks re-committed). The same is done after a short history
// (--restart-small events) in the same run, for the ratio.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "engine/crypto.h"
#include "engine/node.h"
#include "engine/rng.h"
#include "sim/sim_app.h"
#include "store/inmem_store.h"
#include "store/lmdb_store.h"

#ifndef CHATTER_BUILD_TYPE
#define CHATTER_BUILD_TYPE "unknown"
#endif

namespace chatter::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

struct Options {
  std::size_t events = 1'000'000;
  std::size_t restart_small = 10'000;
  std::size_t events_per_sync = 99;
  std::size_t tx_per_sync = 10;
  std::size_t tx_size = 100;
  std::size_t snapshot_kb = 1024;
  std::string store = "lmdb";
  std::string lmdb_sync = "meta";  // LmdbStore::Sync: full, meta (the default, kMetaNoSync), none
  std::size_t cache_size = LmdbStore::Options{}.cache_size;
  std::int64_t compact_every = NodeConfig{}.compact_every_rounds;
  std::uint64_t seed = 1;
  std::string dir;
};

// Resident memory now (not the peak), from /proc/self/status: anonymous and file-backed (LMDB's
// mapped pages) separately, in MB.
struct Rss {
  double total = 0, anon = 0, file = 0;
};
Rss rss_now() {
  Rss r;
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    double kb = 0;
    if (key == "VmRSS:" && in >> kb) r.total = kb / 1024.0;
    else if (key == "RssAnon:" && in >> kb) r.anon = kb / 1024.0;
    else if (key == "RssFile:" && in >> kb) r.file = kb / 1024.0;
  }
  return r;
}

Json to_json(const Rss& r) { return {{"rss_mb", rounded(r.total, 1)}, {"anon_mb", rounded(r.anon, 1)}, {"file_mb", rounded(r.file, 1)}}; }

// The three virtual creators and the node's key; the genesis set holds all four.
struct Network {
  KeyPair node_key = KeyPair::from_name("bench-node-0");
  std::vector<KeyPair> keys;  // virtual creators
  PeerSet genesis;
  Network() {
    std::vector<Peer> members{Peer{node_key.public_key(), "node:0", "node0"}};
    for (int i = 1; i <= 3; ++i) {
      keys.push_back(KeyPair::from_name("bench-node-" + std::to_string(i)));
      members.push_back(Peer{keys.back().public_key(), "node:" + std::to_string(i), "node" + std::to_string(i)});
    }
    genesis = PeerSet(members);
  }
};

struct Head {
  std::int64_t index = -1;
  Hash hash;
};

NodeConfig node_config(const Network& net, const Options& o, bool bootstrap) {
  NodeConfig c;
  c.key = net.node_key;
  c.genesis = net.genesis;
  c.moniker = "node0";
  c.seed = o.seed;
  c.bootstrap = bootstrap;
  c.compact_every_rounds = o.compact_every;
  return c;
}

std::unique_ptr<Store> open_store(const Options& o, const std::filesystem::path& dir) {
  if (o.store == "inmem") {
    InmemStore::Options so;
    so.cache_size = o.cache_size;
    return std::make_unique<InmemStore>(so);
  }
  LmdbStore::Options lo;
  lo.cache_size = o.cache_size;
  lo.sync = o.lmdb_sync == "full" ? LmdbStore::Sync::kFull
            : o.lmdb_sync == "none" ? LmdbStore::Sync::kNone
                                    : LmdbStore::Sync::kMetaNoSync;
  return std::make_unique<LmdbStore>(dir, lo);
}

// Drives the node until the store holds `events` events; records checkpoints.
struct Driver {
  const Network& net;
  const Options& o;
  Node& node;
  Rng rng;
  std::vector<Head> heads = std::vector<Head>(3);
  std::int64_t now = 1'000'000'000;
  std::uint64_t tx_seq = 0;

  Driver(const Network& n, const Options& opts, Node& nd) : net(n), o(opts), node(nd), rng(opts.seed ^ 0x5eedULL) {}

  // The node's last event (index, hash), if any.
  std::optional<Head> node_head() const {
    auto h = node.graph().last_event_of(net.node_key.public_key());
    if (!h) return std::nullopt;
    return Head{static_cast<std::int64_t>(node.graph().info(*h)->index), *h};
  }

  WireEvent make_event(std::size_t c) {
    // Other-parent: the last event of another of the four creators (0 = the node).
    std::size_t other = rng.below(3);  // among the three others
    if (other >= c + 1) ++other;       // creators 0..3, skipping c+1 (c is a virtual index 0..2)
    EventBody b;
    b.creator = net.keys[c].public_key();
    WireEvent w;
    if (heads[c].index >= 0) {
      b.self_parent = heads[c].hash;
      w.self_parent_index = static_cast<std::uint64_t>(heads[c].index);
    }
    b.index = static_cast<std::uint64_t>(heads[c].index + 1);
    std::optional<Head> op;
    std::uint32_t op_id = 0;
    if (other == 0) {
      op = node_head();
      op_id = peer_id_of(net.node_key.public_key());
    } else if (heads[other - 1].index >= 0) {
      op = heads[other - 1];
      op_id = peer_id_of(net.keys[other - 1].public_key());
    }
    if (op) {
      b.other_parent = op->hash;
      w.other_parent_creator_id = op_id;
      w.other_parent_index = static_cast<std::uint64_t>(op->index);
    }
    b.timestamp = now;
    const Event e = Event::create(b, net.keys[c]);
    heads[c] = Head{static_cast<std::int64_t>(b.index), e.hash()};
    w.creator_id = peer_id_of(b.creator);
    w.index = b.index;
    w.timestamp = b.timestamp;
    w.signature = e.signature();
    return w;
  }

  KnownIndexes known() const {
    KnownIndexes k;
    if (auto h = node_head()) k.emplace_back(peer_id_of(net.node_key.public_key()), static_cast<std::uint64_t>(h->index));
    for (std::size_t c = 0; c < 3; ++c)
      if (heads[c].index >= 0) k.emplace_back(peer_id_of(net.keys[c].public_key()), static_cast<std::uint64_t>(heads[c].index));
    std::sort(k.begin(), k.end());
    return k;
  }

  // One gossip round: the node's SyncRequest answered with new events; returns false when the
  // node asked nothing (its heartbeat is not due yet).
  bool round() {
    now = std::max(now + 1'000'000, node.next_tick());
    for (std::size_t i = 0; i < o.tx_per_sync; ++i) {
      Bytes tx(o.tx_size, 0);
      for (std::size_t k = 0; k < 8 && k < tx.size(); ++k) tx[k] = static_cast<std::uint8_t>(tx_seq >> (8 * k));
      ++tx_seq;
      node.submit(std::move(tx));
    }
    std::optional<std::uint32_t> asked;
    for (const Envelope& env : node.tick(now))
      if (std::holds_alternative<SyncRequest>(env.message)) asked = env.to;
    if (!asked) return false;
    SyncResponse resp;
    resp.from_id = *asked;
    for (std::size_t i = 0; i < o.events_per_sync; ++i) resp.events.push_back(make_event(rng.below(3)));
    resp.known = known();
    now += 1'000'000;
    node.receive(*asked, resp, now);
    return true;
  }
};

Json restart(const Network& net, const Options& o, const std::filesystem::path& dir, std::uint64_t expect_block) {
  const auto t0 = Clock::now();
  auto store = open_store(o, dir);
  SimApp app(o.snapshot_kb * 1024);
  Node node(node_config(net, o, true), *store, app);
  const double constructed = seconds_since(t0);
  std::int64_t now = 1'000'000'000'000;
  std::size_t ticks = 0;
  while (!(app.last_block_index() && *app.last_block_index() >= expect_block)) {
    node.tick(now += 1'000'000);
    if (++ticks > 1'000'000) throw std::runtime_error("the restarted node did not recover its app");
  }
  const double total = seconds_since(t0);
  const NodeStats s = node.stats();
  return {{"restart_s", rounded(total, 4)},
          {"bootstrap_s", rounded(constructed, 4)},
          {"recommitted_blocks", s.recommitted_blocks},
          {"app_nondeterminism", s.app_nondeterminism},
          {"events_held_after_restart", s.events},
          {"app_restores", app.restores()}};
}

// A history of `events` events in `dir`, then a restart; returns the figures.
Json run_history(const Network& net, const Options& o, const std::filesystem::path& dir, std::size_t events,
                 bool checkpoints) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  Json j;
  std::uint64_t last_block = 0;
  {
    auto store = open_store(o, dir);
    SimApp app(o.snapshot_kb * 1024);
    Node node(node_config(net, o, false), *store, app);
    Driver d(net, o, node);
    const auto t0 = Clock::now();
    const double cpu0 = thread_cpu_s();
    std::vector<std::size_t> marks{10'000, 100'000, 1'000'000};
    std::size_t next_mark = 0;
    Json cps = Json::object();
    std::uint64_t rounds = 0;
    Rss most;  // sampled every 64 gossip rounds: the highest resident memory, not only at checkpoints
    while (store->event_count() < events) {
      if (d.round() && ++rounds % 64 == 0) {
        const Rss r = rss_now();
        most.total = std::max(most.total, r.total);
        most.anon = std::max(most.anon, r.anon);
        most.file = std::max(most.file, r.file);
      }
      while (checkpoints && next_mark < marks.size() && store->event_count() >= marks[next_mark]) {
        const NodeStats s = node.stats();
        Json cp = to_json(rss_now());
        cp["seconds"] = rounded(seconds_since(t0), 2);
        cp["events_held"] = s.events;
        cp["compactions"] = s.compactions;
        cp["blocks"] = s.last_block_index ? *s.last_block_index + 1 : 0;
        cps[std::to_string(marks[next_mark])] = cp;
        std::fprintf(stderr, "  %zu events: %.1f s, rss %.1f MB, %llu held\n", marks[next_mark], seconds_since(t0),
                     rss_now().total, static_cast<unsigned long long>(s.events));
        ++next_mark;
      }
    }
    const double secs = seconds_since(t0), cpu = thread_cpu_s() - cpu0;
    const NodeStats s = node.stats();
    if (!s.last_block_index) throw std::runtime_error("the history produced no block; use more events");
    last_block = *s.last_block_index;
    j["events"] = store->event_count();
    j["gossip_rounds"] = rounds;
    j["seconds"] = rounded(secs, 2);
    j["events_per_s"] = rounded(static_cast<double>(store->event_count()) / secs, 1);
    j["events_per_s_cpu"] = rounded(static_cast<double>(store->event_count()) / cpu, 1);
    j["blocks"] = last_block + 1;
    j["transactions"] = s.transactions;
    j["consensus_events"] = s.consensus_events;
    j["events_held"] = s.events;
    j["undetermined_events"] = s.undetermined_events;
    j["compactions"] = s.compactions;
    j["refused_events"] = s.refused_events;
    j["end"] = to_json(rss_now());
    j["highest_sampled"] = to_json(most);  // each part's own maximum over the run
    if (checkpoints) j["checkpoints"] = cps;
  }  // node and store destroyed here, as by a crash after the last batch
  if (o.store == "lmdb") j["restart"] = restart(net, o, dir, last_block);
  return j;
}

Json run(const Options& o) {
  crypto_init();
  const Network net;
  const std::filesystem::path base =
      o.dir.empty() ? std::filesystem::temp_directory_path() / ("chatter-bench-node-" + std::to_string(getpid()))
                    : std::filesystem::path(o.dir);
  Json j;
  j["benchmark"] = "node";
  j["build_type"] = CHATTER_BUILD_TYPE;
  j["store"] = o.store;
  j["cache_size"] = o.cache_size;
  j["lmdb_sync"] = o.lmdb_sync;
  j["compact_every_rounds"] = o.compact_every;
  j["events_per_sync"] = o.events_per_sync;
  j["tx_per_sync"] = o.tx_per_sync;
  j["snapshot_kb"] = o.snapshot_kb;
  if (o.restart_small > 0 && o.store == "lmdb") {
    std::fprintf(stderr, "node: a short history of %zu events, then a restart\n", o.restart_small);
    j["small"] = run_history(net, o, base / "small", o.restart_small, false);
  }
  std::fprintf(stderr, "node: a history of %zu events, then a restart\n", o.events);
  j["large"] = run_history(net, o, base / "large", o.events, true);
  if (j.contains("small") && j["large"].contains("restart")) {
    const double a = j["small"]["restart"]["restart_s"].get<double>(), b = j["large"]["restart"]["restart_s"].get<double>();
    j["restart_ratio_large_vs_small"] = a > 0 ? rounded(b / a, 3) : 0.0;
  }
  j["peak_rss_mb"] = rounded(peak_rss_mb(), 1);
  if (o.dir.empty()) std::filesystem::remove_all(base);
  return j;
}

}  // namespace

int node_main(int argc, char** argv) {
  Options o;
  CLI::App app{"chatter-bench node: one real node under a long stream of gossip (memory, rate, restart time)"};
  app.add_option("--events", o.events, "events in the long history")->check(CLI::Range(1000, 100'000'000));
  app.add_option("--restart-small", o.restart_small, "events in the short history for the restart ratio (0: none)")
      ->check(CLI::Range(0, 100'000'000));
  app.add_option("--events-per-sync", o.events_per_sync, "new events of the others in each SyncResponse")
      ->check(CLI::Range(1, 10'000));
  app.add_option("--tx-per-sync", o.tx_per_sync, "transactions submitted to the node each gossip round")
      ->check(CLI::Range(0, 100'000));
  app.add_option("--tx-size", o.tx_size, "bytes per transaction")->check(CLI::Range(8, 1'000'000));
  app.add_option("--snapshot-kb", o.snapshot_kb, "size of the app's snapshot")->check(CLI::Range(0, 1'000'000));
  app.add_option("--store", o.store, "lmdb or inmem")->check(CLI::IsMember({"lmdb", "inmem"}));
  app.add_option("--lmdb-sync", o.lmdb_sync, "LMDB durability: full, meta (the node's default) or none")
      ->check(CLI::IsMember({"full", "meta", "none"}));
  app.add_option("--cache-size", o.cache_size, "events the store keeps decoded in memory (inmem: 0 keeps all)");
  app.add_option("--compact-every", o.compact_every, "NodeConfig::compact_every_rounds (0: never)")
      ->check(CLI::Range(0, 1'000'000));
  app.add_option("--seed", o.seed, "seed of the virtual creators' choices");
  app.add_option("--dir", o.dir, "where the stores go (kept); default a temporary directory (removed)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    std::printf("%s\n", run(o).dump(2).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chatter-bench node: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace chatter::bench
