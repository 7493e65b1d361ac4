#include "engine/frame.h"

#include <cstdio>
#include <cstdlib>

#include "engine/crypto.h"

namespace chatter {

namespace {

// Smallest encodings, used with Reader::count (codec.h).
constexpr std::size_t kMinEventSize = 4 + 4 + 4 + 1 + 1 + 32 + 8 + 8 + 64;
constexpr std::size_t kMinFrameEventSize = kMinEventSize + 8 + 8 + 1;
constexpr std::size_t kMinRootSize = 32 + 4;

const Event& event_of(const FrameEvent& fe, const char* fn) {
  if (!fe.event) {
    std::fprintf(stderr, "chatter::%s: FrameEvent without an event\n", fn);
    std::abort();
  }
  return *fe.event;
}

// One writer for both forms: the hash commits to event hashes, the transfer form carries events.
void write_events(Writer& w, const std::vector<FrameEvent>& events, bool full) {
  w.u32(static_cast<std::uint32_t>(events.size()));
  for (const auto& fe : events) full ? fe.encode(w) : fe.encode_commitment(w);
}

void write_frame(Writer& w, const Frame& f, bool full) {
  w.i64(f.round);
  f.peers.encode(w);
  write_events(w, f.events, full);
  f.schedule.encode(w);
  w.u32(static_cast<std::uint32_t>(f.roots.size()));
  for (const auto& root : f.roots) {
    w.fixed(root.creator);
    write_events(w, root.events, full);
  }
  w.i64(f.timestamp);
}

}  // namespace

void FrameEvent::encode_commitment(Writer& w) const {
  w.fixed(event_of(*this, "FrameEvent::encode_commitment").hash());
  w.i64(round);
  w.i64(lamport);
  w.boolean(witness);
}

void FrameEvent::encode(Writer& w) const {
  event_of(*this, "FrameEvent::encode").encode(w);
  w.i64(round);
  w.i64(lamport);
  w.boolean(witness);
}

FrameEvent FrameEvent::decode(Reader& r) {
  FrameEvent fe;
  fe.event = std::make_shared<const Event>(Event::decode(r));
  fe.round = r.i64();
  fe.lamport = r.i64();
  fe.witness = r.boolean();
  return fe;
}

Hash Frame::hash() const {
  Writer w;
  write_frame(w, *this, false);
  return blake2b(w.data());
}

void Frame::encode(Writer& w) const { write_frame(w, *this, true); }

Frame Frame::decode(Reader& r) {
  Frame f;
  f.round = r.i64();
  f.peers = PeerSet::decode(r);
  f.events = decode_seq<FrameEvent>(r, kMinFrameEventSize);
  f.schedule = PeerSchedule::decode(r);
  const std::uint32_t n = r.count(kMinRootSize);
  f.roots.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    Root root;
    root.creator = r.fixed<32>();
    // Strict order gives one encoding per frame and at most one root per creator.
    if (!f.roots.empty() && !(f.roots.back().creator < root.creator))
      throw DecodeError("Frame: roots not strictly ordered by creator key");
    root.events = decode_seq<FrameEvent>(r, kMinFrameEventSize);
    f.roots.push_back(std::move(root));
  }
  f.timestamp = r.i64();
  return f;
}

const Root* Frame::root_of(const PublicKey& k) const {
  // Linear: a frame has one root per validator, and a locally built frame need not be sorted yet.
  for (const auto& root : roots)
    if (root.creator == k) return &root;
  return nullptr;
}

}  // namespace chatter
