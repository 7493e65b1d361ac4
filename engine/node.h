// The node state machine (DESIGN.md, "The core is a deterministic state machine"): gossip
// (pull then push), event creation, consensus, block commits to the application, block signatures
// and the anchor block. Pure: time comes in with every call, randomness from a seeded Rng, and the
// outputs are returned messages plus calls on the Store and AppProxy ports. The same code runs in
// the Asio runtime (net/), the simulator (sim/) and single-node tests.
//
// States and transitions (DESIGN.md, "Node states"; issue 7 for membership):
// - At start: a node whose key is in the newest set of its trusted schedule (the genesis set, or
//   the schedule its store holds with bootstrap) starts Babbling, or CatchingUp with fast_sync;
//   any other node starts in Joining.
// - Joining: the node sends a JoinRequest (a PEER_ADD of its own Peer, NodeConfig::net_addr and
//   moniker, signed by its key) to a contact (NodeConfig::contacts, or the genesis validators when
//   empty). Unanswered within join_timeout_ns, it asks the next contact, each wait twice the last
//   (at most 60 s), saying so in stats().membership_status. A JoinResponse refused: Shutdown, with
//   the application's reason in membership_status. Accepted: the node notes the accepted round,
//   takes the response's peers as whom to ask (not as trusted) and enters CatchingUp (a
//   fast-forward, which proves the schedule from the one it trusts, or gossip when no peer can
//   serve one), then Babbling. It creates events only once its own verified schedule has it in a
//   set in effect now or later, so it becomes a validator exactly at accepted round + 6.
// - A validator that receives a JoinRequest (from any id) while Babbling checks tx.verify(), that
//   it is a PEER_ADD and that from_id is tx.peer.id(); it submits the transaction in its next event
//   (once per key while pending) and answers the joiner when the block holding it is committed:
//   accepted or refused per the application's receipt, accepted_round = that block's round
//   received, peers = the set in effect from accepted_round + 6. A request from a key already in
//   the newest set is answered at once as accepted.
// - Peer-set changes: every node applies the receipts of each committed block (apply_peer_changes:
//   the set changes at round received + 6) and its graph recomputes what the new set changes
//   (Hashgraph::apply_receipts). The blocks that changed the set are kept (store metadata
//   "membership.blocks") and sent with every fast-forward answer as the proof of the Frame's
//   schedule; a requester refuses an answer whose proof does not lead from its trusted schedule to
//   the Frame's (a reason in last_fast_forward_error; nothing changes).
// - leave(now), in any state: a node in Joining, alone in the newest set, or not a validator (not
//   in a set in effect now or later) goes to Shutdown at once. Otherwise it submits a PEER_REMOVE
//   of itself and enters Leaving, where it goes on gossiping and creating events; refused:
//   Shutdown; accepted in the block of round RR: Shutdown once consensus has processed round
//   RR + 5, the last round in which it is a validator.
// - Suspended: entered from Babbling when this node's own undetermined events exceed
//   suspend_limit x |validators in effect| (suspended_by_limit), or when a change removed it (it is
//   in no set in effect from the next round on) without it asking to leave. It creates no events,
//   keeps pulling, answering syncs and serving fast-forwards; only a restart leaves it (the own
//   undetermined events a process starts with do not count against its limit).
// - Shutdown: answers nothing. shutdown() enters it from any state.
//
// CatchingUp (fast-forward). Entered at start with NodeConfig::fast_sync, or while running when a
// sync shows the peer holds more than catch_up_threshold events this node lacks. The node asks every
// peer for its position (PositionRequest), asks the one with the highest anchor (the highest block
// with more than TrustCount valid signatures and a snapshot) for that block, its Frame and the
// application snapshot (FastForwardRequest), and checks, before changing anything: more than
// TrustCount valid signatures from the peer set this node already trusts (its own schedule, never
// the one inside the answer), the block is newer than this node's last block, frame hash, peers
// hash, round, schedule, and snapshot hash (of the inline snapshot, or of the manifest: see
// "Snapshot transfer") all match the block, and the block is not older than the anchor that peer
// announced (an honest anchor only grows; an older one is a replay of old state). Then it builds
// the new graph from the Frame and restores the application (whose state hash must equal the
// block's); only when both succeeded does it switch over (graph, store, last block) in one store batch, and becomes Babbling.
// Any failure changes nothing, is counted with its reason (stats().last_fast_forward_error), and
// the node tries the next peer; a peer that failed is not asked again during this catch-up. Every
// wait has a timeout. When no peer can serve a fast-forward, the node falls back to gossip.
//
// Snapshot transfer. A snapshot of at most snapshot_chunk_size bytes travels inline in the
// FastForwardResponse; a larger one is answered with a SnapshotManifest (total size, chunk size,
// each chunk's BLAKE2b-256), and the block's snapshot_hash is BLAKE2b-256 of the manifest's encoding
// (engine/snapshot.h: the one rule every node applies at commit). After verifying block, frame and
// manifest as above, the node fetches the chunks (SnapshotChunkRequest) from every peer that may
// hold that snapshot (the one that sent the manifest, and any peer whose position is at or past the
// target block), at most chunks_in_flight at a time, spread over them (fewest outstanding first),
// each verified on arrival against the manifest (length and hash). A peer that sends a bad or
// truncated chunk is refused with the reason and not asked again during this catch-up; a chunk
// unanswered within chunk_timeout_ns is asked again (a peer timing out 3 times is left aside); a
// peer answering kUnavailable is no longer asked for this snapshot; kBusy (its rate limit) is
// retried later. Progress is persisted in the node's store batches through Store::put_meta: key
// "ff.target" holds the verified FastForwardResponse (block, frame, manifest), and every verified
// chunk is stored under "ff.chunk.<hex of its hash>" (content-addressed: equal chunks of another
// snapshot are reused). A node restarted with fast_sync on the same store re-verifies the target
// against its trusted schedule, re-hashes the stored chunks and fetches only the missing ones.
// Every position_refresh_ns the node re-asks positions: when some peer's anchor is more than
// retarget_after_blocks past the target, or no peer serves the target any more, it retargets to
// the newest anchor (kept chunks reused); after max_retargets it falls back to gossip, saying why.
// Nothing of the node's consensus state changes until every chunk is in: the snapshot is then
// assembled, restored and switched over exactly as an inline one; the transfer's metadata is then
// emptied (put_meta with no bytes counts as absent). Progress: NodeStats catch_up_* fields and
// catch_up_status. Serving: chunks come from the stored snapshots (the last keep_snapshots), read
// once into a cache of two; each peer gets at most serve_chunk_rate chunks per second (a burst of
// one second's worth), beyond that kBusy; serving never waits for anything.
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
// Snapshots: after committing block i with i % snapshot_interval == 0, and i at least
// ceil(S / snapshot_bytes_per_block) blocks after the last snapshot's block (S that snapshot's size:
// a large state is snapshotted less often, so its cost per block stays bounded; every node knows the
// last snapshot and its size, so all take the same ones), the node takes the app's
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
#include "engine/node_metrics.h"
#include "engine/rng.h"
#include "engine/store.h"

namespace chatter {

struct NodeConfig {
  KeyPair key;
  PeerSet genesis;                              // validators at round 0 (this node need not be one)
  // Membership (issue 7; see "States" above). Whom a node outside the current set asks to join
  // (the CLI's peers.json; empty: the genesis set); an unanswered JoinRequest is retried after this
  // long, against the next contact, the wait doubling up to 60 s; Suspended when this node's own
  // undetermined events exceed suspend_limit x |validators in effect| (0: never). net_addr is this
  // node's advertised address, carried in its PEER_ADD so that others can reach it.
  std::vector<Peer> contacts;
  std::int64_t join_timeout_ns = 10'000'000'000;
  std::uint64_t suspend_limit = 100;
  std::string net_addr;
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
  // Spacing by size, so that snapshotting costs at most this many bytes per block on average: the
  // next snapshot is taken at a multiple of snapshot_interval at least ceil(S / this) blocks after
  // the last one (S its size in bytes). 0: no spacing. A network parameter like snapshot_interval.
  std::uint64_t snapshot_bytes_per_block = 256u << 10;
  std::size_t keep_snapshots = 3;               // snapshots kept to serve fast-forwards
  // A sync showing the peer holds more than this many events we lack starts a fast-forward
  // (0: never; gossip catches up instead).
  std::uint64_t catch_up_threshold = 0;
  std::int64_t fast_forward_timeout_ns = 10'000'000'000;  // for one FastForwardResponse
  std::int64_t serve_interval_ns = 1'000'000'000;         // at most one fast-forward per peer per this
  // Chunked snapshot transfer (see "Snapshot transfer" above). snapshot_chunk_size is a network
  // parameter like snapshot_interval: it decides snapshot_hash (engine/snapshot.h), so every
  // validator must use the same value.
  std::uint32_t snapshot_chunk_size = 1u << 20;
  std::size_t chunks_in_flight = 8;                        // chunk requests outstanding at once
  std::int64_t chunk_timeout_ns = 5'000'000'000;           // an unanswered chunk is asked again
  std::uint64_t serve_chunk_rate = 64;                     // chunks served per peer per second (0: none)
  std::int64_t position_refresh_ns = 2'000'000'000;        // re-ask positions while transferring
  std::uint64_t retarget_after_blocks = 20;                // network anchor this far past the target: retarget
  std::size_t max_retargets = 5;                           // then fall back to gossip
  std::uint64_t max_snapshot_bytes = std::uint64_t{1} << 32;  // larger manifests are refused
  // Bounded memory (Hashgraph::compact): once consensus has processed this many rounds since the
  // last compaction, the graph drops what consensus no longer needs, keeping the last
  // compact_keep_rounds processed rounds before its base (0: never compact). The blocks are the
  // same with and without it, and a compaction's cost depends on the recent rounds only (the graph
  // keeps its rounds from an offset), so it is on by default. Events below the base are still
  // served to a peer that lacks them, from the store while it holds them (Hashgraph::events_beyond;
  // a bounded store forgets the oldest, and a peer that far behind fast-forwards:
  // catch_up_threshold). A new event whose parent is below the base (one that arrives late: its
  // creator was cut off or crashed before sending it) makes the node rebuild its graph from an
  // older stored Frame that holds that parent, or, when the store lacks it (after a
  // fast-forward), fast-forward again to a newer anchor (node_below_frame.cpp; NodeStats
  // parent_below_frame, graph_deepened, below_frame_resyncs).
  std::int64_t compact_every_rounds = 50;
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
  // Events below the graph's base (after a fast-forward, restart or compaction) that a peer sent:
  // already received, not needed, so not refusals. And events whose parent lies below the base
  // (spec "Frames and roots"): met, handled by rebuilding the graph from an older stored Frame that
  // holds the parent (graph_deepened), or by fast-forwarding again to a newer anchor whose Frame
  // lies above them (below_frame_resyncs).
  std::uint64_t events_below_frame = 0, parent_below_frame = 0, graph_deepened = 0, below_frame_resyncs = 0;
  std::uint64_t app_errors = 0;
  Bytes state_hash;                                // after the last committed block
  std::optional<std::uint64_t> snapshot_anchor;    // highest valid block with a snapshot held
  // Fast-forward: done, refused answers (each with its reason), served to others.
  std::uint64_t fast_forwards = 0, fast_forward_refusals = 0, fast_forwards_served = 0;
  std::optional<std::uint64_t> fast_forward_block;  // the block of the last fast-forward
  std::string last_fast_forward_error;              // "peer N: reason"
  std::string catch_up_status;                      // what CatchingUp is doing now (human text)
  std::uint64_t catch_up_bytes = 0;                 // bytes of fast-forward answers received
  // Chunked transfer progress (the current or last transfer of this process).
  std::optional<std::uint64_t> catch_up_target_block;
  std::uint64_t catch_up_chunks_done = 0, catch_up_chunks_total = 0;
  std::uint64_t catch_up_snapshot_bytes_done = 0, catch_up_snapshot_bytes_total = 0;
  std::uint64_t catch_up_chunks_fetched = 0;  // verified chunks received by this process
  std::uint64_t catch_up_chunks_reused = 0;   // found in the store (restart, retarget) instead
  std::uint64_t catch_up_chunk_sources = 0;   // distinct peers that sent verified chunks
  std::uint64_t catch_up_retargets = 0, catch_up_bad_chunks = 0;
  std::uint64_t chunks_served = 0;
  bool bootstrapped = false;                        // resumed from the store at start
  // Restart: rounds replayed below the last block's round because a stored event above its Frame
  // had a parent below it (0: the restart started from that Frame); and the reason when such an
  // event could not be brought back at all (the restart then went on without it).
  std::uint64_t bootstrap_replayed_rounds = 0;
  std::string bootstrap_warning;
  std::uint64_t recommitted_blocks = 0;             // stored blocks re-applied to the app at restart
  std::uint64_t app_nondeterminism = 0;             // state hashes that differed from the stored ones
  std::string last_app_error;
  // Metrics (net/metrics.h formats them for GET /metrics). Counters only grow while the node runs.
  std::uint64_t events_received = 0;     // new events inserted from peers' sync answers and pushes
  std::uint64_t blocks_committed = 0;    // blocks this node committed to the app (not fast-forwarded)
  LatencyHistogram sync_latency;         // SyncRequest to its SyncResponse, from the `now` values given
  std::uint64_t fast_forwards_started = 0;  // entries into CatchingUp (at start with fast_sync too)
  // fast_forward_refusals by reason (index: FastForwardRefusal).
  std::array<std::uint64_t, kFastForwardRefusalCount> fast_forward_refusals_by_reason{};
  // Membership (see "States"): what joining, leaving or a removal is doing now (human text), the
  // accepted round of this node's join, JoinRequests sent, peer-set changes applied to the
  // schedule, and whether the node is Suspended for its undetermined events.
  std::string membership_status;
  std::optional<std::int64_t> join_accepted_round;
  std::uint64_t join_requests_sent = 0;
  std::uint64_t peer_set_changes = 0;
  bool suspended_by_limit = false;
  // Join latency: the `now` of this node's first JoinRequest, and of the first call after which it
  // was Babbling as a validator (in a set of its schedule in effect now or later); -1 until then.
  std::int64_t join_requested_ns = -1, joined_ns = -1;
  // joined_ns - join_requested_ns in seconds, once both are known.
  std::optional<double> join_latency_s() const {
    if (join_requested_ns < 0 || joined_ns < 0) return std::nullopt;
    return static_cast<double>(joined_ns - join_requested_ns) / 1e9;
  }
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
  // Asks to leave the validator set (see "States": Leaving, then Shutdown once the removal has
  // taken effect, i.e. consensus processed round RR + 5; at once when alone, Joining or not a
  // validator). Callable in any state; returns the messages to send.
  std::vector<Envelope> leave(std::int64_t now);
  // Every peer of any set of the schedule, the contacts, and joiners whose JoinRequest to this node
  // is pending (deduplicated by key, this node included when it is in the schedule): whom the
  // runtime may have to reach (Envelope::to ids).
  std::vector<Peer> known_peers() const;

  NodeState state() const;
  NodeStats stats() const;
  std::uint32_t id() const;
  const Hashgraph& graph() const;
  // Next time tick() has work to do (for hosts that sleep until then).
  std::int64_t next_tick() const;
  // The index of the block that committed the events received in round `round_received`, for the
  // recent blocks this node committed (the last kRecentBlocks); nullopt otherwise.
  std::optional<std::uint64_t> block_of_round(std::int64_t round_received) const;
  static constexpr std::size_t kRecentBlocks = 1024;

  struct Impl;  // internal (node_impl.h)

 private:
  std::vector<Envelope> tick_body(std::int64_t now);
  std::vector<Envelope> receive_body(std::uint32_t from, const Message& message, std::int64_t now);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chatter
