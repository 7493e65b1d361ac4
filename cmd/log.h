// The logging of the `chatter` executable (spec/cli.md `--log`): one line per noteworthy event on
// standard error, with key=value fields, through spdlog (kept out of this header: only log.cpp
// includes it). engine/ never logs; the hosts in cmd/ report what the node's stats and return
// values say, and net/ reports through its `log` hooks, which cmd/ routes here.
//
// Line format: `2026-12-04T01:50:00.123Z level=info component=node msg=started id=7 peers=3`.
// The time is UTC with milliseconds; values with spaces, quotes, '=' or control characters are
// double-quoted with \" \\ \n \r \t escapes; an empty value is "".
//
// Components (each with its own level): node (state, progress, commits), gossip (syncs),
// fastsync (fast-forward), store, app (the application and its proxy), http (the HTTP service),
// net (the TCP runtime). Levels: trace, debug, info (default), warn, error, off. At info nothing is
// logged per transaction or per event; per-block and per-connection details are debug.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatter::cmd {

enum class LogLevel { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

inline constexpr std::array<std::string_view, 7> kLogComponents = {"node", "gossip", "fastsync", "store",
                                                                   "app",  "http",   "net"};

const char* to_string(LogLevel l);

// What --log asks for: a level for every component (from a bare level, default info), and levels
// for named ones.
struct LogConfig {
  LogLevel all = LogLevel::kInfo;
  std::map<std::string, LogLevel, std::less<>> components;
  LogLevel level_of(std::string_view component) const;
};

// Parses `--log`: comma-separated items, each a level ("debug": every component) or
// component=level ("gossip=debug"); later items win. Spaces around items are allowed. nullopt with
// one sentence in `error` for an unknown level or component, an empty item or a missing '='.
std::optional<LogConfig> parse_log_spec(std::string_view spec, std::string& error);

using LogFields = std::vector<std::pair<std::string_view, std::string>>;

// A value as written in a line: as is, or quoted and escaped (see the format above).
std::string log_value(std::string_view v);

// The process's log: one spdlog logger per component over one shared sink (standard error, or the
// stream given, for tests). Thread-safe: any thread may write.
class Log {
 public:
  explicit Log(const LogConfig& config, std::ostream* sink = nullptr);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  bool enabled(std::string_view component, LogLevel level) const;
  // One line: level, component, msg, then the fields in order. Unknown components are a programming
  // error (they abort).
  void write(std::string_view component, LogLevel level, std::string_view msg,
             const LogFields& fields = {}) const;
  void flush() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chatter::cmd
