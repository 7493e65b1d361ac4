// InmemStore: the Store port in memory. Keeps everything by default. With Options::cache_size > 0
// it is bounded, for long-running nodes whose graph is compacted (NodeConfig::compact_every_rounds):
//   - events: only the last cache_size events stay; event_count() still counts all, get_event()
//     returns nullptr for a forgotten one and events_from() starts at the oldest one held;
//   - consensus order: only about the last cache_size hashes stay in consensus_events()
//     (consensus_event_count() counts all);
//   - blocks: only the last kept_blocks; Frames (and their restart positions, Hashgraph::resume_key)
//     only from the round of the oldest block held, and at least the last kept_blocks of them;
//     get_block()/get_frame() return nullopt for forgotten ones.
// Snapshots, peer sets and other metadata are kept (the node prunes snapshots itself). What a node
// needs stays: its last block, the Frame of that block's round with its resume position and the
// events after it (when cache_size covers the undetermined events), the recent blocks for anchors.
#pragma once
#pragma once

#include <deque>
#include <map>
#include <unordered_map>

#include "engine/hash_index.h"
#include "engine/store.h"

namespace chatter {

class InmemStore final : public Store {
 public:
  struct Options {
    std::size_t cache_size = 0;     // events kept (0: all, and everything else too)
    std::size_t kept_blocks = 256;  // with cache_size > 0: blocks (and at least as many Frames) kept
  };
  InmemStore() = default;
  explicit InmemStore(Options options) : options_(options) {}

  void put_event(const EventPtr& e) override;
  EventPtr get_event(const Hash& h) const override;
  std::uint64_t event_count() const override { return first_ + events_.size(); }

  void append_consensus_events(const std::vector<Hash>& hashes) override;
  std::uint64_t consensus_event_count() const override { return consensus_dropped_ + consensus_.size(); }
  const std::vector<Hash>& consensus_events() const { return consensus_; }

  void put_block(Block b) override;
  std::optional<Block> get_block(std::uint64_t index) const override;
  std::optional<std::uint64_t> last_block_index() const override;

  void put_frame(Frame f) override;
  std::optional<Frame> get_frame(std::int64_t round) const override;

  void put_peer_set(std::int64_t round, const PeerSet& set) override;
  PeerSchedule peer_schedule() const override { return schedule_; }

  std::vector<EventPtr> events_from(std::uint64_t position, std::size_t limit) const override;
  std::optional<std::uint64_t> position_of(const PublicKey& creator, std::uint64_t index) const override;

  void put_snapshot(std::uint64_t block_index, Bytes snapshot) override;
  std::optional<Bytes> get_snapshot(std::uint64_t block_index) const override;
  std::optional<std::uint64_t> last_snapshot_index() const override;
  void drop_snapshots_below(std::uint64_t block_index) override {
    snapshots_.erase(snapshots_.begin(), snapshots_.lower_bound(block_index));
  }

  void put_meta(const std::string& key, Bytes value) override { meta_[key] = std::move(value); }
  std::optional<Bytes> get_meta(const std::string& key) const override;

 private:
  void trim_frames();
  Options options_;
  std::deque<EventPtr> events_;   // insertion order, from position first_
  std::uint64_t first_ = 0;
  HashIndex index_;               // hash -> absolute position
  // creator -> positions of its events by index, from index `first` on (one self-chain per creator;
  // an event out of sequence, e.g. a fork, is not indexed here).
  struct Chain {
    std::uint64_t first = 0;
    std::deque<std::uint64_t> positions;
  };
  std::unordered_map<PublicKey, Chain, DigestHasher> chains_;
  std::uint64_t consensus_dropped_ = 0;
  std::vector<Hash> consensus_;
  std::map<std::uint64_t, Block> blocks_;
  std::map<std::int64_t, Frame> frames_;
  PeerSchedule schedule_;
  std::map<std::uint64_t, Bytes> snapshots_;
  std::map<std::string, Bytes> meta_;
};

}  // namespace chatter
