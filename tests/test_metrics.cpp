// GET /metrics (net/metrics.h): the Prometheus text format of the formatter alone (HELP and TYPE
// lines once per family, label escaping, histogram shape: cumulative buckets, +Inf, _sum, _count)
// and the node's families; and the routes of the page and /metrics (net/http_json.h,
// net/page_assets.h: the page is self-contained, nothing loaded from outside).
#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "net/http_json.h"
#include "net/metrics.h"
#include "net/page_assets.h"

using namespace chatter;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("metrics: HELP and TYPE precede each family's samples; the text ends with a newline") {
  MetricsWriter w;
  w.counter("chatter_things_total", "Things.", 3);
  w.gauge("chatter_level", "A level (may be negative).", -1);
  w.family("chatter_by_kind_total", MetricsWriter::Type::kCounter, "By kind.");
  w.sample(1, {{"kind", "a"}});
  w.sample(2, {{"kind", "b"}});
  const auto l = lines_of(w.text());
  REQUIRE(l.size() == 10);
  CHECK(l[0] == "# HELP chatter_things_total Things.");
  CHECK(l[1] == "# TYPE chatter_things_total counter");
  CHECK(l[2] == "chatter_things_total 3");
  CHECK(l[3] == "# HELP chatter_level A level (may be negative).");
  CHECK(l[4] == "# TYPE chatter_level gauge");
  CHECK(l[5] == "chatter_level -1");
  CHECK(l[6] == "# HELP chatter_by_kind_total By kind.");
  CHECK(l[7] == "# TYPE chatter_by_kind_total counter");
  CHECK(l[8] == "chatter_by_kind_total{kind=\"a\"} 1");
  CHECK(l[9] == "chatter_by_kind_total{kind=\"b\"} 2");
  CHECK(w.text().back() == '\n');
}

TEST_CASE("metrics: label values and HELP text are escaped (backslash, quote, newline)") {
  CHECK(escape_label_value("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
  CHECK(escape_help("x\\y\nz \"q\"") == "x\\\\y\\nz \"q\"");  // quotes stay in HELP
  MetricsWriter w;
  w.family("chatter_node_info", MetricsWriter::Type::kGauge, "line one\nline two");
  w.sample(1, {{"id", "7"}, {"moniker", "evil\"}\n# TYPE x counter"}});
  const auto l = lines_of(w.text());
  REQUIRE(l.size() == 3);  // the newline in the moniker did not start a line
  CHECK(l[0] == "# HELP chatter_node_info line one\\nline two");
  CHECK(l[2] == "chatter_node_info{id=\"7\",moniker=\"evil\\\"}\\n# TYPE x counter\"} 1");
}

TEST_CASE("metrics: a histogram has cumulative buckets, +Inf equal to _count, and _sum") {
  MetricsWriter w;
  w.histogram("chatter_wait_seconds", "Waits.", {0.001, 0.5, 2}, {3, 0, 4, 1}, 7.25);
  const auto l = lines_of(w.text());
  REQUIRE(l.size() == 8);
  CHECK(l[1] == "# TYPE chatter_wait_seconds histogram");
  CHECK(l[2] == "chatter_wait_seconds_bucket{le=\"0.001\"} 3");
  CHECK(l[3] == "chatter_wait_seconds_bucket{le=\"0.5\"} 3");
  CHECK(l[4] == "chatter_wait_seconds_bucket{le=\"2\"} 7");
  CHECK(l[5] == "chatter_wait_seconds_bucket{le=\"+Inf\"} 8");
  CHECK(l[6] == "chatter_wait_seconds_sum 7.25");
  CHECK(l[7] == "chatter_wait_seconds_count 8");
}

TEST_CASE("metrics: values and names") {
  CHECK(format_metric_value(3) == "3");
  CHECK(format_metric_value(0.25) == "0.25");
  CHECK(format_metric_value(1.0 / 0.0) == "+Inf");
  CHECK(format_metric_value(-1.0 / 0.0) == "-Inf");
  CHECK(format_metric_value(0.0 / 0.0) == "NaN");
  CHECK(valid_metric_name("chatter_x_total"));
  CHECK(valid_metric_name("a:b_9"));
  CHECK_FALSE(valid_metric_name("9a"));
  CHECK_FALSE(valid_metric_name("a-b"));
  CHECK_FALSE(valid_metric_name(""));
}

TEST_CASE("metrics: the node's families, one HELP/TYPE each, counters named _total, every state") {
  NodeStats s;
  s.id = 42;
  s.moniker = "n\"0";
  s.state = NodeState::kCatchingUp;
  s.last_block_index = 9;
  s.blocks_committed = 10;
  s.transactions = 123;
  s.events_received = 77;
  s.sync_latency.record(3'000'000);
  s.sync_latency.record(20'000'000'000);
  s.fast_forward_refusals_by_reason[static_cast<std::size_t>(FastForwardRefusal::kTimeout)] = 2;
  MetricsWriter w;
  write_node_metrics(w, s);
  write_transport_metrics(w, TransportStats{1000, 2000, 3, 4, 0, 0, 1});
  const std::string& t = w.text();
  CHECK(contains(t, "chatter_node_info{id=\"42\",moniker=\"n\\\"0\"} 1\n"));
  CHECK(contains(t, "chatter_node_state{state=\"CatchingUp\"} 1\n"));
  for (const char* st : {"Babbling", "Joining", "Leaving", "Suspended", "Shutdown"})
    CHECK(contains(t, std::string("chatter_node_state{state=\"") + st + "\"} 0\n"));
  CHECK(contains(t, "chatter_last_block_index 9\n"));
  CHECK(contains(t, "chatter_last_consensus_round -1\n"));  // none yet
  CHECK(contains(t, "chatter_blocks_committed_total 10\n"));
  CHECK(contains(t, "chatter_transactions_committed_total 123\n"));
  CHECK(contains(t, "chatter_events_received_total 77\n"));
  CHECK(contains(t, "chatter_fast_forwards_refused_total{reason=\"timeout\"} 2\n"));
  CHECK(contains(t, "chatter_fast_forwards_refused_total{reason=\"untrusted\"} 0\n"));
  CHECK(contains(t, "chatter_sync_latency_seconds_bucket{le=\"0.005\"} 1\n"));
  CHECK(contains(t, "chatter_sync_latency_seconds_bucket{le=\"5\"} 1\n"));
  CHECK(contains(t, "chatter_sync_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
  CHECK(contains(t, "chatter_sync_latency_seconds_sum 20.003\n"));
  CHECK(contains(t, "chatter_sync_latency_seconds_count 2\n"));
  CHECK(contains(t, "chatter_sent_bytes_total 1000\n"));
  CHECK(contains(t, "chatter_received_bytes_total 2000\n"));
  // Every TYPE line once; counters end in _total.
  std::vector<std::string> names;
  for (const auto& l : lines_of(t)) {
    if (l.rfind("# TYPE ", 0) != 0) continue;
    std::istringstream in(l.substr(7));
    std::string name, type;
    in >> name >> type;
    INFO(l);
    CHECK(std::find(names.begin(), names.end(), name) == names.end());
    names.push_back(name);
    CHECK(name.rfind("chatter_", 0) == 0);
    if (type == "counter") CHECK(name.size() > 6);
    if (type == "counter") CHECK(name.substr(name.size() - 6) == "_total");
  }
  CHECK(names.size() >= 30);
}

TEST_CASE("metrics and page routes: /metrics asks the node; / is the page, self-contained") {
  const auto m = parse_request("/metrics");
  REQUIRE(std::holds_alternative<ApiQuery>(m));
  CHECK(std::get<ApiQuery>(m).kind == ApiQuery::Kind::kMetrics);
  CHECK(std::holds_alternative<HttpAnswer>(parse_request("/metrics/x")));  // 404
  CHECK(std::get<HttpAnswer>(parse_request("/metrics/x")).status == 404);
  for (const char* target : {"/", "/index.html", "/?refresh=1"}) {
    INFO(target);
    const auto p = parse_request(target);
    REQUIRE(std::holds_alternative<HttpAnswer>(p));
    const HttpAnswer& a = std::get<HttpAnswer>(p);
    CHECK(a.status == 200);
    CHECK(a.content_type == kGraphPageContentType);
    CHECK(a.body == graph_page_html());
  }
  const auto api = parse_request("/api");
  REQUIRE(std::holds_alternative<HttpAnswer>(api));
  CHECK(std::get<HttpAnswer>(api).content_type == kJsonContentType);
  CHECK(contains(std::get<HttpAnswer>(api).body, "/metrics"));

  const std::string page(graph_page_html());
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(contains(page, "/graph?limit="));
  CHECK(contains(page, "\"/stats\""));
  CHECK(contains(page, "data-events="));
  // Nothing from outside: no absolute URL, no protocol-relative source, no external stylesheet.
  for (const char* outside : {"http:", "https:", "src=\"//", "href=", "@import", "<link", "src=\"http"})
    CHECK_MESSAGE(!contains(page, outside), outside);
}
