// Validators, peer sets and the peer-set schedule (peer.h; spec/consensus.md "Peer sets").
#include <doctest/doctest.h>

#include "engine/crypto.h"
#include "engine/peer.h"

using namespace chatter;

namespace {

Peer peer(std::string_view name, std::string addr = "addr", std::string moniker = "m") {
  return Peer{KeyPair::from_name(name).public_key(), std::move(addr), std::move(moniker)};
}

PublicKey key_hex(std::string_view h) {
  auto k = pubkey_from_hex(h);
  REQUIRE(k.has_value());
  return *k;
}

}  // namespace

TEST_CASE("Peer sets: SuperMajority(n) = floor(2n/3)+1 and TrustCount(n) = ceil(n/3), 0 when n <= 1") {
  // Written out by hand from the spec formulas, n = 0..10.
  const std::int64_t sm[] = {1, 1, 2, 3, 3, 4, 5, 5, 6, 7, 7};
  const std::int64_t tc[] = {0, 0, 1, 1, 2, 2, 2, 3, 3, 3, 4};
  for (std::size_t n = 0; n <= 10; ++n) {
    CAPTURE(n);
    CHECK(super_majority(n) == sm[n]);
    CHECK(trust_count(n) == tc[n]);
  }
  std::vector<Peer> ps;
  for (int i = 0; i < 4; ++i) ps.push_back(peer("p" + std::to_string(i)));
  const PeerSet four(ps);
  CHECK(four.super_majority() == 3);
  CHECK(four.trust_count() == 2);
}

TEST_CASE("Peer id: FNV-1a 32-bit over the raw key bytes (Babble), against independently computed values") {
  // Computed with a separate FNV-1a implementation (offset 2166136261, prime 16777619).
  PublicKey zero;
  CHECK(peer_id_of(zero) == 0x0b2ae445u);
  PublicKey counting;
  for (std::size_t i = 0; i < 32; ++i) counting.data[i] = static_cast<std::uint8_t>(i);
  CHECK(peer_id_of(counting) == 0x0913ad65u);
  const Peer a = peer("A");
  CHECK(to_hex(a.pub_key) == "ac61cf5b2f6dcd116c0ae49be9979a257e1bdddfded8e3beb7ba085760517699");
  CHECK(a.id() == 0x3fe959aeu);
  CHECK(a.pub_key_hex() == pubkey_hex(a.pub_key));
}

TEST_CASE("PeerSet: refuses duplicate public keys (std::invalid_argument), even with other address/moniker") {
  CHECK_THROWS_AS(PeerSet({peer("A"), peer("B"), peer("A")}), std::invalid_argument);
  CHECK_THROWS_AS(PeerSet({peer("A", "x:1", "one"), peer("A", "y:2", "two")}), std::invalid_argument);
  CHECK_NOTHROW(PeerSet({peer("A"), peer("B")}));
  CHECK_NOTHROW(PeerSet(std::vector<Peer>{}));
}

TEST_CASE("PeerSet: refuses two keys with the same FNV-1a peer id") {
  // Two 32-byte strings with equal FNV-1a-32 found offline by a birthday search; PeerSet does not
  // require keys on the curve, so they serve as public keys here.
  const PublicKey k1 = key_hex("626f16951ad532ab5113a806e85e9719173799815f0469f2cdee9bf4efbd5f0f");
  const PublicKey k2 = key_hex("33f7f1ef9670af66bf208b0eba8b13dd8371e7f3c78954822d23998188615253");
  REQUIRE(k1 != k2);
  REQUIRE(peer_id_of(k1) == 0xaaec175fu);
  REQUIRE(peer_id_of(k2) == 0xaaec175fu);
  CHECK_THROWS_AS(PeerSet({Peer{k1, "", ""}, Peer{k2, "", ""}}), std::invalid_argument);
  CHECK_NOTHROW(PeerSet({Peer{k1, "", ""}, peer("A")}));

  // Decoding the same set is refused as a DecodeError.
  Writer w;
  w.u32(2);
  Peer{k1, "", ""}.encode(w);
  Peer{k2, "", ""}.encode(w);
  Reader r(w.data());
  CHECK_THROWS_AS(PeerSet::decode(r), DecodeError);
}

TEST_CASE("PeerSet: position, contains and by_id follow the given order") {
  const PeerSet s({peer("A"), peer("B"), peer("C")});
  CHECK(s.size() == 3);
  CHECK(s.position(peer("A").pub_key) == 0);
  CHECK(s.position(peer("C").pub_key) == 2);
  CHECK(s.position(peer("D").pub_key) == -1);
  CHECK(s.contains(peer("B").pub_key));
  CHECK_FALSE(s.contains(peer("D").pub_key));
  const Peer* b = s.by_id(peer("B").id());
  REQUIRE(b != nullptr);
  CHECK(b->pub_key == peer("B").pub_key);
  CHECK(s.by_id(peer("D").id()) == nullptr);
}

TEST_CASE("PeerSet hash: membership identity, independent of net_addr/moniker, dependent on keys and order") {
  const PeerSet base({peer("A", "a:1", "alice"), peer("B", "b:1", "bob")});
  const PeerSet renamed({peer("A", "10.0.0.1:9", "x"), peer("B", "", "")});
  const PeerSet swapped({peer("B"), peer("A")});
  const PeerSet other({peer("A"), peer("C")});
  const PeerSet fewer({peer("A")});
  CHECK(base.hash() == renamed.hash());
  CHECK_FALSE(base == renamed);  // equality is over the full peers, the hash only over membership
  CHECK(base.hash() != swapped.hash());
  CHECK(base.hash() != other.hash());
  CHECK(base.hash() != fewer.hash());
  CHECK(PeerSet(std::vector<Peer>{}).hash() == blake2b(Bytes{0, 0, 0, 0}));
}

TEST_CASE("PeerSchedule: PS(r) is the set with the greatest key <= r, and the first set below every key") {
  const PeerSet s5({peer("A")});
  const PeerSet s10({peer("A"), peer("B")});
  const PeerSet s20({peer("B"), peer("C")});
  PeerSchedule sch;
  CHECK(sch.empty());
  sch.add(10, s10);
  sch.add(5, s5);
  sch.add(20, s20);
  CHECK_FALSE(sch.empty());
  CHECK(sch.at(-100) == s5);  // below every key
  CHECK(sch.at(0) == s5);
  CHECK(sch.at(4) == s5);
  CHECK(sch.at(5) == s5);  // exact keys
  CHECK(sch.at(9) == s5);
  CHECK(sch.at(10) == s10);
  CHECK(sch.at(19) == s10);
  CHECK(sch.at(20) == s20);
  CHECK(sch.at(1'000'000) == s20);

  sch.add(10, s20);  // replaces
  CHECK(sch.at(10) == s20);
  CHECK(sch.entries().size() == 3);

  const PeerSchedule genesis(s10);
  CHECK(genesis.entries().size() == 1);
  CHECK(genesis.entries().begin()->first == 0);
  CHECK(genesis.at(-1) == s10);
  CHECK(PeerSchedule::kEffectDelay == 6);
}

TEST_CASE("PeerSchedule all_keys: first appearance by round then position, without duplicates") {
  PeerSchedule sch;
  sch.add(10, PeerSet({peer("C"), peer("A"), peer("D")}));
  sch.add(0, PeerSet({peer("B"), peer("A")}));
  const std::vector<PublicKey> expect{peer("B").pub_key, peer("A").pub_key, peer("C").pub_key,
                                      peer("D").pub_key};
  CHECK(sch.all_keys() == expect);
  CHECK(PeerSchedule{}.all_keys().empty());
}

TEST_CASE("PeerSchedule: encoding round trips, including sets that drop and re-add members") {
  PeerSchedule sch(PeerSet({peer("A"), peer("B")}));
  sch.add(7, PeerSet({peer("B")}));
  sch.add(13, PeerSet({peer("B"), peer("A", "new:1", "back")}));
  Writer w;
  sch.encode(w);
  Reader r(w.data());
  const PeerSchedule back = PeerSchedule::decode(r);
  r.expect_done();
  CHECK(back == sch);
  CHECK(back.at(13).peers()[1].net_addr == "new:1");
}
