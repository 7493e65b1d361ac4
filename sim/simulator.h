// The simulated network host (DESIGN.md, sim/): N node state machines (engine/node.h) in one
// process, each with its own InmemStore and SimApp, over a simulated network driven by a
// discrete-event queue in virtual time. Everything random (latencies, where and when transactions
// arrive, the nodes' own generators) is drawn from chatter::Rng streams derived from the seed, so
// the same options give the same run, event for event: `trace_hash` proves it.
//
// The queue is ordered by (virtual time, sequence number of insertion): ties resolve in insertion
// order, deterministically. Entries:
// - a delivery: a frame (the message encoded as the TCP runtime frames it: type byte, then
//   encode_payload's bytes) arrives at send time + latency, where latency is uniform in
//   [min_latency_ns, max_latency_ns] plus slow_latency_ns when the sender or the receiver is slow
//   (so messages between two nodes may overtake each other), plus what the faults add. On arrival
//   a frame whose length prefix exceeds max_frame is dropped and counted (as net/ does), then the
//   real decoder (decode_payload) runs: a DecodeError drops the frame and is counted; what decodes
//   goes to Node::receive, which must refuse what is forged (signatures, parents);
// - a tick: each node has one pending tick, at node.next_tick(), or at now + 1 ms when that is not
//   in the future (no busy loop); it is rescheduled after every tick and every receive;
// - a submission: a transaction every 1/tx_per_s seconds (until tx_until_ns, when set) to a node
//   drawn uniformly. Transaction i is tx_size bytes: i as u64 little-endian, then bytes from the
//   generator (so each is unique);
// - crashes and restarts (fault `crash`).
//
// Faults (SimOptions::faults and the fields below it; `chatter sim --faults` names them). Network
// faults, partitions and crashes happen only in the fault window [0, fault_until_ns); after it the
// network heals. Byzantine behaviours and clock drift last the whole run. Intensities are drawn per
// run from the seed:
// - drop, delay, duplicate, reorder, corrupt, partition: per link, see sim/faults.h (drop 2..15%,
//   delay 20..800 ms for 10..40% of messages, duplicate 2..15%, reorder: 10..30% held 30..300 ms,
//   corrupt: 1..4 bit flips anywhere in the frame for 1..10% of frames; partition: 1..3 random
//   two-sided splits of 0.3..2 s plus one node cut off from 5..20% of the run until the heal);
// - crash: `crashes` times a seeded node (not a late one) loses its Node and app, keeps its store,
//   and restarts with bootstrap after crash_downtime_ns (chatter sim: 2 crashes, 1 s down);
// - clock-drift: every node sees node time = offset + t * (1 + ppm/1e6), ppm in [-5%, +5%], offset
//   in [0, 2 s] (the engine takes time as input; its ticks are mapped back to virtual time);
// - bad-signature, fake-parents, replay, oversized, silence, lying-fastforward: Byzantine validators
//   (nodes 0..b-1, b <= f = (n-1)/3, n >= 4) that run a real Node and mutate what it sends
//   (sim/byzantine.h has each behaviour exactly); signatures are never recomputed. `all` (mix)
//   turns on every fault and spreads each Byzantine behaviour over a seeded subset of the
//   Byzantine nodes (lying-fastforward is node 0's, with one late node to lie to).
//
// Invariants checked after every step (a breach stops the run with safety_ok = false and a
// description of the first divergence). Safety is checked among honest nodes only:
// - agreement: for every block index, every honest node that committed it holds the same block (same
//   body hash, hence the same transactions, state hash and previous-block hash) as the first honest
//   node that committed it; so honest sequences are prefixes of one another with equal state hashes;
// - trusted blocks: honest nodes commit blocks they computed themselves; the one block an honest
//   node applies on others' word, the one it fast-forwards to, must carry more than
//   TrustCount(n) valid signatures of its trusted set (the genesis validators);
// - each committed block links to the previous one (prev_block_hash) and no transaction is
//   committed twice;
// - each node's app saw the commit contract kept (SimApp::contract_violation) and reports the state
//   hash written in the node's last block.
// Bounds (a breach stops the run with bounds_ok = false): the simulator's queue holds at most
// max_queue entries, no node holds more than max_undetermined undetermined events or more than
// max_pool pending transactions, and no exception escapes a node.
//
// Liveness (checked only when the run reached duration_ns, not when stopped early by max_deliveries),
// from the heal (heal_ns: the end of the fault window, or the last restart when later): (1) every
// honest node commits a block within liveness_bound_ns after the heal, and (2) every transaction
// submitted to an honest node before the heal (and not lost in a crashed node's pool) is in a block
// every honest node committed by the end. (1) is waived when submissions stopped (tx_until_ns) before
// the heal: idle nodes rightly stop. Without faults the heal is the midpoint of the run.
// A failure gives liveness_ok = false, a description and per-node diagnostics.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "engine/bytes.h"  // Bytes, Hash

namespace chatter {

// Which faults are on (each a name of `chatter sim --faults`). Intensities are drawn per run from the
// seed (ranges in "Faults" above).
struct SimFaults {
  bool drop = false, delay = false, duplicate = false, reorder = false, corrupt = false, partition = false;
  bool clock_drift = false;
  bool bad_signature = false, fake_parents = false, replay = false, oversized = false, silence = false;
  // `all`: every fault on, Byzantine behaviours spread over the Byzantine nodes by the seed.
  bool mix = false;
  bool network() const { return drop || delay || duplicate || reorder || corrupt || partition; }
  bool byzantine() const { return bad_signature || fake_parents || replay || oversized || silence; }
};

struct SimOptions {
  std::size_t nodes = 4;
  std::uint64_t seed = 1;
  std::int64_t duration_ns = 20'000'000'000;  // virtual time
  std::int64_t min_latency_ns = 1'000'000;
  std::int64_t max_latency_ns = 20'000'000;
  std::vector<std::size_t> slow_nodes;         // node indexes
  std::int64_t slow_latency_ns = 200'000'000;  // extra latency on every message to or from a slow node
  double tx_per_s = 200;                       // virtual; 0 submits none
  std::size_t tx_size = 32;                    // at least 8 (the sequence number)
  std::int64_t tx_until_ns = -1;               // no submission after this time; -1 = until the end
  std::uint64_t max_deliveries = 0;            // stop after this many deliveries; 0 = no cap
  std::ostream* log = nullptr;                 // when set: one line per delivery and commit
  // Late nodes: the last `late_nodes` nodes (validators of the genesis set) are down until
  // late_start_ns (messages to them are lost), then start with fast-sync and must catch up.
  std::size_t late_nodes = 0;
  std::int64_t late_start_ns = -1;        // -1: a quarter of the duration
  std::size_t snapshot_padding = 0;       // extra bytes in every SimApp snapshot
  std::uint64_t snapshot_interval = 10;   // NodeConfig::snapshot_interval
  std::uint64_t snapshot_bytes_per_block = 256u << 10;  // NodeConfig::snapshot_bytes_per_block
  std::uint64_t catch_up_threshold = 0;   // NodeConfig::catch_up_threshold
  std::int64_t compact_every_rounds = 0;  // NodeConfig::compact_every_rounds (0: never)
  std::int64_t compact_keep_rounds = 20;  // NodeConfig::compact_keep_rounds
  // Fault `lying-fastforward`: node 0 is Byzantine in fast-forward only. It claims an anchor far
  // ahead of everyone's (so a catching-up node asks it first) and forges every FastForwardResponse
  // it sends in one way: lying_kind 0 too few signatures, 1 signatures from unknown keys, 2 a wrong
  // frame, 3 wrong snapshot bytes, 4 a truncated snapshot, 5 an altered peer-set schedule in the
  // frame, 6 a block whose peers hash was altered; -1 draws the kind per answer from the seed (among
  // 0..6). Chunked-transfer kinds (sim/sim_lies.h): 7 an older block, 8 a truncated chunk, 9 a bad
  // chunk (for 8 and 9 its positions stay honest).
  bool lying_fastforward = false;
  int lying_kind = -1;
  // Chunked snapshot transfer: NodeConfig::snapshot_chunk_size, serve_chunk_rate, chunks_in_flight,
  // retarget_after_blocks and keep_snapshots of every node.
  std::uint32_t snapshot_chunk_size = 1u << 20;
  std::uint64_t serve_chunk_rate = 64;
  std::size_t chunks_in_flight = 8;
  std::uint64_t retarget_after_blocks = 20;
  std::size_t keep_snapshots = 3;
  // The last late node crashes at this time (-1: never) and restarts crash_downtime_ns later with
  // fast_sync on the same store (to resume an interrupted snapshot transfer).
  std::int64_t late_crash_ns = -1;
  // Fault `crash`: `crashes` times, at a seeded moment in the first 60% of the run, a seeded node
  // (never a late one) crashes: its Node and application are destroyed (messages to it are lost),
  // and after crash_downtime_ns it restarts with NodeConfig::bootstrap from its store (which, like
  // a disk, survives) and a fresh application.
  std::size_t crashes = 0;
  std::int64_t crash_downtime_ns = 2'000'000'000;
  // Crashes at given moments, besides the seeded ones: node `node` crashes at `at_ns` and restarts
  // from its store `down_ns` later (for experiments and tests that need an exact schedule, such as
  // a crash right after a restart). A crash while the node is down does nothing.
  struct PlannedCrash {
    std::size_t node = 0;
    std::int64_t at_ns = 0;
    std::int64_t down_ns = 0;
    // Its messages still on the wire are lost too (a kill -9 between the store's commit and the
    // socket's write): what it sent last may reach its peers only after a restart.
    bool lose_in_flight = false;
  };
  std::vector<PlannedCrash> planned_crashes;

  // Faults of `chatter sim --faults` (spec/cli.md); see "Faults" above for what each one does.
  SimFaults faults;
  // End of the fault window: network faults, partitions and crashes (restarts included) happen
  // before it; then the network heals. -1: 60% of the run when any fault is on, else the midpoint.
  std::int64_t fault_until_ns = -1;
  // Liveness bound: every honest node commits a new block within this much virtual time after the
  // heal (the end of the fault window, or the last restart when later). -1: the rest of the run.
  std::int64_t liveness_bound_ns = -1;
  // Byzantine validators (nodes 0..byzantine-1) when a Byzantine fault is on; -1: f = (n-1)/3.
  // Never more than f; Byzantine faults need n >= 4.
  int byzantine = -1;
  // Frame cap of the simulated transport (net/runtime.h's default): larger frames are dropped.
  std::size_t max_frame = 16u * 1024 * 1024;
  // NodeConfig::fast_forward_timeout_ns (-1: the engine's default, 10 s). A catching-up node whose
  // chosen peer never answers waits this long before it asks another: liveness bounds after a heal
  // must exceed it (chatter sim uses 2 s when a fault is on).
  std::int64_t fast_forward_timeout_ns = -1;
  // Growth bounds checked after every step (a breach stops the run with bounds_ok = false):
  // entries in the simulator's queue (messages in flight, ticks, timers), undetermined events of a
  // node, and a node's transaction pool (NodeConfig::max_pool).
  std::size_t max_queue = 200'000;
  std::uint64_t max_undetermined = 100'000;
  // Share one signature-verification cache among the nodes (NodeConfig::verify_event): each event
  // is verified once per run instead of once per node. Same results either way.
  bool shared_verify_cache = true;
  // Test only: from block `diverge_from_block` on, node `diverge_node`'s application adds a salt to
  // its state hash, so that the safety check must report a divergence. -1: off.
  int diverge_node = -1;
  std::uint64_t diverge_from_block = 5;

  // Dynamic membership (issue 7). joins: each starts a node outside the genesis set at at_ns
  // (node -1: a new one, numbered nodes, nodes + 1, ... in the order listed, key "node<i>"; else
  // `node`, a node that left, restarts from its store and asks to join again), which sends a
  // JoinRequest to a genesis validator and must become a validator. leaves: node `node` is asked to
  // leave (Node::leave) at at_ns. join_timeout_ns and suspend_limit are every node's NodeConfig's.
  struct Join {
    std::int64_t at_ns = 0;
    int node = -1;
  };
  std::vector<Join> joins;
  struct Leave {
    std::size_t node = 0;
    std::int64_t at_ns = 0;
  };
  std::vector<Leave> leaves;
  std::int64_t join_timeout_ns = 2'000'000'000;
  std::uint64_t suspend_limit = 100;
};

// Throws std::invalid_argument with one sentence when the options make no sense (no nodes, a slow
// node out of range, negative or inverted latencies, non-positive duration, tx_size < 8, ...).
void validate(const SimOptions& options);

struct SimNodeSummary {
  std::optional<std::uint64_t> last_block_index;
  std::uint64_t blocks = 0;        // committed blocks (last index + 1)
  std::uint64_t transactions = 0;  // committed transactions
  std::uint64_t events = 0;        // hashgraph events held
  std::uint64_t compactions = 0;   // NodeStats::compactions
  std::uint64_t events_created = 0;
  std::uint64_t undetermined_events = 0;
  std::optional<std::int64_t> last_consensus_round;
  std::uint64_t sync_requests = 0, sync_errors = 0, refused_events = 0, app_errors = 0;
  std::uint64_t transaction_pool = 0;
  std::int64_t last_commit_ns = -1;  // virtual time of the last block commit
  Bytes state_hash;                  // the app's, after the last committed block
  std::vector<Hash> block_hashes;    // Block::hash() of each committed block, from the first held
  std::vector<std::uint64_t> snapshot_blocks;  // indexes of the held blocks that commit to a snapshot
  bool late = false;
  std::uint64_t fast_forwards = 0, fast_forward_refusals = 0, fast_forwards_served = 0;
  std::optional<std::uint64_t> fast_forward_block;
  std::string last_fast_forward_error;
  std::int64_t babbling_ns = -1;   // late nodes: virtual time they became Babbling after starting
  std::uint64_t app_restores = 0;  // snapshots the app restored (only verified ones reach it)
  std::uint64_t crashes = 0;       // times this node crashed and restarted from its store
  std::uint64_t recommitted_blocks = 0, app_nondeterminism = 0;  // at its last restart
  std::uint64_t bootstrap_replayed_rounds = 0;  // at its last restart (NodeStats)
  // Of its current process (NodeStats): events below its graph's base, events with a parent below
  // it, graph rebuilds from an older stored Frame for them, fast-forwards again for them.
  std::uint64_t events_below_frame = 0, parent_below_frame = 0, graph_deepened = 0, below_frame_resyncs = 0;
  // Over all its processes (crashed ones too): graph rebuilds from an older stored Frame (restarts
  // that replayed rounds, and graph_deepened), and events met with a parent below the base.
  std::uint64_t older_frame_rebuilds_all = 0, parent_below_frame_all = 0;
  std::string bootstrap_warning;                // at its last restart (NodeStats)
  std::optional<std::uint64_t> anchor_block, snapshot_anchor;
  // Chunked transfer (NodeStats catch_up_*; of the node's current process).
  std::uint64_t chunks_fetched = 0, chunks_reused = 0, chunks_total = 0, chunk_sources = 0;
  std::uint64_t retargets = 0, bad_chunks = 0, chunks_served = 0;
  std::optional<std::uint64_t> first_target_block;  // late nodes: the first chunked target
  std::string catch_up_status;
  bool byzantine = false;                           // not checked for safety or liveness
  std::int64_t drift_ppm = 0, clock_offset_ns = 0;  // clock-drift: node time = offset + t * (1 + ppm/1e6)
  std::int64_t first_commit_after_heal_ns = -1;
  // Membership: the node's state at the end, whether it is in the newest set of the schedule that
  // the committed blocks give (SimResult::schedule), whether it started outside the genesis set,
  // the peer-set changes it applied, its accepted join round and membership_status (NodeStats),
  // and, in the graph and store of the reference node (SimResult::reference_node), the witnesses it
  // created and the blocks it signed.
  std::string state;
  bool validator = false;
  bool joiner = false;
  std::uint64_t peer_set_changes = 0;
  std::optional<std::int64_t> join_accepted_round;
  std::string membership_status;
  std::uint64_t witnesses = 0;
  std::uint64_t blocks_signed = 0;
  std::size_t schedule_entries = 0;  // of its own schedule
};

// What the faults did in one run, so that a test can show a fault really happened.
struct SimFaultCounters {
  std::uint64_t dropped = 0;            // lost to the drop fault
  std::uint64_t partition_dropped = 0;  // sent, or due for delivery, across a partition
  std::uint64_t delayed = 0, duplicated = 0, reordered = 0;
  std::uint64_t overtaken = 0;      // deliveries of a message sent on its link before one delivered already
  std::uint64_t corrupted = 0;      // frames with flipped bits
  std::uint64_t decode_errors = 0;  // frames the real decoder refused (dropped, as the transport does)
  std::uint64_t oversized_dropped = 0;  // frames over max_frame, dropped on their length prefix
  std::uint64_t partitions = 0, partitions_healed = 0;
  std::uint64_t crashes = 0, restarts = 0;
  std::uint64_t drifting_clocks = 0;
  // Sent by Byzantine nodes.
  std::uint64_t bad_signatures_sent = 0, fake_parents_sent = 0, replayed = 0, oversized_sent = 0,
                malformed_sent = 0, silenced = 0;
  // Seen by honest nodes: events refused (NodeStats::refused_events) and fast-forward answers refused.
  std::uint64_t honest_refused_events = 0, honest_ff_refusals = 0;
  std::uint64_t verify_cache_hits = 0, verify_cache_misses = 0;
};

struct SimResult {
  bool safety_ok = true;
  bool liveness_ok = true;
  bool bounds_ok = true;     // no growth bound breached, no exception escaped a node
  std::int64_t heal_ns = 0;  // end of the fault window (liveness is judged from here)
  std::vector<std::size_t> byzantine_nodes;
  SimFaultCounters faults;
  bool liveness_checked = false;  // false when stopped early by max_deliveries
  std::string failure;            // first safety breach or bound breach, else liveness failure
  std::vector<std::uint64_t> blocks_per_node;
  std::vector<SimNodeSummary> nodes;
  std::uint64_t events_total = 0;   // simulator steps: deliveries + ticks + submissions
  std::uint64_t messages = 0;       // deliveries
  std::uint64_t message_bytes = 0;  // encoded payload bytes delivered
  std::uint64_t ticks = 0;
  std::uint64_t transactions_submitted = 0;
  std::uint64_t transactions_refused = 0;  // submit() said no
  std::uint64_t common_blocks = 0;         // blocks every node committed
  std::uint64_t forged_answers = 0;        // lying-fastforward: forged FastForwardResponses sent
  std::uint64_t forged_chunks = 0;         // lying kinds 8, 9: forged SnapshotChunkResponses sent
  std::uint64_t chunk_requests_to_liar_after_forgery = 0;  // SnapshotChunkRequests node 0 got after one
  std::uint64_t trace_hash = 0;            // first 8 bytes (LE) of the BLAKE2b-256 trace digest
  std::int64_t virtual_ns = 0;             // virtual time reached
  std::string diagnostics;                 // per-node state, one line each (set on failure)
  // Membership: nodes that joined (outside genesis at their start, validators at the end), nodes
  // that left (asked to, Shutdown at the end); the schedule the committed blocks give (genesis plus
  // apply_peer_changes of each block, in index order), and whether every honest node that is
  // running (not Joining or Shutdown) ends with exactly that schedule; the node whose graph and
  // store SimNodeSummary::witnesses and blocks_signed are counted in (-1: none running).
  std::vector<std::size_t> joined, left;
  std::vector<std::pair<std::int64_t, std::vector<std::size_t>>> schedule;  // round -> node indexes
  bool schedules_equal = true;
  int reference_node = -1;
};

// Runs one simulation. Deterministic: same options (log aside) => same result, trace_hash included.
// Throws std::invalid_argument on invalid options (see validate).
SimResult run_simulation(const SimOptions& options);

}  // namespace chatter
