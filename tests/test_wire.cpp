// Wire frames (net/wire.h; DESIGN.md, Encoding and Error policy): round trips of every message type
// however the stream is split, golden bytes, the hard size cap checked on the length prefix before
// any allocation, refusal of zero-length, unknown-type and malformed frames, and a seeded fuzz.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "engine/crypto.h"
#include "engine/rng.h"
#include "net/wire.h"

using namespace chatter;
using Status = FrameDecoder::Status;

// The largest single allocation requested while `g_track_allocations` is set: proves that a hostile
// length prefix does not make the decoder reserve memory. (Replacing the global operator new is
// allowed once per program; test-net links only this file and test_main.cpp.)
namespace {
std::atomic<bool> g_track_allocations{false};
std::atomic<std::size_t> g_largest_allocation{0};
}  // namespace

// GCC 12 at -O3 sees the replaced operator new inlined as malloc and then warns that the standard
// library's deallocation through our operator delete (free) is mismatched: it is not, both are ours.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t n) {
  if (g_track_allocations.load(std::memory_order_relaxed)) {
    std::size_t seen = g_largest_allocation.load(std::memory_order_relaxed);
    while (n > seen && !g_largest_allocation.compare_exchange_weak(seen, n)) {
    }
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

WireEvent sample_wire(std::uint32_t creator, std::uint64_t index) {
  const KeyPair kp = KeyPair::from_name("wire-" + std::to_string(creator));
  WireEvent w;
  w.transactions = {to_bytes("tx-a"), Bytes{}, Bytes(300, 0x5a)};
  InternalTransaction itx;
  itx.type = InternalTransactionType::kPeerAdd;
  itx.peer = Peer{kp.public_key(), "127.0.0.1:1337", "node"};
  itx.sign(kp);
  w.internal_transactions = {itx};
  BlockSignature bs;
  bs.validator = kp.public_key();
  bs.index = 7;
  bs.signature.data[3] = 0x33;
  w.block_signatures = {bs};
  if (index > 0) w.self_parent_index = index - 1;
  w.other_parent_creator_id = creator + 1;
  w.other_parent_index = 2;
  w.creator_id = creator;
  w.index = index;
  w.timestamp = -5;  // i64 travels as its two's complement
  w.signature.data[0] = 0xaa;
  return w;
}

// One of each type, with empty and non-empty contents.
std::vector<Message> sample_messages() {
  return {
      SyncRequest{1, {{2, 10}, {5, 0}, {0xffffffff, 0xffffffffffffffff}}},
      SyncRequest{0, {}},
      SyncResponse{2, {sample_wire(3, 0), sample_wire(4, 9)}, {{1, 1}}, true},
      SyncResponse{2, {}, {}, false},
      EagerSyncRequest{3, {sample_wire(5, 1)}},
      EagerSyncRequest{3, {}},
      EagerSyncResponse{4, true},
      EagerSyncResponse{0xfffffffe, false},
  };
}

// Canonical encodings make byte equality the same as value equality.
bool same(const Message& a, const Message& b) { return encode_frame(a) == encode_frame(b); }

Bytes concat(const std::vector<Message>& ms) {
  Bytes out;
  for (const auto& m : ms) {
    const Bytes f = encode_frame(m);
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

// Feeds `stream` as a transport would: chunks of the sizes `chunk()` draws, at most room() bytes
// each, draining next() after each; returns the frames.
template <typename Chunk>
std::vector<Message> decode_all(const Bytes& stream, Chunk chunk, Status& last, std::string& error,
                                std::size_t max_frame = kDefaultMaxFrame) {
  FrameDecoder d(max_frame);
  std::vector<Message> out;
  last = Status::kNeedMore;
  std::size_t pos = 0;
  while (pos < stream.size() && last != Status::kError) {
    const std::size_t n = std::min({chunk(), stream.size() - pos, d.room()});
    if (n == 0) break;
    d.feed(stream.data() + pos, n);
    pos += n;
    Message m;
    while ((last = d.next(m, error)) == Status::kFrame) out.push_back(m);
  }
  return out;
}

Bytes header(std::uint32_t length, std::uint8_t type) {
  return {static_cast<std::uint8_t>(length), static_cast<std::uint8_t>(length >> 8),
          static_cast<std::uint8_t>(length >> 16), static_cast<std::uint8_t>(length >> 24), type};
}

Status feed_and_next(FrameDecoder& d, const Bytes& b, std::string& error) {
  d.feed(b);
  Message m;
  return d.next(m, error);
}

}  // namespace

TEST_CASE("wire: every message type round-trips through encode_frame and FrameDecoder") {
  for (const Message& m : sample_messages()) {
    CAPTURE(to_string(type_of(m)));
    const Bytes f = encode_frame(m);
    // Layout: L = 1 + payload size, then the type byte, then encode_payload's bytes.
    Writer payload;
    encode_payload(m, payload);
    REQUIRE(f.size() == kFrameHeaderSize + payload.data().size());
    CHECK(f[0] + (f[1] << 8) + (f[2] << 16) + (f[3] << 24) == static_cast<int>(1 + payload.data().size()));
    CHECK(f[4] == static_cast<std::uint8_t>(type_of(m)));
    CHECK(Bytes(f.begin() + kFrameHeaderSize, f.end()) == payload.data());

    FrameDecoder d;
    d.feed(f);
    Message out;
    std::string error;
    REQUIRE(d.next(out, error) == Status::kFrame);
    CHECK(out.index() == m.index());
    CHECK(same(out, m));
    CHECK(d.buffered() == 0);
    CHECK(d.next(out, error) == Status::kNeedMore);
  }
  const auto resp = std::get<SyncResponse>(sample_messages()[2]);
  FrameDecoder d;
  d.feed(encode_frame(resp));
  Message out;
  std::string error;
  REQUIRE(d.next(out, error) == Status::kFrame);
  const auto& got = std::get<SyncResponse>(out);
  CHECK(got.from_id == 2);
  CHECK(got.events == resp.events);
  CHECK(got.known == resp.known);
  CHECK(got.more);
}

TEST_CASE("wire: byte-at-a-time feeding and several frames in one feed give the same messages") {
  const auto ms = sample_messages();
  const Bytes stream = concat(ms);
  Status last;
  std::string error;

  const auto one_by_one = decode_all(
      stream, [] { return std::size_t{1}; }, last, error);
  CHECK(last == Status::kNeedMore);
  REQUIRE(one_by_one.size() == ms.size());
  for (std::size_t i = 0; i < ms.size(); ++i) CHECK(same(one_by_one[i], ms[i]));

  const auto all_at_once = decode_all(
      stream, [&] { return stream.size(); }, last, error);
  CHECK(last == Status::kNeedMore);
  REQUIRE(all_at_once.size() == ms.size());
  for (std::size_t i = 0; i < ms.size(); ++i) CHECK(same(all_at_once[i], ms[i]));

  Rng rng(7);
  const auto random_chunks = decode_all(
      stream, [&] { return 1 + rng.below(64); }, last, error);
  CHECK(last == Status::kNeedMore);
  REQUIRE(random_chunks.size() == ms.size());
  for (std::size_t i = 0; i < ms.size(); ++i) CHECK(same(random_chunks[i], ms[i]));

  // A partial frame stays buffered until its last byte arrives.
  FrameDecoder d;
  const Bytes f = encode_frame(ms[0]);
  d.feed(f.data(), f.size() - 1);
  Message m;
  CHECK(d.next(m, error) == Status::kNeedMore);
  CHECK(d.buffered() == f.size() - 1);
  d.feed(f.data() + f.size() - 1, 1);
  CHECK(d.next(m, error) == Status::kFrame);
  CHECK(same(m, ms[0]));
}

TEST_CASE("wire: golden bytes of an EagerSyncResponse frame") {
  // u32 L = 6 (little-endian: 1 type byte + 5 payload bytes) | u8 type 4 (EagerSyncResponse) |
  // payload: u32 from_id 0x01020304 (little-endian) | bool success = 01.
  const Bytes f = encode_frame(EagerSyncResponse{0x01020304, true});
  CHECK(to_hex(f) ==
        "06000000"
        "04"
        "04030201"
        "01");
  // And a SyncRequest: L = 21 = 0x15 | type 1 | from_id 1 | count 1 | id 2 | index 10 (u64).
  CHECK(to_hex(encode_frame(SyncRequest{1, {{2, 10}}})) ==
        "15000000"
        "01"
        "01000000"
        "01000000"
        "02000000"
        "0a00000000000000");
  FrameDecoder d;
  d.feed(
      *from_hex("06000000"
                "04"
                "04030201"
                "01"));
  Message m;
  std::string error;
  REQUIRE(d.next(m, error) == Status::kFrame);
  CHECK(std::get<EagerSyncResponse>(m).from_id == 0x01020304);
  CHECK(std::get<EagerSyncResponse>(m).success);
}

TEST_CASE("wire: a length above max_frame is refused on the prefix, before any allocation") {
  std::string error;
  {
    // The probe works: a real allocation while tracking is seen.
    g_largest_allocation = 0;
    g_track_allocations = true;
    auto probe = std::make_unique<Bytes>(100000);
    g_track_allocations = false;
    CHECK(g_largest_allocation.load() >= 100000);
  }
  {
    FrameDecoder d;
    g_largest_allocation = 0;
    g_track_allocations = true;
    d.feed(header(0xffffffff, 1));  // claims 4 GiB
    Message m;
    const Status s = d.next(m, error);
    g_track_allocations = false;
    CHECK(s == Status::kError);
    CHECK(error.find("exceeds the maximum") != std::string::npos);
    CHECK(g_largest_allocation.load() < 4096);  // the 5 header bytes and the error text, nothing more
    CHECK(d.buffered() == 0);
  }
  {
    // The prefix alone is enough: no type byte needed to refuse.
    FrameDecoder d;
    const Bytes h = header(static_cast<std::uint32_t>(kDefaultMaxFrame) + 1, 1);
    d.feed(h.data(), 4);
    Message m;
    CHECK(d.next(m, error) == Status::kError);
  }
  // The cap is inclusive: L == max_frame is accepted, max_frame + 1 is not.
  const Bytes f = encode_frame(EagerSyncResponse{9, false});
  const std::size_t length = f.size() - 4;
  {
    FrameDecoder d(length);
    d.feed(f);
    Message m;
    CHECK(d.next(m, error) == Status::kFrame);
  }
  {
    FrameDecoder d(length - 1);
    d.feed(f);
    Message m;
    CHECK(d.next(m, error) == Status::kError);
  }
}

TEST_CASE("wire: zero length and unknown types are refused; the error state is sticky") {
  std::string error;
  {
    FrameDecoder d;
    CHECK(feed_and_next(d, header(0, 1), error) == Status::kError);
    CHECK(error.find("zero-length") != std::string::npos);
  }
  for (std::uint8_t type : {std::uint8_t{0}, std::uint8_t{kLastMessageType + 1}, std::uint8_t{255}}) {
    CAPTURE(int{type});
    FrameDecoder d;
    // Refused as soon as the type byte arrives, before the 100-byte body.
    CHECK(feed_and_next(d, header(100, type), error) == Status::kError);
    CHECK(error == "unknown message type " + std::to_string(type));
    // Sticky: valid input afterwards changes nothing.
    d.feed(encode_frame(EagerSyncResponse{1, true}));
    Message m;
    std::string again;
    CHECK(d.next(m, again) == Status::kError);
    CHECK(again == error);
    CHECK(d.failed());
    CHECK(d.buffered() == 0);
    CHECK(d.room() == 0);
  }
}

TEST_CASE("wire: truncated payloads and trailing bytes inside a frame are refused") {
  const Message resp = sample_messages()[2];
  const Bytes f = encode_frame(resp);
  const Bytes next_frame = encode_frame(EagerSyncResponse{1, true});
  const std::uint32_t length = static_cast<std::uint32_t>(f.size() - 4);
  std::string error;
  {
    // The prefix describes a shorter, truncated payload; a valid frame follows. The truncated frame
    // is malformed, and nothing after it is decoded.
    Bytes stream = header(length - 10, f[4]);
    stream.insert(stream.end(), f.begin() + 5, f.end() - 10);
    stream.insert(stream.end(), next_frame.begin(), next_frame.end());
    FrameDecoder d;
    CHECK(feed_and_next(d, stream, error) == Status::kError);
    CHECK(error.find("malformed SyncResponse payload") != std::string::npos);
  }
  {
    // The prefix claims the full size but the payload stops one byte short (the final `more` bool);
    // the next frame's first byte (0x06) is taken as that bool, which is not canonical.
    Bytes stream(f.begin(), f.end() - 1);
    FrameDecoder d;
    CHECK(feed_and_next(d, stream, error) == Status::kNeedMore);
    CHECK(feed_and_next(d, next_frame, error) == Status::kError);
    CHECK(error.find("malformed SyncResponse payload: non-canonical bool") != std::string::npos);
  }
  {
    // Trailing garbage: the payload is longer than the message it encodes.
    Bytes stream = header(length + 1, f[4]);
    stream.insert(stream.end(), f.begin() + 5, f.end());
    stream.push_back(0);
    FrameDecoder d;
    CHECK(feed_and_next(d, stream, error) == Status::kError);
    CHECK(error.find("trailing bytes") != std::string::npos);
  }
  {
    // A well-framed but malformed SyncRequest (ids not ascending).
    FrameDecoder d;
    CHECK(feed_and_next(d, encode_frame(SyncRequest{1, {{5, 1}, {2, 1}}}), error) == Status::kError);
    CHECK(error.find("ascending") != std::string::npos);
  }
}

TEST_CASE("wire: buffering is bounded by max_frame + 5 bytes") {
  const Bytes f = encode_frame(EagerSyncResponse{1, true});  // 10 bytes, L = 6
  FrameDecoder d(6);
  CHECK(d.room() == 11);
  d.feed(f);
  CHECK(d.buffered() == 10);
  CHECK(d.room() == 1);
  std::string error;
  Message m;
  CHECK(d.next(m, error) == Status::kFrame);
  CHECK(d.room() == 11);
  // Feeding more than room() would break the bound: refused, and the decoder fails.
  Bytes two = concat({EagerSyncResponse{1, true}, EagerSyncResponse{2, false}});
  d.feed(two);
  CHECK(d.next(m, error) == Status::kError);
  CHECK(error.find("exceeds the decoder's free space") != std::string::npos);
  CHECK(d.buffered() == 0);
}

TEST_CASE("wire: 10,000 random byte strings in random chunks never crash and end in kNeedMore or kError") {
  Rng rng(20240601);
  const Bytes valid = concat(sample_messages());
  int errors = 0, need_more = 0, frames = 0;
  for (int i = 0; i < 10000; ++i) {
    Bytes input;
    switch (rng.below(3)) {
      case 0: {  // pure noise
        input.resize(rng.below(400));
        for (auto& b : input) b = static_cast<std::uint8_t>(rng.next());
        break;
      }
      case 1: {  // noise behind a plausible small header, so payload decoding is exercised
        input = header(static_cast<std::uint32_t>(1 + rng.below(300)),
                       static_cast<std::uint8_t>(1 + rng.below(4)));
        const std::size_t n = rng.below(400);
        for (std::size_t k = 0; k < n; ++k) input.push_back(static_cast<std::uint8_t>(rng.next()));
        break;
      }
      default: {  // valid frames with a few bytes flipped and possibly cut short
        input = valid;
        const std::size_t flips = 1 + rng.below(4);
        for (std::size_t k = 0; k < flips; ++k)
          input[rng.below(input.size())] ^= static_cast<std::uint8_t>(1 + rng.below(255));
        input.resize(rng.below(input.size() + 1));
        break;
      }
    }
    const std::size_t max_frame = rng.chance(1, 2) ? kDefaultMaxFrame : 64 + rng.below(4096);
    Status last;
    std::string error;
    const auto out = decode_all(
        input, [&] { return 1 + rng.below(97); }, last, error, max_frame);
    frames += static_cast<int>(out.size());
    REQUIRE((last == Status::kNeedMore || last == Status::kError));
    if (last == Status::kError) {
      ++errors;
      CHECK(!error.empty());
    } else {
      ++need_more;
    }
  }
  // Both endings occur, and some mutated streams still carry valid frames before the damage.
  CHECK(errors > 0);
  CHECK(need_more > 0);
  CHECK(frames > 0);
}
