// Canonical binary encoding (DESIGN.md, Encoding): fixed field order, little-endian fixed-width
// integers, byte strings prefixed by a u32 length, sequences prefixed by a u32 count.
//
// Reader never allocates more than the bytes that remain: every length or count is checked against
// the remaining input (count * minimum element size) before anything is reserved. Every failure
// throws DecodeError, which decoders of untrusted input catch and turn into a typed refusal.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "engine/bytes.h"

namespace chatter {

struct DecodeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(v); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void u32(std::uint32_t v);
  void u64(std::uint64_t v);
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void bytes(const std::uint8_t* p, std::size_t n);  // u32 length + bytes
  void bytes(const Bytes& b) { bytes(b.data(), b.size()); }
  void str(std::string_view s) { bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); }
  void raw(const std::uint8_t* p, std::size_t n) { out_.insert(out_.end(), p, p + n); }
  template <std::size_t N>
  void fixed(const FixedBytes<N>& b) {
    raw(b.data.data(), N);
  }
  // Optional fixed value: u8 flag (0 absent, 1 present) then the value.
  template <std::size_t N>
  void opt_fixed(const std::optional<FixedBytes<N>>& b) {
    boolean(b.has_value());
    if (b) fixed(*b);
  }

  const Bytes& data() const { return out_; }
  Bytes take() { return std::move(out_); }
  void reserve(std::size_t n) { out_.reserve(n); }

 private:
  Bytes out_;
};

class Reader {
 public:
  Reader(const std::uint8_t* p, std::size_t n) : p_(p), end_(p + n) {}
  explicit Reader(const Bytes& b) : Reader(b.data(), b.size()) {}

  std::uint8_t u8();
  bool boolean();  // only 0 or 1 is canonical; anything else throws
  std::uint32_t u32();
  std::uint64_t u64();
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  Bytes bytes();
  std::string str();
  template <std::size_t N>
  FixedBytes<N> fixed() {
    need(N);
    FixedBytes<N> out;
    std::memcpy(out.data.data(), p_, N);
    p_ += N;
    return out;
  }
  template <std::size_t N>
  std::optional<FixedBytes<N>> opt_fixed() {
    if (!boolean()) return std::nullopt;
    return fixed<N>();
  }
  // Reads a u32 element count and checks count * min_element_size <= remaining bytes.
  std::uint32_t count(std::size_t min_element_size);

  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  bool done() const { return p_ == end_; }
  // Throws unless all input was consumed (canonical encodings have no trailing bytes).
  void expect_done() const;

 private:
  void need(std::size_t n) const;
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

// A sequence of encodable values: u32 count, then each T::encode.
template <class T>
void encode_seq(Writer& w, const std::vector<T>& v) {
  w.u32(static_cast<std::uint32_t>(v.size()));
  for (const auto& x : v) x.encode(w);
}

// Decodes what encode_seq wrote; `min_size` is the smallest encoding of one T, so a hostile count
// is refused before anything is reserved.
template <class T>
std::vector<T> decode_seq(Reader& r, std::size_t min_size) {
  const std::uint32_t n = r.count(min_size);
  std::vector<T> out;
  out.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) out.push_back(T::decode(r));
  return out;
}

}  // namespace chatter
