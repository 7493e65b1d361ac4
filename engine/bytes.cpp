#include "engine/bytes.h"

namespace chatter {

namespace {

// -1 for anything that is not a hex digit, so the caller can refuse the whole string.
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string hex_with(const std::uint8_t* p, std::size_t n, const char* digits) {
  std::string out;
  out.resize(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 0x0f];
  }
  return out;
}

}  // namespace

std::string to_hex(const std::uint8_t* p, std::size_t n) { return hex_with(p, n, "0123456789abcdef"); }

std::optional<Bytes> from_hex(std::string_view s) {
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.size() % 2 != 0) return std::nullopt;
  Bytes out(s.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(s[2 * i]);
    const int lo = hex_value(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return out;
}

std::string pubkey_hex(const PublicKey& k) {
  return "0X" + hex_with(k.data.data(), k.size(), "0123456789ABCDEF");
}

// Babble always writes the prefix, but keys pasted by hand often lack it; both forms name the same key.
std::optional<PublicKey> pubkey_from_hex(std::string_view s) { return fixed_from_hex<32>(s); }

}  // namespace chatter
