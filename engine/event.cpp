#include "engine/event.h"

#include <cstdio>
#include <cstdlib>

namespace chatter {

namespace {

// Smallest encodings, used with Reader::count so a hostile count cannot make us reserve much.
constexpr std::size_t kMinBytesSize = 4;  // empty byte string
constexpr std::size_t kMinPeerSize = 32 + 4 + 4;
constexpr std::size_t kMinInternalTxSize = 1 + kMinPeerSize + 64;
constexpr std::size_t kBlockSignatureSize = 32 + 8 + 64;

void encode_txs(Writer& w, const std::vector<Bytes>& txs) {
  w.u32(static_cast<std::uint32_t>(txs.size()));
  for (const auto& t : txs) w.bytes(t);
}

std::vector<Bytes> decode_txs(Reader& r) {
  const std::uint32_t n = r.count(kMinBytesSize);
  std::vector<Bytes> out;
  out.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) out.push_back(r.bytes());
  return out;
}

}  // namespace

// ---- InternalTransaction ----

void InternalTransaction::encode_body(Writer& w) const {
  w.u8(static_cast<std::uint8_t>(type));
  peer.encode(w);
}

Hash InternalTransaction::body_hash() const {
  Writer w;
  encode_body(w);
  return blake2b(w.data());
}

void InternalTransaction::encode(Writer& w) const {
  encode_body(w);
  w.fixed(signature);
}

InternalTransaction InternalTransaction::decode(Reader& r) {
  InternalTransaction t;
  const std::uint8_t type = r.u8();
  if (type > static_cast<std::uint8_t>(InternalTransactionType::kPeerRemove))
    throw DecodeError("InternalTransaction: unknown type " + std::to_string(type));
  t.type = static_cast<InternalTransactionType>(type);
  t.peer = Peer::decode(r);
  t.signature = r.fixed<64>();
  return t;
}

// ---- BlockSignature ----

void BlockSignature::encode(Writer& w) const {
  w.fixed(validator);
  w.u64(index);
  w.fixed(signature);
}

BlockSignature BlockSignature::decode(Reader& r) {
  BlockSignature s;
  s.validator = r.fixed<32>();
  s.index = r.u64();
  s.signature = r.fixed<64>();
  return s;
}

// ---- EventBody ----

void EventBody::encode(Writer& w) const {
  encode_txs(w, transactions);
  encode_seq(w, internal_transactions);
  encode_seq(w, block_signatures);
  w.opt_fixed(self_parent);
  w.opt_fixed(other_parent);
  w.fixed(creator);
  w.u64(index);
  w.i64(timestamp);
}

EventBody EventBody::decode(Reader& r) {
  EventBody b;
  b.transactions = decode_txs(r);
  b.internal_transactions = decode_seq<InternalTransaction>(r, kMinInternalTxSize);
  b.block_signatures = decode_seq<BlockSignature>(r, kBlockSignatureSize);
  b.self_parent = r.opt_fixed<32>();
  b.other_parent = r.opt_fixed<32>();
  b.creator = r.fixed<32>();
  b.index = r.u64();
  b.timestamp = r.i64();
  return b;
}

Bytes EventBody::encoded() const {
  Writer w;
  encode(w);
  return w.take();
}

// ---- Event ----

Event::Event(EventBody body, Signature signature)
    : body_(std::move(body)), hash_(blake2b(body_.encoded())), signature_(signature) {}

Event Event::create(EventBody body, const KeyPair& kp) {
  Event e(std::move(body), Signature{});
  e.signature_ = kp.sign(e.hash_);
  return e;
}

void Event::encode(Writer& w) const {
  body_.encode(w);
  w.fixed(signature_);
}

Bytes Event::encoded() const {
  Writer w;
  encode(w);
  return w.take();
}

Event Event::decode(Reader& r) {
  EventBody body = EventBody::decode(r);
  const Signature sig = r.fixed<64>();
  return Event(std::move(body), sig);  // the hash is recomputed here, never read from the wire
}

Event Event::decode(const Bytes& b) {
  Reader r(b);
  Event e = decode(r);
  r.expect_done();
  return e;
}

// ---- WireEvent ----

void WireEvent::encode(Writer& w) const {
  encode_txs(w, transactions);
  encode_seq(w, internal_transactions);
  encode_seq(w, block_signatures);
  w.boolean(self_parent_index.has_value());
  if (self_parent_index) w.u64(*self_parent_index);
  if (other_parent_creator_id.has_value() != other_parent_index.has_value()) {
    std::fprintf(stderr,
                 "chatter::WireEvent::encode: other-parent creator id and index must be set together\n");
    std::abort();
  }
  w.boolean(other_parent_creator_id.has_value());
  if (other_parent_creator_id) {
    w.u32(*other_parent_creator_id);
    w.u64(*other_parent_index);
  }
  w.u32(creator_id);
  w.u64(index);
  w.i64(timestamp);
  w.fixed(signature);
}

WireEvent WireEvent::decode(Reader& r) {
  WireEvent e;
  e.transactions = decode_txs(r);
  e.internal_transactions = decode_seq<InternalTransaction>(r, kMinInternalTxSize);
  e.block_signatures = decode_seq<BlockSignature>(r, kBlockSignatureSize);
  if (r.boolean()) e.self_parent_index = r.u64();
  if (r.boolean()) {
    e.other_parent_creator_id = r.u32();
    e.other_parent_index = r.u64();
  }
  e.creator_id = r.u32();
  e.index = r.u64();
  e.timestamp = r.i64();
  e.signature = r.fixed<64>();
  return e;
}

}  // namespace chatter
