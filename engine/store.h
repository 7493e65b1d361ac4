// The Store port: where the engine records the graph and what consensus derived from it.
// Adapters live in store/ (InmemStore here; LmdbStore with the persistence issue).
//
// Contract: the hashgraph keeps its own in-memory working set for speed and writes every accepted
// event, processed round's frame and block here; readers (HTTP service, fast-forward serving,
// restart) read from here. Implementations must be safe to call from the one thread that drives
// the node; they need not be thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/block.h"
#include "engine/event.h"
#include "engine/frame.h"
#include "engine/peer.h"

namespace chatter {

class Store {
 public:
  virtual ~Store() = default;

  virtual void put_event(const EventPtr& e) = 0;
  virtual EventPtr get_event(const Hash& h) const = 0;  // nullptr when unknown
  virtual std::uint64_t event_count() const = 0;

  // The consensus order, appended one round at a time.
  virtual void append_consensus_events(const std::vector<Hash>& hashes) = 0;
  virtual std::uint64_t consensus_event_count() const = 0;

  virtual void put_block(Block b) = 0;  // insert or replace (signatures accumulate)
  virtual std::optional<Block> get_block(std::uint64_t index) const = 0;
  virtual std::optional<std::uint64_t> last_block_index() const = 0;

  virtual void put_frame(Frame f) = 0;
  virtual std::optional<Frame> get_frame(std::int64_t round) const = 0;

  virtual void put_peer_set(std::int64_t round, const PeerSet& set) = 0;
  virtual PeerSchedule peer_schedule() const = 0;

  // ---- batches ----
  // The node brackets each unit of work (one message's insertions with the consensus and commits
  // they triggered) with begin_batch()/end_batch(); a persistent store makes each batch durable as
  // a whole (a crash leaves the store before or after a batch, never in between). Calls do not
  // nest. Writes outside a batch are durable on their own. Default: nothing to do.
  virtual void begin_batch() {}
  virtual void end_batch() {}

  // Events in insertion order, which is topological: put_event appends at position event_count().
  // At most `limit` events from `position` on (fewer at the end).
  virtual std::vector<EventPtr> events_from(std::uint64_t position, std::size_t limit) const = 0;
  // Where the event `creator` made at `index` is in that order (nullopt: unknown, or forgotten by a
  // bounded store). Lets a compacted graph serve a peer the events below its base (events_beyond).
  virtual std::optional<std::uint64_t> position_of(const PublicKey& creator, std::uint64_t index) const {
    (void)creator;
    (void)index;
    return std::nullopt;
  }

  // ---- application snapshots: the application state right after block `block_index` ----
  virtual void put_snapshot(std::uint64_t block_index, Bytes snapshot) = 0;
  virtual std::optional<Bytes> get_snapshot(std::uint64_t block_index) const = 0;
  virtual std::optional<std::uint64_t> last_snapshot_index() const = 0;
  // Forgets the snapshots of blocks below `block_index` (the node keeps only the last few).
  virtual void drop_snapshots_below(std::uint64_t block_index) { (void)block_index; }

  // ---- metadata: small named values the node keeps across restarts ----
  virtual void put_meta(const std::string& key, Bytes value) = 0;
  virtual std::optional<Bytes> get_meta(const std::string& key) const = 0;
};

}  // namespace chatter
