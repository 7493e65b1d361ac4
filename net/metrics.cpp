// The Prometheus text format (net/metrics.h). Names come from this code, never from input, so a bad
// name is a programming error (it aborts); label values (a moniker) come from files and are escaped.
#include "net/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "engine/invariant.h"

namespace chatter {

namespace {

const char* type_name(MetricsWriter::Type t) {
  switch (t) {
    case MetricsWriter::Type::kCounter:
      return "counter";
    case MetricsWriter::Type::kGauge:
      return "gauge";
    case MetricsWriter::Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

bool valid_label_name(std::string_view name) {
  return valid_metric_name(name) && name.find(':') == std::string_view::npos;
}

// -1 for "none yet", so that the gauge always has a value.
template <typename T>
std::int64_t or_minus_one(const std::optional<T>& v) {
  return v ? static_cast<std::int64_t>(*v) : -1;
}

}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_metric_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

void MetricsWriter::family(std::string_view name, Type type, std::string_view help) {
  CHATTER_INVARIANT(valid_metric_name(name));
  CHATTER_INVARIANT(std::find(names_.begin(), names_.end(), name) == names_.end());
  names_.emplace_back(name);
  current_ = std::string(name);
  type_ = type;
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  text_ += escape_help(help);
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type_name(type);
  text_ += '\n';
}

void MetricsWriter::line(std::string_view name, const MetricLabels& labels, std::string_view value) {
  text_ += name;
  if (!labels.empty()) {
    text_ += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
      CHATTER_INVARIANT(valid_label_name(k));
      if (!first) text_ += ',';
      first = false;
      text_ += k;
      text_ += "=\"";
      text_ += escape_label_value(v);
      text_ += '"';
    }
    text_ += '}';
  }
  text_ += ' ';
  text_ += value;
  text_ += '\n';
}

void MetricsWriter::sample(std::uint64_t value, const MetricLabels& labels) {
  CHATTER_INVARIANT(!current_.empty() && type_ != Type::kHistogram);
  line(current_, labels, std::to_string(value));
}

void MetricsWriter::sample_signed(std::int64_t value, const MetricLabels& labels) {
  CHATTER_INVARIANT(!current_.empty() && type_ != Type::kHistogram);
  line(current_, labels, std::to_string(value));
}

void MetricsWriter::sample_double(double value, const MetricLabels& labels) {
  CHATTER_INVARIANT(!current_.empty() && type_ != Type::kHistogram);
  line(current_, labels, format_metric_value(value));
}

void MetricsWriter::counter(std::string_view name, std::string_view help, std::uint64_t value) {
  family(name, Type::kCounter, help);
  sample(value);
}

void MetricsWriter::gauge(std::string_view name, std::string_view help, std::int64_t value) {
  family(name, Type::kGauge, help);
  sample_signed(value);
}

void MetricsWriter::histogram(std::string_view name, std::string_view help, const std::vector<double>& bounds,
                              const std::vector<std::uint64_t>& buckets, double sum) {
  CHATTER_INVARIANT(buckets.size() == bounds.size() + 1);
  for (std::size_t i = 1; i < bounds.size(); ++i) CHATTER_INVARIANT(bounds[i - 1] < bounds[i]);
  family(name, Type::kHistogram, help);
  const std::string base(name);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    cumulative += buckets[i];
    const std::string le = i < bounds.size() ? format_metric_value(bounds[i]) : std::string("+Inf");
    line(base + "_bucket", {{"le", le}}, std::to_string(cumulative));
  }
  line(base + "_sum", {}, format_metric_value(sum));
  line(base + "_count", {}, std::to_string(cumulative));
}

void write_node_metrics(MetricsWriter& w, const NodeStats& s) {
  using Type = MetricsWriter::Type;
  w.family("chatter_node_info", Type::kGauge, "This node: its peer id and moniker (always 1).");
  w.sample(1, {{"id", std::to_string(s.id)}, {"moniker", s.moniker}});
  w.family("chatter_node_state", Type::kGauge, "1 for the node's current state, 0 for the others.");
  for (NodeState st : {NodeState::kBabbling, NodeState::kCatchingUp, NodeState::kJoining, NodeState::kLeaving,
                       NodeState::kSuspended, NodeState::kShutdown})
    w.sample(st == s.state ? 1 : 0, {{"state", to_string(st)}});
  w.gauge("chatter_peers", "Validators in the node's peer set, itself included.",
          static_cast<std::int64_t>(s.num_peers));

  w.gauge("chatter_last_consensus_round", "The last round consensus processed (-1 before any).",
          or_minus_one(s.last_consensus_round));
  w.gauge("chatter_last_block_index", "The index of the last block committed to the app (-1 before any).",
          or_minus_one(s.last_block_index));
  w.counter("chatter_blocks_committed_total",
            "Blocks this node committed to the app (fast-forwards excluded).", s.blocks_committed);
  w.counter("chatter_transactions_committed_total", "Transactions in the blocks committed to the app.",
            s.transactions);
  w.gauge("chatter_transaction_pool", "Transactions waiting to be packed into an event.",
          static_cast<std::int64_t>(s.transaction_pool));

  w.counter("chatter_events_created_total", "Events this node created.", s.events_created);
  w.counter("chatter_events_received_total", "New events inserted from peers' sync answers and pushes.",
            s.events_received);
  w.counter("chatter_events_refused_total", "Events from peers refused (bad signature, parents, fork...).",
            s.refused_events);
  w.gauge("chatter_graph_events", "Events held in the graph (after a compaction: the recent ones).",
          static_cast<std::int64_t>(s.events));
  w.gauge("chatter_undetermined_events", "Events whose round received is not decided yet.",
          static_cast<std::int64_t>(s.undetermined_events));
  w.gauge("chatter_consensus_events", "Events in consensus order since the start or the last reset.",
          static_cast<std::int64_t>(s.consensus_events));

  w.counter("chatter_sync_requests_total", "Sync requests this node sent.", s.sync_requests);
  w.counter("chatter_sync_errors_total", "Sync requests that got no answer in time.", s.sync_errors);
  std::vector<double> bounds;
  for (std::int64_t b : LatencyHistogram::kBoundsNs) bounds.push_back(static_cast<double>(b) / 1e9);
  const auto& h = s.sync_latency;
  w.histogram("chatter_sync_latency_seconds", "Time from a sync request to its answer.", bounds,
              std::vector<std::uint64_t>(h.buckets.begin(), h.buckets.end()),
              static_cast<double>(h.sum_ns) / 1e9);

  w.counter("chatter_fast_forwards_started_total", "Times the node entered CatchingUp to fast-forward.",
            s.fast_forwards_started);
  w.counter("chatter_fast_forwards_succeeded_total", "Fast-forwards completed (graph reset, app restored).",
            s.fast_forwards);
  w.family("chatter_fast_forwards_refused_total", Type::kCounter,
           "Fast-forward answers refused, by reason (the last one's text is in /stats).");
  for (std::size_t i = 0; i < kFastForwardRefusalCount; ++i)
    w.sample(s.fast_forward_refusals_by_reason[i],
             {{"reason", to_string(static_cast<FastForwardRefusal>(i))}});
  w.counter("chatter_fast_forwards_served_total", "Fast-forward answers served to other nodes.",
            s.fast_forwards_served);
  w.counter("chatter_fast_forward_received_bytes_total", "Snapshot bytes of fast-forward answers received.",
            s.catch_up_bytes);

  w.counter("chatter_app_errors_total", "Errors the application proxy reported (commit, snapshot, restore).",
            s.app_errors);
  w.counter("chatter_app_nondeterminism_total",
            "Re-committed blocks whose state hash differed from the stored.", s.app_nondeterminism);
  w.counter("chatter_compactions_total", "Graph compactions done.", s.compactions);
}

void write_transport_metrics(MetricsWriter& w, const TransportStats& t) {
  w.counter("chatter_sent_bytes_total", "Bytes of wire frames sent to peers.", t.bytes_sent);
  w.counter("chatter_received_bytes_total", "Bytes of wire frames received from peers.", t.bytes_received);
  w.counter("chatter_frames_sent_total", "Wire frames sent to peers.", t.frames_sent);
  w.counter("chatter_frames_received_total", "Wire frames received from peers.", t.frames_received);
  w.counter("chatter_frames_dropped_total", "Frames dropped because a peer's send queue was full.",
            t.dropped_frames);
  w.counter("chatter_frames_bad_total", "Malformed or oversized frames received (connection closed).",
            t.bad_frames);
  w.counter("chatter_connect_failures_total", "Failed connection attempts to peers.", t.connect_failures);
}

}  // namespace chatter
