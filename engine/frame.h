// Frames and Roots (spec/consensus.md, "Frames and roots"): the self-contained slice of the graph
// that a Block commits to, from which a graph can be reset without replaying history.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/event.h"
#include "engine/peer.h"

namespace chatter {

// An event together with the consensus values computed for it.
struct FrameEvent {
  EventPtr event;
  std::int64_t round = 0;
  std::int64_t lamport = 0;
  bool witness = false;

  // For hashing: 32-byte event hash, i64 round, i64 lamport, bool witness. The event hash commits to
  // the whole body, so a frame hash commits to every byte of every event.
  void encode_commitment(Writer& w) const;
  // Full form for transfer: Event (body + signature), i64 round, i64 lamport, bool witness.
  void encode(Writer& w) const;
  static FrameEvent decode(Reader& r);
};

// A creator's Root: up to ROOT_DEPTH + 1 consecutive self-chain events, oldest first.
struct Root {
  PublicKey creator;
  std::vector<FrameEvent> events;
};

inline constexpr std::size_t kRootDepth = 10;

struct Frame {
  std::int64_t round = 0;
  PeerSet peers;                  // PS(round)
  std::vector<FrameEvent> events; // received in `round`, consensus order
  PeerSchedule schedule;          // the whole schedule known when the frame was built
  std::vector<Root> roots;        // one per creator, ordered by creator public key bytes
  std::int64_t timestamp = 0;     // median of the timestamps of round's famous witnesses

  // BLAKE2b-256 of: i64 round, PeerSet, u32 n + FrameEvent commitments, PeerSchedule,
  // u32 n + (creator key, u32 m + FrameEvent commitments), i64 timestamp.
  Hash hash() const;
  // Full transfer form (same field order, full events).
  void encode(Writer& w) const;
  static Frame decode(Reader& r);

  const Root* root_of(const PublicKey& k) const;
};

// How two Frames differ (round, peer set, schedule, timestamp, the first differing event, each
// differing Root), as short sentences; empty when they are equal. For diagnosing a safety failure.
std::vector<std::string> frame_differences(const Frame& a, const Frame& b);

}  // namespace chatter
