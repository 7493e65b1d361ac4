// Standard base64 (RFC 4648 section 4, padded), exactly Go's encoding/base64 StdEncoding: how Go's
// encoding/json carries []byte, and so how the socket proxy (spec/socket-proxy.md) carries byte strings
// in both directions. The accepted input is documented in base64.cpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/bytes.h"

namespace chatter {

std::string base64_encode(const std::uint8_t* p, std::size_t n);
inline std::string base64_encode(const Bytes& b) { return base64_encode(b.data(), b.size()); }
// nullopt on malformed input.
std::optional<Bytes> base64_decode(std::string_view s);

}  // namespace chatter
