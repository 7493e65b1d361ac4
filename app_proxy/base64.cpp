// Standard base64 (RFC 4648 section 4, padded), matching Go's encoding/base64 StdEncoding, which is
// how Go's encoding/json carries []byte and therefore what Babble socket-proxy clients send.
//
// Go's decoder (not in Strict mode) is the reference for what is accepted:
//   - '\r' and '\n' anywhere are ignored;
//   - after removing them the length must be a multiple of 4 (padding is required);
//   - '=' may appear only as the last one or two characters of the final quantum ("xx==", "xxx=");
//   - any other character outside the alphabet is an error;
//   - non-zero unused bits in the last symbol before padding are accepted (Strict would refuse them);
//   - the empty string decodes to no bytes.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "app_proxy/base64.h"

namespace chatter {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint8_t kInvalid = 0xff;

constexpr std::array<std::uint8_t, 256> make_decode_table() {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  for (std::uint8_t i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = i;
  return t;
}

constexpr std::array<std::uint8_t, 256> kDecode = make_decode_table();

}  // namespace

std::string base64_encode(const std::uint8_t* b, std::size_t size) {
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    std::uint32_t v = (std::uint32_t{b[i]} << 16) | (std::uint32_t{b[i + 1]} << 8) | b[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const std::size_t rest = size - i;
  if (rest == 1) {
    std::uint32_t v = std::uint32_t{b[i]} << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.append("==");
  } else if (rest == 2) {
    std::uint32_t v = (std::uint32_t{b[i]} << 16) | (std::uint32_t{b[i + 1]} << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

std::optional<Bytes> base64_decode(std::string_view s) {
  // Collect the significant characters first (Go skips '\r' and '\n' wherever they are).
  std::string clean;
  clean.reserve(s.size());
  for (char c : s)
    if (c != '\r' && c != '\n') clean.push_back(c);
  if (clean.size() % 4 != 0) return std::nullopt;

  Bytes out;
  out.reserve(clean.size() / 4 * 3);
  for (std::size_t q = 0; q < clean.size(); q += 4) {
    const bool last = q + 4 == clean.size();
    std::size_t pad = 0;
    if (last) {
      if (clean[q + 3] == '=') pad = (clean[q + 2] == '=') ? 2 : 1;
    }
    std::uint32_t v = 0;
    for (std::size_t j = 0; j < 4 - pad; ++j) {
      const std::uint8_t d = kDecode[static_cast<unsigned char>(clean[q + j])];
      if (d == kInvalid) return std::nullopt;  // includes '=' before the padding position
      v |= std::uint32_t{d} << (18 - 6 * j);
    }
    out.push_back(static_cast<std::uint8_t>(v >> 16));
    if (pad < 2) out.push_back(static_cast<std::uint8_t>(v >> 8));
    if (pad < 1) out.push_back(static_cast<std::uint8_t>(v));
  }
  return out;
}

}  // namespace chatter
