// Gossip message encodings (DESIGN.md, Encoding): round trips, golden bytes, hostile input.
#include <doctest/doctest.h>

#include "engine/crypto.h"
#include "engine/messages.h"
#include "engine/rng.h"
#include "message_test_util.h"

using namespace chatter;

using chatter::testing::encode;
using chatter::testing::round_trip;

namespace {

WireEvent sample_wire() {
  WireEvent w;
  w.transactions = {to_bytes("tx")};
  w.self_parent_index = 4;
  w.other_parent_creator_id = 7;
  w.other_parent_index = 9;
  w.creator_id = 3;
  w.index = 5;
  w.timestamp = 1234;
  w.signature.data[0] = 0xaa;
  return w;
}

}  // namespace

TEST_CASE("messages: every type round-trips") {
  SyncRequest a{1, {{2, 10}, {5, 0}}};
  CHECK(std::get<SyncRequest>(round_trip(a)).known == a.known);
  SyncResponse b{2, {sample_wire(), sample_wire()}, {{1, 1}}, true};
  auto b2 = std::get<SyncResponse>(round_trip(b));
  CHECK(b2.events == b.events);
  CHECK(b2.known == b.known);
  CHECK(b2.more);
  EagerSyncRequest c{3, {sample_wire()}};
  CHECK(std::get<EagerSyncRequest>(round_trip(c)).events == c.events);
  EagerSyncResponse d{4, true};
  CHECK(std::get<EagerSyncResponse>(round_trip(d)).success);
  CHECK(std::get<EagerSyncResponse>(round_trip(d)).from_id == 4);
}

TEST_CASE("messages: the fast-forward messages round-trip; a refusal carries nothing else") {
  CHECK(std::get<PositionRequest>(round_trip(PositionRequest{7})).from_id == 7);
  auto p = std::get<PositionResponse>(round_trip(PositionResponse{8, 42, 99, {}}));
  CHECK(p.from_id == 8);
  CHECK(p.anchor_index == std::optional<std::uint64_t>(42));
  CHECK(p.last_consensus_round == 99);
  auto none = std::get<PositionResponse>(round_trip(PositionResponse{8, std::nullopt, -1, {}}));
  CHECK(!none.anchor_index.has_value());
  CHECK(none.last_consensus_round == -1);
  CHECK(std::get<FastForwardRequest>(round_trip(FastForwardRequest{9, 1234})).min_index == 1234);

  FastForwardResponse ff;
  ff.from_id = 3;
  ff.ok = true;
  BlockBody body;
  body.index = 5;
  body.round_received = 12;
  body.transactions = {to_bytes("tx")};
  body.snapshot_hash = blake2b(to_bytes("snap"));
  ff.block = Block(body);
  ff.block.sign(KeyPair::from_name("signer"));
  ff.frame.round = 12;
  ff.frame.peers = PeerSet({Peer{KeyPair::from_name("signer").public_key(), "a:1", "s"}});
  ff.frame.schedule = PeerSchedule(ff.frame.peers);
  ff.snapshot = to_bytes("snap");
  auto back = std::get<FastForwardResponse>(round_trip(ff));
  CHECK(back.ok);
  CHECK(back.block == ff.block);
  CHECK(back.frame.hash() == ff.frame.hash());
  CHECK(back.snapshot == ff.snapshot);
  // "Cannot serve": u32 from_id, then a false flag, nothing else.
  CHECK(to_hex(encode(FastForwardResponse{0x01020304, false, {}, {}, {}, {}, {}})) == "04030201" "00");
}

TEST_CASE("messages: golden bytes of a SyncRequest and an EagerSyncResponse") {
  // u32 from_id, u32 count, then (u32 id, u64 index) per creator, little-endian.
  CHECK(to_hex(encode(SyncRequest{1, {{2, 10}}})) == "01000000" "01000000" "02000000" "0a00000000000000");
  CHECK(to_hex(encode(EagerSyncResponse{0x01020304, true})) == "04030201" "01");
}

TEST_CASE("messages: known indexes must be in ascending id order (canonical)") {
  Bytes b = encode(SyncRequest{1, {{5, 1}, {2, 1}}});
  CHECK_THROWS_AS(decode_payload(1, b.data(), b.size()), DecodeError);
}

TEST_CASE("messages: unknown types, truncation, trailing bytes and random input are refused") {
  Bytes b = encode(SyncResponse{2, {sample_wire()}, {{1, 1}}, false});
  CHECK_THROWS_AS(decode_payload(0, b.data(), b.size()), DecodeError);
  CHECK_THROWS_AS(decode_payload(9, b.data(), b.size()), DecodeError);
  for (std::size_t n = 0; n < b.size(); ++n) CHECK_THROWS_AS(decode_payload(2, b.data(), n), DecodeError);
  Bytes longer = b;
  longer.push_back(0);
  CHECK_THROWS_AS(decode_payload(2, longer.data(), longer.size()), DecodeError);
  Rng rng(42);
  for (int i = 0; i < 5000; ++i) {
    Bytes r(rng.below(200));
    for (auto& x : r) x = static_cast<std::uint8_t>(rng.next());
    const auto type = static_cast<std::uint8_t>(1 + rng.below(4));
    try {
      (void)decode_payload(type, r.data(), r.size());
    } catch (const DecodeError&) {
    }
  }
  // A hostile count with no bytes behind it is refused before anything is reserved.
  Bytes hostile = {1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
  CHECK_THROWS_AS(decode_payload(3, hostile.data(), hostile.size()), DecodeError);
}
