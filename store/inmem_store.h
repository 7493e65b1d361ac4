// InmemStore: the Store port in memory. Keeps everything for now (bounded caches arrive with the
// persistence issue).
#pragma once

#include <deque>
#include <map>
#include <unordered_map>

#include "engine/hash_index.h"
#include "engine/store.h"

namespace chatter {

class InmemStore final : public Store {
 public:
  void put_event(const EventPtr& e) override;
  EventPtr get_event(const Hash& h) const override;
  std::uint64_t event_count() const override { return events_.size(); }

  void append_consensus_events(const std::vector<Hash>& hashes) override;
  std::uint64_t consensus_event_count() const override { return consensus_.size(); }
  const std::vector<Hash>& consensus_events() const { return consensus_; }

  void put_block(Block b) override;
  std::optional<Block> get_block(std::uint64_t index) const override;
  std::optional<std::uint64_t> last_block_index() const override;

  void put_frame(Frame f) override;
  std::optional<Frame> get_frame(std::int64_t round) const override;

  void put_peer_set(std::int64_t round, const PeerSet& set) override;
  PeerSchedule peer_schedule() const override { return schedule_; }

  std::vector<EventPtr> events_from(std::uint64_t position, std::size_t limit) const override;

  void put_snapshot(std::uint64_t block_index, Bytes snapshot) override;
  std::optional<Bytes> get_snapshot(std::uint64_t block_index) const override;
  std::optional<std::uint64_t> last_snapshot_index() const override;
  void drop_snapshots_below(std::uint64_t block_index) override {
    snapshots_.erase(snapshots_.begin(), snapshots_.lower_bound(block_index));
  }

  void put_meta(const std::string& key, Bytes value) override { meta_[key] = std::move(value); }
  std::optional<Bytes> get_meta(const std::string& key) const override;

 private:
  std::vector<EventPtr> events_;  // insertion order
  HashIndex index_;               // hash -> position in events_
  std::vector<Hash> consensus_;
  std::map<std::uint64_t, Block> blocks_;
  std::map<std::int64_t, Frame> frames_;
  PeerSchedule schedule_;
  std::map<std::uint64_t, Bytes> snapshots_;
  std::map<std::string, Bytes> meta_;
};

}  // namespace chatter
