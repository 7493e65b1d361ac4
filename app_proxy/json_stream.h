// What both ends of the socket proxy (spec/socket-proxy.md) share about Go's net/rpc/jsonrpc stream:
// JSON objects follow one another on a TCP stream with only whitespace between them (Go's codec
// runs a json.Decoder on the connection), and object keys match struct fields case-insensitively.
//
// JsonObjectScanner finds where each object ends without parsing it (string/escape state and
// bracket depth), so a reader can cap an object's size before buffering all of it, and knows the
// boundary of a malformed object. It works on a caller-owned buffer that grows at the back and is
// trimmed at the front with take_consumed().
#pragma once

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string_view>

namespace chatter {

class JsonObjectScanner {
 public:
  enum class Result {
    kNeedMore,  // no complete object yet: append more bytes and scan again
    kObject,    // [object_start(), pos()) is one complete object
    kGarbage,   // buf[pos()] is neither whitespace nor '{' between objects: cannot resynchronise
    kTooBig,    // the object being scanned is longer than max_object_bytes
  };

  explicit JsonObjectScanner(std::size_t max_object_bytes) : max_(max_object_bytes) {}

  // Continues over buf (the same buffer as before, possibly longer) from where it stopped. After
  // kObject the caller handles the object, then calls mark_consumed() before scanning again.
  Result scan(std::string_view buf);
  std::size_t object_start() const { return obj_start_; }
  std::size_t pos() const { return pos_; }
  // The deepest nesting seen in the last object (to refuse absurd depth before parsing).
  std::size_t max_depth() const { return max_depth_; }
  void mark_consumed() { consumed_ = pos_; }
  // Returns how many bytes at the front of the buffer are handled (skipped whitespace and marked
  // objects) and shifts the offsets as if the caller erased them: call buf.erase(0, n) with it.
  std::size_t take_consumed();
  // Forgets everything (a new connection).
  void reset();

 private:
  std::size_t max_;
  std::size_t consumed_ = 0;   // bytes at the front already handled
  std::size_t pos_ = 0;        // next byte to scan
  std::size_t obj_start_ = 0;  // start of the object being scanned (depth_ > 0)
  std::size_t depth_ = 0;
  std::size_t max_depth_ = 0;
  bool in_string_ = false;
  bool escape_ = false;
};

// ASCII case-insensitive equality (Go's encoding/json key matching).
bool ascii_iequals(std::string_view a, std::string_view b);

// The member of `obj` (a JSON object) that Go's encoding/json would bind to the struct field `name`:
// keys match case-insensitively and the last match wins. nullptr when there is none.
const nlohmann::json* find_field(const nlohmann::json& obj, std::string_view name);

}  // namespace chatter
