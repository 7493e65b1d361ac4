// Internal to sim/: a Byzantine validator's outgoing traffic. A Byzantine node runs a real Node
// (so it votes and gossips like a validator); the simulator passes each message that Node sends
// through Byzantine::outgoing, which turns it into the frames that actually go on the wire. Its
// behaviours (each one a fault name of `chatter sim --faults`):
// - bad-signature: in about a third of its SyncResponses / EagerSyncRequests, each event (its own or
//   a forwarded one) has its signature altered with probability 1/2 (at least one per message);
// - fake-parents: in about a third of them, events get fabricated or missing parents: an other-parent
//   index far beyond anything created, an other-parent creator id no validator has, the self-parent
//   removed, an earlier self-parent, the other-parent removed, or a whole fabricated event appended
//   (its own creator id, a parent that does not exist, a made-up signature);
// - replay: in about a quarter of its messages, one of the last 64 frames it sent (to anyone) is
//   sent again as well;
// - oversized: in about a tenth of its messages, an extra frame that is oversized (a length prefix
//   of 16 MiB + 1 up to 64 MiB) or malformed (unknown type byte, truncated, trailing bytes, garbage
//   payload, a sequence count of 2^32-1);
// - silence: it sends nothing at all to a seeded, non-empty subset of its peers (never all of them
//   for 4 nodes or more: selective);
// - lying-fastforward (node 0 only): it claims an anchor 1000 blocks ahead in every
//   PositionResponse and forges every FastForwardResponse it sends (SimOptions::lying_kind).
// Signatures are never recomputed: an altered event is one honest nodes must refuse.
#pragma once

#include <deque>
#include <vector>

#include "sim/faults.h"

namespace chatter::simdetail {

struct ByzantineBehaviours {
  bool bad_signature = false, fake_parents = false, replay = false, oversized = false, silence = false;
  bool lying_fastforward = false;
};

class Byzantine {
 public:
  // `self`: this node's index; `ids`: every node's peer id by index.
  Byzantine(std::size_t self, std::vector<std::uint32_t> ids, ByzantineBehaviours b, int lying_kind,
            std::uint64_t seed);
  // The frames that go to node `to` instead of message `m`.
  std::vector<WireFrame> outgoing(std::size_t to, Message m, SimFaultCounters& c);
  const ByzantineBehaviours& behaviours() const { return b_; }
  bool silent_toward(std::size_t to) const { return b_.silence && silent_[to] != 0; }
  std::uint64_t forged_answers() const { return forged_; }  // lying-fastforward

 private:
  void break_signatures(std::vector<WireEvent>& events, SimFaultCounters& c);
  void fake_parents(std::vector<WireEvent>& events, SimFaultCounters& c);
  void lie(Message& m);
  WireFrame malformed(const WireFrame& real, SimFaultCounters& c);

  std::size_t self_;
  std::vector<std::uint32_t> ids_;
  ByzantineBehaviours b_;
  int lying_kind_;
  Rng rng_;
  std::vector<std::uint8_t> silent_;  // by node index
  std::deque<WireFrame> sent_;        // the last frames sent, for replay
  std::uint64_t forged_ = 0;
};

}  // namespace chatter::simdetail
