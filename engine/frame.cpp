#include "engine/frame.h"

#include <sstream>

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

std::vector<std::string> frame_differences(const Frame& a, const Frame& b) {
  std::vector<std::string> out;
  if (a.round != b.round) out.push_back("frame round (" + std::to_string(a.round) + " vs " + std::to_string(b.round) + ")");
  if (!(a.peers == b.peers)) out.push_back("frame peer set");
  if (!(a.schedule == b.schedule)) out.push_back("frame schedule");
  if (a.timestamp != b.timestamp)
    out.push_back("frame timestamp (" + std::to_string(a.timestamp) + " vs " + std::to_string(b.timestamp) + ")");
  if (a.events.size() != b.events.size()) {
    out.push_back("frame events (" + std::to_string(a.events.size()) + " vs " + std::to_string(b.events.size()) + ")");
  } else {
    for (std::size_t i = 0; i < a.events.size(); ++i) {
      const FrameEvent& x = a.events[i];
      const FrameEvent& y = b.events[i];
      if (x.event->hash() != y.event->hash() || x.round != y.round || x.lamport != y.lamport || x.witness != y.witness) {
        std::ostringstream s;
        s << "frame event " << i << " (" << to_hex(x.event->hash()).substr(0, 16) << " round " << x.round << " lamport "
          << x.lamport << " witness " << x.witness << " vs " << to_hex(y.event->hash()).substr(0, 16) << " round " << y.round
          << " lamport " << y.lamport << " witness " << y.witness << ")";
        out.push_back(s.str());
        break;
      }
    }
  }
  if (a.roots.size() != b.roots.size()) {
    out.push_back("frame roots (" + std::to_string(a.roots.size()) + " vs " + std::to_string(b.roots.size()) + ")");
    return out;
  }
  for (std::size_t i = 0; i < a.roots.size(); ++i) {
    const Root& x = a.roots[i];
    const Root& y = b.roots[i];
    bool same = x.creator == y.creator && x.events.size() == y.events.size();
    for (std::size_t k = 0; same && k < x.events.size(); ++k)
      same = x.events[k].event->hash() == y.events[k].event->hash() && x.events[k].round == y.events[k].round &&
             x.events[k].lamport == y.events[k].lamport && x.events[k].witness == y.events[k].witness;
    if (same) continue;
    std::ostringstream s;
    s << "root of " << pubkey_hex(x.creator).substr(0, 10) << " (" << x.events.size() << " events";
    if (!x.events.empty())
      s << ", last " << to_hex(x.events.back().event->hash()).substr(0, 16) << " index " << x.events.back().event->index()
        << " round " << x.events.back().round;
    s << " vs " << y.events.size() << " events";
    if (!y.events.empty())
      s << ", last " << to_hex(y.events.back().event->hash()).substr(0, 16) << " index " << y.events.back().event->index()
        << " round " << y.events.back().round;
    s << ")";
    out.push_back(s.str());
  }
  return out;
}

}  // namespace chatter
