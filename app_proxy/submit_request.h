// One `Babble.SubmitTx` request of the SubmitServer (spec/socket-proxy.md) turned into either the
// transaction to submit or the JSON-RPC error text to answer. Pure (no sockets, no Asio), so it can be
// unit-tested and fuzzed; submit_server.cpp feeds it every object its JsonObjectScanner delimits.
//
// Contract: never throws, whatever `text` holds. `id` is always valid JSON text (the request's "id"
// member re-encoded, invalid UTF-8 replaced; "null" when absent or when the object is refused before
// it is parsed). Exactly one of `tx` and `error` is set.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "engine/bytes.h"

namespace chatter {

struct SubmitRequest {
  std::string id = "null";  // echoed in the reply
  std::optional<Bytes> tx;  // the decoded transaction of a well-formed request
  std::string error;        // the reply's error text otherwise (one sentence, at most ~600 bytes)
};

// Deeper nesting is refused without parsing (see submit_server.cpp).
inline constexpr std::size_t kMaxSubmitRequestDepth = 512;

// `text`: one JSON object as the scanner delimited it (or any bytes); `depth`: the deepest nesting
// the scanner saw in it.
SubmitRequest parse_submit_request(std::string_view text, std::size_t depth);

}  // namespace chatter
