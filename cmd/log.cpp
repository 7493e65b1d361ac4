// The executable's logging (cmd/log.h) over spdlog: one logger per component, all writing through one
// sink with the same pattern; the level and component are part of the message we format, so the
// words (warn, not spdlog's "warning") and the key=value shape stay ours.
#include "cmd/log.h"

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cctype>

#include "engine/invariant.h"

namespace chatter::cmd {

namespace {

std::optional<LogLevel> level_named(std::string_view s) {
  for (LogLevel l : {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError,
                     LogLevel::kOff})
    if (s == to_string(l)) return l;
  return std::nullopt;
}

bool known_component(std::string_view c) {
  for (std::string_view k : kLogComponents)
    if (k == c) return true;
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string joined_components() {
  std::string out;
  for (std::string_view k : kLogComponents) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

spdlog::level::level_enum spd(LogLevel l) {
  switch (l) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

constexpr std::string_view kLevels = "trace, debug, info, warn, error, off";

}  // namespace

const char* to_string(LogLevel l) {
  switch (l) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      return "off";
  }
  return "info";
}

LogLevel LogConfig::level_of(std::string_view component) const {
  const auto it = components.find(component);
  return it == components.end() ? all : it->second;
}

std::optional<LogConfig> parse_log_spec(std::string_view spec, std::string& error) {
  LogConfig c;
  const std::string shown(spec.substr(0, 80));
  if (trim(spec).empty()) {
    error = "--log needs a level (" + std::string(kLevels) + ") or component=level items";
    return std::nullopt;
  }
  while (true) {
    const auto comma = spec.find(',');
    const std::string_view item = trim(spec.substr(0, comma));
    if (item.empty()) {
      error = "--log '" + shown + "' has an empty item (items are separated by single commas)";
      return std::nullopt;
    }
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      const auto l = level_named(item);
      if (!l) {
        error = "--log: '" + std::string(item.substr(0, 40)) + "' is not a level (" + std::string(kLevels) +
                ") nor component=level";
        return std::nullopt;
      }
      c.all = *l;
      c.components.clear();  // a bare level after component items resets them: later items win
    } else {
      const std::string_view name = trim(item.substr(0, eq)), value = trim(item.substr(eq + 1));
      if (!known_component(name)) {
        error = "--log: unknown component '" + std::string(name.substr(0, 40)) +
                "' (components: " + joined_components() + ")";
        return std::nullopt;
      }
      const auto l = level_named(value);
      if (!l) {
        error = "--log: '" + std::string(value.substr(0, 40)) + "' is not a level for " + std::string(name) +
                " (" + std::string(kLevels) + ")";
        return std::nullopt;
      }
      c.components[std::string(name)] = *l;
    }
    if (comma == std::string_view::npos) break;
    spec.remove_prefix(comma + 1);
  }
  return c;
}

std::string log_value(std::string_view v) {
  bool plain = !v.empty();
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || c == '"' || c == '=' || c == '\\' || u == 0x7f) plain = false;
  }
  if (plain) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < ' ' || c == 0x7f) {
          static const char* kHex = "0123456789abcdef";
          out += "\\x";
          out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xf];
          out += kHex[static_cast<unsigned char>(c) & 0xf];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

struct Log::Impl {
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
  std::shared_ptr<spdlog::sinks::sink> sink;
};

Log::Log(const LogConfig& config, std::ostream* stream) : impl_(std::make_unique<Impl>()) {
  if (stream != nullptr)
    impl_->sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*stream, true);
  else
    impl_->sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  // Time in UTC with milliseconds, then our own "level=... component=... msg=..." text.
  impl_->sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %v",
                                                                         spdlog::pattern_time_type::utc));
  for (std::string_view name : kLogComponents) {
    // Not registered in spdlog's global registry: two Log objects (tests) never collide.
    auto l = std::make_shared<spdlog::logger>(std::string(name), impl_->sink);
    l->set_level(spd(config.level_of(name)));
    l->flush_on(spdlog::level::trace);  // a line is on standard error when write() returns
    impl_->loggers.emplace(std::string(name), std::move(l));
  }
}

Log::~Log() = default;

bool Log::enabled(std::string_view component, LogLevel level) const {
  const auto it = impl_->loggers.find(component);
  CHATTER_INVARIANT(it != impl_->loggers.end());
  return level != LogLevel::kOff && it->second->should_log(spd(level));
}

void Log::write(std::string_view component, LogLevel level, std::string_view msg,
                const LogFields& fields) const {
  if (!enabled(component, level)) return;
  std::string line = "level=";
  line += to_string(level);
  line += " component=";
  line += component;
  line += " msg=";
  line += log_value(msg);
  for (const auto& [k, v] : fields) {
    line += ' ';
    line += k;
    line += '=';
    line += log_value(v);
  }
  impl_->loggers.find(component)->second->log(spd(level), spdlog::string_view_t(line.data(), line.size()));
}

void Log::flush() const {
  for (const auto& [name, l] : impl_->loggers) l->flush();
}

}  // namespace chatter::cmd
