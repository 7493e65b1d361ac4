// Restart from the store (NodeConfig::bootstrap): see node.h, "Restart". The graph comes back from
// the Frame of the last committed block plus the stored events after the position recorded with
// it, so the work does not grow with the length of history; the app comes back from the latest
// stored snapshot plus the stored blocks after it.
#include <stdexcept>

#include "engine/node_impl.h"

namespace chatter {

namespace {

constexpr std::size_t kChunk = 4096;

std::uint64_t read_u64(const Bytes& b) {
  Reader r(b.data(), b.size());
  return r.u64();
}

}  // namespace

void Node::Impl::bootstrap() {
  stats.bootstrapped = true;
  std::uint64_t resume = 0;
  const auto last = store.last_block_index();
  if (last) {
    const auto block = store.get_block(*last);
    if (!block) throw std::runtime_error("the store names block " + std::to_string(*last) + " as its last but holds no such block");
    const std::int64_t round = block->body().round_received;
    const auto frame = store.get_frame(round);
    if (!frame)
      throw std::runtime_error("the store holds block " + std::to_string(*last) + " but not the frame of its round " +
                               std::to_string(round));
    if (frame->hash() != block->body().frame_hash)
      throw std::runtime_error("the store's frame of round " + std::to_string(round) + " does not match block " +
                               std::to_string(*last));
    std::string why;
    auto g = Hashgraph::from_frame(*frame, *last + 1, store, graph_options(), &why);
    if (!g) throw std::runtime_error("the store's frame of round " + std::to_string(round) + " is inconsistent: " + why);
    graph = std::move(g);
    rebuild_slots();
    if (auto pos = store.get_meta(Hashgraph::resume_key(round))) resume = read_u64(*pos);

    // The app: the latest snapshot at or before the last block, then the blocks after it.
    std::uint64_t from = 0;
    const auto snap_index = store.last_snapshot_index();
    if (snap_index && *snap_index <= *last) {
      if (auto snap = store.get_snapshot(*snap_index)) {
        pending_restore = std::move(*snap);
        pending_restore_index = *snap_index;
        from = *snap_index + 1;
      }
    }
    for (std::uint64_t i = from; i <= *last; ++i) {
      auto b = store.get_block(i);
      if (!b) throw std::runtime_error("the store lacks block " + std::to_string(i) + " (its last is " + std::to_string(*last) + ")");
      recommit.push_back(std::move(*b));
    }
    last_block_hash = block->hash();
    stats.last_block_index = *last;
    stats.state_hash = block->body().state_hash;
    // Anchors among the recent blocks (signatures are stored with them).
    for (std::uint64_t i = *last >= 64 ? *last - 64 : 0; i <= *last; ++i)
      if (auto b = store.get_block(i)) update_anchor(*b);
  }

  // The events not yet received by the Frame's round, in their stored (topological) order.
  const std::uint64_t total = store.event_count();
  for (std::uint64_t pos = resume; pos < total;) {
    const auto chunk = store.events_from(pos, kChunk);
    if (chunk.empty()) break;
    for (const EventPtr& e : chunk) {
      const std::uint64_t at = pos++;
      if (graph->contains(e->hash())) continue;
      // An event below the Frame (already received by its round) is refused here: it is not needed.
      if (!graph->insert_stored(e, at).ok()) continue;
      for (const BlockSignature& s : e->body().block_signatures)
        if (s.validator == e->creator()) take_signature(s);
    }
  }
  graph->run_consensus();
  for (Block& b : graph->take_new_blocks()) uncommitted.push_back(std::move(b));
}

bool Node::Impl::recover_app() {
  if (pending_restore) {
    Bytes restored;
    try {
      restored = app.restore(*pending_restore);
    } catch (const AppBusy&) {
      return false;
    } catch (const AppError& e) {
      ++stats.app_errors;
      stats.last_app_error = std::string("restoring the stored snapshot: ") + e.what();
      return false;
    }
    const auto b = store.get_block(*pending_restore_index);
    if (b && restored != b->body().state_hash) {
      ++stats.app_nondeterminism;
      stats.last_app_error = "application non-determinism: the snapshot of block " + std::to_string(*pending_restore_index) +
                             " restores to state hash " + to_hex(restored) + ", the block says " +
                             to_hex(b->body().state_hash);
    }
    pending_restore.reset();
    pending_restore_index.reset();
  }
  while (!recommit.empty()) {
    const Block& stored = recommit.front();
    // The block as the app first saw it: before the commit filled in its results.
    BlockBody body = stored.body();
    body.state_hash.clear();
    body.internal_transaction_receipts.clear();
    body.snapshot_hash = Hash{};
    CommitResponse res;
    try {
      res = app.commit_block(Block(std::move(body)));
    } catch (const AppBusy&) {
      return false;
    } catch (const AppError& e) {
      ++stats.app_errors;
      stats.last_app_error = std::string("re-committing stored block ") + std::to_string(stored.index()) + ": " + e.what();
      return false;
    }
    if (res.state_hash != stored.body().state_hash) {
      ++stats.app_nondeterminism;
      stats.last_app_error = "application non-determinism: re-committing block " + std::to_string(stored.index()) +
                             " gives state hash " + to_hex(res.state_hash) + ", the stored block says " +
                             to_hex(stored.body().state_hash);
    }
    stats.transactions += stored.body().transactions.size();
    ++stats.recommitted_blocks;
    recommit.pop_front();
  }
  return true;
}

}  // namespace chatter
