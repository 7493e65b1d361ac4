#include "sim/sim_lies.h"

namespace chatter {

bool forge_chunked(int kind, Message& m, const Store& liar_store, std::uint64_t snapshot_interval,
                   std::uint32_t chunk_size) {
  if (kind == kLieOlderBlock) {
    if (auto* pos = std::get_if<PositionResponse>(&m)) {
      pos->anchor_index = pos->anchor_index.value_or(0) + 1000;  // asked first
      return false;
    }
    auto* ff = std::get_if<FastForwardResponse>(&m);
    if (!ff || !ff->ok || snapshot_interval == 0 || ff->block.index() < snapshot_interval) return false;
    // The liar's previous snapshot: at a multiple of snapshot_interval, possibly further back than
    // one interval (a large snapshot spaces them, NodeConfig::snapshot_bytes_per_block).
    std::optional<Bytes> snapshot;
    std::uint64_t older = ff->block.index() - ff->block.index() % snapshot_interval;
    while (older >= snapshot_interval && !snapshot) {
      older -= snapshot_interval;
      snapshot = liar_store.get_snapshot(older);
      if (ff->block.index() - older > 64 * snapshot_interval) break;
    }
    auto block = liar_store.get_block(older);
    if (!block || !snapshot) return false;
    auto frame = liar_store.get_frame(block->body().round_received);
    if (!frame) return false;
    ff->block = std::move(*block);
    ff->frame = std::move(*frame);
    ff->snapshot.clear();
    ff->manifest.reset();
    if (snapshot_inline(snapshot->size(), chunk_size))
      ff->snapshot = std::move(*snapshot);
    else
      ff->manifest = make_manifest(*snapshot, chunk_size);
    return true;
  }
  auto* chunk = std::get_if<SnapshotChunkResponse>(&m);
  if (!chunk || chunk->status != ChunkStatus::kOk || chunk->bytes.empty()) return false;
  if (kind == kLieTruncatedChunk)
    chunk->bytes.resize(chunk->bytes.size() / 2);
  else if (kind == kLieBadChunk)
    chunk->bytes[chunk->bytes.size() / 2] ^= 0x01;
  else
    return false;
  return true;
}

}  // namespace chatter
