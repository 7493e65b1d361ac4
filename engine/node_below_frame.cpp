// Events whose parent lies below the graph's base (spec "Frames and roots": "the engine fetches the
// missing ancestry or re-synchronises, and never stalls on it"). After a fast-forward, a restart or
// a compaction the graph holds each creator's events from some index on; an event that arrives
// late (its creator was cut off, or crashed before sending it) can name an other-parent older than
// that. Inserting it needs that parent's round and Lamport timestamp, which only a graph holding
// the parent's ancestry can give. The same holds for an event whose parents are in the graph but
// of a round below the base's round - 1 (kParentRoundBelowBase: the witnesses its round depends on
// were received before the base and are gone). Two ways out, in this order:
//  - the store holds the parent (this node compacted its graph, or restarted from its store): the
//    graph is rebuilt from an older stored Frame that holds it, the rounds in between replayed in
//    memory and checked against the stored Frames (Node::Impl::graph_from_older_frame), and the
//    events are inserted again (at most one rebuild per 2 x the sync timeout);
//  - it does not (the node fast-forwarded): the node fast-forwards again, to a newer anchor block,
//    whose Frame lies above those events once the network has received them. Attempts are spaced
//    by a doubling wait (from 2 x the sync timeout, at most 60 s) so that a network without a newer
//    anchor yet is not asked in a loop; meanwhile the node keeps gossiping.
#include "engine/node_impl.h"

namespace chatter {

// The hash of the other-parent `w` names, when the store holds it (nullopt otherwise).
std::optional<Hash> Node::Impl::stored_parent(const WireEvent& w) const {
  if (!w.other_parent_creator_id || !w.other_parent_index) return std::nullopt;
  const auto slot = slot_of_id.find(*w.other_parent_creator_id);
  if (slot == slot_of_id.end()) return std::nullopt;
  const PublicKey& creator = graph->known_creators()[slot->second];
  const auto pos = store.position_of(creator, *w.other_parent_index);
  if (!pos) return std::nullopt;
  const auto stored = store.events_from(*pos, 1);
  if (stored.empty() || stored.front()->creator() != creator || stored.front()->index() != *w.other_parent_index)
    return std::nullopt;
  return stored.front()->hash();
}

std::size_t Node::Impl::handle_below_frame(std::int64_t now) {
  if (below_frame.empty()) return 0;
  std::vector<WireEvent> pending;
  pending.swap(below_frame);
  below_frame_keys.clear();
  const std::int64_t parent_round = below_frame_parent_round;
  below_frame_parent_round = std::numeric_limits<std::int64_t>::max();
  if (const auto needed = stored_parent(pending.front())) {
    // A rebuild replays up to kMaxReplayRounds rounds: at most one per 2 x the sync timeout, so
    // that a Byzantine creator naming ancient parents again and again cannot keep the node
    // rebuilding (the events come again with a later sync).
    if (now < deepen_not_before) return 0;
    deepen_not_before = now + 2 * cfg.timeout_ns;
    std::vector<EventPtr> events;
    std::uint64_t missing = 0, replayed = 0;
    auto g = graph_from_older_frame(
        graph->last_consensus_round().value_or(-1), graph->next_block_index(),
        [&](const Hashgraph& c, std::uint64_t) {
          return c.contains(*needed) && (parent_round == std::numeric_limits<std::int64_t>::max() ||
                                         c.base_round() < 0 || c.base_round() - 1 <= parent_round);
        },
        &events, &missing, &replayed);
    if (g) {
      graph = std::move(g);
      rebuild_slots();
      ++stats.graph_deepened;
      const std::size_t added = insert_all(pending);
      below_frame.clear();  // what still does not fit waits for the next sync
      below_frame_keys.clear();
      return added;
    }
    // No stored Frame old enough (or the replay disagreed with the store): as without the parent.
  }
  if (cfg.catch_up_threshold == 0 || now < resync_not_before) return 0;
  resync_backoff = resync_backoff == 0 ? 2 * cfg.timeout_ns : std::min(2 * resync_backoff, kMaxBackoffNs);
  resync_not_before = now + resync_backoff;
  ++stats.below_frame_resyncs;
  enter_catching_up(now, std::to_string(pending.size()) + " event(s) have a parent below the frame of round " +
                             std::to_string(graph->last_consensus_round().value_or(-1)) +
                             ": fast-forwarding to a newer anchor");
  return 0;
}

}  // namespace chatter
