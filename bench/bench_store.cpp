// chatter-bench store: what the persistent store (store/lmdb_store.h) costs a node.
//
// Protocol: a seeded gossip graph of --events signed events is generated first (not timed). Then:
//  - insert: each batch size (100, 1000) inserts every event in creation order through put_event
//    into a fresh LmdbStore, with begin_batch/end_batch around each batch (one commit a batch, in the
//    store's default sync mode unless --sync says otherwise); events_per_s counts the whole pass.
//  - get: on the store of the last insert pass, get_event of random events among the most recent
//    --recent (within the cache) and, on a reopened store with the cache off, of random events
//    among all (an LMDB read, decoding and the hash check each time); lookups per second.
//  - reopen: stores of each --reopen-sizes events (unsigned events of the same shape with a
//    64-byte signature, written with sync off: building them is not what is measured) are closed
//    and reopened; open_ms is the constructor, first_read_ms a get_event of the last event plus
//    events_from over the last 100.
// The data lives in --dir (default: a fresh directory under the system temp dir, removed at the
// end); the result names its file system path so that runs on different disks are not compared.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "engine/rng.h"
#include "sim/gossip_graph.h"
#include "store/lmdb_store.h"

#ifndef CHATTER_BUILD_TYPE
#define CHATTER_BUILD_TYPE "unknown"
#endif

namespace chatter::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

struct Options {
  std::size_t participants = 4;
  std::size_t events = 100000;
  std::uint64_t seed = 1;
  std::size_t recent = 10000;
  std::size_t lookups = 200000;
  std::vector<std::size_t> reopen_sizes = {10000, 1000000};
  std::string dir;
  std::string sync = "meta";
  unsigned sign_threads = 2;
};



LmdbStore::Sync sync_of(const std::string& s) {
  if (s == "full") return LmdbStore::Sync::kFull;
  if (s == "none") return LmdbStore::Sync::kNone;
  return LmdbStore::Sync::kMetaNoSync;
}

Json insert_pass(const GossipGraph& g, const fs::path& dir, std::size_t batch, const Options& o) {
  fs::remove_all(dir);
  LmdbStore::Options so;
  so.sync = sync_of(o.sync);
  LmdbStore s(dir, so);
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < g.events.size(); i += batch) {
    s.begin_batch();
    for (std::size_t k = i; k < std::min(g.events.size(), i + batch); ++k) s.put_event(g.events[k]);
    s.end_batch();
  }
  const double secs = seconds_since(t0);
  const double n = static_cast<double>(g.events.size());
  std::fprintf(stderr, "  batches of %zu: %.0f events/s\n", batch, n / secs);
  Json j;
  j["batch"] = batch;
  j["events_per_s"] = rounded(n / secs, 1);
  j["commits_per_s"] = rounded(n / static_cast<double>(batch) / secs, 1);
  j["seconds"] = rounded(secs, 3);
  j["data_file_mb"] = rounded(static_cast<double>(fs::file_size(dir / "data.mdb")) / 1048576.0, 1);
  return j;
}

double lookups_per_s(const LmdbStore& s, const GossipGraph& g, std::size_t from, std::size_t count,
                     std::size_t lookups, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<const Hash*> picks;
  picks.reserve(lookups);
  for (std::size_t i = 0; i < lookups; ++i) picks.push_back(&g.events[from + rng.below(count)]->hash());
  std::size_t found = 0;
  const auto t0 = Clock::now();
  for (const Hash* h : picks) found += s.get_event(*h) != nullptr;
  const double secs = seconds_since(t0);
  if (found != lookups) throw std::runtime_error("a stored event was not found");
  return static_cast<double>(lookups) / secs;
}

Json reopen(const fs::path& dir, std::size_t events) {
  fs::remove_all(dir);
  std::fprintf(stderr, "building a store of %zu events for the reopen time...\n", events);
  EventPtr last;
  {
    LmdbStore::Options so;
    so.sync = LmdbStore::Sync::kNone;
    so.cache_size = 1000;
    LmdbStore s(dir, so);
    const KeyPair k = KeyPair::from_name("p0");
    Signature sig;
    sig.data.fill(0x5a);
    std::optional<Hash> parent;
    for (std::size_t i = 0; i < events; i += 1000) {
      s.begin_batch();
      for (std::size_t n = i; n < std::min(events, i + 1000); ++n) {
        EventBody b;
        b.creator = k.public_key();
        b.index = n;
        b.self_parent = parent;
        b.timestamp = static_cast<std::int64_t>(n);
        b.transactions = {Bytes(16, static_cast<std::uint8_t>(n))};
        last = std::make_shared<const Event>(Event(std::move(b), sig));
        parent = last->hash();
        s.put_event(last);
      }
      s.end_batch();
    }
  }
  const auto t0 = Clock::now();
  LmdbStore s(dir);
  const double open_s = seconds_since(t0);
  const auto t1 = Clock::now();
  const bool ok = s.get_event(last->hash()) != nullptr && s.events_from(events - 100, 100).size() == 100;
  const double read_s = seconds_since(t1);
  if (!ok || s.event_count() != events) throw std::runtime_error("the reopened store lost events");
  Json j;
  j["events"] = events;
  j["open_ms"] = rounded(open_s * 1e3, 3);
  j["first_read_ms"] = rounded(read_s * 1e3, 3);
  j["data_file_mb"] = rounded(static_cast<double>(fs::file_size(dir / "data.mdb")) / 1048576.0, 1);
  std::fprintf(stderr, "  %zu events: open %.3f ms, first read %.3f ms\n", events, open_s * 1e3,
               read_s * 1e3);
  return j;
}

Json run(const Options& o, const fs::path& root) {
  Json j;
  j["benchmark"] = "store";
  j["events"] = o.events;
  j["participants"] = o.participants;
  j["seed"] = o.seed;
  j["sync"] = o.sync;
  j["dir"] = root.string();
  j["build_type"] = CHATTER_BUILD_TYPE;

  GossipGraphOptions go;
  go.participants = o.participants;
  go.events = o.events;
  go.seed = o.seed;
  go.sign_threads = o.sign_threads;
  std::fprintf(stderr, "generating %zu signed events...\n", o.events);
  const GossipGraph g = make_gossip_graph(go);
  j["event_bytes"] = g.events.empty() ? 0 : g.events.back()->encoded().size();

  Json inserts = Json::array();
  for (std::size_t batch : {std::size_t{100}, std::size_t{1000}})
    inserts.push_back(insert_pass(g, root / "insert", batch, o));
  j["insert"] = inserts;

  {
    LmdbStore s(root / "insert");
    const std::size_t recent = std::min(o.recent, g.events.size());
    // Warm the cache with the recent events as a node would have them (it just put them).
    for (std::size_t i = g.events.size() - recent; i < g.events.size(); ++i) s.get_event(g.events[i]->hash());
    j["get_recent_per_s"] =
        rounded(lookups_per_s(s, g, g.events.size() - recent, recent, o.lookups, o.seed), 1);
    j["recent_window"] = recent;
  }
  {
    LmdbStore::Options so;
    so.cache_size = 0;
    LmdbStore s(root / "insert", so);
    j["get_old_per_s"] = rounded(lookups_per_s(s, g, 0, g.events.size(), o.lookups, o.seed + 1), 1);
  }
  std::fprintf(stderr, "  get_event: recent %.0f/s, old %.0f/s\n", j["get_recent_per_s"].get<double>(),
               j["get_old_per_s"].get<double>());

  Json reopens = Json::array();
  for (std::size_t n : o.reopen_sizes) reopens.push_back(reopen(root / ("reopen-" + std::to_string(n)), n));
  j["reopen"] = reopens;
  j["peak_rss_mb"] = rounded(peak_rss_mb(), 1);
  return j;
}

}  // namespace

int store_main(int argc, char** argv) {
  Options o;
  CLI::App app{"Insert, lookup and reopen cost of the LMDB store; prints one JSON document.",
               "chatter-bench store"};
  app.add_option("--events", o.events, "signed events in the graph")->check(CLI::Range(100, 100000000));
  app.add_option("--participants", o.participants, "creators in the graph")->check(CLI::Range(2, 1000));
  app.add_option("--seed", o.seed, "graph and lookup seed");
  app.add_option("--recent", o.recent, "events counted as recent for get_recent_per_s")
      ->check(CLI::Range(1, 100000000));
  app.add_option("--lookups", o.lookups, "get_event calls per measurement")->check(CLI::Range(1, 100000000));
  app.add_option("--reopen-sizes", o.reopen_sizes,
                 "store sizes (events, comma-separated) whose reopen time is measured")
      ->delimiter(',')
      ->check(CLI::Range(100, 100000000));
  app.add_option("--dir", o.dir, "where the stores are written (default: a fresh temp dir, removed after)");
  app.add_option("--sync", o.sync, "durability of the insert passes: full, meta (the default) or none")
      ->check(CLI::IsMember({"full", "meta", "none"}));
  app.add_option("--sign-threads", o.sign_threads, "threads that sign while generating (not timed)")
      ->check(CLI::Range(1, 64));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (!what.empty() && what.back() != '.') what += '.';
    std::fprintf(stderr, "chatter-bench store: %s\n", what.c_str());
    return 2;
  }
  fs::path root;
  const bool temporary = o.dir.empty();
  try {
    if (temporary) {
      std::string templ = (fs::temp_directory_path() / "chatter-bench-store-XXXXXX").string();
      if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("cannot create a temporary directory");
      root = templ;
    } else {
      root = o.dir;
      fs::create_directories(root);
    }
    const Json j = run(o, root);
    std::cout << j.dump(2) << std::endl;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chatter-bench store: %s\n", e.what());
    if (temporary && !root.empty()) fs::remove_all(root);
    return 1;
  }
  if (temporary) fs::remove_all(root);
  return 0;
}

}  // namespace chatter::bench
