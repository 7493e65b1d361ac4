#include "cmd/duration.h"

#include <cctype>
#include <cmath>

namespace chatter::cmd {

std::optional<std::int64_t> parse_duration_ns(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (text.find_first_not_of("0123456789") == std::string::npos) {
    if (text.size() > 12) return std::nullopt;
    return static_cast<std::int64_t>(std::stoll(text)) * 1'000'000;
  }
  double total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == start) return std::nullopt;
    const std::string number = text.substr(start, i - start);
    if (number.find('.') != number.rfind('.') || number == ".") return std::nullopt;
    const std::size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    const std::string unit = text.substr(unit_start, i - unit_start);
    double scale = 0;
    if (unit == "ns") scale = 1;
    else if (unit == "us" || unit == "µs") scale = 1e3;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "s") scale = 1e9;
    else if (unit == "m") scale = 60e9;
    else if (unit == "h") scale = 3600e9;
    else return std::nullopt;
    total += std::stod(number) * scale;
  }
  if (!(total >= 0) || total > 9e18) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(total));
}

}  // namespace chatter::cmd
