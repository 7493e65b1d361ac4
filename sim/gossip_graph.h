// Seeded random gossip graphs: the input of the consensus property tests and of the benchmark.
//
// Each step picks a creator c and a different creator o (uniformly, from a seeded Rng) and makes c
// create an event whose self-parent is c's last event and whose other-parent is o's last event, as
// if c had just synced from o. Every creator starts with one parentless event. Events come out in
// creation order, which is a valid topological order. Same options, same graph, byte for byte,
// whatever `sign_threads` is.
//
// Details that make a graph reproducible: the first events are the creators' parentless events
// (index 0) in creator order; then each step draws c = below(n), o = below(n - 1) (mapped to skip c),
// then the transactions' bytes, all from one Rng(seed). With one participant there is no o and
// events have only a self-parent. An event's timestamp is its position in creation order.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/crypto.h"
#include "engine/event.h"
#include "engine/peer.h"
#include "engine/rng.h"

namespace chatter {

struct GossipGraphOptions {
  std::size_t participants = 4;
  std::size_t events = 1000;  // total, including the first event of each creator
  std::uint64_t seed = 1;
  std::size_t txs_per_event = 1;  // transactions packed in each event
  std::size_t tx_size = 16;       // bytes per transaction
  unsigned sign_threads = 1;      // signing is the slow part of generation; >1 uses std::thread
  // A quiet creator: while an event's position in creation order is in [quiet_from, quiet_to), no
  // other creator takes `quiet_creator` as other-parent (as if nobody could pull from it); it keeps
  // creating events. Its events of that stretch reach the others only afterwards, which makes
  // witnesses that a node may receive after their round was decided. Off when quiet_from >=
  // quiet_to or participants < 3. Outside the stretch the draws are exactly those described above.
  std::size_t quiet_creator = 0;
  std::size_t quiet_from = 0;
  std::size_t quiet_to = 0;
};

struct GossipGraph {
  std::vector<KeyPair> keys;     // keys[i] signs creator i's events (KeyPair::from_name("p<i>"))
  PeerSet peers;                 // all creators, in key order of `keys`
  std::vector<EventPtr> events;  // creation order
};

GossipGraph make_gossip_graph(const GossipGraphOptions& options);

// A different valid topological order of the same events (each event after both its parents),
// drawn with `rng`: repeatedly picks a random event among those whose parents are already placed.
std::vector<EventPtr> shuffle_topological(const std::vector<EventPtr>& events, Rng& rng);

}  // namespace chatter
