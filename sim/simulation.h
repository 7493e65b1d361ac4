// Internal to sim/: the Simulation class behind run_simulation (simulator.h has the contract).
// simulator.cpp holds the event loop, the network and the nodes' lifecycle; sim_checks.cpp the
// invariant checks (safety, bounds, liveness) and the result.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/node.h"
#include "sim/byzantine.h"
#include "sim/faults.h"
#include "sim/sim_app.h"
#include "store/inmem_store.h"

namespace chatter::simdetail {

// Hash of a long sequence of records without holding it: records are appended to a buffer that is
// folded into a running BLAKE2b-256 chain (digest = H(digest || buffer)) every 64 KiB and at the end.
class TraceHasher {
 public:
  Writer& out() { return buf_; }
  void maybe_fold() {
    if (buf_.data().size() >= (1u << 16)) fold();
  }
  std::uint64_t finish();

 private:
  void fold();
  Writer buf_;
  Hash digest_;
};

// Signature checks shared by the simulated nodes (NodeConfig::verify_event): the true result of
// verify(creator, hash, signature) for each triple seen, so each event costs one Ed25519 check per
// run instead of one per node. Looked up, never iterated: no order leaks. Cleared when it holds
// kMaxEntries (a deterministic point of the run).
class VerifyCache {
 public:
  bool verify(const Event& e);
  std::uint64_t hits = 0, misses = 0;

 private:
  static constexpr std::size_t kMaxEntries = 1u << 21;
  struct Key {
    Hash hash;
    Signature signature;
    PublicKey creator;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHasher {
    std::size_t operator()(const Key& k) const;
  };
  std::unordered_map<Key, bool, KeyHasher> map_;
};

using Key = std::pair<std::int64_t, std::uint64_t>;  // (virtual time, insertion sequence)

struct Item {
  enum class Kind { kTick, kDeliver, kSubmit, kCrash, kRestart, kLeave, kRejoin } kind = Kind::kTick;
  std::size_t node = 0;        // the node that acts
  std::size_t from = 0;        // deliveries: the sender
  WireFrame frame;             // deliveries: the bytes on the wire
  std::uint64_t link_seq = 0;  // deliveries: order of sending on the link from -> node
  std::int64_t down_ns = -1;   // crashes: the downtime (-1: SimOptions::crash_downtime_ns)
  bool lose_in_flight = false; // crashes: its messages not delivered yet are lost
};

struct SimNode {
  explicit SimNode(std::size_t padding) : app(padding) {}
  InmemStore store;
  SimApp app;
  std::int64_t start_ns = 0;  // down (messages lost, no ticks) before this
  bool late = false;
  bool down = false;  // crashed, not restarted yet
  std::uint64_t crashes = 0;
  NodeConfig config;  // to restart it
  std::int64_t babbling_ns = -1;
  std::unique_ptr<Node> node;
  std::uint32_t id = 0;
  bool slow = false;
  Clock clock;                             // clock-drift (identity when off)
  std::unique_ptr<Byzantine> byzantine;    // set for a Byzantine validator
  std::optional<std::uint64_t> seen_last;  // last block index already checked
  // Older-Frame rebuilds (restarts that replayed rounds, graph_deepened) and events met with a
  // parent below the base, summed over the processes that crashed (NodeStats counts one process).
  std::uint64_t past_older_frame_rebuilds = 0, past_parent_below_frame = 0;
  std::uint64_t fast_forwards_seen = 0;
  std::optional<Key> pending_tick;
  std::int64_t last_commit_ns = -1;
  std::int64_t first_commit_after_heal_ns = -1;
  std::vector<Hash> block_hashes;
  std::optional<std::uint64_t> first_target;  // the first chunked-transfer target seen
  PublicKey key;
  bool joiner = false;       // started outside the genesis set (or rejoined)
  bool asked_to_leave = false;
  bool pool_lost = false;    // Shutdown: its pool's transactions marked lost
};

struct GlobalBlock {
  Hash hash;
  Bytes state_hash;
  std::size_t first_node = 0;
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& o);
  SimResult run();

 private:
  // simulator.cpp
  void push(std::int64_t t, Item item);
  void schedule_tick(std::size_t i, std::int64_t t);
  void reschedule(std::size_t i);
  void send(std::size_t from, std::vector<Envelope> out);
  void deliver(Item& item);
  void step(Item& item);
  void crash(std::size_t i, std::int64_t down_ns, bool lose_in_flight);
  void restart(std::size_t i);
  void rejoin(std::size_t i);
  void submit();
  void note(const char* what, std::size_t from, std::size_t to);  // a fault's action: trace and log
  bool honest(std::size_t i) const { return !nodes_[i]->byzantine; }

  // sim_checks.cpp
  void fail(std::string what);
  void breach(std::string what);  // a bound or an escaped exception
  void check_commits(std::size_t i);
  void check_bounds(std::size_t i);
  void finish();
  void check_liveness();
  std::string describe_nodes() const;

  static constexpr std::uint64_t kNone = ~0ULL;
  static constexpr std::uint64_t kRefused = ~0ULL - 1;
  // Not required to commit: in the pool of a node that crashed, or submitted to a Byzantine node.
  static constexpr std::uint64_t kLost = ~0ULL - 2;

  const SimOptions& opt_;
  Rng net_rng_;
  Rng tx_rng_;
  VerifyCache verify_cache_;  // before nodes_: the nodes' configs point at it
  PeerSet genesis_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::map<std::uint32_t, std::size_t> index_of_id_;
  std::unique_ptr<NetworkFaults> net_;
  std::map<Key, Item> queue_;
  std::uint64_t seq_ = 0;
  std::int64_t now_ = 0;
  std::int64_t tx_interval_ns_ = 0;
  std::int64_t fault_until_ = 0;
  bool stopped_early_ = false;
  std::vector<std::uint64_t> link_sent_, link_delivered_;  // by from * n + to: sequence numbers
  std::vector<GlobalBlock> blocks_;                        // by block index: the first copy committed
  std::vector<std::int64_t> tx_submitted_at_;              // by transaction sequence number
  std::vector<std::uint64_t> tx_block_;  // by sequence number: block index, kNone, kRefused or kLost
  std::vector<std::size_t> tx_target_;   // by sequence number: the node it was submitted to
  PeerSchedule schedule_;  // genesis + the changes of the committed blocks, in index order
  TraceHasher trace_;
  SimResult result_;
};

}  // namespace chatter::simdetail
