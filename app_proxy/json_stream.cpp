// JsonObjectScanner and key matching (json_stream.h).
#include "app_proxy/json_stream.h"

#include <cctype>
#include <nlohmann/json.hpp>

namespace chatter {

namespace {
bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
}  // namespace

JsonObjectScanner::Result JsonObjectScanner::scan(std::string_view buf) {
  while (pos_ < buf.size()) {
    const char c = buf[pos_];
    if (depth_ == 0) {
      if (is_json_space(c)) {
        consumed_ = ++pos_;
        continue;
      }
      if (c != '{') return Result::kGarbage;
      obj_start_ = pos_;
      depth_ = 1;
      max_depth_ = 1;
      in_string_ = escape_ = false;
    } else if (in_string_) {
      if (escape_) {
        escape_ = false;
      } else if (c == '\\') {
        escape_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
    } else if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
      if (depth_ > max_depth_) max_depth_ = depth_;
    } else if (c == '}' || c == ']') {
      --depth_;
    }
    ++pos_;
    if (pos_ - obj_start_ > max_) return Result::kTooBig;
    if (depth_ == 0) return Result::kObject;
  }
  return Result::kNeedMore;
}

std::size_t JsonObjectScanner::take_consumed() {
  const std::size_t n = consumed_;
  pos_ -= n;
  if (depth_ > 0) obj_start_ -= n;
  consumed_ = 0;
  return n;
}

void JsonObjectScanner::reset() {
  consumed_ = pos_ = obj_start_ = depth_ = max_depth_ = 0;
  in_string_ = escape_ = false;
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

const nlohmann::json* find_field(const nlohmann::json& obj, std::string_view name) {
  if (!obj.is_object()) return nullptr;
  const nlohmann::json* found = nullptr;
  for (auto it = obj.begin(); it != obj.end(); ++it)
    if (ascii_iequals(it.key(), name)) found = &it.value();
  return found;
}

}  // namespace chatter
