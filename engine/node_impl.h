// Internal state of Node (not a public header): shared by node.cpp (gossip, events, commits) and
// node_fastforward.cpp (CatchingUp and serving fast-forwards).
#pragma once

#include <cstdio>
#include <functional>
#include <limits>

#include <algorithm>
#include <map>
#include <set>

#include "engine/invariant.h"
#include "engine/node.h"

namespace chatter {

struct Node::Impl {
  Impl(NodeConfig c, Store& s, AppProxy& a)
      : cfg(std::move(c)), store(s), app(a), graph(std::make_unique<Hashgraph>(PeerSchedule(cfg.genesis), s, graph_options())), rng(cfg.seed) {
    my_key = cfg.key.public_key();
    my_id = peer_id_of(my_key);
    refresh_peers();
    rebuild_slots();
    stats.id = my_id;
    stats.moniker = cfg.moniker;
    // Node's constructor decides Joining after a bootstrap (the stored schedule is the trusted one).
    if (cfg.fast_sync && !peers.empty()) state = NodeState::kCatchingUp;
  }

  NodeConfig cfg;
  Store& store;
  AppProxy& app;
  std::unique_ptr<Hashgraph> graph;
  Rng rng;
  PublicKey my_key;
  std::uint32_t my_id = 0;
  NodeState state = NodeState::kBabbling;
  std::vector<std::uint32_t> peers;  // other validators' ids
  std::map<std::uint32_t, std::size_t> slot_of_id;
  std::map<std::int64_t, std::uint64_t> recent_blocks;  // round received -> block (Node::block_of_round)

  std::deque<Bytes> pool;
  std::vector<BlockSignature> own_signatures;  // to pack into the next event
  std::deque<Block> uncommitted;               // produced by consensus, not yet committed to the app
  std::map<std::uint64_t, std::vector<BlockSignature>> early_signatures;  // for blocks not committed yet
  Hash last_block_hash;                        // of the last committed block (zero before block 0)

  std::optional<std::uint32_t> last_peer;
  struct InFlight {
    std::uint32_t peer;
    std::int64_t deadline;
    std::int64_t sent = 0;  // for NodeStats::sync_latency
  };
  std::optional<InFlight> in_flight;
  struct Backoff {
    std::int64_t period = 0, until = 0;
  };
  std::map<std::uint32_t, Backoff> backoff;  // peers that did not answer a sync in time
  static constexpr std::int64_t kMaxBackoffNs = 60'000'000'000;
  std::int64_t next_heartbeat = 0;
  std::int64_t last_now = 0;  // the latest time a call brought in
  NodeStats stats;

  // Commit of the first uncommitted block: the app's answer, kept while the snapshot of that block
  // is still being taken (so the block is never committed twice).
  std::optional<CommitResponse> front_answer;

  // ---- CatchingUp (node_fastforward.cpp) ----
  // A chunked snapshot transfer in progress (node_snapshot_transfer.cpp).
  struct Transfer {
    FastForwardResponse answer;  // verified: block, frame, manifest (snapshot empty)
    std::uint32_t source = 0;    // the peer that sent the manifest
    std::set<Hash> have;         // verified chunks, stored under chunk_key()
    struct Ask {
      std::uint32_t peer;
      std::int64_t deadline;
    };
    std::map<std::uint64_t, Ask> asking;               // chunk index -> outstanding request
    std::set<std::uint32_t> not_holding;               // answered kUnavailable, or timed out 3 times
    std::map<std::uint32_t, std::int64_t> busy_until;  // answered kBusy
    std::map<std::uint32_t, int> timeouts;
    std::set<std::uint32_t> sources;                   // peers that sent verified chunks
    std::int64_t next_positions = 0;
  };
  struct CatchUp {
    enum class Phase { kAsk, kFetch, kChunks, kRestore } phase = Phase::kAsk;
    bool asked = false;                                 // PositionRequests sent in this kAsk phase
    std::int64_t deadline = 0;
    std::map<std::uint32_t, PositionResponse> positions;
    std::set<std::uint32_t> failed;                     // peers not asked again in this catch-up
    std::optional<std::uint32_t> target;
    // kRestore: a verified answer and the graph built from it, waiting for the app's restore.
    std::optional<FastForwardResponse> verified;
    std::unique_ptr<Hashgraph> next_graph;
    std::optional<Transfer> transfer;  // kChunks
    std::size_t retargets = 0;
  };
  CatchUp catch_up;
  std::map<std::uint32_t, std::int64_t> last_served;    // peer -> time of the last fast-forward served
  std::int64_t no_catch_up_before = 0;                  // after a fallback to gossip
  bool tail_pending = false;  // fast-forwarded: no own event until a sync comes back complete

  std::vector<Envelope> catch_up_tick(std::int64_t now);
  std::vector<Envelope> catch_up_receive(std::uint32_t from, const Message& m, std::int64_t now);
  void enter_catching_up(std::int64_t now, const std::string& why);
  void leave_catching_up(std::int64_t now, const std::string& why);
  void refuse_answer(std::uint32_t peer, const std::string& why, std::int64_t now);
  std::string verify_answer(const FastForwardResponse& r);  // empty when acceptable
  bool try_restore(std::int64_t now);  // kRestore: true when the node switched over
  FastForwardResponse serve(std::uint32_t from, const FastForwardRequest& req, std::int64_t now);
  std::uint64_t events_lacking(const KnownIndexes& theirs) const;

  // ---- chunked snapshot transfer (node_snapshot_transfer.cpp) ----
  void start_transfer(const FastForwardResponse& verified, std::int64_t now);
  void transfer_tick(std::int64_t now, std::vector<Envelope>& out);
  void transfer_chunk(std::uint32_t from, const SnapshotChunkResponse& r, std::int64_t now,
                      std::vector<Envelope>& out);
  void transfer_position(std::uint32_t from, const PositionResponse& pos, std::int64_t now);
  void retarget(std::int64_t now, const std::string& why);
  void resume_transfer();          // at start with fast_sync: progress from the store
  void clear_transfer_store();     // after the switch-over
  void update_progress();
  SnapshotChunkResponse serve_chunk(std::uint32_t from, const SnapshotChunkRequest& req, std::int64_t now);
  struct ServedSnapshot {
    Hash commitment;
    std::optional<SnapshotManifest> manifest;  // none: inline size
    Bytes snapshot;
  };
  const ServedSnapshot* served_snapshot(std::uint64_t block_index);
  std::map<std::uint64_t, ServedSnapshot> served_cache;  // at most two
  std::map<std::uint32_t, std::int64_t> chunk_tat;       // per peer: GCRA theoretical arrival time

  // ---- events whose parent lies below the graph's base (node_below_frame.cpp) ----
  std::vector<WireEvent> below_frame;  // refused for that reason in the current call (bounded)
  std::set<std::pair<std::uint32_t, std::uint64_t>> below_frame_keys;  // (creator id, index) of those
  // The lowest parent round among those refused with kParentRoundBelowBase (INT64_MAX: none): a
  // rebuilt graph must place it (base_round() - 1 at most).
  std::int64_t below_frame_parent_round = std::numeric_limits<std::int64_t>::max();
  std::int64_t resync_not_before = 0, resync_backoff = 0, deepen_not_before = 0;
  std::size_t handle_below_frame(std::int64_t now);
  std::optional<Hash> stored_parent(const WireEvent& w) const;

  // ---- restart (node_bootstrap.cpp) ----
  void bootstrap();
  std::uint64_t insert_stored_events(Hashgraph& g, std::uint64_t resume, std::vector<EventPtr>* inserted,
                                     std::string* why);
  void take_stored_signatures(const std::vector<EventPtr>& events);
  // The graph rebuilt from a stored Frame older than round `processed` (the last processed round of
  // the graph it replaces, whose next block is `next_block`), going back 4, 16, 64... rounds (at
  // most kMaxReplayRounds) until enough(candidate, events still missing) holds, the rounds up to
  // `processed` replayed in memory and checked against the store (Hashgraph::replay_stored_rounds).
  // nullptr when no stored Frame gives that. For restart (node_bootstrap.cpp) and for an event
  // whose parent lies below the base while the store holds that parent (node_below_frame.cpp).
  static constexpr std::int64_t kMaxReplayRounds = 4096;
  std::unique_ptr<Hashgraph> graph_from_older_frame(std::int64_t processed, std::uint64_t next_block,
                                                    const std::function<bool(const Hashgraph&, std::uint64_t)>& enough,
                                                    std::vector<EventPtr>* events, std::uint64_t* missing,
                                                    std::uint64_t* replayed);
  bool recover_app();  // pending restore and re-commits first; false while some remain
  std::optional<Bytes> pending_restore;       // snapshot to restore before anything is committed
  std::optional<std::uint64_t> pending_restore_index;
  std::deque<Block> recommit;                 // stored blocks to re-apply, in order
  void rebuild_slots() {
    slot_of_id.clear();
    const auto& creators = graph->known_creators();
    for (std::size_t s = 0; s < creators.size(); ++s) slot_of_id.emplace(peer_id_of(creators[s]), s);
  }
  void set_state(NodeState s);

  static constexpr std::size_t kMaxEarlySignatureBlocks = 1024;

  // ---- membership (node_membership.cpp; node.h "States") ----
  std::vector<InternalTransaction> itx_pool;  // to pack into the next event
  struct PendingJoin {
    std::uint32_t reply_to = 0;
    InternalTransaction tx;
  };
  std::map<PublicKey, PendingJoin> pending_joins;  // JoinRequests submitted, not yet committed
  std::vector<Peer> hints;                         // whom to ask (JoinResponse peers): not trusted
  std::vector<Envelope> outbox;                    // answers produced while committing
  struct Joining {
    std::size_t next_contact = 0;
    std::optional<std::uint32_t> asked;  // contact of the outstanding request
    std::int64_t deadline = 0;
    std::int64_t wait = 0;               // of the outstanding request
  } joining;
  bool leave_requested = false;
  std::optional<std::int64_t> leave_effective_round;  // RR + 6 of this node's accepted removal
  bool receipts_applied = false;                      // commit_pending applied a Block's receipts
  std::map<std::uint64_t, Block> membership_blocks;   // committed blocks that changed the set
  static constexpr std::size_t kMaxPendingJoins = 256;

  std::vector<Peer> contact_list() const;
  bool is_contact(std::uint32_t id) const;
  // In a set of the schedule in effect from the next round to process on.
  bool member_now_or_later() const;
  bool may_create_events() const;
  void refresh_peers();
  bool known_sender(std::uint32_t id) const;
  InternalTransaction own_tx(InternalTransactionType type) const;
  void join_tick(std::int64_t now, std::vector<Envelope>& out);
  void on_join_request(std::uint32_t from, const JoinRequest& req, std::vector<Envelope>& out);
  void on_join_response(std::uint32_t from, const JoinResponse& resp, std::int64_t now);
  void on_block_committed(const Block& b, bool changed);  // after its receipts are applied
  void check_membership(std::int64_t now);                 // Suspended / Shutdown transitions
  void save_membership_blocks();
  void load_membership_blocks();
  void initial_state();
  // This node's own undetermined events when the process started (Suspended counts those above).
  std::uint64_t suspend_baseline = 0;

  bool busy() const {
    return !pool.empty() || !own_signatures.empty() || !uncommitted.empty() || !recommit.empty() ||
           !itx_pool.empty() || graph->undetermined_payload_count() > 0;
  }

  KnownIndexes known() const {
    KnownIndexes k;
    const auto idx = graph->known_indexes();
    const auto& creators = graph->known_creators();
    for (std::size_t s = 0; s < creators.size(); ++s)
      if (idx[s] >= 0) k.emplace_back(peer_id_of(creators[s]), static_cast<std::uint64_t>(idx[s]));
    std::sort(k.begin(), k.end());
    return k;
  }

  std::vector<WireEvent> beyond(const KnownIndexes& theirs, bool* more) const {
    std::vector<std::int64_t> by_slot(graph->known_creators().size(), -1);
    for (const auto& [id, index] : theirs) {
      auto it = slot_of_id.find(id);
      if (it != slot_of_id.end()) by_slot[it->second] = static_cast<std::int64_t>(index);
    }
    std::vector<WireEvent> out;
    for (const EventPtr& e : graph->events_beyond(by_slot, cfg.sync_limit, more)) {
      auto w = graph->to_wire(*e);
      if (!w) {
        // An other-parent neither held nor stored (below a reset's Frame, or gone from a bounded
        // store): stop, in order. "More" only when something was sent, so that a peer this node
        // cannot serve does not pull again at once in a loop (it catches up by fast-forward when
        // far behind: catch_up_threshold).
        if (more) *more = !out.empty();
        break;
      }
      out.push_back(std::move(*w));
    }
    return out;
  }

  // Inserts the events in order; returns how many were new. Refusals are counted, never thrown.
  std::size_t insert_all(const std::vector<WireEvent>& events) {
    std::size_t added = 0;
    for (const WireEvent& w : events) {
      Event e;
      InsertResult r = graph->resolve_wire(w, e);
      if (r.ok()) r = graph->insert(e);
      if (r.error == InsertError::kDuplicate) continue;
      if (r.error == InsertError::kParentRoundBelowBase) {
        // Its parents are in the graph but too old for its round to be computed here: kept for
        // handle_below_frame(), which rebuilds the graph from an older Frame.
        ++stats.parent_below_frame;
        below_frame_parent_round = std::min(below_frame_parent_round, r.parent_round);
        if (below_frame.size() < cfg.sync_limit) {
          below_frame.push_back(w);
          below_frame_keys.insert({w.creator_id, w.index});
        }
        continue;
      }
      if (!r.ok()) {
        if (r.error == InsertError::kSelfParentNotLast || r.error == InsertError::kUnknownOtherParent) {
          const Hashgraph::Standing st = graph->standing(w);
          if (st == Hashgraph::Standing::kBelowBase) {
            ++stats.events_below_frame;  // already received by the base's round: not needed
            continue;
          }
          // An event with a parent below the base, and the events that descend from one of those:
          // kept for handle_below_frame().
          auto pending = [&](std::uint32_t id, std::uint64_t index) {
            return below_frame_keys.count({id, index}) > 0;
          };
          const bool descends = (w.index > 0 && pending(w.creator_id, w.index - 1)) ||
                                (w.other_parent_creator_id && w.other_parent_index &&
                                 pending(*w.other_parent_creator_id, *w.other_parent_index));
          if (st == Hashgraph::Standing::kParentBelowBase || descends) {
            ++stats.parent_below_frame;
            if (below_frame.size() < cfg.sync_limit) {
              below_frame.push_back(w);
              below_frame_keys.insert({w.creator_id, w.index});
            }
            continue;
          }
        }
        ++stats.refused_events;
        continue;
      }
      ++added;
      ++stats.events_received;
      for (const BlockSignature& s : e.body().block_signatures)
        if (s.validator == e.creator()) take_signature(s);
    }
    return added;
  }

  std::optional<Hash> head_of(std::uint32_t peer) const {
    auto it = slot_of_id.find(peer);
    if (it == slot_of_id.end()) return std::nullopt;
    return graph->last_event_of(graph->known_creators()[it->second]);
  }

  void create_event(std::optional<Hash> other_parent, std::int64_t now) {
    EventBody b;
    b.creator = my_key;
    if (auto last = graph->last_event_of(my_key)) {
      b.self_parent = *last;
      b.index = graph->info(*last)->index + 1;
    }
    b.other_parent = other_parent;
    b.timestamp = now;
    const std::size_t n = std::min(pool.size(), cfg.max_tx_per_event);
    b.transactions.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      b.transactions.push_back(std::move(pool.front()));
      pool.pop_front();
    }
    b.block_signatures = std::move(own_signatures);
    own_signatures.clear();
    b.internal_transactions = std::move(itx_pool);
    itx_pool.clear();
    auto e = std::make_shared<const Event>(Event::create(std::move(b), cfg.key));
    InsertResult r = graph->insert(e, true);
    if (r.error == InsertError::kParentRoundBelowBase) {
      // Both parents are too old for this graph to give the event its round (the peer's head is a
      // Root event of a creator silent since, and this node has no recent event of its own, as
      // right after a fast-forward): no event this time; the next sync with a peer whose head is
      // recent creates it. What it would have carried goes back, in order.
      const EventBody& body = e->body();
      for (auto it = body.transactions.rbegin(); it != body.transactions.rend(); ++it) pool.push_front(*it);
      own_signatures.insert(own_signatures.begin(), body.block_signatures.begin(), body.block_signatures.end());
      itx_pool.insert(itx_pool.begin(), body.internal_transactions.begin(), body.internal_transactions.end());
      return;
    }
    CHATTER_INVARIANT(r.ok());
    ++stats.events_created;
  }

  void take_signature(const BlockSignature& s) {
    if (stats.last_block_index && s.index <= *stats.last_block_index) {
      auto b = store.get_block(s.index);
      if (b && b->add_signature(s)) {
        update_anchor(*b);
        store.put_block(std::move(*b));
      }
    } else if (early_signatures.size() < kMaxEarlySignatureBlocks || early_signatures.count(s.index)) {
      auto& v = early_signatures[s.index];
      if (v.size() < 4 * cfg.genesis.size()) v.push_back(s);
    }
  }

  void update_anchor(const Block& b) {
    // A block that can move neither anchor needs no signature check (each costs one Ed25519 verify
    // per recorded signature, and this runs for every signature received).
    const bool above_anchor = !stats.anchor_block || b.index() > *stats.anchor_block;
    const bool above_snapshot = !b.body().snapshot_hash.is_zero() &&
                                (!stats.snapshot_anchor || b.index() > *stats.snapshot_anchor);
    if (!above_anchor && !above_snapshot) return;
    if (!b.valid_for(graph->schedule().at(b.body().round_received))) return;
    if (!stats.anchor_block || b.index() > *stats.anchor_block) stats.anchor_block = b.index();
    if (!b.body().snapshot_hash.is_zero() && (!stats.snapshot_anchor || b.index() > *stats.snapshot_anchor))
      stats.snapshot_anchor = b.index();
  }

  Hashgraph::Options graph_options() const {
    Hashgraph::Options o;
    o.kept_frames = static_cast<std::size_t>(std::max<std::int64_t>(0, cfg.compact_keep_rounds)) + 1;
    o.verify_event = cfg.verify_event;
    return o;
  }

  // Runs consensus and commits every new block to the app, in order, never skipping one.
  // A Block with internal transactions holds processing back until its receipts are applied
  // (Hashgraph::apply_receipts, in commit_pending): then consensus goes on in the same call.
  void advance() {
    do {
      receipts_applied = false;
      graph->run_consensus();
      for (Block& b : graph->take_new_blocks()) uncommitted.push_back(std::move(b));
      commit_pending();
    } while (receipts_applied);
    maybe_compact();
  }

  // NodeConfig::compact_every_rounds. A refused compaction (an event to keep has a parent below
  // the base) changes nothing and is tried again after the next processed round.
  std::int64_t compacted_at = -1;
  std::uint64_t compactions = 0;
  void maybe_compact() {
    if (cfg.compact_every_rounds <= 0) return;
    const std::int64_t done = graph->last_consensus_round().value_or(-1);
    if (compacted_at < 0) compacted_at = done;  // counted from the first round seen
    if (done - compacted_at < cfg.compact_every_rounds) return;
    if (graph->compact(cfg.compact_keep_rounds)) {
      compacted_at = done;
      ++compactions;
    }
  }

  void commit_pending() {
    if (!recover_app()) return;
    while (!uncommitted.empty()) {
      Block& b = uncommitted.front();
      b.mutable_body().prev_block_hash = last_block_hash;
      if (!front_answer) {
        try {
          front_answer = app.commit_block(b);
        } catch (const AppBusy&) {
          return;  // the adapter is still waiting for the app: ask again on a later tick
        } catch (const AppError& e) {
          ++stats.app_errors;
          stats.last_app_error = e.what();
          return;  // retried on the next tick; the block stays first in line
        }
      }
      if (snapshot_due(b.index())) {
        Bytes snap;
        try {
          snap = app.get_snapshot(b.index());
        } catch (const AppBusy&) {
          return;
        } catch (const AppError&) {
          ++stats.app_errors;
          return;  // the block is committed to the app (front_answer): only the snapshot is retried
        }
        b.mutable_body().snapshot_hash = snapshot_commitment(snap, cfg.snapshot_chunk_size);
        note_snapshot(b.index(), snap.size());
        store.put_snapshot(b.index(), std::move(snap));
        prune_snapshots();
      }
      b.mutable_body().state_hash = std::move(front_answer->state_hash);
      b.mutable_body().internal_transaction_receipts = std::move(front_answer->receipts);
      front_answer.reset();
      bool changed = false;
      if (graph->awaiting_receipts() && *graph->awaiting_receipts() == b.body().round_received) {
        const PeerSchedule before = graph->schedule();
        std::string why;
        const bool ok = graph->apply_receipts(b, &why);
        if (!ok) std::fprintf(stderr, "chatter::Node commit_pending: %s\n", why.c_str());
        CHATTER_INVARIANT(ok);
        changed = !(graph->schedule() == before);
        receipts_applied = true;
        if (changed) {
          ++stats.peer_set_changes;
          rebuild_slots();
          refresh_peers();
        }
      }
      if (graph->schedule().at(b.body().round_received).contains(my_key)) own_signatures.push_back(b.sign(cfg.key));
      auto early = early_signatures.find(b.index());
      if (early != early_signatures.end()) {
        for (const auto& s : early->second) b.add_signature(s);
        early_signatures.erase(early);
      }
      update_anchor(b);
      last_block_hash = b.hash();
      stats.last_block_index = b.index();
      ++stats.blocks_committed;
      recent_blocks[b.body().round_received] = b.index();
      if (recent_blocks.size() > kRecentBlocks) recent_blocks.erase(recent_blocks.begin());
      stats.transactions += b.body().transactions.size();
      stats.state_hash = b.body().state_hash;
      on_block_committed(b, changed);
      store.put_block(std::move(b));
      uncommitted.pop_front();
    }
  }

  // The last snapshot taken, restored or fast-forwarded to (block index and size in bytes): the
  // spacing rule of snapshot_due. Every node of the network holds the same one (snapshots are part
  // of the signed chain), so all take their next snapshot at the same block.
  std::optional<std::uint64_t> last_snapshot_block;
  std::uint64_t last_snapshot_bytes = 0;
  std::deque<std::uint64_t> kept_snapshots;  // blocks whose snapshots this node keeps, oldest first

  bool snapshot_due(std::uint64_t index) const {
    if (cfg.snapshot_interval == 0 || index % cfg.snapshot_interval != 0) return false;
    if (!last_snapshot_block || index <= *last_snapshot_block) return true;
    if (cfg.snapshot_bytes_per_block == 0) return true;
    const std::uint64_t spacing = (last_snapshot_bytes + cfg.snapshot_bytes_per_block - 1) / cfg.snapshot_bytes_per_block;
    return index - *last_snapshot_block >= spacing;
  }
  void note_snapshot(std::uint64_t index, std::uint64_t bytes) {
    last_snapshot_block = index;
    last_snapshot_bytes = bytes;
    if (kept_snapshots.empty() || kept_snapshots.back() < index) kept_snapshots.push_back(index);
  }
  // Keeps the newest keep_snapshots snapshots (those of the blocks a fast-forward may be served at).
  void prune_snapshots() {
    const std::size_t keep = std::max<std::size_t>(cfg.keep_snapshots, 1);
    if (kept_snapshots.size() <= keep) return;
    while (kept_snapshots.size() > keep) kept_snapshots.pop_front();
    store.drop_snapshots_below(kept_snapshots.front());
  }

  void schedule_heartbeat(std::int64_t now) {
    const std::int64_t period = busy() ? cfg.heartbeat_ns : cfg.slow_heartbeat_ns;
    // +-10% jitter from the seeded generator, so nodes do not gossip in lockstep.
    next_heartbeat = now + period * static_cast<std::int64_t>(90 + rng.below(21)) / 100;
  }
};


}  // namespace chatter
