// GET /metrics and GET / of a real `chatter run` process (net/metrics.h, net/page_assets.h): a
// one-validator network under load is scraped twice; every line of the Prometheus text parses,
// every sample belongs to a family announced by # HELP and # TYPE, names match ^chatter_[a-z_]+,
// counters end in _total and never decrease between the scrapes, blocks committed increase, the
// histogram's buckets are cumulative with +Inf equal to _count; the page is served as HTML.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cmd/keyfile.h"
#include "cmd/peers_file.h"
#include "cmd/testnet_load.h"
#include "cmd/testnet_nodes.h"
#include "engine/crypto.h"
#include "engine/node_metrics.h"
#include "tests/http_client.h"
#include "tests/process_helpers.h"

namespace fs = std::filesystem;
using namespace chatter;
using namespace chatter::cmd;
using chatter::testing::eventually;
using chatter::testing::http_get;
using chatter::testing::read_text;
using chatter::testing::ScratchDir;

namespace {

std::string addr(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

struct ProcessGuard {
  std::vector<NodeProcess> nodes;
  ~ProcessGuard() { stop_nodes(nodes, std::chrono::milliseconds(10000)); }
};

// One scrape, parsed: samples by "name{labels}", and the families' types.
struct Scrape {
  std::map<std::string, double> samples;  // key: name + label text as written
  std::map<std::string, std::string> types;
  std::map<std::string, std::vector<std::pair<double, double>>> buckets;  // histogram: (le, count)
  std::vector<std::string> errors;
  double value(const std::string& key) const {
    auto it = samples.find(key);
    return it == samples.end() ? -1 : it->second;
  }
};

double parse_value(const std::string& v) {
  if (v == "+Inf") return std::numeric_limits<double>::infinity();
  if (v == "-Inf") return -std::numeric_limits<double>::infinity();
  return std::stod(v);
}

Scrape parse(const std::string& text) {
  static const std::regex help(R"(^# HELP (chatter_[a-z_]+) \S.*$)");
  static const std::regex type(R"(^# TYPE (chatter_[a-z_]+) (counter|gauge|histogram)$)");
  static const std::regex sample(
      R"(^(chatter_[a-z_]+)(\{([a-z_]+="([^"\\]|\\.)*"(,[a-z_]+="([^"\\]|\\.)*")*)\})? (-?[0-9.e+-]+|\+Inf|NaN)$)");
  static const std::regex le(R"re(le="([^"]+)")re");
  Scrape s;
  std::set<std::string> helped;
  std::istringstream in(text);
  std::string current;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, help)) {
      if (!helped.insert(m[1]).second) s.errors.push_back("second HELP: " + line);
      continue;
    }
    if (std::regex_match(line, m, type)) {
      if (!helped.count(m[1])) s.errors.push_back("TYPE before HELP: " + line);
      if (s.types.count(m[1])) s.errors.push_back("second TYPE: " + line);
      s.types[m[1]] = m[2];
      current = m[1];
      continue;
    }
    if (!std::regex_match(line, m, sample)) {
      s.errors.push_back("unparsable line: " + line);
      continue;
    }
    const std::string name = m[1], labels = m[2], value = m[7];
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string sf(suffix);
      if (s.types.count(current) && s.types[current] == "histogram" && name == current + sf) family = current;
    }
    if (family != current) s.errors.push_back("sample outside its family: " + line);
    if (s.types[family] == "counter" && name.size() >= 6 && name.substr(name.size() - 6) != "_total")
      s.errors.push_back("counter without _total: " + line);
    if (name == family + "_bucket") {
      std::smatch l;
      if (!std::regex_search(labels, l, le))
        s.errors.push_back("bucket without le: " + line);
      else
        s.buckets[family].emplace_back(parse_value(l[1]), parse_value(value));
    }
    if (!s.samples.emplace(name + labels, parse_value(value)).second) s.errors.push_back("repeated: " + line);
  }
  if (!text.empty() && text.back() != '\n') s.errors.push_back("no final newline");
  return s;
}

Scrape scrape(std::uint16_t port) {
  const auto r = http_get(port, "/metrics");
  REQUIRE(r.has_value());
  REQUIRE(r->status == 200);
  CHECK(r->header("content-type").rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(r->header("access-control-allow-origin") == "*");
  Scrape s = parse(r->body);
  for (const auto& e : s.errors) FAIL_CHECK(e);
  return s;
}

}  // namespace

TEST_CASE("metrics: a running node's /metrics parses, counters never decrease, blocks increase") {
  ScratchDir scratch("chatter-metrics");
  const fs::path dir = scratch.path / "node";
  const auto ports = pick_free_ports(3);
  const KeyPair key = KeyPair::generate();
  std::string error;
  REQUIRE_MESSAGE(write_key_files(dir.string(), key, error), error);
  REQUIRE_MESSAGE(
      write_peers_file((dir / kPeersFile).string(), {Peer{key.public_key(), addr(ports[0]), "solo"}}, error),
      error);
  const std::string log = (scratch.path / "node.log").string();
  const char* exe = std::getenv("CHATTER_EXE");
  REQUIRE(exe != nullptr);
  ProcessGuard guard;
  NodeProcess p;
  p.pid = spawn_process(exe,
                        {"run", "--datadir", dir.string(), "--proxy-listen", addr(ports[1]),
                         "--service-listen", addr(ports[2]), "--heartbeat", "5ms"},
                        log);
  p.running = true;
  guard.nodes.push_back(p);
  const std::uint16_t service = ports[2];
  REQUIRE_MESSAGE(eventually([&] {
                    const auto r = http_get(service, "/metrics");
                    return r && r->status == 200;
                  }),
                  read_text(log));
  LoadGenerator::Options lo;
  lo.moniker = "solo";
  lo.port = ports[1];
  lo.rate = 300;
  LoadGenerator load(lo);
  load.start();

  REQUIRE(eventually([&] { return scrape(service).value("chatter_blocks_committed_total") >= 1; }));
  const Scrape first = scrape(service);
  Scrape second;
  REQUIRE(eventually([&] {
    second = scrape(service);
    return second.value("chatter_blocks_committed_total") > first.value("chatter_blocks_committed_total");
  }));

  for (const Scrape* s : {&first, static_cast<const Scrape*>(&second)}) {
    CHECK(s->types.size() >= 30);
    CHECK(s->value("chatter_node_state{state=\"Babbling\"}") == 1);
    CHECK(s->value("chatter_node_state{state=\"CatchingUp\"}") == 0);
    CHECK(s->value("chatter_peers") == 1);
    CHECK(s->value("chatter_app_reachable") == 1);
    CHECK(s->value("chatter_node_info{id=\"" + std::to_string(peer_id_of(key.public_key())) +
                   "\",moniker=\"solo\"}") == 1);
    for (const char* name :
         {"chatter_transactions_committed_total", "chatter_events_created_total",
          "chatter_events_received_total", "chatter_sync_requests_total", "chatter_sent_bytes_total",
          "chatter_received_bytes_total", "chatter_app_errors_total", "chatter_fast_forwards_started_total",
          "chatter_fast_forwards_succeeded_total", "chatter_undetermined_events",
          "chatter_last_consensus_round", "chatter_last_block_index"})
      CHECK_MESSAGE(s->samples.count(name) == 1, name);
    for (const char* reason :
         {"unavailable", "stale", "untrusted", "frame", "snapshot", "app", "timeout", "other"})
      CHECK(s->value(std::string("chatter_fast_forwards_refused_total{reason=\"") + reason + "\"}") == 0);
    // The histogram: every bound, cumulative, +Inf last and equal to _count.
    const auto& b = s->buckets.at("chatter_sync_latency_seconds");
    REQUIRE(b.size() == LatencyHistogram::kBoundsNs.size() + 1);
    for (std::size_t i = 1; i < b.size(); ++i) {
      CHECK(b[i].first > b[i - 1].first);
      CHECK(b[i].second >= b[i - 1].second);
    }
    CHECK(b.back().first > 1e308);
    CHECK(b.back().second == s->value("chatter_sync_latency_seconds_count"));
    CHECK(s->value("chatter_sync_latency_seconds_sum") >= 0);
  }
  CHECK(second.value("chatter_last_block_index") > first.value("chatter_last_block_index"));
  CHECK(second.value("chatter_transactions_committed_total") >
        first.value("chatter_transactions_committed_total"));
  // Counters (and histogram counts) never decrease.
  for (const auto& [key_text, v] : first.samples) {
    const std::string name = key_text.substr(0, key_text.find('{'));
    const bool counter = name.size() > 6 && name.substr(name.size() - 6) == "_total";
    const bool histogram = name.find("_seconds_") != std::string::npos;
    if (!counter && !histogram) continue;
    INFO(key_text);
    REQUIRE(second.samples.count(key_text) == 1);
    CHECK(second.samples.at(key_text) >= v);
  }

  // The page: HTML, self-contained.
  const auto page = http_get(service, "/");
  REQUIRE(page.has_value());
  CHECK(page->status == 200);
  CHECK(page->header("content-type") == "text/html; charset=utf-8");
  CHECK(page->body.find("<canvas") != std::string::npos);
  CHECK(page->body.find("http:") == std::string::npos);

  load.finish(2000);
  stop_nodes(guard.nodes, std::chrono::milliseconds(10000));
  CHECK(WIFEXITED(guard.nodes[0].status));
  CHECK(WEXITSTATUS(guard.nodes[0].status) == 0);
}
