// What the node counts for monitoring beyond its plain counters (NodeStats, "Metrics"): the latency
// of its syncs as a histogram with fixed bounds, and fast-forward refusals by a fixed set of reasons.
// Pure and deterministic like the rest of engine/: latencies are differences of the `now` values the
// node is given, never a clock read here. net/metrics.h formats these in the Prometheus text format.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace chatter {

// Counts of observed durations per bucket. Bucket i (i < kBounds) holds the observations above
// bound i-1 and at most kBoundsNs[i]; the last bucket those above every bound (Prometheus' +Inf
// bucket is the sum of all). Negative durations (a host whose clock stepped back) count as 0.
struct LatencyHistogram {
  static constexpr std::array<std::int64_t, 12> kBoundsNs = {
      1'000'000,   2'500'000,   5'000'000,   10'000'000,    25'000'000,    50'000'000,
      100'000'000, 250'000'000, 500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000};
  std::array<std::uint64_t, kBoundsNs.size() + 1> buckets{};  // not cumulative
  std::uint64_t count = 0;
  std::int64_t sum_ns = 0;  // saturates instead of overflowing

  void record(std::int64_t ns) {
    if (ns < 0) ns = 0;
    std::size_t i = 0;
    while (i < kBoundsNs.size() && ns > kBoundsNs[i]) ++i;
    ++buckets[i];
    ++count;
    sum_ns = ns > INT64_MAX - sum_ns ? INT64_MAX : sum_ns + ns;
  }
};

// Why a fast-forward answer was refused, as a small fixed set of labels (the text of every refusal
// stays in NodeStats::last_fast_forward_error).
enum class FastForwardRefusal : std::uint8_t {
  kUnavailable,  // the peer cannot serve one
  kStale,        // its block is not newer than ours
  kUntrusted,    // too few valid signatures of trusted validators, a foreign peer set, a bad round
  kFrame,        // the frame does not match the block or the trusted schedule, or is inconsistent
  kSnapshot,     // no snapshot, or one that does not hash to the block's
  kApp,          // the application could not restore it, or disagrees with the block's state hash
  kTimeout,      // no answer in time
  kOther,
};
inline constexpr std::size_t kFastForwardRefusalCount = 8;

// "unavailable", "stale", "untrusted", "frame", "snapshot", "app", "timeout", "other".
const char* to_string(FastForwardRefusal r);
// The reason of a refusal from its text (the sentences of node_fastforward.cpp); kOther for any
// text it does not recognise.
FastForwardRefusal classify_fast_forward_refusal(std::string_view why);

}  // namespace chatter
