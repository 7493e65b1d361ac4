#include "store/inmem_store.h"

namespace chatter {

void InmemStore::put_event(const EventPtr& e) {
  if (get_event(e->hash())) return;
  index_.insert(e->hash(), static_cast<std::uint32_t>(events_.size()));
  events_.push_back(e);
}

EventPtr InmemStore::get_event(const Hash& h) const {
  auto pos = index_.find(h, [this](std::uint32_t i) -> const Hash& { return events_[i]->hash(); });
  return pos ? events_[*pos] : nullptr;
}

void InmemStore::append_consensus_events(const std::vector<Hash>& hashes) {
  consensus_.insert(consensus_.end(), hashes.begin(), hashes.end());
}

void InmemStore::put_block(Block b) {
  // Store contract: signatures accumulate. Keep the signatures already recorded for the same block;
  // add_signature re-verifies each against the new body, so a different body drops them.
  auto it = blocks_.find(b.index());
  if (it == blocks_.end()) {
    const auto index = b.index();
    // Blocks arrive in increasing index order: the end hint makes the insert O(1).
    blocks_.emplace_hint(blocks_.end(), index, std::move(b));
    return;
  }
  Block merged = std::move(b);
  for (const auto& [key, sig] : it->second.signatures())
    if (!merged.signatures().contains(key)) merged.add_signature(BlockSignature{key, merged.index(), sig});
  it->second = std::move(merged);
}

std::optional<Block> InmemStore::get_block(std::uint64_t index) const {
  auto it = blocks_.find(index);
  if (it == blocks_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::uint64_t> InmemStore::last_block_index() const {
  if (blocks_.empty()) return std::nullopt;
  return blocks_.rbegin()->first;
}

void InmemStore::put_frame(Frame f) {
  const auto round = f.round;
  // Frames arrive in increasing round order: the end hint makes the insert O(1).
  frames_.insert_or_assign(frames_.end(), round, std::move(f));
}

std::optional<Frame> InmemStore::get_frame(std::int64_t round) const {
  auto it = frames_.find(round);
  if (it == frames_.end()) return std::nullopt;
  return it->second;
}

std::vector<EventPtr> InmemStore::events_from(std::uint64_t position, std::size_t limit) const {
  std::vector<EventPtr> out;
  for (std::uint64_t i = position; i < events_.size() && out.size() < limit; ++i) out.push_back(events_[i]);
  return out;
}

void InmemStore::put_snapshot(std::uint64_t block_index, Bytes snapshot) {
  snapshots_[block_index] = std::move(snapshot);
}

std::optional<Bytes> InmemStore::get_snapshot(std::uint64_t block_index) const {
  auto it = snapshots_.find(block_index);
  if (it == snapshots_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::uint64_t> InmemStore::last_snapshot_index() const {
  if (snapshots_.empty()) return std::nullopt;
  return snapshots_.rbegin()->first;
}

std::optional<Bytes> InmemStore::get_meta(const std::string& key) const {
  auto it = meta_.find(key);
  if (it == meta_.end()) return std::nullopt;
  return it->second;
}

void InmemStore::put_peer_set(std::int64_t round, const PeerSet& set) { schedule_.add(round, set); }

}  // namespace chatter
