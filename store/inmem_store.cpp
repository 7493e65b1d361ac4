#include "store/inmem_store.h"

#include <algorithm>

#include "engine/hashgraph.h"

namespace chatter {

void InmemStore::put_event(const EventPtr& e) {
  if (get_event(e->hash())) return;
  index_.insert(e->hash(), static_cast<std::uint32_t>(event_count()));
  Chain& chain = chains_[e->creator()];
  if (chain.positions.empty()) chain.first = e->index();
  if (e->index() == chain.first + chain.positions.size()) chain.positions.push_back(event_count());
  events_.push_back(e);
  if (options_.cache_size > 0 && events_.size() > options_.cache_size) {
    const EventPtr& old = events_.front();
    Chain& oc = chains_[old->creator()];
    if (!oc.positions.empty() && oc.positions.front() == first_) {
      oc.positions.pop_front();
      ++oc.first;
    }
    index_.erase(old->hash(),
                 [this](std::uint32_t i) -> const Hash& { return events_[i - first_]->hash(); });
    events_.pop_front();
    ++first_;
  }
}

EventPtr InmemStore::get_event(const Hash& h) const {
  auto pos = index_.find(h, [this](std::uint32_t i) -> const Hash& { return events_[i - first_]->hash(); });
  return pos ? events_[*pos - first_] : nullptr;
}

void InmemStore::append_consensus_events(const std::vector<Hash>& hashes) {
  consensus_.insert(consensus_.end(), hashes.begin(), hashes.end());
  if (options_.cache_size > 0 && consensus_.size() > 2 * options_.cache_size) {
    // Amortised: drop the older half at once.
    const std::size_t drop = consensus_.size() - options_.cache_size;
    consensus_.erase(consensus_.begin(), consensus_.begin() + static_cast<std::ptrdiff_t>(drop));
    consensus_dropped_ += drop;
  }
}

void InmemStore::put_block(Block b) {
  // Store contract: signatures accumulate. Keep the signatures already recorded for the same block;
  // add_signature re-verifies each against the new body, so a different body drops them.
  auto it = blocks_.find(b.index());
  if (it == blocks_.end()) {
    const auto index = b.index();
    // Blocks arrive in increasing index order: the end hint makes the insert O(1).
    blocks_.emplace_hint(blocks_.end(), index, std::move(b));
    if (options_.cache_size > 0) {
      while (blocks_.size() > options_.kept_blocks) blocks_.erase(blocks_.begin());
      trim_frames();
    }
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
  if (options_.cache_size > 0) trim_frames();
}

void InmemStore::trim_frames() {
  const std::int64_t oldest_block_round = blocks_.empty() ? 0 : blocks_.begin()->second.body().round_received;
  while (frames_.size() > options_.kept_blocks && frames_.begin()->first < oldest_block_round) {
    meta_.erase(Hashgraph::resume_key(frames_.begin()->first));
    frames_.erase(frames_.begin());
  }
}

std::optional<Frame> InmemStore::get_frame(std::int64_t round) const {
  auto it = frames_.find(round);
  if (it == frames_.end()) return std::nullopt;
  return it->second;
}

std::vector<EventPtr> InmemStore::events_from(std::uint64_t position, std::size_t limit) const {
  std::vector<EventPtr> out;
  const std::uint64_t end = event_count();
  for (std::uint64_t i = std::max(position, first_); i < end && out.size() < limit; ++i) out.push_back(events_[i - first_]);
  return out;
}

std::optional<std::uint64_t> InmemStore::position_of(const PublicKey& creator, std::uint64_t index) const {
  auto it = chains_.find(creator);
  if (it == chains_.end() || index < it->second.first) return std::nullopt;
  const std::uint64_t off = index - it->second.first;
  if (off >= it->second.positions.size()) return std::nullopt;
  return it->second.positions[off];
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
