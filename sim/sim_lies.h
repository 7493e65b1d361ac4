// Fault `lying-fastforward`, the kinds about chunked snapshot transfer (SimOptions::lying_kind 7..9),
// kept apart from simulator.cpp. The liar is node 0, otherwise an honest node; these functions
// rewrite the messages it sends.
// - 7 an older block: its FastForwardResponse carries its previous snapshot block (validly signed,
//   frame and snapshot matching) instead of the anchor it announced;
// - 8 a truncated chunk: every SnapshotChunkResponse it sends carries half of the chunk;
// - 9 a bad chunk: every SnapshotChunkResponse it sends has one byte flipped.
// For 8 and 9 its positions stay honest (it must be a holder of the snapshot to be asked).
#pragma once

#include <cstdint>

#include "engine/messages.h"
#include "engine/store.h"

namespace chatter {

inline constexpr int kLieOlderBlock = 7, kLieTruncatedChunk = 8, kLieBadChunk = 9;
inline bool is_chunk_lie(int kind) { return kind >= kLieOlderBlock && kind <= kLieBadChunk; }

// Rewrites `m` (a message node 0 sends) for lie `kind` (7..9). Returns true when it forged it.
bool forge_chunked(int kind, Message& m, const Store& liar_store, std::uint64_t snapshot_interval,
                   std::uint32_t chunk_size);

}  // namespace chatter
