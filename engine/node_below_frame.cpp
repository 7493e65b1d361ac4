// Events whose parent lies below the graph's base (spec "Frames and roots": "the engine fetches the
// missing ancestry or re-synchronises, and never stalls on it"). After a fast-forward, a restart or
// a compaction the graph holds each creator's events from some index on; an event that arrives
// late (its creator was cut off, or crashed before sending it) can name an other-parent older than
// that. Inserting it needs that parent's round and Lamport timestamp, which only a graph holding
// the parent's ancestry can give. Two ways out, in this order:
//  - the store holds the parent (this node compacted its graph, or restarted from its store): the
//    graph is rebuilt from an older stored Frame that holds it, the rounds in between replayed in
//    memory and checked against the stored Frames (Node::Impl::graph_from_older_frame), and the
//    events are inserted again;
//  - it does not (the node fast-forwarded): the node fast-forwards again, to a newer anchor block,
//    whose Frame lies above those events once the network has received them. Attempts are spaced
//    by a doubling wait (from 2 x the sync timeout, at most 60 s) so that a network without a newer
//    anchor yet is not asked in a loop; meanwhile the node keeps gossiping.
#include "engine/node_impl.h"

namespace chatter {

std::size_t Node::Impl::handle_below_frame(std::int64_t now) {
  if (below_frame.empty()) return 0;
  std::vector<WireEvent> pending;
  pending.swap(below_frame);
  below_frame_keys.clear();
  const WireEvent& first = pending.front();
  if (first.other_parent_creator_id && first.other_parent_index) {
    const auto slot = slot_of_id.find(*first.other_parent_creator_id);
    if (slot != slot_of_id.end()) {
      const PublicKey& creator = graph->known_creators()[slot->second];
      if (const auto pos = store.position_of(creator, *first.other_parent_index)) {
        const auto stored = store.events_from(*pos, 1);
        if (!stored.empty() && stored.front()->creator() == creator &&
            stored.front()->index() == *first.other_parent_index) {
          const Hash needed = stored.front()->hash();
          std::vector<EventPtr> events;
          std::uint64_t missing = 0, replayed = 0;
          auto g = graph_from_older_frame(
              graph->last_consensus_round().value_or(-1), graph->next_block_index(),
              [&](const Hashgraph& c, std::uint64_t) { return c.contains(needed); }, &events, &missing, &replayed);
          if (g) {
            graph = std::move(g);
            rebuild_slots();
            ++stats.graph_deepened;
            const std::size_t added = insert_all(pending);
            below_frame.clear();  // what still does not fit waits for the next sync
            below_frame_keys.clear();
            return added;
          }
        }
      }
    }
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
