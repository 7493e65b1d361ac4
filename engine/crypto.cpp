#include "engine/crypto.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace chatter {

static_assert(crypto_sign_PUBLICKEYBYTES == 32 && crypto_sign_SECRETKEYBYTES == 64 &&
              crypto_sign_BYTES == 64 && crypto_sign_SEEDBYTES == 32);

void crypto_init() {
  // A function-local static gives thread-safe, run-once initialisation without a global constructor.
  static const bool ok = [] {
    if (sodium_init() < 0) {
      std::fprintf(stderr, "chatter::crypto_init: libsodium failed to initialise\n");
      std::abort();
    }
    return true;
  }();
  (void)ok;
}

Hash blake2b(const std::uint8_t* data, std::size_t n) {
  crypto_init();
  Hash out;
  crypto_generichash(out.data.data(), out.size(), data, n, nullptr, 0);
  return out;
}

Hash blake2b(std::string_view s) {
  return blake2b(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

KeyPair KeyPair::generate() {
  crypto_init();
  KeyPair kp;
  crypto_sign_keypair(kp.pk_.data.data(), kp.sk_.data());
  std::memcpy(kp.seed_.data.data(), kp.sk_.data(), kp.seed_.size());  // libsodium sk = seed || pk
  return kp;
}

KeyPair KeyPair::from_seed(const Seed& seed) {
  crypto_init();
  KeyPair kp;
  kp.seed_ = seed;
  crypto_sign_seed_keypair(kp.pk_.data.data(), kp.sk_.data(), seed.data.data());
  return kp;
}

KeyPair KeyPair::from_name(std::string_view name) {
  std::string s = "chatter-key:";
  s.append(name);
  Hash h = blake2b(s);
  Seed seed;
  seed.data = h.data;
  return from_seed(seed);
}

std::optional<KeyPair> KeyPair::from_secret(const Bytes& secret) {
  if (secret.size() != 64) return std::nullopt;
  Seed seed;
  std::memcpy(seed.data.data(), secret.data(), 32);
  KeyPair kp = from_seed(seed);
  // The public half is redundant; a file whose halves disagree is corrupt or tampered with, and
  // signing with it would produce signatures that do not verify under the advertised key.
  if (std::memcmp(kp.pk_.data.data(), secret.data() + 32, 32) != 0) return std::nullopt;
  return kp;
}

Bytes KeyPair::secret_bytes() const { return Bytes(sk_.begin(), sk_.end()); }

Signature KeyPair::sign(const std::uint8_t* msg, std::size_t n) const {
  crypto_init();
  Signature sig;
  crypto_sign_detached(sig.data.data(), nullptr, msg, n, sk_.data());
  return sig;
}

bool verify(const PublicKey& pk, const std::uint8_t* msg, std::size_t n, const Signature& sig) {
  crypto_init();
  return crypto_sign_verify_detached(sig.data.data(), msg, n, pk.data.data()) == 0;
}

}  // namespace chatter
