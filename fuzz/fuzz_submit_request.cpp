// libFuzzer target: the JSON-RPC request side of the socket proxy, as the SubmitServer reads a
// connection (app_proxy/submit_server.cpp): JsonObjectScanner delimits objects in the stream, each
// goes through parse_submit_request (Babble.SubmitTx).
//
// Input: byte 0 chooses the read size (1..64 bytes) and the request cap (256 bytes or 4 MiB); the rest
// is the stream. Checks: nothing throws; every answer is either a transaction or an error text, with
// an id that is valid JSON; the scanner's objects start with '{', end with '}' or ']', stay within the
// cap, and are delimited however the stream was split.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "app_proxy/json_stream.h"
#include "app_proxy/submit_request.h"
#include "fuzz/fuzz_util.h"

using namespace chatter;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t chunk = 1 + (data[0] & 0x3f);
  const std::size_t cap = (data[0] & 0x80) ? 256 : std::size_t{4} << 20;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  JsonObjectScanner scanner(cap);
  std::string buf;
  std::size_t fed = 0;
  for (;;) {
    using Scan = JsonObjectScanner::Result;
    const Scan r = scanner.scan(buf);
    if (r == Scan::kTooBig || r == Scan::kGarbage) break;  // the server closes the connection
    if (r == Scan::kNeedMore) {
      if (fed == stream.size()) break;
      const std::size_t k = std::min(chunk, stream.size() - fed);
      buf.append(stream.substr(fed, k));
      fed += k;
      continue;
    }
    const std::size_t start = scanner.object_start();
    const std::string_view text = std::string_view(buf).substr(start, scanner.pos() - start);
    FUZZ_CHECK(text.size() >= 2 && text.size() <= cap);
    FUZZ_CHECK(text.front() == '{' && (text.back() == '}' || text.back() == ']'));
    const SubmitRequest req = parse_submit_request(text, scanner.max_depth());
    FUZZ_CHECK(req.tx.has_value() != !req.error.empty());
    FUZZ_CHECK(!nlohmann::json::parse(req.id, nullptr, false).is_discarded());
    scanner.mark_consumed();
    buf.erase(0, scanner.take_consumed());
  }
  return 0;
}
