// Hex helpers (bytes.h) and the libsodium wrapper (crypto.h).
#include <doctest/doctest.h>

#include "engine/bytes.h"
#include "engine/crypto.h"

using namespace chatter;

TEST_CASE("bytes.h to_hex: lower-case, two digits per byte, no prefix") {
  CHECK(to_hex(Bytes{}) == "");
  CHECK(to_hex(Bytes{0x00, 0x01, 0xab, 0xff, 0x10}) == "0001abff10");
}

TEST_CASE("bytes.h from_hex: round trip, any case, optional 0x/0X prefix") {
  const Bytes b{0xde, 0xad, 0xbe, 0xef, 0x00, 0x7f};
  CHECK(from_hex(to_hex(b)) == b);
  CHECK(from_hex("DEADBEEF007F") == b);
  CHECK(from_hex("0xdeadBEEF007f") == b);
  CHECK(from_hex("0XDEADBEEF007F") == b);
  CHECK(from_hex("") == Bytes{});
  CHECK(from_hex("0x") == Bytes{});
}

TEST_CASE("bytes.h from_hex: nullopt on odd length or a bad character") {
  CHECK_FALSE(from_hex("abc").has_value());
  CHECK_FALSE(from_hex("0xabc").has_value());
  CHECK_FALSE(from_hex("zz").has_value());
  CHECK_FALSE(from_hex("0g").has_value());
  CHECK_FALSE(from_hex("ab cd").has_value());
  CHECK_FALSE(from_hex("x0").has_value());
  CHECK_FALSE(from_hex("0x0x00").has_value());
  CHECK_FALSE(fixed_from_hex<4>("001122").has_value());  // wrong size
  CHECK(fixed_from_hex<3>("001122").has_value());
}

TEST_CASE("bytes.h pubkey_hex: Babble PubKeyHex is 0X + upper-case hex, and parses back") {
  PublicKey k;
  for (std::size_t i = 0; i < 32; ++i) k.data[i] = static_cast<std::uint8_t>(0xa0 + i);
  const std::string s = pubkey_hex(k);
  CHECK(s == "0XA0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF");
  CHECK(pubkey_from_hex(s) == k);
  CHECK(pubkey_from_hex("0x" + to_hex(k)) == k);
  CHECK(pubkey_from_hex(to_hex(k)) == k);
  CHECK_FALSE(pubkey_from_hex(s.substr(0, s.size() - 2)).has_value());  // 31 bytes
  CHECK_FALSE(pubkey_from_hex(s + "00").has_value());                   // 33 bytes
}

TEST_CASE("bytes.h FixedBytes ordering is memcmp order, is_zero") {
  Hash a, b;
  CHECK(a.is_zero());
  b.data[0] = 1;
  a.data[31] = 0xff;
  CHECK(a < b);
  CHECK_FALSE(a.is_zero());
}

TEST_CASE("crypto.h blake2b: BLAKE2b-256 known answers") {
  CHECK(to_hex(blake2b(std::string_view(""))) ==
        "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  CHECK(to_hex(blake2b(std::string_view("abc"))) ==
        "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
  CHECK(blake2b(to_bytes("abc")) == blake2b(std::string_view("abc")));
}

TEST_CASE("crypto.h from_seed/from_name: deterministic, seed recoverable, names differ") {
  Seed seed;
  for (std::size_t i = 0; i < 32; ++i) seed.data[i] = static_cast<std::uint8_t>(i);
  const auto a = KeyPair::from_seed(seed);
  const auto b = KeyPair::from_seed(seed);
  CHECK(a.public_key() == b.public_key());
  CHECK(a.seed() == seed);
  CHECK(a.secret_bytes() == b.secret_bytes());
  // crypto.h: the 64-byte secret is seed || public key.
  Bytes expect(seed.begin(), seed.end());
  expect.insert(expect.end(), a.public_key().begin(), a.public_key().end());
  CHECK(a.secret_bytes() == expect);

  const auto na = KeyPair::from_name("A");
  CHECK(na.public_key() == KeyPair::from_name("A").public_key());
  CHECK(na.public_key() != KeyPair::from_name("B").public_key());
  CHECK(na.seed().data == blake2b(std::string_view("chatter-key:A")).data);
  // Ed25519 signatures are deterministic.
  const Hash h = blake2b(std::string_view("msg"));
  CHECK(na.sign(h) == KeyPair::from_name("A").sign(h));
}

TEST_CASE("crypto.h RFC 8032 test vector 1: seed -> public key and signature of the empty message") {
  const auto seed = fixed_from_hex<32>("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  REQUIRE(seed);
  const auto kp = KeyPair::from_seed(*seed);
  CHECK(to_hex(kp.public_key()) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const Signature sig = kp.sign(nullptr, 0);
  CHECK(to_hex(sig) ==
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  CHECK(verify(kp.public_key(), nullptr, 0, sig));
}

TEST_CASE(
    "crypto.h sign/verify: valid signature verifies; a flipped bit in message, signature or key fails") {
  const auto kp = KeyPair::from_name("signer");
  const Bytes msg = to_bytes("the quick brown fox");
  const Signature sig = kp.sign(msg.data(), msg.size());
  REQUIRE(verify(kp.public_key(), msg.data(), msg.size(), sig));

  for (std::size_t i = 0; i < msg.size() * 8; i += 7) {
    Bytes m = msg;
    m[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    CHECK_FALSE(verify(kp.public_key(), m.data(), m.size(), sig));
  }
  for (std::size_t i = 0; i < 64 * 8; i += 5) {
    Signature s = sig;
    s.data[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    CHECK_FALSE(verify(kp.public_key(), msg.data(), msg.size(), s));
  }
  for (std::size_t i = 0; i < 32 * 8; i += 3) {
    PublicKey k = kp.public_key();
    k.data[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    CHECK_FALSE(verify(k, msg.data(), msg.size(), sig));
  }
  CHECK_FALSE(verify(KeyPair::from_name("other").public_key(), msg.data(), msg.size(), sig));
}

TEST_CASE("crypto.h generate: fresh keys differ and sign verifiably") {
  const auto a = KeyPair::generate();
  const auto b = KeyPair::generate();
  CHECK(a.public_key() != b.public_key());
  const Hash h = blake2b(std::string_view("x"));
  CHECK(verify(a.public_key(), h, a.sign(h)));
  CHECK(KeyPair::from_seed(a.seed()).public_key() == a.public_key());
}

TEST_CASE("crypto.h from_secret: round trip; refuses wrong size and a mismatched seed/public-key pair") {
  const auto kp = KeyPair::from_name("A");
  const auto back = KeyPair::from_secret(kp.secret_bytes());
  REQUIRE(back.has_value());
  CHECK(back->public_key() == kp.public_key());
  CHECK(back->seed() == kp.seed());
  const Hash h = blake2b(std::string_view("m"));
  CHECK(back->sign(h) == kp.sign(h));

  Bytes mixed = kp.secret_bytes();
  const auto other = KeyPair::from_name("B").secret_bytes();
  std::copy(other.begin() + 32, other.end(), mixed.begin() + 32);  // A's seed, B's public key
  CHECK_FALSE(KeyPair::from_secret(mixed).has_value());

  Bytes flipped = kp.secret_bytes();
  flipped[5] ^= 1;  // seed changed, public key left
  CHECK_FALSE(KeyPair::from_secret(flipped).has_value());

  Bytes short_key = kp.secret_bytes();
  short_key.pop_back();
  CHECK_FALSE(KeyPair::from_secret(short_key).has_value());
  CHECK_FALSE(KeyPair::from_secret(Bytes(32, 0)).has_value());
  CHECK_FALSE(KeyPair::from_secret(Bytes{}).has_value());
}
