// chatter-bench consensus (spec/cli.md, chatter-bench): how fast events are inserted and run through
// consensus, next to the machine's own limit (Ed25519 verifications per second on one core).
//
// Protocol: the seeded gossip graph is generated first (not timed). Then each pass inserts every
// event in creation order into a fresh InmemStore + Hashgraph, calling run_consensus() after every
// `--consensus-every` insertions (1 = after each, as a node after each sync: the worst case) and once
// at the end. The signed pass checks signatures (insert(e, false)); the preverified pass does not
// (insert(e, true)), which isolates the cost of consensus. With --by-history a separate preverified
// pass runs on a larger graph (--history-events, default 1,000,000) and reports microseconds per
// event in a window of 10,000 events around 10,000, 100,000 and 1,000,000 events of history (the
// part of the window that exists at the end of the graph); it runs --history-repeats times and each
// window keeps its best time. Without --by-history those windows come from the preverified pass.
// Ed25519 verification is sampled before and between chunks of the two main passes, so that the
// limit and the throughput see the same machine load. Fields ending in _cpu repeat a figure from
// the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), which time-sharing with other processes inflates
// much less than wall-clock time.
#include <sys/resource.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "engine/hashgraph.h"
#include "sim/gossip_graph.h"
#include "store/inmem_store.h"

#ifndef CHATTER_BUILD_TYPE
#define CHATTER_BUILD_TYPE "unknown"
#endif

namespace chatter::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

struct Options {
  std::size_t participants = 4;
  std::size_t events = 100000;
  std::uint64_t seed = 1;
  std::size_t consensus_every = 1;
  bool by_history = false;
  std::size_t history_events = 1000000;
  std::size_t history_repeats = 3;
  std::size_t txs_per_event = 1;
  std::size_t tx_size = 16;
  unsigned sign_threads = 2;
  // > 0: compact the graph (Hashgraph::compact) every this many processed rounds, and keep only
  // the last kStoreCache events in a bounded InmemStore.
  std::int64_t compact_every = 0;
  std::int64_t compact_keep = 0;  // processed rounds kept below the new base (NodeConfig::compact_keep_rounds)
};

constexpr std::size_t kStoreCache = 10000;
std::int64_t g_compact_every = 0;  // Options::compact_every, for run_pass
std::int64_t g_compact_keep = 0;   // Options::compact_keep, for run_pass

// Event counts at which the history cost is reported, and the window around each.
constexpr std::size_t kHistoryPoints[] = {10000, 100000, 1000000};
constexpr std::size_t kHalfWindow = 5000;

struct Times {
  double wall = 0;  // steady_clock seconds
  double cpu = 0;   // thread CPU seconds
};


// Wall-clock and thread CPU time of the timed work, excluding paused stretches.
class Stopwatch {
 public:
  Stopwatch() { resume(); }
  void pause() {
    acc_ = now();
    running_ = false;
  }
  void resume() {
    wall0_ = Clock::now();
    cpu0_ = thread_cpu_s();
    running_ = true;
  }
  Times now() const {
    if (!running_) return acc_;
    return Times{acc_.wall + std::chrono::duration<double>(Clock::now() - wall0_).count(),
                 acc_.cpu + thread_cpu_s() - cpu0_};
  }

 private:
  Times acc_;
  Clock::time_point wall0_;
  double cpu0_ = 0;
  bool running_ = false;
};

struct PassResult {
  double seconds = 0;
  std::uint64_t consensus_events = 0;
  std::uint64_t blocks = 0;
  std::int64_t last_round = -1;
  std::int64_t rounds_decided = 0;
  std::optional<std::int64_t> last_consensus_round;
  double cpu_seconds = 0;  // this thread's CPU time: not inflated when other processes take the core
  std::vector<std::pair<std::size_t, Times>> marks;  // (events inserted, time since start)
  std::uint64_t compactions = 0;
};




struct BenchFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

GossipGraph generate(const Options& o, std::size_t events) {
  GossipGraphOptions go;
  go.participants = o.participants;
  go.events = events;
  go.seed = o.seed;
  go.txs_per_event = o.txs_per_event;
  go.tx_size = o.tx_size;
  go.sign_threads = o.sign_threads;
  std::fprintf(stderr, "generating %zu events among %zu participants (seed %llu)...\n", events,
               o.participants, static_cast<unsigned long long>(o.seed));
  const auto t0 = Clock::now();
  GossipGraph g = make_gossip_graph(go);
  std::fprintf(stderr, "  generated in %.2f s\n", seconds_since(t0));
  return g;
}

// Ed25519 verifications per second on this thread, over the graph's own signatures. Sampled
// before and between chunks of the timed passes (with their clock paused), so that the limit and
// the throughput are measured under the same machine load: the machine may be shared and noisy.
class VerifyMeter {
 public:
  explicit VerifyMeter(const GossipGraph& g) : g_(g), pool_(std::min<std::size_t>(g.events.size(), 4096)) {}

  void sample(double seconds) {
    if (pool_ == 0) return;
    std::size_t done = 0;
    const auto t0 = Clock::now();
    double elapsed = 0;
    while (elapsed < seconds) {
      for (std::size_t k = 0; k < 64; ++k, ++done) {
        const Event& e = *g_.events[next_++ % pool_];
        if (!verify(e.creator(), e.hash(), e.signature()))
          throw BenchFailure("a generated event's signature does not verify");
      }
      elapsed = seconds_since(t0);
    }
    const double rate = static_cast<double>(done) / elapsed;
    min_ = samples_ == 0 ? rate : std::min(min_, rate);
    max_ = samples_ == 0 ? rate : std::max(max_, rate);
    ++samples_;
    verified_ += done;
    seconds_ += elapsed;
  }
  double per_s() const { return seconds_ > 0 ? static_cast<double>(verified_) / seconds_ : 0; }
  double min() const { return min_; }
  double max() const { return max_; }
  std::size_t samples() const { return samples_; }

 private:
  const GossipGraph& g_;
  std::size_t pool_;
  std::size_t next_ = 0;
  std::size_t verified_ = 0;
  double seconds_ = 0;
  double min_ = 0, max_ = 0;
  std::size_t samples_ = 0;
};

constexpr std::size_t kVerifySamplesPerPass = 20;
constexpr double kVerifySampleSeconds = 0.05;

// One timed pass: fresh store and hashgraph, every event in creation order. `marks_at` lists event
// counts (sorted) at which the elapsed time is recorded. With `meter`, verification is sampled
// between chunks of events; that time is not counted.
PassResult run_pass(const GossipGraph& g, bool preverified, std::size_t every,
                    const std::vector<std::size_t>& marks_at, const char* label, VerifyMeter* meter) {
  InmemStore::Options so;
  if (g_compact_every > 0) so.cache_size = kStoreCache;
  InmemStore store(so);
  Hashgraph::Options ho;
  ho.kept_frames = static_cast<std::size_t>(g_compact_keep) + 1;  // the possible bases of compact()
  Hashgraph hg(PeerSchedule(g.peers), store, ho);
  std::int64_t compacted_at = -1;
  PassResult r;
  std::size_t next_mark = 0;
  const std::size_t m = g.events.size();
  const std::size_t progress_every = std::max<std::size_t>(m / 10, 1);
  const std::size_t sample_every = std::max<std::size_t>(m / kVerifySamplesPerPass, 1);
  std::fprintf(stderr, "pass %s: inserting %zu events, consensus every %zu...\n", label, m, every);
  Stopwatch watch;  // runs only while inserting and running consensus
  for (std::size_t i = 0; i < m; ++i) {
    while (next_mark < marks_at.size() && marks_at[next_mark] == i) {
      r.marks.emplace_back(i, watch.now());
      ++next_mark;
    }
    const InsertResult res = hg.insert(g.events[i], preverified);
    if (!res.ok())
      throw BenchFailure(std::string("event ") + std::to_string(i) + " was refused (" +
                         to_string(res.error) + ": " + res.detail + ")");
    if ((i + 1) % every == 0) {
      hg.run_consensus();
      r.blocks += hg.take_new_blocks().size();
      if (g_compact_every > 0) {
        const std::int64_t done = hg.last_consensus_round().value_or(-1);
        if (done - compacted_at >= g_compact_every && hg.compact(g_compact_keep)) {
          compacted_at = done;
          ++r.compactions;
        }
      }
    }
    if ((i + 1) % progress_every == 0)
      std::fprintf(stderr, "  %zu events, %.2f s, last round %lld, consensus events %zu\n", i + 1, watch.now().wall,
                   static_cast<long long>(hg.last_round()), static_cast<std::size_t>(hg.consensus_event_count()));
    if (meter && (i + 1) % sample_every == 0 && i + 1 < m) {
      watch.pause();
      meter->sample(kVerifySampleSeconds);
      watch.resume();
    }
  }
  hg.run_consensus();
  r.blocks += hg.take_new_blocks().size();
  const Times total = watch.now();
  r.seconds = total.wall;
  r.cpu_seconds = total.cpu;
  while (next_mark < marks_at.size() && marks_at[next_mark] == m) {
    r.marks.emplace_back(m, total);
    ++next_mark;
  }
  r.consensus_events = hg.consensus_event_count();
  r.last_round = hg.last_round();
  for (std::int64_t round = 0; round <= r.last_round; ++round)
    if (hg.round_decided(round)) ++r.rounds_decided;
  r.last_consensus_round = hg.last_consensus_round();
  std::fprintf(stderr, "  done in %.2f s (%.0f events/s)\n", r.seconds, static_cast<double>(m) / r.seconds);
  return r;
}

// Event counts where a pass records its elapsed time: the history windows and each tenth of the run.
std::vector<std::size_t> window_bounds(std::size_t m) {
  std::vector<std::size_t> out;
  for (std::size_t t = 0; t <= 10; ++t) out.push_back(m * t / 10);
  for (std::size_t k : kHistoryPoints) {
    if (m < k) continue;
    out.push_back(k > kHalfWindow ? k - kHalfWindow : 0);
    out.push_back(std::min(m, k + kHalfWindow));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

double mark_at(const PassResult& r, std::size_t i, bool cpu) {
  for (const auto& [n, t] : r.marks)
    if (n == i) return cpu ? t.cpu : t.wall;
  throw BenchFailure("internal: missing time mark");
}

// Microseconds per event in each tenth of the pass: shows a trend (growth with history) apart from
// a one-off spike.
Json by_tenth(const PassResult& r, std::size_t m, bool cpu) {
  Json out = Json::array();
  for (std::size_t t = 0; t < 10; ++t) {
    const std::size_t lo = m * t / 10, hi = m * (t + 1) / 10;
    if (hi > lo) out.push_back(rounded((mark_at(r, hi, cpu) - mark_at(r, lo, cpu)) * 1e6 / static_cast<double>(hi - lo), 3));
  }
  return out;
}

Json by_history(const PassResult& r, std::size_t m, bool cpu) {
  auto at = [&](std::size_t i) { return mark_at(r, i, cpu); };
  Json out = Json::object();
  for (std::size_t k : kHistoryPoints) {
    if (m < k) continue;
    const std::size_t lo = k > kHalfWindow ? k - kHalfWindow : 0;
    const std::size_t hi = std::min(m, k + kHalfWindow);
    out[std::to_string(k)] = rounded((at(hi) - at(lo)) * 1e6 / static_cast<double>(hi - lo), 3);
  }
  return out;
}

// Same-shaped objects or arrays of numbers: the smaller value at each key or position.
Json elementwise_min(const Json& a, const Json& b) {
  Json out = a;
  if (a.is_object()) {
    for (auto it = out.begin(); it != out.end(); ++it) *it = std::min(it->get<double>(), b.at(it.key()).get<double>());
  } else {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = std::min(out[i].get<double>(), b.at(i).get<double>());
  }
  return out;
}

Json run(const Options& o) {
  Json j;
  j["benchmark"] = "consensus";
  j["participants"] = o.participants;
  j["events"] = o.events;
  j["seed"] = o.seed;
  j["consensus_every"] = o.consensus_every;
  j["txs_per_event"] = o.txs_per_event;
  j["tx_size"] = o.tx_size;
  j["build_type"] = CHATTER_BUILD_TYPE;
  j["compact_every"] = o.compact_every;
  g_compact_every = o.compact_every;
  j["compact_keep"] = o.compact_keep;
  g_compact_keep = o.compact_keep;
#ifdef NDEBUG
  j["assertions"] = false;
#else
  j["assertions"] = true;
#endif

  PassResult signed_pass, pre_pass;
  double verify_per_s = 0, verify_min = 0, verify_max = 0;
  std::size_t verify_samples = 0;
  double generate_s = 0;
  {
    const auto t0 = Clock::now();
    GossipGraph g = generate(o, o.events);
    generate_s = seconds_since(t0);
    VerifyMeter meter(g);
    meter.sample(0.5);
    std::fprintf(stderr, "Ed25519 verify: %.0f/s on one core\n", meter.per_s());
    const std::vector<std::size_t> marks = window_bounds(o.events);
    signed_pass = run_pass(g, false, o.consensus_every, {}, "signed", &meter);
    pre_pass = run_pass(g, true, o.consensus_every, marks, "preverified", &meter);
    verify_per_s = meter.per_s();
    std::fprintf(stderr, "Ed25519 verify over %zu samples: %.0f/s (%.0f..%.0f)\n", meter.samples(), verify_per_s,
                 meter.min(), meter.max());
    verify_min = meter.min();
    verify_max = meter.max();
    verify_samples = meter.samples();
  }
  const double m = static_cast<double>(o.events);
  const double events_per_s = m / signed_pass.seconds;
  const double pre_per_s = m / pre_pass.seconds;
  j["verify_per_s"] = rounded(verify_per_s, 1);
  j["verify_per_s_min"] = rounded(verify_min, 1);
  j["verify_per_s_max"] = rounded(verify_max, 1);
  j["verify_samples"] = verify_samples;
  j["events_per_s"] = rounded(events_per_s, 1);
  j["events_per_s_over_verify_per_s"] = rounded(verify_per_s > 0 ? events_per_s / verify_per_s : 0, 4);
  j["events_per_s_preverified"] = rounded(pre_per_s, 1);
  j["events_per_s_preverified_cpu"] = rounded(m / pre_pass.cpu_seconds, 1);
  j["us_per_event"] = rounded(pre_pass.seconds * 1e6 / m, 3);

  Json history = by_history(pre_pass, o.events, false), history_cpu = by_history(pre_pass, o.events, true);
  Json tenths = by_tenth(pre_pass, o.events, false), tenths_cpu = by_tenth(pre_pass, o.events, true);
  std::size_t history_events = o.events;
  if (o.by_history) {
    history_events = o.history_events;
    GossipGraph g = generate(o, history_events);
    // The windows are short (tens of milliseconds), so one burst of another process on a shared
    // machine can dominate one: repeat the pass and keep each window's best time.
    double best_s = 0, best_cpu_s = 0;
    for (std::size_t rep = 0; rep < o.history_repeats; ++rep) {
      const PassResult h = run_pass(g, true, o.consensus_every, window_bounds(history_events), "history", nullptr);
      const Json hw = by_history(h, history_events, false), ht = by_tenth(h, history_events, false);
      const Json hwc = by_history(h, history_events, true), htc = by_tenth(h, history_events, true);
      history = rep == 0 ? hw : elementwise_min(history, hw);
      tenths = rep == 0 ? ht : elementwise_min(tenths, ht);
      history_cpu = rep == 0 ? hwc : elementwise_min(history_cpu, hwc);
      tenths_cpu = rep == 0 ? htc : elementwise_min(tenths_cpu, htc);
      best_s = rep == 0 ? h.seconds : std::min(best_s, h.seconds);
      best_cpu_s = rep == 0 ? h.cpu_seconds : std::min(best_cpu_s, h.cpu_seconds);
      j["history_consensus_events"] = h.consensus_events;
      j["history_blocks"] = h.blocks;
      j["history_compactions"] = h.compactions;
    }
    j["history_events_per_s_preverified"] = rounded(static_cast<double>(history_events) / best_s, 1);
    j["history_events_per_s_preverified_cpu"] = rounded(static_cast<double>(history_events) / best_cpu_s, 1);
    j["history_repeats"] = o.history_repeats;
  }
  j["us_per_event_by_history"] = history;
  j["history_events"] = history_events;
  j["history_window"] = 2 * kHalfWindow;
  j["history_us_per_event_by_tenth"] = tenths;
  // The same from this thread's CPU time, which a busy shared machine inflates much less.
  j["us_per_event_by_history_cpu"] = history_cpu;
  j["history_us_per_event_by_tenth_cpu"] = tenths_cpu;

  j["consensus_events"] = signed_pass.consensus_events;
  j["blocks"] = signed_pass.blocks;
  j["last_round"] = signed_pass.last_round;
  j["rounds_decided"] = signed_pass.rounds_decided;
  if (signed_pass.last_consensus_round)
    j["last_consensus_round"] = *signed_pass.last_consensus_round;
  else
    j["last_consensus_round"] = nullptr;
  // Both passes see the same graph in the same order, so consensus must agree.
  j["passes_agree"] = signed_pass.consensus_events == pre_pass.consensus_events &&
                      signed_pass.blocks == pre_pass.blocks && signed_pass.last_round == pre_pass.last_round &&
                      signed_pass.rounds_decided == pre_pass.rounds_decided;
  j["generate_s"] = rounded(generate_s, 3);
  j["signed_s"] = rounded(signed_pass.seconds, 3);
  j["preverified_s"] = rounded(pre_pass.seconds, 3);
  j["peak_rss_mb"] = rounded(peak_rss_mb(), 1);
  return j;
}

}  // namespace

int consensus_main(int argc, char** argv) {
  Options o;
  std::size_t history_events = 0;
  CLI::App app{"Insertion and consensus throughput on a seeded random gossip graph; prints one JSON document.",
               "chatter-bench consensus"};
  app.add_option("--participants", o.participants, "creators in the graph (N)")->check(CLI::Range(1, 1000));
  app.add_option("--events", o.events, "events in the graph (M), including each creator's first")
      ->check(CLI::Range(1, 100000000));
  app.add_option("--seed", o.seed, "graph seed");
  app.add_option("--consensus-every", o.consensus_every, "run consensus after every K insertions")
      ->check(CLI::Range(1, 100000000));
  app.add_flag("--by-history", o.by_history, "also run a preverified pass on a larger graph for us_per_event_by_history");
  app.add_option("--history-events", history_events, "events of the --by-history graph (default 1000000)")
      ->check(CLI::Range(1, 100000000));
  app.add_option("--history-repeats", o.history_repeats, "--by-history passes; each window keeps its best time")
      ->check(CLI::Range(1, 100));
  app.add_option("--txs-per-event", o.txs_per_event, "transactions per event")->check(CLI::Range(0, 1000));
  app.add_option("--tx-size", o.tx_size, "bytes per transaction")->check(CLI::Range(0, 1000000));
  app.add_option("--compact-every", o.compact_every,
                 "compact the graph every N processed rounds and bound the store (0: never)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--compact-keep", o.compact_keep, "processed rounds kept below the base at each compaction")
      ->check(CLI::Range(0, 1000000000));
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
    std::fprintf(stderr, "chatter-bench consensus: %s\n", what.c_str());
    return 2;
  }
  if (history_events != 0) {
    if (!o.by_history) {
      std::fputs("chatter-bench consensus: --history-events needs --by-history.\n", stderr);
      return 2;
    }
    o.history_events = history_events;
  }
  if (o.events < o.participants) {
    std::fputs("chatter-bench consensus: --events must be at least --participants (each creator starts with one event).\n",
               stderr);
    return 2;
  }
  try {
    const Json j = run(o);
    std::cout << j.dump(2) << std::endl;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chatter-bench consensus: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace chatter::bench
