// Restart from the store (NodeConfig::bootstrap): see node.h, "Restart". The graph comes back from
// the Frame of the last committed block plus the stored events after the position recorded with
// it, so the work does not grow with the length of history; the app comes back from the latest
// stored snapshot plus the stored blocks after it.
#include <functional>
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

// Inserts into `g` the stored events from position `resume` on (the graph was reset from a stored
// Frame, or is the genesis graph), appending those inserted to `*inserted`. Returns how many stored
// events that were not received by the Frame's round still could not be inserted (a parent below
// the Frame): without them the node's view of a creator's chain, perhaps its own, would stop short.
std::uint64_t Node::Impl::insert_stored_events(Hashgraph& g, std::uint64_t resume, std::vector<EventPtr>* inserted,
                                               std::string* why) {
  std::uint64_t missing = 0;
  const std::uint64_t total = store.event_count();
  for (std::uint64_t pos = resume; pos < total;) {
    const auto chunk = store.events_from(pos, kChunk);
    if (chunk.empty()) break;
    for (const EventPtr& e : chunk) {
      const std::uint64_t at = pos++;
      if (g.contains(e->hash())) continue;
      if (g.insert_stored(e, at).ok()) {
        inserted->push_back(e);
        continue;
      }
      // Refused. An event below the Frame (received by its round) is older than every event the
      // graph holds of its creator and is not needed; one above the creator's last held event is.
      const auto last = g.last_event_of(e->creator());
      const EventPtr held = last ? g.event(*last) : nullptr;
      if (!held || e->index() > held->index()) {
        if (missing == 0 && why) *why = "stored event " + to_hex(e->hash()) + " (index " + std::to_string(e->index()) + ") has a parent the graph lacks";
        ++missing;
      }
    }
  }
  return missing;
}

std::unique_ptr<Hashgraph> Node::Impl::graph_from_older_frame(
    std::int64_t processed, std::uint64_t next_block, const std::function<bool(const Hashgraph&, std::uint64_t)>& enough,
    std::vector<EventPtr>* events, std::uint64_t* missing, std::uint64_t* replayed) {
  for (std::int64_t step = 4; step <= processed && step <= kMaxReplayRounds; step *= 4) {
    const std::int64_t base = processed - step;
    const auto older = store.get_frame(base);
    const auto base_resume = store.get_meta(Hashgraph::resume_key(base));
    if (!older || !base_resume) return nullptr;  // not stored (a bounded store forgot it)
    // The first block after the older Frame's round.
    std::uint64_t next = next_block;
    while (next > 0) {
      const auto b = store.get_block(next - 1);
      if (!b || b->body().round_received <= base) break;
      --next;
    }
    std::string why;
    auto candidate = Hashgraph::from_frame(*older, next, store, graph_options(), &why);
    if (!candidate) return nullptr;
    candidate->replay_stored_rounds(processed);
    events->clear();
    *missing = insert_stored_events(*candidate, read_u64(*base_resume), events, &why);
    if (!enough(*candidate, *missing)) continue;  // still short: further back
    candidate->run_consensus();
    // The replay must give back what the store holds, else keep the graph as it was.
    if (candidate->replay_mismatch() || candidate->last_consensus_round().value_or(-1) < processed ||
        candidate->next_block_index() != next_block)
      return nullptr;
    candidate->finish_replay();
    *replayed = static_cast<std::uint64_t>(step);
    return candidate;
  }
  return nullptr;
}

void Node::Impl::take_stored_signatures(const std::vector<EventPtr>& events) {
  for (const EventPtr& e : events)
    for (const BlockSignature& s : e->body().block_signatures)
      if (s.validator == e->creator()) take_signature(s);
}

void Node::Impl::bootstrap() {
  stats.bootstrapped = true;
  load_membership_blocks();
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
    if (auto pos = store.get_meta(Hashgraph::resume_key(round))) resume = read_u64(*pos);
    std::string why;
    auto g = Hashgraph::from_frame(*frame, *last + 1, store, graph_options(), &why);
    if (!g) throw std::runtime_error("the store's frame of round " + std::to_string(round) + " is inconsistent: " + why);
    // The Frame holds the schedule before its block; the block's receipts may change it (issue 7).
    if (!g->apply_receipts(*block, &why))
      throw std::runtime_error("the receipts of stored block " + std::to_string(*last) + " cannot be applied: " + why);
    std::vector<EventPtr> events;
    std::uint64_t missing = insert_stored_events(*g, resume, &events, &why);
    // A stored event above the Frame whose parent lies below it (an event that stayed undetermined
    // for long, typically this node's own last one from before an earlier crash): restart from an
    // older stored Frame, replaying the rounds in between in memory, until every such event fits.
    // Without this the node would forget that event, create another with the same index (a fork
    // its peers refuse) and stop committing.
    const std::string first_why = why;
    if (missing > 0) {
      std::vector<EventPtr> older_events;
      std::uint64_t older_missing = 0, replayed = 0;
      auto older = graph_from_older_frame(
          round, *last + 1, [](const Hashgraph&, std::uint64_t m) { return m == 0; }, &older_events, &older_missing,
          &replayed);
      if (older) {
        g = std::move(older);
        events = std::move(older_events);
        missing = older_missing;
        stats.bootstrap_replayed_rounds = replayed;
      }
    }
    if (missing > 0)
      stats.bootstrap_warning = std::to_string(missing) + " stored event(s) could not be restored: " + first_why;
    graph = std::move(g);
    rebuild_slots();
    take_stored_signatures(events);

    // The app: the latest snapshot at or before the last block, then the blocks after it.
    std::uint64_t from = 0;
    const auto snap_index = store.last_snapshot_index();
    if (snap_index && *snap_index <= *last) {
      if (auto snap = store.get_snapshot(*snap_index)) {
        note_snapshot(*snap_index, snap->size());
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
  } else {
    // No block yet: the genesis graph with every stored event.
    std::vector<EventPtr> events;
    std::string why;
    if (const std::uint64_t missing = insert_stored_events(*graph, 0, &events, &why))
      stats.bootstrap_warning = std::to_string(missing) + " stored event(s) could not be restored: " + why;
    take_stored_signatures(events);
  }
  refresh_peers();
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
