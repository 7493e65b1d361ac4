// cmd/run_log.h: the node facts `chatter run` logs.
#include "cmd/run_log.h"

#include <algorithm>
#include <cstdio>

namespace chatter::cmd {

namespace {

template <typename T>
std::string opt_text(const std::optional<T>& v) {
  return v ? std::to_string(*v) : std::string("none");
}

std::string blocks_of(const NodeStats& s) {
  return std::to_string(s.last_block_index ? *s.last_block_index + 1 : 0);
}

}  // namespace

void NodeLog::changes(const NodeStats& s, const TransportStats& t) {
  if (s.fast_forward_refusals != last_.fast_forward_refusals) {
    std::string reasons;  // the labels that grew
    for (std::size_t i = 0; i < kFastForwardRefusalCount; ++i)
      if (s.fast_forward_refusals_by_reason[i] != last_.fast_forward_refusals_by_reason[i])
        reasons += (reasons.empty() ? "" : ",") + std::string(to_string(static_cast<FastForwardRefusal>(i)));
    log_.write("fastsync", LogLevel::kWarn, "fast-forward-refused",
               {{"reason", reasons},
                {"count", std::to_string(s.fast_forward_refusals - last_.fast_forward_refusals)},
                {"error", s.last_fast_forward_error}});
  }
  if (s.fast_forwards != last_.fast_forwards)
    log_.write("fastsync", LogLevel::kInfo, "fast-forwarded",
               {{"block", opt_text(s.fast_forward_block)},
                {"snapshot_bytes", std::to_string(s.catch_up_bytes)},
                {"bytes_received", std::to_string(t.bytes_received)}});
  if (s.state != last_.state || s.catch_up_status != last_.catch_up_status)
    log_.write("node", LogLevel::kInfo, "state",
               {{"state", to_string(s.state)}, {"status", s.catch_up_status}});
  if (s.sync_errors > last_.sync_errors)
    log_.write("gossip", LogLevel::kWarn, "syncs-unanswered",
               {{"count", std::to_string(s.sync_errors - last_.sync_errors)},
                {"total", std::to_string(s.sync_errors)}});
  if (s.refused_events > last_.refused_events)
    log_.write("gossip", LogLevel::kWarn, "events-refused",
               {{"count", std::to_string(s.refused_events - last_.refused_events)},
                {"total", std::to_string(s.refused_events)}});
  // A chunked snapshot transfer: one progress line per call (a second): chunks, bytes, rate, ETA.
  if (s.state == NodeState::kCatchingUp && s.catch_up_chunks_total > 0) {
    const std::uint64_t done = s.catch_up_snapshot_bytes_done, total = s.catch_up_snapshot_bytes_total;
    const double rate = done >= last_.catch_up_snapshot_bytes_done
                            ? static_cast<double>(done - last_.catch_up_snapshot_bytes_done)
                            : 0.0;  // bytes in the last second
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", rate / 1e6);
    std::string eta = "unknown";
    if (rate > 0) {
      char e[32];
      std::snprintf(e, sizeof e, "%.1f", static_cast<double>(total - std::min(total, done)) / rate);
      eta = e;
    }
    log_.write("fastsync", LogLevel::kInfo, "catch-up",
               {{"block", opt_text(s.catch_up_target_block)},
                {"chunks", std::to_string(s.catch_up_chunks_done) + "/" + std::to_string(s.catch_up_chunks_total)},
                {"bytes", std::to_string(done) + "/" + std::to_string(total)},
                {"rate_mb_s", buf},
                {"eta_s", eta}});
  }
  if (s.app_errors > last_.app_errors)
    log_.write("app", LogLevel::kWarn, "app-error",
               {{"count", std::to_string(s.app_errors - last_.app_errors)}, {"error", s.last_app_error}});
  last_ = s;
}

void NodeLog::progress(const NodeStats& s, const TransportStats& t) const {
  log_.write("node", LogLevel::kInfo, "progress",
             {{"state", to_string(s.state)},
              {"round", opt_text(s.last_consensus_round)},
              {"blocks", blocks_of(s)},
              {"tx_committed", std::to_string(s.transactions)},
              {"pool", std::to_string(s.transaction_pool)},
              {"events", std::to_string(s.events)},
              {"undetermined", std::to_string(s.undetermined_events)},
              {"sync_errors", std::to_string(s.sync_errors)},
              {"bytes_sent", std::to_string(t.bytes_sent)},
              {"bytes_received", std::to_string(t.bytes_received)},
              {"dropped_frames", std::to_string(t.dropped_frames)}});
}

void NodeLog::blocks(const Node& n) {
  if (!log_.enabled("node", LogLevel::kDebug)) return;
  const NodeStats s = n.stats();
  if (s.last_block_index == last_block_) return;
  log_.write("node", LogLevel::kDebug, "block",
             {{"index", opt_text(s.last_block_index)},
              {"round", opt_text(s.last_consensus_round)},
              {"tx_committed", std::to_string(s.transactions)}});
  last_block_ = s.last_block_index;
}

}  // namespace chatter::cmd
