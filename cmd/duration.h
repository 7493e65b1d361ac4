// Durations on the command line (spec/cli.md `--heartbeat`, `--timeout`, ...): Go-style "10ms", "1s",
// "500us", "2m", "1h", "1.5s", "1m30s", or a plain non-negative integer meaning milliseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace chatter::cmd {

// Nanoseconds; nullopt when the text is not a duration (negative, empty, unknown unit, overflow).
std::optional<std::int64_t> parse_duration_ns(const std::string& text);

}  // namespace chatter::cmd
