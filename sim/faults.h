// Internal to sim/ (not part of its interface): the simulated wire and its network faults, and the
// clock-drift mapping. The simulator (simulator.cpp) owns one NetworkFaults per run; everything is
// drawn from seeded chatter::Rng streams, so the same options give the same decisions.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/bytes.h"
#include "engine/messages.h"
#include "engine/rng.h"
#include "sim/simulator.h"

namespace chatter::simdetail {

constexpr std::int64_t kMs = 1'000'000;

// Independent generator streams from one seed (so that, e.g., the transaction schedule does not shift
// when the network draws a different number of latencies).
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream);
enum Stream : std::uint64_t {
  kNetwork = 1,
  kTransactions = 2,
  kStart = 3,
  kLies = 4,
  kCrashes = 5,
  kFaults = 6,
  kPartitions = 7,
  kDrift = 8,
  kMix = 9,
  kNodeBase = 100,
  kByzantineBase = 50'000,
};

// A frame on the simulated wire, as net/wire.h frames a message: the type byte, then the payload
// (encode_payload). `declared` is what its u32 length prefix says, normally bytes.size(); an
// oversized frame claims more than it carries (the transport refuses it on the prefix alone, so
// the simulator need not allocate it).
struct WireFrame {
  Bytes bytes;
  std::uint64_t declared = 0;
};
WireFrame encode_frame(const Message& m);

// One partition episode: during [start, end) the nodes with side[i] != side[j] cannot talk.
struct Partition {
  std::int64_t start = 0, end = 0;
  std::vector<std::uint8_t> side;
  bool long_cut = false;  // one node cut off from all others
};

// The network faults of SimOptions::faults, active before `until` (the heal). Per directed link the
// intensities are drawn once per run from the seed:
// - drop: each message lost with probability 2%..15% (per link);
// - delay: each message delayed by 20..800 ms extra with probability 10%..40% (per link);
// - duplicate: each message delivered a second time (its own latency) with probability 2%..15%;
// - reorder: each message held 30..300 ms extra with probability 10%..30%, so later ones overtake it;
// - corrupt: 1..4 bits flipped anywhere in the frame (type byte included) with probability 1%..10%;
// - partition: 1..3 episodes, each a random split into two non-empty sides for 0.3..2 s, plus one
//   long cut-off: a seeded node isolated from everyone from 5..20% of the run until the heal.
class NetworkFaults {
 public:
  NetworkFaults(const SimOptions& o, std::int64_t until, std::uint64_t seed);

  // What happens to one message from -> to sent at `now`: the extra delays of each copy to deliver
  // (empty: lost). Counts in `c`.
  std::vector<std::int64_t> fate(std::size_t from, std::size_t to, std::int64_t now, SimFaultCounters& c);
  // Flips bits of the frame (corrupt fault); true when it did.
  bool maybe_corrupt(std::size_t from, std::size_t to, std::int64_t now, WireFrame& f, SimFaultCounters& c);
  // Is the link cut by a partition at `t`?
  bool cut(std::size_t a, std::size_t b, std::int64_t t) const;
  const std::vector<Partition>& partitions() const { return partitions_; }

 private:
  struct Link {
    std::uint64_t drop = 0, delay = 0, duplicate = 0, reorder = 0, corrupt = 0;  // per mille
  };
  SimFaults f_;
  std::size_t n_;
  std::int64_t until_;
  Rng rng_;
  std::vector<Link> links_;  // from * n + to
  std::vector<Partition> partitions_;
};

// Clock drift: node time = offset + t + t * ppm / 1e6 (ppm in [-50000, 50000], offset in [0, 2 s]),
// monotonic in t; `real` inverts it, rounding up so that a node asked to tick at node time T ticks
// no earlier than T on its own clock.
struct Clock {
  std::int64_t ppm = 0, offset = 0;
  std::int64_t node_time(std::int64_t t) const;
  std::int64_t real(std::int64_t node_t) const;
};

}  // namespace chatter::simdetail
