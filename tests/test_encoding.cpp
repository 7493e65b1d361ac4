// Canonical encodings of every hashed, signed or transferred type (DESIGN.md "Encoding"): round trips,
// golden bytes (pinned constants, and for the small types the bytes spelled out from the documented
// layout), truncation and random input.
#include <doctest/doctest.h>

#include <set>

#include "engine/block.h"
#include "engine/event.h"
#include "engine/frame.h"
#include "engine/peer.h"
#include "engine/rng.h"

using namespace chatter;

namespace {

const KeyPair& key_a() {
  static const KeyPair k = KeyPair::from_name("A");
  return k;
}
const KeyPair& key_b() {
  static const KeyPair k = KeyPair::from_name("B");
  return k;
}

template <std::size_t N>
FixedBytes<N> filled(std::uint8_t v) {
  FixedBytes<N> f;
  f.data.fill(v);
  return f;
}

std::string rep(std::string_view hex, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += hex;
  return out;
}

template <class T>
Bytes enc(const T& v) {
  Writer w;
  v.encode(w);
  return w.take();
}

// Decodes a whole buffer with T::decode, refusing trailing bytes.
template <class T>
T dec(const Bytes& b) {
  Reader r(b);
  T v = T::decode(r);
  r.expect_done();
  return v;
}

Hash blake(const Bytes& b) { return blake2b(b); }

Peer peer_a() { return Peer{key_a().public_key(), "a:1", "A"}; }
Peer peer_b() { return Peer{key_b().public_key(), "b:2", "B"}; }
PeerSet set_ab() { return PeerSet({peer_a(), peer_b()}); }

InternalTransaction itx_b() {
  InternalTransaction t;
  t.type = InternalTransactionType::kPeerAdd;
  t.peer = peer_b();
  t.sign(key_b());
  return t;
}

BlockSignature bsig_a() {
  return BlockSignature{key_a().public_key(), 7, key_a().sign(blake2b(std::string_view("block")))};
}

// A small body whose bytes are spelled out by hand below.
EventBody small_body() {
  EventBody b;
  b.transactions = {Bytes{0x01, 0x02}};
  b.self_parent = filled<32>(0x11);
  b.creator = key_a().public_key();
  b.index = 3;
  b.timestamp = 1000;
  return b;
}

// A body with every field populated.
EventBody full_body() {
  EventBody b;
  b.transactions = {to_bytes("tx1"), Bytes{}};
  b.internal_transactions = {itx_b()};
  b.block_signatures = {bsig_a()};
  b.self_parent = filled<32>(0x11);
  b.other_parent = filled<32>(0x22);
  b.creator = key_a().public_key();
  b.index = 5;
  b.timestamp = -1;
  return b;
}

WireEvent small_wire() {
  WireEvent w;
  w.transactions = {Bytes{0x01, 0x02}};
  w.self_parent_index = 2;
  w.other_parent_creator_id = 0xdeadbeef;
  w.other_parent_index = 9;
  w.creator_id = 0x01020304;
  w.index = 3;
  w.timestamp = 1000;
  w.signature = filled<64>(0x22);
  return w;
}

FrameEvent frame_event(const Event& e, std::int64_t round, std::int64_t lamport, bool witness) {
  return FrameEvent{std::make_shared<const Event>(e), round, lamport, witness};
}

Frame small_frame() {
  const Event e = Event::create(small_body(), key_a());
  Frame f;
  f.round = 1;
  f.peers = set_ab();
  f.events = {frame_event(e, 1, 4, true)};
  f.schedule = PeerSchedule(set_ab());
  f.roots = {Root{key_a().public_key(), {frame_event(e, 1, 4, true)}}};
  f.timestamp = 1000;
  return f;
}

BlockBody small_block_body() {
  BlockBody b;
  b.index = 1;
  b.round_received = 2;
  b.timestamp = 1000;
  b.state_hash = {0xab, 0xcd};
  b.frame_hash = filled<32>(0x33);
  b.peers_hash = filled<32>(0x44);
  b.prev_block_hash = filled<32>(0x55);
  b.snapshot_hash = filled<32>(0x66);
  b.transactions = {to_bytes("tx1")};
  b.internal_transaction_receipts = {InternalTransactionReceipt{itx_b(), true}};
  return b;
}

// Concatenates hex pieces, one documented field per piece.
std::string cat(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts) out += p;
  return out;
}

// The documented layouts, written out independently of Writer.
std::string peer_a_hex() {
  return cat({to_hex(key_a().public_key()),  // key
              "03000000", "613a31",          // net_addr "a:1"
              "01000000", "41"});            // moniker "A"
}
std::string peer_b_hex() {
  return cat({to_hex(key_b().public_key()),  // key
              "03000000", "623a32",          // net_addr "b:2"
              "01000000", "42"});            // moniker "B"
}
std::string set_ab_hex() { return "02000000" + peer_a_hex() + peer_b_hex(); }
std::string itx_b_hex() { return "00" + peer_b_hex() + to_hex(itx_b().signature); }

}  // namespace

TEST_CASE("Encoding golden: KeyPair::from_name keys are pinned (every golden below depends on them)") {
  CHECK(to_hex(key_a().public_key()) == "ac61cf5b2f6dcd116c0ae49be9979a257e1bdddfded8e3beb7ba085760517699");
  CHECK(to_hex(key_b().public_key()) == "edbf78e02b621063147cf2675098a525540755660abe75a3ae8df78490d5f420");
}

TEST_CASE("Encoding Peer: 32-byte key, str net_addr, str moniker; round trip and golden bytes") {
  const Bytes b = enc(peer_a());
  CHECK(to_hex(b) == peer_a_hex());
  CHECK(to_hex(b) ==
        "ac61cf5b2f6dcd116c0ae49be9979a257e1bdddfded8e3beb7ba08576051769903000000613a310100000041");
  CHECK(dec<Peer>(b) == peer_a());
  const Peer unicode{key_b().public_key(), "", "mönïker"};
  CHECK(dec<Peer>(enc(unicode)) == unicode);
}

TEST_CASE("Encoding PeerSet: u32 count then each Peer; round trip and golden bytes") {
  const Bytes b = enc(set_ab());
  CHECK(to_hex(b) == set_ab_hex());
  CHECK(to_hex(blake(b)) == "162861859d161a753b67a0c088b372a177d86a78278aadba4e7c9229c5049892");
  CHECK(dec<PeerSet>(b) == set_ab());
  CHECK(dec<PeerSet>(b).hash() == set_ab().hash());
  CHECK(to_hex(enc(PeerSet{})) == "00000000");
  // The membership hash: BLAKE2b(u32 count, keys), spelled out.
  const Bytes pre = *from_hex("02000000" + to_hex(key_a().public_key()) + to_hex(key_b().public_key()));
  CHECK(set_ab().hash() == blake2b(pre));
}

TEST_CASE("Encoding PeerSet: decoding a duplicate key is a DecodeError, not invalid_argument") {
  const Bytes b = *from_hex("02000000" + peer_a_hex() + peer_a_hex());
  CHECK_THROWS_AS(dec<PeerSet>(b), DecodeError);
}

TEST_CASE("Encoding PeerSchedule: u32 count then (i64 round, PeerSet) by increasing round; golden bytes") {
  PeerSchedule s(set_ab());
  s.add(5, PeerSet({peer_a()}));
  const Bytes b = enc(s);
  CHECK(to_hex(b) == cat({"02000000",                                       // two entries
                          "0000000000000000", set_ab_hex(),                 // round 0: {A, B}
                          "0500000000000000", "01000000", peer_a_hex()}));  // round 5: {A}
  CHECK(to_hex(blake(b)) == "d7061368ea009b39604a30f7d644368b431b93f9fbb2536b73df6743560628d5");
  CHECK(dec<PeerSchedule>(b) == s);
  CHECK(to_hex(enc(PeerSchedule{})) == "00000000");
}

TEST_CASE("Encoding PeerSchedule: decoder refuses non-increasing rounds") {
  const std::string one = "01000000" + peer_a_hex();
  auto two_entries = [&](std::string_view r1, std::string_view r2) {
    return *from_hex(cat({"02000000", std::string(r1), one, std::string(r2), one}));
  };
  CHECK_THROWS_AS(dec<PeerSchedule>(two_entries("0500000000000000", "0500000000000000")), DecodeError);
  CHECK_THROWS_AS(dec<PeerSchedule>(two_entries("0500000000000000", "0400000000000000")), DecodeError);
  CHECK_NOTHROW(dec<PeerSchedule>(two_entries("0400000000000000", "0500000000000000")));
}

TEST_CASE("Encoding InternalTransaction: u8 type, Peer, 64-byte signature; body hash; golden bytes") {
  const InternalTransaction t = itx_b();
  CHECK(t.verify());
  const Bytes b = enc(t);
  CHECK(to_hex(b) == itx_b_hex());
  CHECK(to_hex(t.signature) ==
        "ff8aac45010f2b3e07802db52fae69749293d8a8eb0b704c5dbd04a43b9dc459"
        "f62ba1a8244b14381651264c656698bf07f53bfa0d749cd6232dda15bd9fcb0c");
  CHECK(t.body_hash() == blake2b(*from_hex("00" + peer_b_hex())));
  CHECK(dec<InternalTransaction>(b) == t);

  InternalTransaction rm = t;
  rm.type = InternalTransactionType::kPeerRemove;
  CHECK(rm.body_hash() != t.body_hash());
  CHECK_FALSE(rm.verify());  // the signature covers the type
  CHECK(enc(rm)[0] == 1);
  CHECK(dec<InternalTransaction>(enc(rm)) == rm);
}

TEST_CASE("Encoding InternalTransaction: decoder refuses a type other than 0 (PEER_ADD) or 1 (PEER_REMOVE)") {
  Bytes b = enc(itx_b());
  b[0] = 2;
  CHECK_THROWS_AS(dec<InternalTransaction>(b), DecodeError);
  b[0] = 0xff;
  CHECK_THROWS_AS(dec<InternalTransaction>(b), DecodeError);
}

TEST_CASE("Encoding BlockSignature: 32-byte key, u64 index, 64-byte signature; golden bytes") {
  const BlockSignature s = bsig_a();
  const Bytes b = enc(s);
  CHECK(b.size() == 104);
  CHECK(to_hex(b) == to_hex(key_a().public_key()) + "0700000000000000" + to_hex(s.signature));
  CHECK(to_hex(s.signature) ==
        "6ba4f3c6ca5721384be0ca5d23ee47c2555905d3e1fb06a6dc6be3ec589f7174"
        "01633164b8d2cd07a8a7b71730223947a87755ea153766bf23220cb06cd28e02");
  CHECK(dec<BlockSignature>(b) == s);
}

TEST_CASE("Encoding EventBody: documented field order; golden bytes") {
  const Bytes b = enc(small_body());
  CHECK(to_hex(b) == cat({"01000000", "02000000", "0102",  // transactions: one of 2 bytes
                          "00000000",                      // internal transactions: none
                          "00000000",                      // block signatures: none
                          "01", rep("11", 32),             // self-parent present
                          "00",                            // other-parent absent
                          to_hex(key_a().public_key()),    // creator
                          "0300000000000000",              // index 3
                          "e803000000000000"}));           // timestamp 1000
  CHECK(b == small_body().encoded());
  CHECK(dec<EventBody>(b) == small_body());

  const Bytes f = enc(full_body());
  CHECK(to_hex(f) == cat({"02000000", "03000000", "747831", "00000000",  // transactions "tx1", ""
                          "01000000", itx_b_hex(),                       // one internal transaction
                          "01000000", to_hex(enc(bsig_a())),             // one block signature
                          "01", rep("11", 32),                           // self-parent
                          "01", rep("22", 32),                           // other-parent
                          to_hex(key_a().public_key()),                  // creator
                          "0500000000000000",                            // index 5
                          "ffffffffffffffff"}));                         // timestamp -1
  CHECK(to_hex(blake(f)) == "90e7d593a333f55258d7aa34c33bb74b6946964eecace803fd6a5a9d69017efb");
  CHECK(dec<EventBody>(f) == full_body());
}

TEST_CASE("Encoding Event: body then signature; hash = BLAKE2b(body) recomputed on decode; golden bytes") {
  const Event e = Event::create(full_body(), key_a());
  CHECK(e.verify());
  CHECK(e.hash() == blake2b(full_body().encoded()));
  const Bytes b = e.encoded();
  CHECK(to_hex(b) == to_hex(full_body().encoded()) + to_hex(e.signature()));
  CHECK(to_hex(e.hash()) == "90e7d593a333f55258d7aa34c33bb74b6946964eecace803fd6a5a9d69017efb");
  CHECK(to_hex(e.signature()) ==
        "e8ab2c489c448f011ea15ec9c62735f08b55cec2ebb187edeba640e0e309445b"
        "adc27708b337730c29ac992194dd8d69b73ab8c1312333689ee38406e8e8a806");
  const Event d = Event::decode(b);
  CHECK(d == e);
  CHECK(d.body() == e.body());
  CHECK(d.hash() == e.hash());
  CHECK(d.verify());

  const Event s = Event::create(small_body(), key_a());
  CHECK(to_hex(blake(s.encoded())) == "54ad8daf5d93dd0e2618bddca3847148655bb40d4c07d5d3894db98a327dd8dd");
  CHECK(Event::decode(s.encoded()).body() == small_body());
}

TEST_CASE("Encoding Event: decode(Bytes) refuses trailing bytes") {
  Bytes b = Event::create(small_body(), key_a()).encoded();
  b.push_back(0);
  CHECK_THROWS_AS(Event::decode(b), DecodeError);
}

TEST_CASE("Encoding Event: every truncation (each prefix length) throws DecodeError") {
  for (const auto& body : {small_body(), full_body()}) {
    const Bytes b = Event::create(body, key_a()).encoded();
    for (std::size_t n = 0; n < b.size(); ++n) {
      const Bytes prefix(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
      CHECK_THROWS_AS(Event::decode(prefix), DecodeError);
    }
  }
}

TEST_CASE("Encoding Event: the hash changes when any body field changes") {
  const EventBody base = full_body();
  std::vector<EventBody> variants;
  auto vary = [&](auto f) {
    EventBody b = base;
    f(b);
    variants.push_back(b);
  };
  vary([](EventBody& b) { b.transactions.push_back(Bytes{}); });
  vary([](EventBody& b) { b.transactions[0][0] ^= 1; });
  vary([](EventBody& b) { b.transactions.clear(); });
  vary([](EventBody& b) { b.internal_transactions.clear(); });
  vary([](EventBody& b) { b.internal_transactions[0].type = InternalTransactionType::kPeerRemove; });
  vary([](EventBody& b) { b.internal_transactions[0].signature.data[0] ^= 1; });
  vary([](EventBody& b) { b.block_signatures.clear(); });
  vary([](EventBody& b) { b.block_signatures[0].index += 1; });
  vary([](EventBody& b) { b.self_parent.reset(); });
  vary([](EventBody& b) { b.self_parent->data[31] ^= 1; });
  vary([](EventBody& b) { b.other_parent.reset(); });
  vary([](EventBody& b) { b.other_parent->data[0] ^= 1; });
  vary([](EventBody& b) { b.creator = key_b().public_key(); });
  vary([](EventBody& b) { b.index += 1; });
  vary([](EventBody& b) { b.timestamp += 1; });
  // Moving a transaction boundary keeps the concatenated payload but must change the hash.
  vary([](EventBody& b) { b.transactions = {to_bytes("tx"), to_bytes("1")}; });

  std::set<Hash> hashes{Event(base, Signature{}).hash()};
  for (const auto& v : variants) {
    CHECK(v != base);
    hashes.insert(Event(v, Signature{}).hash());
  }
  CHECK(hashes.size() == variants.size() + 1);
}

TEST_CASE("Encoding Event: verify fails when the body is tampered with after signing") {
  const Event e = Event::create(full_body(), key_a());
  REQUIRE(e.verify());
  EventBody t = e.body();
  t.timestamp += 1;
  CHECK_FALSE(Event(t, e.signature()).verify());
  t = e.body();
  t.transactions[0].push_back(0);
  CHECK_FALSE(Event(t, e.signature()).verify());
  // Claiming another creator for the same signature fails too.
  t = e.body();
  t.creator = key_b().public_key();
  CHECK_FALSE(Event(t, e.signature()).verify());
  CHECK(Event(e.body(), e.signature()).verify());
}

TEST_CASE("Encoding WireEvent: documented field order, optional parents; golden bytes") {
  const WireEvent w = small_wire();
  const Bytes b = enc(w);
  CHECK(to_hex(b) == cat({"01000000", "02000000", "0102",          // transactions: one of 2 bytes
                          "00000000", "00000000",                  // no internal txs, no block sigs
                          "01", "0200000000000000",                // self-parent index 2
                          "01", "efbeadde", "0900000000000000",    // other parent: id, index 9
                          "04030201",                              // creator id
                          "0300000000000000", "e803000000000000",  // index 3, timestamp 1000
                          rep("22", 64)}));                        // signature
  CHECK(dec<WireEvent>(b) == w);

  WireEvent root = w;
  root.self_parent_index.reset();
  root.other_parent_creator_id.reset();
  root.other_parent_index.reset();
  root.transactions.clear();
  CHECK(to_hex(enc(root)) == cat({"00000000", "00000000", "00000000",  // empty payload
                                  "00", "00",                          // no parents
                                  "04030201", "0300000000000000", "e803000000000000", rep("22", 64)}));
  CHECK(dec<WireEvent>(enc(root)) == root);

  WireEvent full = w;
  full.internal_transactions = {itx_b()};
  full.block_signatures = {bsig_a()};
  CHECK(dec<WireEvent>(enc(full)) == full);
  CHECK(to_hex(blake(enc(full))) == "cca70c93bd0e0a247dd1502b4880c4909f1d29422b77d44248d176523b30cec8");
}

TEST_CASE("Encoding FrameEvent: commitment = event hash, i64 round, i64 lamport, bool witness; golden") {
  const Event e = Event::create(small_body(), key_a());
  const FrameEvent fe = frame_event(e, 1, 4, true);
  Writer c;
  fe.encode_commitment(c);
  CHECK(to_hex(c.data()) == to_hex(e.hash()) +
                                "0100000000000000"
                                "0400000000000000"
                                "01");
  const Bytes b = enc(fe);
  CHECK(to_hex(b) == to_hex(e.encoded()) +
                         "0100000000000000"
                         "0400000000000000"
                         "01");
  CHECK(to_hex(blake(b)) == "f6fd0083e8f4b3b75a0e552dae54e4165262d86ca10bae74be834305a3a57825");
  const FrameEvent d = dec<FrameEvent>(b);
  REQUIRE(d.event);
  CHECK(*d.event == e);
  CHECK(d.event->body() == e.body());
  CHECK(d.round == 1);
  CHECK(d.lamport == 4);
  CHECK(d.witness);
}

TEST_CASE("Encoding Frame: hash preimage in the documented order; full form round trips; golden") {
  const Frame f = small_frame();
  const Event& e = *f.events[0].event;
  const std::string commit = to_hex(e.hash()) +
                             "0100000000000000"
                             "0400000000000000"
                             "01";
  const std::string schedule =
      "01000000"
      "0000000000000000" +
      set_ab_hex();
  const std::string pre = "0100000000000000" + set_ab_hex() + "01000000" + commit + schedule + "01000000" +
                          to_hex(key_a().public_key()) + "01000000" + commit + "e803000000000000";
  CHECK(f.hash() == blake2b(*from_hex(pre)));
  CHECK(to_hex(f.hash()) == "4c125e8e9866a2b051335b87186ffb0a01a80e590099ed827540f647f23af1a8");

  const Bytes b = enc(f);
  const std::string full = to_hex(e.encoded()) +
                           "0100000000000000"
                           "0400000000000000"
                           "01";
  CHECK(to_hex(b) == "0100000000000000" + set_ab_hex() + "01000000" + full + schedule + "01000000" +
                         to_hex(key_a().public_key()) + "01000000" + full + "e803000000000000");
  CHECK(to_hex(blake(b)) == "ca4f5e23bd9bf118a87405fc38ccf72b0b90e3509c7ab21b9f8ed14d22671ca0");

  const Frame d = dec<Frame>(b);
  CHECK(d.hash() == f.hash());
  CHECK(enc(d) == b);
  CHECK(d.peers == f.peers);
  CHECK(d.schedule == f.schedule);
  REQUIRE(d.root_of(key_a().public_key()) != nullptr);
  CHECK(d.root_of(key_b().public_key()) == nullptr);
}

TEST_CASE("Encoding Frame: decoder refuses roots not strictly ordered by creator key") {
  Frame f = small_frame();
  f.roots = {Root{key_a().public_key(), {}}, Root{key_b().public_key(), {}}};
  if (key_b().public_key() < key_a().public_key()) std::swap(f.roots[0], f.roots[1]);
  CHECK_NOTHROW(dec<Frame>(enc(f)));
  std::swap(f.roots[0], f.roots[1]);
  CHECK_THROWS_AS(dec<Frame>(enc(f)), DecodeError);
  f.roots[1] = f.roots[0];  // duplicate creator
  CHECK_THROWS_AS(dec<Frame>(enc(f)), DecodeError);
}

TEST_CASE("Encoding InternalTransactionReceipt: InternalTransaction then bool; golden bytes") {
  const InternalTransactionReceipt r{itx_b(), true};
  CHECK(to_hex(enc(r)) == itx_b_hex() + "01");
  CHECK(to_hex(enc(InternalTransactionReceipt{itx_b(), false})) == itx_b_hex() + "00");
  CHECK(dec<InternalTransactionReceipt>(enc(r)) == r);
  Bytes bad = enc(r);
  bad.back() = 2;
  CHECK_THROWS_AS(dec<InternalTransactionReceipt>(bad), DecodeError);
}

TEST_CASE("Encoding BlockBody: documented field order; golden bytes") {
  const BlockBody body = small_block_body();
  const Bytes b = enc(body);
  CHECK(to_hex(b) == cat({"0100000000000000",                // index 1
                          "0200000000000000",                // round_received 2
                          "e803000000000000",                // timestamp 1000
                          "02000000", "abcd",                // state_hash
                          rep("33", 32),                     // frame_hash
                          rep("44", 32),                     // peers_hash
                          rep("55", 32),                     // prev_block_hash
                          rep("66", 32),                     // snapshot_hash
                          "01000000", "03000000", "747831",  // transactions: "tx1"
                          "00000000",                        // internal transactions: none
                          "01000000", itx_b_hex(), "01"}));  // receipts: one, accepted
  CHECK(to_hex(blake(b)) == "cbc2daa9e76783629fb6dd61fdb100261a091c89ef1da1a57fde42dafd91bbd3");
  CHECK(dec<BlockBody>(b) == body);
  CHECK(Block(body).hash() == blake2b(b));
}

TEST_CASE("Encoding Block: body, u32 n, (key, signature) in key order; golden bytes") {
  Block blk(small_block_body());
  const BlockSignature sa = blk.sign(key_a());
  const BlockSignature sb = blk.sign(key_b());
  const bool a_first = key_a().public_key() < key_b().public_key();
  const std::string ea = to_hex(sa.validator) + to_hex(sa.signature);
  const std::string eb = to_hex(sb.validator) + to_hex(sb.signature);
  const Bytes b = enc(blk);
  CHECK(to_hex(b) == to_hex(enc(blk.body())) + "02000000" + (a_first ? ea + eb : eb + ea));
  CHECK(to_hex(blake(b)) == "4308101a5d0d07ae8d2caf44febce31ca390d230136a5aa8429995680c95b103");
  CHECK(dec<Block>(b) == blk);
  CHECK(to_hex(blk.hash()) == "cbc2daa9e76783629fb6dd61fdb100261a091c89ef1da1a57fde42dafd91bbd3");
}

TEST_CASE("Encoding Block: decoder refuses signatures out of key order or duplicated") {
  Block blk(small_block_body());
  blk.sign(key_a());
  blk.sign(key_b());
  const Bytes body = enc(blk.body());
  const auto& sigs = blk.signatures();
  auto entry = [](const auto& kv) { return to_hex(kv.first) + to_hex(kv.second); };
  const std::string lo = entry(*sigs.begin());
  const std::string hi = entry(*sigs.rbegin());
  CHECK_NOTHROW(dec<Block>(*from_hex(to_hex(body) + "02000000" + lo + hi)));
  CHECK_THROWS_AS(dec<Block>(*from_hex(to_hex(body) + "02000000" + hi + lo)), DecodeError);
  CHECK_THROWS_AS(dec<Block>(*from_hex(to_hex(body) + "02000000" + lo + lo)), DecodeError);
}

TEST_CASE("Encoding: 10,000 random byte strings either decode or throw DecodeError, never crash") {
  Rng rng(20240601);
  int decoded = 0;
  auto attempt = [&](const Bytes& b) {
    auto one = [&](auto f) {
      try {
        f();
        ++decoded;
      } catch (const DecodeError&) {
      } catch (const std::exception& ex) {
        FAIL("unexpected exception: " << ex.what());
      }
    };
    one([&] { (void)Event::decode(b); });
    one([&] { (void)dec<WireEvent>(b); });
    one([&] { (void)dec<Frame>(b); });
    one([&] { (void)dec<Block>(b); });
    one([&] { (void)dec<PeerSchedule>(b); });
    one([&] { (void)dec<InternalTransaction>(b); });
  };
  for (int i = 0; i < 10000; ++i) {
    Bytes b(rng.below(400));
    for (auto& x : b) x = static_cast<std::uint8_t>(rng.next());
    // Small leading counts half of the time so decoding gets past the first length prefix.
    if (b.size() >= 4 && rng.chance(1, 2)) {
      b[0] &= 3;
      b[1] = b[2] = b[3] = 0;
    }
    attempt(b);
  }
  // Mutations of valid encodings reach deeper fields than uniform noise does.
  const Bytes valid[] = {Event::create(full_body(), key_a()).encoded(), enc(small_frame()),
                         enc(small_wire())};
  const int decoded_from_noise = decoded;
  for (int i = 0; i < 3000; ++i) {
    Bytes b = valid[rng.below(3)];
    const int flips = static_cast<int>(rng.range(1, 4));
    for (int k = 0; k < flips; ++k) b[rng.below(b.size())] = static_cast<std::uint8_t>(rng.next());
    if (rng.chance(1, 4)) b.resize(rng.below(b.size()));
    attempt(b);
  }
  // Flips in signatures, timestamps and payload bytes leave valid encodings: the decoders were reached.
  CHECK(decoded > decoded_from_noise);
}
