#include "store/inmem_store.h"

namespace chatter {

void InmemStore::put_event(const EventPtr& e) { events_.emplace(e->hash(), e); }

EventPtr InmemStore::get_event(const Hash& h) const {
  auto it = events_.find(h);
  return it == events_.end() ? nullptr : it->second;
}

void InmemStore::append_consensus_events(const std::vector<Hash>& hashes) {
  consensus_.insert(consensus_.end(), hashes.begin(), hashes.end());
}

void InmemStore::put_block(const Block& b) { blocks_.insert_or_assign(b.index(), b); }

std::optional<Block> InmemStore::get_block(std::uint64_t index) const {
  auto it = blocks_.find(index);
  if (it == blocks_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::uint64_t> InmemStore::last_block_index() const {
  if (blocks_.empty()) return std::nullopt;
  return blocks_.rbegin()->first;
}

void InmemStore::put_frame(const Frame& f) { frames_.insert_or_assign(f.round, f); }

std::optional<Frame> InmemStore::get_frame(std::int64_t round) const {
  auto it = frames_.find(round);
  if (it == frames_.end()) return std::nullopt;
  return it->second;
}

void InmemStore::put_peer_set(std::int64_t round, const PeerSet& set) { schedule_.add(round, set); }

}  // namespace chatter
