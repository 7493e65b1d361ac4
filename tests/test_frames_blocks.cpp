// Blocks and frames (block.h, frame.h; spec/consensus.md "Blocks", "Frames and roots").
#include <doctest/doctest.h>

#include "engine/block.h"
#include "engine/frame.h"

using namespace chatter;

namespace {

KeyPair key(int i) { return KeyPair::from_name("v" + std::to_string(i)); }

PeerSet validators(int n) {
  std::vector<Peer> ps;
  for (int i = 0; i < n; ++i) ps.push_back(Peer{key(i).public_key(), "", ""});
  return PeerSet(std::move(ps));
}

BlockBody body(std::uint64_t index) {
  BlockBody b;
  b.index = index;
  b.round_received = 3;
  b.timestamp = 42;
  b.transactions = {to_bytes("t1"), to_bytes("t2")};
  b.frame_hash.data.fill(0x0f);
  return b;
}

FrameEvent fe(const KeyPair& k, std::uint64_t index, std::int64_t round) {
  EventBody b;
  b.creator = k.public_key();
  b.index = index;
  b.timestamp = 100 + static_cast<std::int64_t>(index);
  return FrameEvent{std::make_shared<const Event>(Event::create(b, k)), round,
                    static_cast<std::int64_t>(index), index == 0};
}

Frame frame() {
  Frame f;
  f.round = 2;
  f.peers = validators(2);
  f.events = {fe(key(0), 1, 2), fe(key(1), 1, 2)};
  f.schedule = PeerSchedule(validators(2));
  f.roots = {Root{key(0).public_key(), {fe(key(0), 0, 1)}}, Root{key(1).public_key(), {fe(key(1), 0, 1)}}};
  f.timestamp = 101;
  return f;
}

}  // namespace

TEST_CASE("Blocks: sign records {validator, index, signature over the block hash} and returns it") {
  Block b(body(4));
  CHECK(b.hash() == blake2b([&] {
          Writer w;
          b.body().encode(w);
          return w.take();
        }()));
  const BlockSignature s = b.sign(key(0));
  CHECK(s.validator == key(0).public_key());
  CHECK(s.index == 4);
  CHECK(verify(s.validator, b.hash(), s.signature));
  REQUIRE(b.signatures().size() == 1);
  CHECK(b.signatures().at(key(0).public_key()) == s.signature);
}

TEST_CASE("Blocks: add_signature accepts a valid signature and replaces the one recorded for that key") {
  Block b(body(4));
  Block same(body(4));
  const BlockSignature s = same.sign(key(1));
  CHECK(b.add_signature(s));
  CHECK(b.signatures().size() == 1);
  CHECK(b.add_signature(s));  // idempotent
  CHECK(b.signatures().size() == 1);
  CHECK(b.signatures().at(key(1).public_key()) == s.signature);
}

TEST_CASE("Blocks: add_signature refuses wrong index, wrong key, bad signature, another block's signature") {
  Block b(body(4));
  Block other(body(4));
  other.mutable_body().timestamp += 1;
  Block next(body(5));

  BlockSignature good = Block(body(4)).sign(key(0));
  BlockSignature wrong_index = good;
  wrong_index.index = 5;
  BlockSignature wrong_key = good;
  wrong_key.validator = key(1).public_key();
  BlockSignature flipped = good;
  flipped.signature.data[10] ^= 1;
  const BlockSignature for_other = other.sign(key(0));
  BlockSignature for_next = next.sign(key(0));
  for_next.index = 4;  // claims this block's index, signs the other hash

  CHECK_FALSE(b.add_signature(wrong_index));
  CHECK_FALSE(b.add_signature(wrong_key));
  CHECK_FALSE(b.add_signature(flipped));
  CHECK_FALSE(b.add_signature(for_other));
  CHECK_FALSE(b.add_signature(for_next));
  CHECK(b.signatures().empty());  // nothing recorded by a refusal
  CHECK(b.add_signature(good));
  CHECK_FALSE(b.add_signature(flipped));
  CHECK(b.signatures().at(key(0).public_key()) == good.signature);  // a refusal keeps the valid one
}

TEST_CASE("Blocks: valid for P needs MORE than TrustCount(|P|) distinct valid member signatures") {
  const PeerSet four = validators(4);  // TrustCount 2
  Block b(body(1));
  b.sign(key(0));
  b.sign(key(1));
  CHECK(b.valid_signatures(four) == 2);
  CHECK_FALSE(b.valid_for(four));
  b.sign(key(1));  // signing again is not a new distinct signer
  CHECK_FALSE(b.valid_for(four));
  b.sign(key(2));
  CHECK(b.valid_signatures(four) == 3);
  CHECK(b.valid_for(four));

  const PeerSet one = validators(1);  // TrustCount 0
  Block c(body(1));
  CHECK_FALSE(c.valid_for(one));
  c.sign(key(0));
  CHECK(c.valid_for(one));
}

TEST_CASE("Blocks: signatures from non-members do not count") {
  const PeerSet four = validators(4);
  Block b(body(1));
  b.sign(key(0));
  b.sign(key(1));
  for (int i = 10; i < 15; ++i) b.sign(key(i));
  CHECK(b.signatures().size() == 7);
  CHECK(b.valid_signatures(four) == 2);
  CHECK_FALSE(b.valid_for(four));
  CHECK(b.valid_signatures(validators(0)) == 0);
}

TEST_CASE("Blocks: changing the body after signing invalidates the recorded signatures") {
  const PeerSet four = validators(4);
  Block b(body(1));
  for (int i = 0; i < 4; ++i) b.sign(key(i));
  REQUIRE(b.valid_for(four));
  b.mutable_body().state_hash = {1, 2, 3};
  CHECK(b.valid_signatures(four) == 0);
  CHECK_FALSE(b.valid_for(four));
  b.mutable_body().state_hash.clear();
  CHECK(b.valid_signatures(four) == 4);  // valid again for the original body
}

TEST_CASE("Blocks: signatures carried through encode/decode are re-verified, not trusted") {
  const PeerSet four = validators(4);
  Block b(body(1));
  for (int i = 0; i < 3; ++i) b.sign(key(i));
  Writer w;
  b.encode(w);
  Bytes bytes = w.take();
  bytes[8] ^= 1;  // round_received, inside the body
  Reader r(bytes);
  const Block d = Block::decode(r);
  CHECK(d.signatures().size() == 3);
  CHECK(d.valid_signatures(four) == 0);
}

TEST_CASE("Frames: the hash commits to round, peers, every event, roots, schedule and timestamp") {
  const Frame base = frame();
  const Hash h = base.hash();
  CHECK(frame().hash() == h);  // deterministic
  std::vector<Frame> variants;
  auto vary = [&](auto f) {
    Frame x = frame();
    f(x);
    variants.push_back(std::move(x));
  };
  vary([](Frame& f) { f.round += 1; });
  vary([](Frame& f) { f.peers = validators(3); });
  vary([](Frame& f) { f.events.pop_back(); });
  vary([](Frame& f) { std::swap(f.events[0], f.events[1]); });
  vary([](Frame& f) { f.events[0] = fe(key(0), 2, 2); });
  vary([](Frame& f) { f.events[0].round += 1; });
  vary([](Frame& f) { f.events[0].lamport += 1; });
  vary([](Frame& f) { f.events[0].witness = !f.events[0].witness; });
  vary([](Frame& f) { f.roots[0].events[0] = fe(key(0), 3, 1); });
  vary([](Frame& f) { f.roots[1].events.push_back(fe(key(1), 1, 2)); });
  vary([](Frame& f) { f.roots[1].events[0].lamport += 1; });
  vary([](Frame& f) { f.roots.pop_back(); });
  vary([](Frame& f) { f.roots[0].creator = key(5).public_key(); });
  vary([](Frame& f) { f.schedule.add(9, validators(3)); });
  vary([](Frame& f) { f.timestamp += 1; });
  for (std::size_t i = 0; i < variants.size(); ++i) {
    CAPTURE(i);
    CHECK(variants[i].hash() != h);
  }
}

TEST_CASE("Frames: root_of finds a creator's root, nullptr for others") {
  const Frame f = frame();
  const Root* r = f.root_of(key(1).public_key());
  REQUIRE(r != nullptr);
  CHECK(r->creator == key(1).public_key());
  CHECK(r->events[0].event->creator() == key(1).public_key());
  CHECK(f.root_of(key(7).public_key()) == nullptr);
}
