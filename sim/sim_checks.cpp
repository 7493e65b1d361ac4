// The simulator's invariant checks (safety after every step, bounds, liveness at the end) and its
// result. See simulator.h for what each check means.
#include <algorithm>
#include <sstream>

#include "sim/simulation.h"

namespace chatter::simdetail {

void Simulation::fail(std::string what) {
  if (!result_.safety_ok) return;
  result_.safety_ok = false;
  result_.failure = "safety: " + std::move(what);
}

void Simulation::breach(std::string what) {
  if (!result_.bounds_ok || !result_.safety_ok) return;
  result_.bounds_ok = false;
  result_.failure = "bounds: " + std::move(what) + " (t=" + std::to_string(now_) + " ns)";
}

void Simulation::check_bounds(std::size_t i) {
  if (queue_.size() > opt_.max_queue)
    return breach(std::to_string(queue_.size()) +
                  " entries in the simulator's queue (messages in flight, "
                  "ticks), more than " +
                  std::to_string(opt_.max_queue));
  const SimNode& n = *nodes_[i];
  if (!n.node) return;
  const std::uint64_t undetermined = n.node->graph().undetermined_count();
  if (undetermined > opt_.max_undetermined)
    return breach("node" + std::to_string(i) + " holds " + std::to_string(undetermined) +
                  " undetermined events, more than " + std::to_string(opt_.max_undetermined));
  if ((result_.events_total & 1023) == 0) {
    const std::uint64_t pool = n.node->stats().transaction_pool;
    if (pool > n.config.max_pool)
      return breach("node" + std::to_string(i) + "'s transaction pool holds " + std::to_string(pool) +
                    ", more than max_pool " + std::to_string(n.config.max_pool));
  }
}

// Reads the blocks node i committed since the last check and compares them with the first copy
// seen of each index.
void Simulation::check_commits(std::size_t i) {
  SimNode& n = *nodes_[i];
  const std::string who = "node" + std::to_string(i);
  if (!n.app.contract_violation().empty()) return fail(who + ": " + n.app.contract_violation());
  const std::optional<std::uint64_t> last = n.store.last_block_index();
  if (!last || (n.seen_last && *last <= *n.seen_last)) return;
  // A node that fast-forwarded holds blocks from the one it fast-forwarded to.
  std::uint64_t from = n.seen_last ? *n.seen_last + 1 : 0;
  if (n.node) {
    // A fast-forward skips the blocks its snapshot covers: checking resumes at its block, which it
    // applied on the word of its signers: more than TrustCount of the validators it trusts (the
    // genesis set: the simulator changes no membership) must have signed it.
    const NodeStats s = n.node->stats();
    const auto ff = s.fast_forward_block;
    if (ff && *ff > from) from = *ff;
    if (ff && s.fast_forwards > n.fast_forwards_seen) {
      n.fast_forwards_seen = s.fast_forwards;
      // The validators of that block by the schedule the committed blocks give (genesis plus the
      // changes of the blocks before it: membership changes take effect 6 rounds after their block).
      const std::optional<Block> b = n.store.get_block(*ff);
      const PeerSet& trusted = schedule_.at(b ? b->body().round_received : 0);
      const std::int64_t valid = b ? b->valid_signatures(trusted) : 0;
      if (valid <= trusted.trust_count())
        return fail(who + " fast-forwarded to block " + std::to_string(*ff) + " carrying " +
                    std::to_string(valid) + " valid signatures of its trusted set; more than " +
                    std::to_string(trusted.trust_count()) + " are needed");
    }
  }
  for (std::uint64_t idx = from; idx <= *last; ++idx) {
    const std::optional<Block> b = n.store.get_block(idx);
    if (!b)
      return fail(who + " reports block " + std::to_string(*last) + " but holds no block " +
                  std::to_string(idx));
    const Hash h = b->hash();
    Writer& t = trace_.out();
    t.u8(2);
    t.i64(now_);
    t.u32(static_cast<std::uint32_t>(i));
    t.u64(idx);
    t.fixed(h);
    n.block_hashes.push_back(h);
    if (opt_.log)
      *opt_.log << "t=" << now_ << " " << who << " commits block " << idx << " " << to_hex(h) << "\n";
    if (idx < blocks_.size()) {
      const GlobalBlock& g = blocks_[idx];
      if (g.hash == h) continue;
      const BlockBody& mine = b->body();
      const std::optional<Block> theirs = nodes_[g.first_node]->store.get_block(idx);
      std::string detail = "bodies differ";
      if (g.state_hash != mine.state_hash)
        detail = "state hash " + to_hex(mine.state_hash) + " vs " + to_hex(g.state_hash);
      if (theirs) {
        auto diffs = block_body_differences(mine, theirs->body());
        if (mine.frame_hash != theirs->body().frame_hash) {
          const auto fm = n.store.get_frame(mine.round_received);
          const auto ft = nodes_[g.first_node]->store.get_frame(theirs->body().round_received);
          if (fm && ft) {
            const auto fd = frame_differences(*fm, *ft);
            diffs.insert(diffs.end(), fd.begin(), fd.end());
          }
        }
        if (!diffs.empty()) {
          detail = "differs in";
          for (std::size_t k = 0; k < diffs.size(); ++k) detail += (k ? "; " : " ") + diffs[k];
        }
      }
      return fail(who + " committed block " + std::to_string(idx) + " " + to_hex(h) + " but node" +
                  std::to_string(g.first_node) + " committed " + to_hex(g.hash) +
                  " at that index: " + detail + " (t=" + std::to_string(now_) + " ns)");
    }
    // First copy of this index: check the chain and the transactions, then record it.
    if (idx > 0 && idx - 1 < blocks_.size() && b->body().prev_block_hash != blocks_[idx - 1].hash)
      return fail("block " + std::to_string(idx) + " of " + who + " does not link to block " +
                  std::to_string(idx - 1));
    if (idx != blocks_.size())
      return fail(who + " holds block " + std::to_string(idx) + " before any honest node committed block " +
                  std::to_string(blocks_.size()));
    for (const Bytes& tx : b->body().transactions) {
      if (tx.size() < 8)
        return fail("block " + std::to_string(idx) + " holds a transaction that was never submitted");
      std::uint64_t seq = 0;
      for (int k = 7; k >= 0; --k) seq = (seq << 8) | tx[static_cast<std::size_t>(k)];
      if (seq >= tx_block_.size())
        return fail("block " + std::to_string(idx) + " holds a transaction that was never submitted");
      if (tx_block_[seq] != kNone && tx_block_[seq] != kLost)
        return fail("transaction " + std::to_string(seq) + " committed twice (blocks " +
                    std::to_string(tx_block_[seq]) + " and " + std::to_string(idx) + ")");
      tx_block_[seq] = idx;
    }
    blocks_.push_back(GlobalBlock{h, b->body().state_hash, i});
    apply_peer_changes(schedule_, b->body());
  }
  n.seen_last = last;
  n.last_commit_ns = now_;
  if (now_ > result_.heal_ns && n.first_commit_after_heal_ns < 0) n.first_commit_after_heal_ns = now_;
  const std::optional<Block> tip = n.store.get_block(*last);
  if (tip && tip->body().state_hash != n.app.state_hash())
    return fail(who + "'s application reports state hash " + to_hex(n.app.state_hash()) + " but its block " +
                std::to_string(*last) + " says " + to_hex(tip->body().state_hash));
}

void Simulation::finish() {
  result_.trace_hash = trace_.finish();
  std::uint64_t common = ~0ULL;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const auto& n = nodes_[i];
    const NodeStats s = n->node ? n->node->stats() : NodeStats{};
    SimNodeSummary sum;
    sum.last_block_index = n->seen_last;
    sum.blocks = n->seen_last ? *n->seen_last + 1 : 0;
    if (!honest(i) && s.last_block_index) {  // not checked, but reported
      sum.last_block_index = s.last_block_index;
      sum.blocks = *s.last_block_index + 1;
      for (std::uint64_t idx = s.fast_forward_block.value_or(0); idx <= *s.last_block_index; ++idx)
        if (const std::optional<Block> b = n->store.get_block(idx)) n->block_hashes.push_back(b->hash());
    }
    sum.transactions = n->app.committed_transactions();
    sum.events = s.events;
    sum.compactions = s.compactions;
    sum.events_created = s.events_created;
    sum.undetermined_events = s.undetermined_events;
    sum.last_consensus_round = s.last_consensus_round;
    sum.sync_requests = s.sync_requests;
    sum.sync_errors = s.sync_errors;
    sum.refused_events = s.refused_events;
    sum.app_errors = s.app_errors;
    sum.transaction_pool = s.transaction_pool;
    sum.last_commit_ns = n->last_commit_ns;
    sum.state_hash = n->app.state_hash();
    sum.block_hashes = n->block_hashes;
    if (sum.last_block_index)
      for (std::uint64_t idx = s.fast_forward_block.value_or(0); idx <= *sum.last_block_index; ++idx)
        if (const std::optional<Block> b = n->store.get_block(idx); b && !b->body().snapshot_hash.is_zero())
          sum.snapshot_blocks.push_back(idx);
    sum.late = n->late;
    sum.fast_forwards = s.fast_forwards;
    sum.fast_forward_refusals = s.fast_forward_refusals;
    sum.fast_forwards_served = s.fast_forwards_served;
    sum.fast_forward_block = s.fast_forward_block;
    sum.last_fast_forward_error = s.last_fast_forward_error;
    sum.babbling_ns = n->babbling_ns;
    sum.app_restores = n->app.restores();
    sum.crashes = n->crashes;
    sum.recommitted_blocks = s.recommitted_blocks;
    sum.app_nondeterminism = s.app_nondeterminism;
    sum.bootstrap_replayed_rounds = s.bootstrap_replayed_rounds;
    sum.bootstrap_warning = s.bootstrap_warning;
    sum.events_below_frame = s.events_below_frame;
    sum.parent_below_frame = s.parent_below_frame;
    sum.graph_deepened = s.graph_deepened;
    sum.below_frame_resyncs = s.below_frame_resyncs;
    sum.older_frame_rebuilds_all =
        n->past_older_frame_rebuilds + (s.bootstrap_replayed_rounds > 0 ? 1 : 0) + s.graph_deepened;
    sum.parent_below_frame_all = n->past_parent_below_frame + s.parent_below_frame;
    sum.anchor_block = s.anchor_block;
    sum.snapshot_anchor = s.snapshot_anchor;
    sum.chunks_fetched = s.catch_up_chunks_fetched;
    sum.chunks_reused = s.catch_up_chunks_reused;
    sum.chunks_total = s.catch_up_chunks_total;
    sum.chunk_sources = s.catch_up_chunk_sources;
    sum.retargets = s.catch_up_retargets;
    sum.bad_chunks = s.catch_up_bad_chunks;
    sum.chunks_served = s.chunks_served;
    sum.first_target_block = n->first_target;
    sum.catch_up_status = s.catch_up_status;
    sum.byzantine = !honest(i);
    sum.drift_ppm = n->clock.ppm;
    sum.clock_offset_ns = n->clock.offset;
    sum.first_commit_after_heal_ns = n->first_commit_after_heal_ns;
    const NodeState st = n->node ? n->node->state() : NodeState::kShutdown;
    sum.state = n->node ? to_string(st) : "down";
    sum.validator = std::prev(schedule_.entries().end())->second.contains(n->key);
    sum.joiner = n->joiner;
    sum.peer_set_changes = s.peer_set_changes;
    sum.join_accepted_round = s.join_accepted_round;
    sum.membership_status = s.membership_status;
    sum.schedule_entries = n->node ? n->node->graph().schedule().entries().size() : 0;
    if (n->joiner && sum.validator && st == NodeState::kBabbling) result_.joined.push_back(i);
    if (n->asked_to_leave && st == NodeState::kShutdown) result_.left.push_back(i);
    const bool running = n->node && st != NodeState::kShutdown && st != NodeState::kJoining;
    if (honest(i) && running && !(n->node->graph().schedule() == schedule_)) result_.schedules_equal = false;
    if (honest(i) && running && result_.reference_node < 0 && i < opt_.nodes) result_.reference_node = static_cast<int>(i);
    if (honest(i)) {
      result_.faults.honest_refused_events += s.refused_events;
      result_.faults.honest_ff_refusals += s.fast_forward_refusals;
      // Nodes that left, and joiners still outside, are not expected to hold every block.
      if (running) common = std::min(common, sum.blocks);
    } else {
      result_.forged_answers += n->byzantine->forged_answers();
    }
    result_.blocks_per_node.push_back(sum.blocks);
    result_.nodes.push_back(std::move(sum));
  }
  // Witnesses and block signatures of each node, in the reference node's graph and store.
  if (result_.reference_node >= 0) {
    const SimNode& ref = *nodes_[static_cast<std::size_t>(result_.reference_node)];
    const Hashgraph& g = ref.node->graph();
    const std::int64_t top = g.last_round();
    for (std::int64_t r = std::max<std::int64_t>(0, top - 40); r <= top; ++r)
      for (const Hash& w : g.round_witnesses(r))
        if (const auto info = g.info(w))
          for (std::size_t i = 0; i < nodes_.size(); ++i)
            if (nodes_[i]->key == info->creator) ++result_.nodes[i].witnesses;
    if (const auto last = ref.store.last_block_index())
      for (std::uint64_t idx = *last >= 200 ? *last - 200 : 0; idx <= *last; ++idx)
        if (const auto b = ref.store.get_block(idx))
          for (std::size_t i = 0; i < nodes_.size(); ++i)
            if (b->signatures().count(nodes_[i]->key)) ++result_.nodes[i].blocks_signed;
  }
  for (const auto& [round, set] : schedule_.entries()) {
    std::vector<std::size_t> members;
    for (const Peer& p : set.peers())
      for (std::size_t i = 0; i < nodes_.size(); ++i)
        if (nodes_[i]->key == p.pub_key) members.push_back(i);
    result_.schedule.emplace_back(round, std::move(members));
  }
  result_.faults.verify_cache_hits = verify_cache_.hits;
  result_.faults.verify_cache_misses = verify_cache_.misses;
  result_.common_blocks = common == ~0ULL ? 0 : common;
  if (result_.safety_ok && result_.bounds_ok && !stopped_early_) check_liveness();
  if (!result_.safety_ok || !result_.liveness_ok || !result_.bounds_ok)
    result_.diagnostics = describe_nodes();
}

// Liveness after the heal: every honest node committed a block within the bound, and every
// transaction submitted to an honest node before the heal is in a block every honest node holds.
void Simulation::check_liveness() {
  result_.liveness_checked = true;
  const std::int64_t heal = result_.heal_ns;
  const std::int64_t bound = opt_.liveness_bound_ns > 0 ? opt_.liveness_bound_ns : opt_.duration_ns - heal;
  const bool idle_after_heal = opt_.tx_until_ns >= 0 && opt_.tx_until_ns < heal;
  for (std::size_t i = 0; i < nodes_.size() && !idle_after_heal; ++i) {
    if (!honest(i)) continue;
    // Membership: a node that left, or one outside the genesis set (tests check joiners themselves).
    if (nodes_[i]->joiner || nodes_[i]->asked_to_leave || result_.nodes[i].state == "Shutdown") continue;
    const std::int64_t first = nodes_[i]->first_commit_after_heal_ns;
    if (first < 0 || first > heal + bound) {
      result_.liveness_ok = false;
      result_.failure = "liveness: node" + std::to_string(i) + " committed no block within " +
                        std::to_string(bound / kMs) + " ms after the heal at " + std::to_string(heal / kMs) +
                        " ms; its last commit was at " +
                        (result_.nodes[i].last_commit_ns < 0
                             ? std::string("never")
                             : std::to_string(result_.nodes[i].last_commit_ns / kMs) + " ms");
      return;
    }
  }
  for (std::size_t seq = 0; seq < tx_block_.size() && tx_submitted_at_[seq] <= heal; ++seq) {
    if (tx_block_[seq] == kRefused || tx_block_[seq] == kLost) continue;
    if (tx_block_[seq] == kNone || tx_block_[seq] >= result_.common_blocks) {
      result_.liveness_ok = false;
      result_.failure = "liveness: transaction " + std::to_string(seq) + " submitted at " +
                        std::to_string(tx_submitted_at_[seq] / kMs) +
                        " ms is not in a block every honest node committed";
      return;
    }
  }
}

std::string Simulation::describe_nodes() const {
  std::ostringstream s;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const SimNodeSummary& n = result_.nodes[i];
    s << "node" << i << (nodes_[i]->slow ? " (slow)" : "") << (n.byzantine ? " (Byzantine)" : "")
      << ": blocks=" << n.blocks << " last_commit_ms=" << (n.last_commit_ns < 0 ? -1 : n.last_commit_ns / kMs)
      << " events=" << n.events << " created=" << n.events_created
      << " undetermined=" << n.undetermined_events
      << " consensus_round=" << (n.last_consensus_round ? std::to_string(*n.last_consensus_round) : "none")
      << " pool=" << n.transaction_pool << " syncs=" << n.sync_requests << " sync_errors=" << n.sync_errors
      << " refused=" << n.refused_events << " app_errors=" << n.app_errors << " crashes=" << n.crashes;
    if (n.drift_ppm != 0) s << " drift_ppm=" << n.drift_ppm;
    s << " state=" << n.state << " validator=" << n.validator << " ps_changes=" << n.peer_set_changes
      << " schedule_entries=" << n.schedule_entries;
    if (!n.membership_status.empty()) s << " membership=\"" << n.membership_status << "\"";
    if (n.late || n.fast_forwards > 0)
      s << " late fast_forwards=" << n.fast_forwards
        << " ff_block=" << (n.fast_forward_block ? std::to_string(*n.fast_forward_block) : "none")
        << " ff_refusals=" << n.fast_forward_refusals << " ff_error=\"" << n.last_fast_forward_error << "\""
        << " state=" << (nodes_[i]->node ? to_string(nodes_[i]->node->state()) : "down");
    s << "\n";
  }
  return s.str();
}

}  // namespace chatter::simdetail
