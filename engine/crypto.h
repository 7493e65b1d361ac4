// Thin wrapper over libsodium: Ed25519 keys and signatures, BLAKE2b-256 hashes.
//
// Contract: every function is deterministic except KeyPair::generate(). Signing with a key derived
// from a seed gives the same signature every time (Ed25519 is deterministic).
#pragma once

#include "engine/bytes.h"

namespace chatter {

// Initialises libsodium once (thread-safe, idempotent). Aborts if libsodium cannot start.
void crypto_init();

// BLAKE2b with a 32-byte digest.
Hash blake2b(const std::uint8_t* data, std::size_t n);
inline Hash blake2b(const Bytes& b) { return blake2b(b.data(), b.size()); }
Hash blake2b(std::string_view s);

class KeyPair {
 public:
  // A fresh random key pair (libsodium's CSPRNG). Not for engine/ code paths that must be deterministic.
  static KeyPair generate();
  // Deterministic key pair from a 32-byte seed.
  static KeyPair from_seed(const Seed& seed);
  // Deterministic key pair from a name: seed = BLAKE2b-256("chatter-key:" + name). Used by replay/tests.
  static KeyPair from_name(std::string_view name);
  // The 64-byte libsodium secret key (seed || public key). nullopt when the bytes are not a valid pair.
  static std::optional<KeyPair> from_secret(const Bytes& secret);

  const PublicKey& public_key() const { return pk_; }
  const Seed& seed() const { return seed_; }
  Bytes secret_bytes() const;  // 64 bytes: seed || public key

  Signature sign(const std::uint8_t* msg, std::size_t n) const;
  Signature sign(const Hash& h) const { return sign(h.data.data(), h.size()); }

 private:
  PublicKey pk_;
  Seed seed_;
  std::array<std::uint8_t, 64> sk_{};
};

bool verify(const PublicKey& pk, const std::uint8_t* msg, std::size_t n, const Signature& sig);
inline bool verify(const PublicKey& pk, const Hash& h, const Signature& sig) {
  return verify(pk, h.data.data(), h.size(), sig);
}

}  // namespace chatter
