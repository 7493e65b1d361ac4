// CatchingUp, chunked snapshot transfer: fetching a large snapshot chunk by chunk from every peer
// that holds it, persisted so that a restart resumes, retargeting when the network moves on; and
// serving chunks. See node.h ("Snapshot transfer") for the contract.
#include "engine/crypto.h"
#include "engine/node_impl.h"

namespace chatter {

namespace {

const std::string kTargetKey = "ff.target";

std::string chunk_key(const Hash& h) { return "ff.chunk." + to_hex(h); }

constexpr int kMaxTimeouts = 3;                     // then the peer is left aside for this snapshot
constexpr std::int64_t kBusyRetryNs = 200'000'000;  // a rate-limited peer is asked again after this
constexpr std::int64_t kSecondNs = 1'000'000'000;

std::optional<Bytes> stored_chunk(const Store& store, const Hash& h) {
  auto b = store.get_meta(chunk_key(h));
  if (!b || b->empty() || blake2b(*b) != h) return std::nullopt;  // absent, emptied or damaged
  return b;
}

}  // namespace

void Node::Impl::update_progress() {
  const auto& t = catch_up.transfer;
  if (!t) return;
  const SnapshotManifest& m = *t->answer.manifest;
  std::uint64_t done = 0, bytes = 0;
  for (std::uint64_t i = 0; i < m.chunk_count(); ++i)
    if (t->have.contains(m.chunk_hashes[i])) {
      ++done;
      bytes += m.chunk_length(i);
    }
  stats.catch_up_target_block = t->answer.block.index();
  stats.catch_up_chunks_done = done;
  stats.catch_up_chunks_total = m.chunk_count();
  stats.catch_up_snapshot_bytes_done = bytes;
  stats.catch_up_snapshot_bytes_total = m.total_size;
  stats.catch_up_chunk_sources = t->sources.size();
  stats.catch_up_status = "fetching the snapshot of block " + std::to_string(t->answer.block.index()) + ": " +
                          std::to_string(done) + "/" + std::to_string(m.chunk_count()) + " chunks, " +
                          std::to_string(bytes) + "/" + std::to_string(m.total_size) + " bytes";
}

void Node::Impl::start_transfer(const FastForwardResponse& verified, std::int64_t now) {
  const SnapshotManifest& m = *verified.manifest;
  std::set<Hash> wanted(m.chunk_hashes.begin(), m.chunk_hashes.end());
  // Chunks of a previous target that this one does not share are dropped (emptied).
  if (auto old = store.get_meta(kTargetKey); old && !old->empty()) {
    try {
      const Message msg = decode_payload(static_cast<std::uint8_t>(MessageType::kFastForwardResponse),
                                         old->data(), old->size());
      const auto& prev = std::get<FastForwardResponse>(msg);
      if (prev.manifest)
        for (const Hash& h : prev.manifest->chunk_hashes)
          if (!wanted.contains(h)) store.put_meta(chunk_key(h), {});
    } catch (const DecodeError&) {
    }
  }
  Writer w;
  encode_payload(verified, w);
  store.put_meta(kTargetKey, w.take());

  Transfer t;
  t.answer = verified;
  t.source = catch_up.target.value_or(verified.from_id);
  for (const Hash& h : wanted)
    if (stored_chunk(store, h)) t.have.insert(h);
  t.next_positions = now + cfg.position_refresh_ns;
  stats.catch_up_chunks_reused += t.have.size();
  catch_up.transfer = std::move(t);
  catch_up.phase = CatchUp::Phase::kChunks;
  update_progress();
}

void Node::Impl::resume_transfer() {
  auto stored = store.get_meta(kTargetKey);
  if (!stored || stored->empty()) return;
  FastForwardResponse ff;
  try {
    Message msg = decode_payload(static_cast<std::uint8_t>(MessageType::kFastForwardResponse), stored->data(),
                                 stored->size());
    ff = std::move(std::get<FastForwardResponse>(msg));
  } catch (const DecodeError&) {
    return;  // unreadable: start afresh
  }
  if (!ff.manifest) return;
  // Checked again against what this node trusts now: the store is not a peer, but the check is cheap.
  catch_up.target = ff.from_id;
  if (!verify_answer(ff).empty()) {
    catch_up = CatchUp{};
    return;
  }
  start_transfer(ff, 0);
  catch_up.transfer->next_positions = 0;  // find the holders at once
  stats.catch_up_status = "resuming the snapshot transfer of block " + std::to_string(ff.block.index()) +
                          " with " + std::to_string(stats.catch_up_chunks_done) + "/" +
                          std::to_string(stats.catch_up_chunks_total) + " chunks from the store";
}

void Node::Impl::clear_transfer_store() {
  auto old = store.get_meta(kTargetKey);
  if (!old || old->empty()) return;
  try {
    const Message msg = decode_payload(static_cast<std::uint8_t>(MessageType::kFastForwardResponse),
                                       old->data(), old->size());
    const auto& prev = std::get<FastForwardResponse>(msg);
    if (prev.manifest)
      for (const Hash& h :
           std::set<Hash>(prev.manifest->chunk_hashes.begin(), prev.manifest->chunk_hashes.end()))
        store.put_meta(chunk_key(h), {});
  } catch (const DecodeError&) {
  }
  store.put_meta(kTargetKey, {});
}

void Node::Impl::retarget(std::int64_t now, const std::string& why) {
  ++stats.catch_up_retargets;
  if (++catch_up.retargets > cfg.max_retargets) {
    leave_catching_up(now, why + "; retargeted " + std::to_string(cfg.max_retargets) +
                               " times already: catching up by gossip");
    return;
  }
  stats.catch_up_status = why + ": retargeting";
  catch_up.phase = CatchUp::Phase::kAsk;
  catch_up.asked = false;
  catch_up.target.reset();
  catch_up.verified.reset();
  catch_up.next_graph.reset();
  catch_up.transfer.reset();  // its chunks stay in the store: the next target reuses equal ones
  catch_up.deadline = now;
}

void Node::Impl::transfer_position(std::uint32_t from, const PositionResponse& pos, std::int64_t now) {
  Transfer& t = *catch_up.transfer;
  catch_up.positions[from] = pos;
  const std::uint64_t target = t.answer.block.index();
  if (pos.anchor_index && *pos.anchor_index == target &&
      pos.snapshot_hash == t.answer.block.body().snapshot_hash)
    t.not_holding.erase(from);  // it holds exactly this snapshot
  if (!catch_up.failed.contains(from) && pos.anchor_index &&
      *pos.anchor_index > target + cfg.retarget_after_blocks)
    retarget(now, "the network moved on to block " + std::to_string(*pos.anchor_index) +
                      " while fetching block " + std::to_string(target));
}

void Node::Impl::transfer_tick(std::int64_t now, std::vector<Envelope>& out) {
  Transfer& t = *catch_up.transfer;
  const SnapshotManifest& m = *t.answer.manifest;
  const std::uint64_t target = t.answer.block.index();
  const Hash& commitment = t.answer.block.body().snapshot_hash;

  if (now >= t.next_positions) {
    for (std::uint32_t p : peers)
      if (!catch_up.failed.contains(p)) out.push_back(Envelope{p, PositionRequest{my_id}});
    t.next_positions = now + cfg.position_refresh_ns;
  }
  // Unanswered chunks are asked again; a peer that keeps timing out is left aside.
  for (auto it = t.asking.begin(); it != t.asking.end();) {
    if (now < it->second.deadline) {
      ++it;
      continue;
    }
    if (++t.timeouts[it->second.peer] >= kMaxTimeouts) t.not_holding.insert(it->second.peer);
    it = t.asking.erase(it);
  }

  // Every chunk in: assemble (each stored chunk checked again), then restore as an inline snapshot.
  bool complete = true;
  for (const Hash& h : m.chunk_hashes)
    if (!t.have.contains(h)) complete = false;
  if (complete) {
    Bytes snapshot;
    snapshot.reserve(m.total_size);
    for (const Hash& h : m.chunk_hashes) {
      auto b = stored_chunk(store, h);
      if (!b) {
        t.have.erase(h);  // damaged in the store: fetched again
        complete = false;
        break;
      }
      snapshot.insert(snapshot.end(), b->begin(), b->end());
    }
    if (complete) {
      FastForwardResponse r = t.answer;
      r.snapshot = std::move(snapshot);
      r.from_id = t.source;
      catch_up.verified = std::move(r);
      catch_up.transfer.reset();
      catch_up.phase = CatchUp::Phase::kRestore;
      stats.catch_up_status = "restoring the application from block " + std::to_string(target);
      try_restore(now);
      return;
    }
  }

  // Who may hold the snapshot: the peer that sent the manifest, and every peer whose anchor is at
  // or past the target (an answer kUnavailable takes it out).
  std::vector<std::uint32_t> holders;
  for (std::uint32_t p : peers) {
    if (catch_up.failed.contains(p) || t.not_holding.contains(p)) continue;
    auto pos = catch_up.positions.find(p);
    const bool may = p == t.source || (pos != catch_up.positions.end() && pos->second.anchor_index &&
                                       *pos->second.anchor_index >= target);
    if (may) holders.push_back(p);
  }
  if (holders.empty() && t.asking.empty()) {
    retarget(now, "no peer serves the snapshot of block " + std::to_string(target) + " any more");
    return;
  }
  std::map<std::uint32_t, std::size_t> load;
  for (std::uint32_t p : holders) load[p] = 0;
  std::set<Hash> pending;
  for (const auto& [i, ask] : t.asking) {
    pending.insert(m.chunk_hashes[i]);
    if (load.contains(ask.peer)) ++load[ask.peer];
  }
  for (std::uint64_t i = 0; i < m.chunk_count() && t.asking.size() < cfg.chunks_in_flight; ++i) {
    const Hash& h = m.chunk_hashes[i];
    if (t.have.contains(h) || pending.contains(h)) continue;  // equal chunks are fetched once
    // The least loaded holder that is not backing off (ties: the lowest id, deterministic).
    std::optional<std::uint32_t> best;
    for (const auto& [p, n] : load) {
      auto busy = t.busy_until.find(p);
      if (busy != t.busy_until.end() && busy->second > now) continue;
      if (!best || n < load[*best]) best = p;
    }
    if (!best) break;
    ++load[*best];
    pending.insert(h);
    t.asking[i] = Transfer::Ask{*best, now + cfg.chunk_timeout_ns};
    out.push_back(Envelope{*best, SnapshotChunkRequest{my_id, target, commitment, i}});
  }
  update_progress();
}

void Node::Impl::transfer_chunk(std::uint32_t from, const SnapshotChunkResponse& r, std::int64_t now,
                                std::vector<Envelope>& out) {
  Transfer& t = *catch_up.transfer;
  const SnapshotManifest& m = *t.answer.manifest;
  const std::uint64_t target = t.answer.block.index();
  auto ask = t.asking.find(r.chunk_index);
  // Only answers to an outstanding request of this transfer, from the peer asked.
  if (r.block_index != target || r.snapshot_hash != t.answer.block.body().snapshot_hash ||
      ask == t.asking.end() || ask->second.peer != from)
    return;
  t.asking.erase(ask);
  if (r.status == ChunkStatus::kBusy) {
    t.busy_until[from] = now + kBusyRetryNs;
  } else if (r.status == ChunkStatus::kUnavailable) {
    t.not_holding.insert(from);
  } else {
    stats.catch_up_bytes += r.bytes.size();
    const Hash& want = m.chunk_hashes[r.chunk_index];
    std::string why;
    if (r.bytes.size() != m.chunk_length(r.chunk_index))
      why = "chunk " + std::to_string(r.chunk_index) + " of the snapshot of block " + std::to_string(target) +
            " has " + std::to_string(r.bytes.size()) + " bytes, the manifest says " +
            std::to_string(m.chunk_length(r.chunk_index));
    else if (blake2b(r.bytes) != want)
      why = "chunk " + std::to_string(r.chunk_index) + " of the snapshot of block " + std::to_string(target) +
            " does not hash to the manifest's";
    if (!why.empty()) {
      // Refused; nothing stored; this peer is not asked again during this catch-up.
      ++stats.fast_forward_refusals;
      ++stats.catch_up_bad_chunks;
      stats.last_fast_forward_error = "peer " + std::to_string(from) + ": " + why;
      catch_up.failed.insert(from);
      for (auto it = t.asking.begin(); it != t.asking.end();)
        it = it->second.peer == from ? t.asking.erase(it) : std::next(it);
    } else if (!t.have.contains(want)) {
      store.put_meta(chunk_key(want), r.bytes);
      t.have.insert(want);
      t.sources.insert(from);
      ++stats.catch_up_chunks_fetched;
    }
  }
  transfer_tick(now, out);
}

const Node::Impl::ServedSnapshot* Node::Impl::served_snapshot(std::uint64_t block_index) {
  auto it = served_cache.find(block_index);
  if (it != served_cache.end()) return &it->second;
  auto snap = store.get_snapshot(block_index);
  if (!snap) return nullptr;
  ServedSnapshot s;
  if (!snapshot_inline(snap->size(), cfg.snapshot_chunk_size)) {
    s.manifest = make_manifest(*snap, cfg.snapshot_chunk_size);
    s.commitment = s.manifest->hash();
  } else {
    s.commitment = blake2b(*snap);
  }
  s.snapshot = std::move(*snap);
  while (served_cache.size() >= 2) served_cache.erase(served_cache.begin());
  return &served_cache.emplace(block_index, std::move(s)).first->second;
}

SnapshotChunkResponse Node::Impl::serve_chunk(std::uint32_t from, const SnapshotChunkRequest& req,
                                              std::int64_t now) {
  SnapshotChunkResponse resp;
  resp.from_id = my_id;
  resp.block_index = req.block_index;
  resp.snapshot_hash = req.snapshot_hash;
  resp.chunk_index = req.chunk_index;
  resp.status = ChunkStatus::kUnavailable;
  if (cfg.serve_chunk_rate == 0) return resp;
  const ServedSnapshot* s = served_snapshot(req.block_index);
  if (!s || !s->manifest || s->commitment != req.snapshot_hash ||
      req.chunk_index >= s->manifest->chunk_count())
    return resp;
  // Rate limit (GCRA): serve_chunk_rate chunks per second per peer, a burst of one second's worth.
  const std::int64_t interval = kSecondNs / static_cast<std::int64_t>(cfg.serve_chunk_rate);
  std::int64_t& tat = chunk_tat[from];
  tat = std::max(tat, now);
  if (tat - now + interval > kSecondNs) {
    resp.status = ChunkStatus::kBusy;
    return resp;
  }
  tat += interval;
  const std::uint64_t off = s->manifest->chunk_offset(req.chunk_index);
  const std::uint64_t len = s->manifest->chunk_length(req.chunk_index);
  resp.bytes.assign(s->snapshot.begin() + static_cast<std::ptrdiff_t>(off),
                    s->snapshot.begin() + static_cast<std::ptrdiff_t>(off + len));
  resp.status = ChunkStatus::kOk;
  ++stats.chunks_served;
  return resp;
}

}  // namespace chatter
