// GET /metrics: the node's counters in the Prometheus text exposition format (version 0.0.4),
// without any sockets or Beast (cheap to compile, unit-tested in tests/test_metrics.cpp).
//
// Names follow Prometheus conventions: the `chatter_` prefix, `_total` on counters, base units
// (`_seconds`, `_bytes`). Every family has one `# HELP` and one `# TYPE` line before its samples.
// What write_node_metrics and write_transport_metrics emit (net/README.md lists them with meanings):
//   chatter_node_info{id,moniker} 1, chatter_node_state{state} (1 for the current state, 0 for the
//   others), chatter_peers, chatter_last_consensus_round, chatter_last_block_index (-1 before any),
//   chatter_blocks_committed_total, chatter_transactions_committed_total, chatter_transaction_pool,
//   chatter_events_created_total, chatter_events_received_total, chatter_events_refused_total,
//   chatter_graph_events, chatter_undetermined_events, chatter_consensus_events,
//   chatter_sync_requests_total, chatter_sync_errors_total, chatter_sync_latency_seconds
//   (histogram), chatter_fast_forwards_started_total, chatter_fast_forwards_succeeded_total,
//   chatter_fast_forwards_refused_total{reason}, chatter_fast_forwards_served_total,
//   chatter_fast_forward_received_bytes_total, chatter_app_errors_total,
//   chatter_app_nondeterminism_total, chatter_compactions_total; transport: chatter_sent_bytes_total,
//   chatter_received_bytes_total, chatter_frames_sent_total, chatter_frames_received_total,
//   chatter_frames_dropped_total, chatter_frames_bad_total, chatter_connect_failures_total.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/node.h"
#include "net/runtime.h"

namespace chatter {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// Builds one exposition text. Families are written in the order they are started; a name is
// written once (starting a family again with the same name is a programming error: it aborts).
class MetricsWriter {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  // Starts a family: its # HELP and # TYPE lines. `name` must be a valid metric name
  // ([a-zA-Z_:][a-zA-Z0-9_:]*); label names likewise without ':'.
  void family(std::string_view name, Type type, std::string_view help);
  // A sample of the current counter or gauge family.
  void sample(std::uint64_t value, const MetricLabels& labels = {});
  void sample_signed(std::int64_t value, const MetricLabels& labels = {});
  void sample_double(double value, const MetricLabels& labels = {});

  // One-sample families.
  void counter(std::string_view name, std::string_view help, std::uint64_t value);
  void gauge(std::string_view name, std::string_view help, std::int64_t value);

  // A histogram family: NAME_bucket{le="..."} cumulative counts for each bound and +Inf, NAME_sum
  // and NAME_count. `buckets` holds per-bucket (not cumulative) counts, one more than `bounds`
  // (the last: above every bound); `bounds` must increase.
  void histogram(std::string_view name, std::string_view help, const std::vector<double>& bounds,
                 const std::vector<std::uint64_t>& buckets, double sum);

  const std::string& text() const { return text_; }

 private:
  void line(std::string_view name, const MetricLabels& labels, std::string_view value);
  std::string text_;
  std::string current_;  // name of the current family
  Type type_ = Type::kGauge;
  std::vector<std::string> names_;
};

// Label values: backslash, double quote and newline escaped (\\, \", \n).
std::string escape_label_value(std::string_view v);
// HELP text: backslash and newline escaped.
std::string escape_help(std::string_view v);
// A sample value: integers exactly, otherwise the shortest round-trip form; +Inf, -Inf, NaN.
std::string format_metric_value(double v);
bool valid_metric_name(std::string_view name);

// The node's families (from NodeStats).
void write_node_metrics(MetricsWriter& w, const NodeStats& s);
// The runtime's transport counters.
void write_transport_metrics(MetricsWriter& w, const TransportStats& t);

// Adds host families (transport, app reachability) to /metrics; runs on the node's thread.
using ExtraMetricsFn = std::function<void(MetricsWriter& w)>;

}  // namespace chatter
