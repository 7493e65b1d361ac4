// CatchingUp: fast-forward from the peer furthest ahead, verified before anything changes; and the
// serving side. See node.h ("CatchingUp") for the contract.
#include "engine/crypto.h"
#include "engine/node_impl.h"

namespace chatter {

void Node::Impl::set_state(NodeState s) {
  if (state == s) return;
  state = s;
  app.on_state_changed(s);
}

void Node::Impl::enter_catching_up(std::int64_t now, const std::string& why) {
  catch_up = CatchUp{};
  catch_up.deadline = now;
  stats.catch_up_status = why;
  in_flight.reset();
  set_state(NodeState::kCatchingUp);
}

void Node::Impl::leave_catching_up(std::int64_t now, const std::string& why) {
  stats.catch_up_status = why;
  catch_up = CatchUp{};
  // Do not come straight back: gossip gets its chance first.
  no_catch_up_before = now + 10 * cfg.fast_forward_timeout_ns;
  next_heartbeat = now;
  set_state(NodeState::kBabbling);
}

void Node::Impl::refuse_answer(std::uint32_t peer, const std::string& why, std::int64_t now) {
  ++stats.fast_forward_refusals;
  stats.last_fast_forward_error = "peer " + std::to_string(peer) + ": " + why;
  catch_up.failed.insert(peer);
  catch_up.phase = CatchUp::Phase::kAsk;
  catch_up.asked = false;
  catch_up.target.reset();
  catch_up.verified.reset();
  catch_up.next_graph.reset();
  catch_up.transfer.reset();  // its verified chunks stay in the store, to be reused
  catch_up.deadline = now;  // ask again at once
}

std::uint64_t Node::Impl::events_lacking(const KnownIndexes& theirs) const {
  const auto mine = graph->known_indexes();
  std::uint64_t lacking = 0;
  for (const auto& [id, index] : theirs) {
    auto it = slot_of_id.find(id);
    if (it == slot_of_id.end()) continue;
    const std::int64_t have = mine[it->second];
    if (static_cast<std::int64_t>(index) > have) lacking += static_cast<std::uint64_t>(static_cast<std::int64_t>(index) - have);
  }
  return lacking;
}

std::string Node::Impl::verify_answer(const FastForwardResponse& r) {
  if (!r.ok) return "the peer cannot serve a fast-forward";
  const Block& b = r.block;
  const BlockBody& body = b.body();
  if (stats.last_block_index && b.index() <= *stats.last_block_index)
    return "block " + std::to_string(b.index()) + " is not newer than this node's block " +
           std::to_string(*stats.last_block_index);
  if (body.round_received < 0) return "negative round received";
  // Trust only what this node already trusts: its own schedule, never the one in the answer,
  // extended by the peer-set proof, each of whose blocks must be signed by more than TrustCount of
  // the set the schedule proven so far has in effect at its round (issue 7).
  PeerSchedule proven = graph->schedule();
  for (const Block& p : r.peer_set_proof) {
    const std::string which = "peer-set proof block " + std::to_string(p.index());
    if (p.index() >= b.index()) return which + " is not below block " + std::to_string(b.index());
    if (stats.last_block_index && p.index() <= *stats.last_block_index) continue;  // applied already
    if (p.body().round_received < 0 || p.body().round_received > body.round_received)
      return which + " has a round received outside the history it proves";
    const PeerSet& before = proven.at(p.body().round_received);
    const std::int64_t ok = p.valid_signatures(before);
    if (ok <= before.trust_count())
      return which + " has " + std::to_string(ok) + " valid signatures of the set in effect at its round; more than " +
             std::to_string(before.trust_count()) + " are needed";
    if (p.body().peers_hash != before.hash()) return which + "'s peers hash is not the proven peer set's";
    if (!apply_peer_changes(proven, p.body())) return which + " changes no peer set";
  }
  const PeerSet& trusted = proven.at(body.round_received);
  const std::int64_t valid = b.valid_signatures(trusted);
  if (valid <= trusted.trust_count())
    return "block " + std::to_string(b.index()) + " has " + std::to_string(valid) +
           " valid signatures of trusted validators; more than " + std::to_string(trusted.trust_count()) +
           " are needed";
  if (body.peers_hash != trusted.hash()) return "the block's peers hash is not the trusted peer set's";
  if (r.frame.round != body.round_received) return "the frame's round is not the block's round received";
  if (r.frame.hash() != body.frame_hash) return "the frame does not hash to the block's frame hash";
  if (!(r.frame.schedule == proven))
    return "the frame's peer-set schedule differs from the trusted one (unproven change)";
  if (body.snapshot_hash.is_zero()) return "the block commits to no snapshot";
  if (r.manifest) {
    const std::string bad = r.manifest->check(cfg.snapshot_chunk_size, cfg.max_snapshot_bytes);
    if (!bad.empty()) return "the snapshot manifest is refused: " + bad;
    if (r.manifest->hash() != body.snapshot_hash)
      return "the snapshot manifest does not hash to the block's snapshot hash";
  } else if (blake2b(r.snapshot) != body.snapshot_hash) {
    return "the snapshot does not hash to the block's snapshot hash";
  }
  // A validly signed but older block than the anchor this peer announced (a replay of old state):
  // an honest peer's anchor only grows.
  if (catch_up.target) {
    auto pos = catch_up.positions.find(*catch_up.target);
    if (pos != catch_up.positions.end() && pos->second.anchor_index && b.index() < *pos->second.anchor_index)
      return "block " + std::to_string(b.index()) + " is older than the anchor " +
             std::to_string(*pos->second.anchor_index) + " the peer announced";
  }
  std::string why;
  catch_up.next_graph = Hashgraph::from_frame(r.frame, b.index() + 1, store, graph_options(), &why);
  if (!catch_up.next_graph) return "the frame is inconsistent: " + why;
  // The block's own receipts (signed with it): a change it accepted takes effect after its Frame.
  if (!catch_up.next_graph->apply_receipts(b, &why)) {
    catch_up.next_graph.reset();
    return "the block's receipts cannot be applied: " + why;
  }
  return {};
}

bool Node::Impl::try_restore(std::int64_t now) {
  const FastForwardResponse& r = *catch_up.verified;
  const std::uint32_t peer = r.from_id;
  Bytes restored;
  try {
    restored = app.restore(r.snapshot);
  } catch (const AppBusy&) {
    return false;  // asked again on a later tick
  } catch (const AppError& e) {
    ++stats.app_errors;
    refuse_answer(peer, std::string("the application could not restore the snapshot: ") + e.what(), now);
    return false;
  }
  const Block& b = r.block;
  if (restored != b.body().state_hash) {
    // The bytes are the ones the validators signed for, so the app disagrees with itself: report it
    // as application non-determinism.
    refuse_answer(peer,
                  "application non-determinism: after restoring the snapshot of block " + std::to_string(b.index()) +
                      " the app reports state hash " + to_hex(restored) + ", the block says " +
                      to_hex(b.body().state_hash),
                  now);
    return false;
  }

  // Everything checked: switch over, persisted in this call's batch before any event is created.
  for (const Root& root : r.frame.roots)
    for (const FrameEvent& fe : root.events) store.put_event(fe.event);
  for (const FrameEvent& fe : r.frame.events) store.put_event(fe.event);
  store.put_frame(r.frame);
  store.put_snapshot(b.index(), r.snapshot);
  store.put_block(b);
  kept_snapshots.clear();  // older ones in the store are dropped as new snapshots come
  note_snapshot(b.index(), r.snapshot.size());
  clear_transfer_store();

  // The proof of the new schedule is kept, to prove it to others in turn.
  const std::size_t entries_before = graph->schedule().entries().size();
  for (const Block& p : r.peer_set_proof) membership_blocks.emplace(p.index(), p);
  if (!(catch_up.next_graph->schedule() == r.frame.schedule)) membership_blocks[b.index()] = b;
  save_membership_blocks();
  graph = std::move(catch_up.next_graph);
  if (graph->schedule().entries().size() > entries_before)
    stats.peer_set_changes += graph->schedule().entries().size() - entries_before;
  rebuild_slots();
  uncommitted.clear();
  recommit.clear();
  pending_restore.reset();
  front_answer.reset();
  own_signatures.clear();
  for (auto it = early_signatures.begin(); it != early_signatures.end();)
    it = it->first <= b.index() ? early_signatures.erase(it) : std::next(it);
  last_block_hash = b.hash();
  stats.last_block_index = b.index();
  stats.state_hash = b.body().state_hash;
  stats.anchor_block = b.index();
  stats.snapshot_anchor = b.index();
  stats.fast_forward_block = b.index();
  ++stats.fast_forwards;
  tail_pending = true;
  leave_catching_up(now, "fast-forwarded to block " + std::to_string(b.index()) + " from peer " + std::to_string(peer));
  refresh_peers();
  no_catch_up_before = now + 10 * cfg.fast_forward_timeout_ns;
  return true;
}

std::vector<Envelope> Node::Impl::catch_up_tick(std::int64_t now) {
  std::vector<Envelope> out;
  CatchUp& c = catch_up;
  if (c.phase == CatchUp::Phase::kRestore) {
    try_restore(now);
    return out;
  }
  if (c.phase == CatchUp::Phase::kChunks) {
    transfer_tick(now, out);
    return out;
  }
  if (c.phase == CatchUp::Phase::kFetch) {
    if (now < c.deadline) return out;
    refuse_answer(*c.target, "no fast-forward answer within the timeout", now);
  }
  // kAsk
  if (!c.asked) {
    c.positions.clear();
    for (std::uint32_t p : peers)
      if (!c.failed.contains(p)) out.push_back(Envelope{p, PositionRequest{my_id}});
    if (out.empty()) {
      leave_catching_up(now, "every peer failed to serve a fast-forward; catching up by gossip");
      return out;
    }
    c.asked = true;
    c.deadline = now + cfg.timeout_ns;
    stats.catch_up_status = "asking " + std::to_string(out.size()) + " peers for their position";
    return out;
  }
  std::size_t waiting = 0;
  for (std::uint32_t p : peers)
    if (!c.failed.contains(p) && !c.positions.contains(p)) ++waiting;
  if (waiting > 0 && now < c.deadline) return out;
  // Choose the peer furthest ahead (ties: the lowest id, deterministic).
  const std::uint64_t min_index = stats.last_block_index ? *stats.last_block_index + 1 : 0;
  std::optional<std::uint32_t> best;
  std::uint64_t best_index = 0;
  for (const auto& [p, pos] : c.positions) {
    if (c.failed.contains(p) || !pos.anchor_index || *pos.anchor_index < min_index) continue;
    if (!best || *pos.anchor_index > best_index) {
      best = p;
      best_index = *pos.anchor_index;
    }
  }
  if (!best) {
    leave_catching_up(now, c.positions.empty() ? "no peer answered; catching up by gossip"
                                               : "no peer has a newer block with a snapshot; catching up by gossip");
    return out;
  }
  c.phase = CatchUp::Phase::kFetch;
  c.target = best;
  c.deadline = now + cfg.fast_forward_timeout_ns;
  stats.catch_up_status = "fetching block " + std::to_string(best_index) + " from peer " + std::to_string(*best);
  out.push_back(Envelope{*best, FastForwardRequest{my_id, min_index}});
  return out;
}

std::vector<Envelope> Node::Impl::catch_up_receive(std::uint32_t from, const Message& message, std::int64_t now) {
  std::vector<Envelope> out;
  CatchUp& c = catch_up;
  if (const auto* pos = std::get_if<PositionResponse>(&message)) {
    if (c.phase == CatchUp::Phase::kAsk && c.asked) c.positions[from] = *pos;
    if (c.phase == CatchUp::Phase::kChunks) transfer_position(from, *pos, now);
  } else if (const auto* chunk = std::get_if<SnapshotChunkResponse>(&message)) {
    if (c.phase == CatchUp::Phase::kChunks) transfer_chunk(from, *chunk, now, out);
  } else if (const auto* ff = std::get_if<FastForwardResponse>(&message)) {
    if (c.phase != CatchUp::Phase::kFetch || c.target != from) return out;  // stale or unsolicited
    stats.catch_up_bytes += ff->snapshot.size();
    const std::string why = verify_answer(*ff);
    if (!why.empty()) {
      refuse_answer(from, why, now);
      return out;
    }
    if (ff->manifest) {
      start_transfer(*ff, now);
      transfer_tick(now, out);
      return out;
    }
    c.verified = *ff;
    c.phase = CatchUp::Phase::kRestore;
    stats.catch_up_status = "restoring the application from block " + std::to_string(ff->block.index());
    try_restore(now);
  }
  return out;
}

FastForwardResponse Node::Impl::serve(std::uint32_t from, const FastForwardRequest& req, std::int64_t now) {
  FastForwardResponse resp;
  resp.from_id = my_id;
  auto last = last_served.find(from);
  if (last != last_served.end() && now - last->second < cfg.serve_interval_ns) return resp;  // rate-limited
  if (!stats.snapshot_anchor || *stats.snapshot_anchor < req.min_index) return resp;
  auto block = store.get_block(*stats.snapshot_anchor);
  auto snapshot = store.get_snapshot(*stats.snapshot_anchor);
  if (!block || !snapshot) return resp;
  auto frame = store.get_frame(block->body().round_received);
  if (!frame) return resp;
  resp.ok = true;
  resp.block = std::move(*block);
  resp.frame = std::move(*frame);
  // The proof of the Frame's schedule: the blocks below this one that changed the peer set, with the
  // signatures the store has gathered for them since.
  for (const auto& [index, kept] : membership_blocks) {
    if (index >= resp.block.index()) break;
    auto stored = store.get_block(index);
    resp.peer_set_proof.push_back(stored && stored->signatures().size() >= kept.signatures().size() ? std::move(*stored) : kept);
  }
  if (snapshot_inline(snapshot->size(), cfg.snapshot_chunk_size)) {
    resp.snapshot = std::move(*snapshot);
  } else {
    const ServedSnapshot* s = served_snapshot(resp.block.index());
    if (!s || !s->manifest) return FastForwardResponse{my_id, false, {}, {}, {}, {}, {}};
    resp.manifest = s->manifest;
  }
  last_served[from] = now;
  ++stats.fast_forwards_served;
  return resp;
}

}  // namespace chatter
