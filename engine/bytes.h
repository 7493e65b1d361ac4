// Byte strings and fixed-size byte arrays (hashes, keys, signatures) used across the engine.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatter {

using Bytes = std::vector<std::uint8_t>;

// A fixed-size byte array with value semantics and lexicographic (memcmp) ordering.
template <std::size_t N>
struct FixedBytes {
  std::array<std::uint8_t, N> data{};

  static constexpr std::size_t size() { return N; }
  const std::uint8_t* begin() const { return data.data(); }
  const std::uint8_t* end() const { return data.data() + N; }
  std::uint8_t* begin() { return data.data(); }
  std::uint8_t* end() { return data.data() + N; }
  std::uint8_t operator[](std::size_t i) const { return data[i]; }
  bool is_zero() const {
    for (auto b : data)
      if (b != 0) return false;
    return true;
  }
  friend bool operator==(const FixedBytes& a, const FixedBytes& b) { return a.data == b.data; }
  friend std::strong_ordering operator<=>(const FixedBytes& a, const FixedBytes& b) {
    int c = std::memcmp(a.data.data(), b.data.data(), N);
    return c < 0 ? std::strong_ordering::less
                 : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
  }
};

using Hash = FixedBytes<32>;        // BLAKE2b-256 digest
using PublicKey = FixedBytes<32>;   // Ed25519 public key
using Signature = FixedBytes<64>;   // Ed25519 detached signature
using Seed = FixedBytes<32>;        // Ed25519 seed

// Hasher for unordered containers keyed by digests: the first 8 bytes are already uniform.
struct DigestHasher {
  template <std::size_t N>
  std::size_t operator()(const FixedBytes<N>& h) const {
    std::uint64_t v;
    std::memcpy(&v, h.data.data(), sizeof v);
    return static_cast<std::size_t>(v);
  }
};

// Lower-case hex, no prefix.
std::string to_hex(const std::uint8_t* p, std::size_t n);
inline std::string to_hex(const Bytes& b) { return to_hex(b.data(), b.size()); }
template <std::size_t N>
std::string to_hex(const FixedBytes<N>& b) {
  return to_hex(b.data.data(), N);
}
// Accepts upper or lower case, optional "0x"/"0X" prefix. nullopt on any bad character or odd length.
std::optional<Bytes> from_hex(std::string_view s);
template <std::size_t N>
std::optional<FixedBytes<N>> fixed_from_hex(std::string_view s) {
  auto b = from_hex(s);
  if (!b || b->size() != N) return std::nullopt;
  FixedBytes<N> out;
  std::memcpy(out.data.data(), b->data(), N);
  return out;
}

// Babble's PubKeyHex: "0X" followed by upper-case hex.
std::string pubkey_hex(const PublicKey& k);
std::optional<PublicKey> pubkey_from_hex(std::string_view s);

inline Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string to_string(const Bytes& b) { return std::string(b.begin(), b.end()); }

}  // namespace chatter
