// Refusal reasons from the refusal sentences of node_fastforward.cpp (engine/node_metrics.h). The
// sentences stay the record of what happened; this maps each to one of a few labels so that a
// monitoring system can count them without parsing free text. Checked in order: the first match wins.
#include "engine/node_metrics.h"

namespace chatter {

const char* to_string(FastForwardRefusal r) {
  switch (r) {
    case FastForwardRefusal::kUnavailable:
      return "unavailable";
    case FastForwardRefusal::kStale:
      return "stale";
    case FastForwardRefusal::kUntrusted:
      return "untrusted";
    case FastForwardRefusal::kFrame:
      return "frame";
    case FastForwardRefusal::kSnapshot:
      return "snapshot";
    case FastForwardRefusal::kApp:
      return "app";
    case FastForwardRefusal::kTimeout:
      return "timeout";
    case FastForwardRefusal::kOther:
      return "other";
  }
  return "other";
}

FastForwardRefusal classify_fast_forward_refusal(std::string_view why) {
  const auto has = [why](std::string_view s) { return why.find(s) != std::string_view::npos; };
  if (has("cannot serve")) return FastForwardRefusal::kUnavailable;
  if (has("within the timeout")) return FastForwardRefusal::kTimeout;
  if (has("application")) return FastForwardRefusal::kApp;
  if (has("not newer")) return FastForwardRefusal::kStale;
  if (has("frame")) return FastForwardRefusal::kFrame;
  if (has("signatures") || has("peers hash") || has("round received")) return FastForwardRefusal::kUntrusted;
  if (has("snapshot")) return FastForwardRefusal::kSnapshot;
  return FastForwardRefusal::kOther;
}

}  // namespace chatter
