#include "engine/codec.h"

#include <cstdio>
#include <cstdlib>
#include <limits>

namespace chatter {

void Writer::u32(std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void Writer::u64(std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void Writer::bytes(const std::uint8_t* p, std::size_t n) {
  // A length that does not fit the u32 prefix cannot be encoded canonically; this is a caller bug
  // (messages are capped far below 4 GiB), not bad input, so it aborts (DESIGN.md, Error policy 2).
  if (n > std::numeric_limits<std::uint32_t>::max()) {
    std::fprintf(stderr, "chatter::Writer::bytes: %zu bytes do not fit a u32 length\n", n);
    std::abort();
  }
  u32(static_cast<std::uint32_t>(n));
  raw(p, n);
}

void Reader::need(std::size_t n) const {
  if (remaining() < n)
    throw DecodeError("truncated input: need " + std::to_string(n) + " bytes, " +
                      std::to_string(remaining()) + " remain");
}

std::uint8_t Reader::u8() {
  need(1);
  return *p_++;
}

bool Reader::boolean() {
  const std::uint8_t v = u8();
  if (v > 1) throw DecodeError("non-canonical bool: " + std::to_string(v));
  return v == 1;
}

std::uint32_t Reader::u32() {
  need(4);
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(p_[i]) << (8 * i);
  p_ += 4;
  return v;
}

std::uint64_t Reader::u64() {
  need(8);
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(p_[i]) << (8 * i);
  p_ += 8;
  return v;
}

Bytes Reader::bytes() {
  const std::uint32_t n = u32();
  need(n);  // before allocating: a hostile length must not make us reserve 4 GiB
  Bytes out(p_, p_ + n);
  p_ += n;
  return out;
}

std::string Reader::str() {
  const std::uint32_t n = u32();
  need(n);
  std::string out(reinterpret_cast<const char*>(p_), n);
  p_ += n;
  return out;
}

std::uint32_t Reader::count(std::size_t min_element_size) {
  const std::uint32_t n = u32();
  // Compare by division so count * size cannot overflow. Zero-size elements would let any count
  // through; every element type encodes at least one byte, so treat 0 as 1.
  const std::size_t size = min_element_size == 0 ? 1 : min_element_size;
  if (n > remaining() / size)
    throw DecodeError("count " + std::to_string(n) + " of elements of at least " + std::to_string(size) +
                      " bytes exceeds the " + std::to_string(remaining()) + " bytes that remain");
  return n;
}

void Reader::expect_done() const {
  if (!done()) throw DecodeError("trailing bytes: " + std::to_string(remaining()) + " left after decoding");
}

}  // namespace chatter
