// The node state machine (DESIGN.md, "The core is a deterministic state machine"): gossip
// (pull then push), event creation, consensus, block commits to the application, block signatures
// and the anchor block. Pure: time comes in with every call, randomness from a seeded Rng, and the
// outputs are returned messages plus calls on the Store and AppProxy ports. The same code runs in
// the Asio runtime (net/), the simulator (sim/) and single-node tests.
//
// States: Babbling (gossiping and voting), CatchingUp (fast-forward) and Shutdown work now; Joining,
// Leaving and Suspended arrive with the membership issue, but the type and its reporting exist.
//
// CatchingUp (fast-forward). Entered at start with NodeConfig::fast_sync, or while running when a
// sync shows the peer holds more than catch_up_threshold events this node lacks. The node asks every
// peer for its position (PositionRequest), asks the one with the highest anchor (the highest block
// with more than TrustCount valid signatures and a snapshot) for that block, its Frame and the
// application snapshot (FastForwardRequest), and checks, before changing anything: more than
// TrustCount valid signatures from the peer set this node already trusts (its own schedule, never
// the one inside the answer), the block is newer than this node's last block, frame hash, peers
// hash, round, schedule, and snapshot hash all match the block. Then it builds the new graph from
// the Frame and restores the application (whose state hash must equal the block's); only when both
// succeeded does it switch over (graph, store, last block) in one store batch, and becomes Babbling.
// Any failure changes nothing, is counted with its reason (stats().last_fast_forward_error), and
// the node tries the next peer; a peer that failed is not asked again during this catch-up. Every
// wait has a timeout. When no peer can serve a fast-forward, the node falls back to gossip.
//
// Restart (NodeConfig::bootstrap). The node resumes from the store without replaying history: it
// resets its graph from the Frame of its last committed block, re-inserts only the stored events
// that were not yet received by that Frame's round (from the position recorded with the Frame,
// Hashgraph::resume_key), restores the app from the latest stored snapshot and re-commits the
// stored blocks after it, checking each state hash against the stored block's (a difference is
// reported as application non-determinism: stats().app_nondeterminism, last_app_error). The
// constructor throws std::runtime_error with one sentence when the store is inconsistent.
//
// Batches: every tick() and receive() is one store batch (Store::begin_batch/end_batch), so a
// persistent store holds each message's insertions, consensus and commits as a whole or not at all.
//
// Snapshots: after committing block i with i % snapshot_interval == 0 the node takes the app's
// snapshot, keeps it in the store (the last keep_snapshots of them) and puts its BLAKE2b-256 hash in
// the block (snapshot_hash) before signing it, so a signed block vouches for its snapshot.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/app_proxy.h"
#include "engine/hashgraph.h"
#include "engine/messages.h"
#include "engine/rng.h"
#include "engine/store.h"

namespace chatter {

struct NodeConfig {
  KeyPair key;
  PeerSet genesis;                              // validators at round 0 (must contain this node)
  std::string moniker;
  std::int64_t heartbeat_ns = 10'000'000;       // gossip period while busy
  std::int64_t slow_heartbeat_ns = 1'000'000'000;  // gossip period while idle
  std::int64_t timeout_ns = 1'000'000'000;      // an unanswered sync is abandoned after this
  std::size_t sync_limit = 1000;                // max events in one sync response / eager push
  std::size_t max_pool = 100'000;               // pending transactions; submit() refuses beyond
  std::size_t max_tx_per_event = 10'000;        // transactions packed into one event
  std::uint64_t seed = 0;                       // peer choice and jitter
  bool fast_sync = false;                       // start in CatchingUp
  bool bootstrap = false;                       // resume from what the store holds (see "Restart")
  std::uint64_t snapshot_interval = 10;         // snapshot every this many blocks (0: never)
  std::size_t keep_snapshots = 3;               // snapshots kept to serve fast-forwards
  // A sync showing the peer holds more than this many events we lack starts a fast-forward
  // (0: never; gossip catches up instead).
  std::uint64_t catch_up_threshold = 0;
  std::int64_t fast_forward_timeout_ns = 10'000'000'000;  // for one FastForwardResponse
  std::int64_t serve_interval_ns = 1'000'000'000;         // at most one fast-forward per peer per this
  // Bounded memory (Hashgraph::compact): once consensus has processed this many rounds since the
  // last compaction, the graph drops what consensus no longer needs, keeping the last
  // compact_keep_rounds processed rounds before its base (0: never compact). The blocks are the
  // same with and without it. Events older than the base can no longer be served by gossip (a peer
  // that far behind fast-forwards: catch_up_threshold) nor accepted as parents of new events.
  // Off by default for now: each compaction still rebuilds a record per round since genesis, so
  // its cost grows with history (BENCHMARKS.md); the fix is a round offset in the hashgraph.
  std::int64_t compact_every_rounds = 0;
  std::int64_t compact_keep_rounds = 20;
  // Hashgraph::Options::verify_event for this node's graph (empty: Event::verify()). Must return
  // exactly what Event::verify() returns; the simulator shares a verification cache between nodes.
  std::function<bool(const Event&)> verify_event = nullptr;
};

// A message to send, and to whom (peer id).
struct Envelope {
  std::uint32_t to = 0;
  Message message;
};

struct NodeStats {
  std::uint32_t id = 0;
  std::string moniker;
  NodeState state = NodeState::kBabbling;
  std::optional<std::int64_t> last_consensus_round;
  std::optional<std::uint64_t> last_block_index;   // last block committed to the app
  std::optional<std::uint64_t> anchor_block;       // highest block with > TrustCount signatures
  std::uint64_t consensus_events = 0;               // processed since the start (or the reset)
  std::uint64_t undetermined_events = 0;
  std::uint64_t events = 0;                        // held in the graph (after compaction: recent)
  std::uint64_t compactions = 0;                   // Hashgraph::compact done
  std::uint64_t transactions = 0;                  // committed
  std::uint64_t transaction_pool = 0;
  std::uint64_t num_peers = 0;
  std::uint64_t sync_requests = 0, sync_errors = 0, events_created = 0, refused_events = 0;
  std::uint64_t app_errors = 0;
  Bytes state_hash;                                // after the last committed block
  std::optional<std::uint64_t> snapshot_anchor;    // highest valid block with a snapshot held
  // Fast-forward: done, refused answers (each with its reason), served to others.
  std::uint64_t fast_forwards = 0, fast_forward_refusals = 0, fast_forwards_served = 0;
  std::optional<std::uint64_t> fast_forward_block;  // the block of the last fast-forward
  std::string last_fast_forward_error;              // "peer N: reason"
  std::string catch_up_status;                      // what CatchingUp is doing now (human text)
  std::uint64_t catch_up_bytes = 0;                 // bytes of fast-forward answers received
  bool bootstrapped = false;                        // resumed from the store at start
  std::uint64_t recommitted_blocks = 0;             // stored blocks re-applied to the app at restart
  std::uint64_t app_nondeterminism = 0;             // state hashes that differed from the stored ones
  std::string last_app_error;
};

class Node {
 public:
  // `store` and `app` must outlive the node.
  Node(NodeConfig config, Store& store, AppProxy& app);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Time passes: maybe start a gossip round (a SyncRequest to a random peer other than the last),
  // create an event on its own when alone, retry uncommitted blocks.
  std::vector<Envelope> tick(std::int64_t now);
  // A message from peer `from` (peer id). Malformed or refused content is counted and dropped;
  // nothing already stored changes.
  std::vector<Envelope> receive(std::uint32_t from, const Message& message, std::int64_t now);
  // Queues a transaction for the next event. False when the pool is full or the node is not
  // Babbling.
  bool submit(Bytes tx);
  // Stops gossiping and creating events (state Shutdown).
  void shutdown();

  NodeState state() const;
  NodeStats stats() const;
  std::uint32_t id() const;
  const Hashgraph& graph() const;
  // Next time tick() has work to do (for hosts that sleep until then).
  std::int64_t next_tick() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chatter
