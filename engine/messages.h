// Gossip messages between nodes (DESIGN.md, Protocol) and their canonical encoding. The transport
// (net/) frames them as: u32 length, u8 MessageType, payload.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "engine/block.h"
#include "engine/codec.h"
#include "engine/event.h"
#include "engine/frame.h"
#include "engine/snapshot.h"

namespace chatter {

// For each creator (by peer id, ascending), the highest index the sender holds; creators it has no
// event of are absent.
using KnownIndexes = std::vector<std::pair<std::uint32_t, std::uint64_t>>;

// Pull: "send me what I lack".
struct SyncRequest {
  std::uint32_t from_id = 0;
  KnownIndexes known;
};
// The events the requester lacks, in topological order, at most sync-limit of them, and what the
// responder holds (so the requester can push back what the responder lacks).
struct SyncResponse {
  std::uint32_t from_id = 0;
  std::vector<WireEvent> events;
  KnownIndexes known;
  bool more = false;  // capped by sync-limit: the requester should pull again soon
};
// Push: the events the responder lacks.
struct EagerSyncRequest {
  std::uint32_t from_id = 0;
  std::vector<WireEvent> events;
};
struct EagerSyncResponse {
  std::uint32_t from_id = 0;
  bool success = false;
};


// Fast-forward (CatchingUp). First "how far are you?" to every peer, then the full answer from the
// one furthest ahead.
struct PositionRequest {
  std::uint32_t from_id = 0;
};
// The responder's anchor: its highest block that carries more than TrustCount valid signatures and
// a snapshot it can serve (absent when it has none), and its last consensus round (-1 for none);
// the anchor's snapshot_hash (zero without an anchor), so the requester knows which peers hold the
// same snapshot and can fetch its chunks from all of them.
struct PositionResponse {
  std::uint32_t from_id = 0;
  std::optional<std::uint64_t> anchor_index;
  std::int64_t last_consensus_round = -1;
  Hash snapshot_hash;
};
// "Send me your anchor block, its Frame and the application snapshot after it, if its index is at
// least min_index."
struct FastForwardRequest {
  std::uint32_t from_id = 0;
  std::uint64_t min_index = 0;
};
// ok=false: the responder cannot serve (no anchor at or above min_index, or rate-limited); the
// other fields are then empty. The requester verifies everything before using any of it.
// The snapshot travels inline when it is at most the network's chunk size (engine/snapshot.h);
// otherwise `manifest` is set, `snapshot` is empty and the chunks are fetched with
// SnapshotChunkRequest.
struct FastForwardResponse {
  std::uint32_t from_id = 0;
  bool ok = false;
  Block block;
  Frame frame;
  Bytes snapshot;
  std::optional<SnapshotManifest> manifest;
  // Proven peer-set history (issue 7): the committed blocks, in increasing index and below
  // `block`, whose receipts changed the peer set, each signed by more than TrustCount of the set
  // before it. The requester walks them from the schedule it trusts (skipping those it has
  // applied already), checking each block's signatures against the set in effect at its round and
  // applying its receipts, and requires the result to be the Frame's schedule.
  std::vector<Block> peer_set_proof;
};

// "Send me chunk `chunk_index` of the snapshot of block `block_index` whose snapshot_hash is
// `snapshot_hash`" (the manifest's hash: chunks are only served for a snapshot both sides name).
struct SnapshotChunkRequest {
  std::uint32_t from_id = 0;
  std::uint64_t block_index = 0;
  Hash snapshot_hash;
  std::uint64_t chunk_index = 0;
};
enum class ChunkStatus : std::uint8_t {
  kOk = 0,           // `bytes` is the chunk
  kBusy = 1,         // rate-limited: ask again later (or another peer)
  kUnavailable = 2,  // this peer does not hold that snapshot (any more)
};
struct SnapshotChunkResponse {
  std::uint32_t from_id = 0;
  std::uint64_t block_index = 0;
  Hash snapshot_hash;
  std::uint64_t chunk_index = 0;
  ChunkStatus status = ChunkStatus::kUnavailable;
  Bytes bytes;  // only with kOk
};

// Dynamic membership (issue 7). A node outside the peer set asks a validator to add it: `tx` is a
// PEER_ADD of the sender's own peer, signed by it. The validator checks tx.verify(), the type and
// that from_id is tx.peer.id(), submits it in its next event, and answers once the block holding
// it is committed.
struct JoinRequest {
  std::uint32_t from_id = 0;
  InternalTransaction tx;
};
// accepted: the application's receipt; accepted_round: the round received of the block that holds
// the change (it takes effect at accepted_round + 6); peers: the set in effect from then; reason:
// why it was refused (empty when accepted). The joiner takes none of it on trust: it becomes a
// validator only when its own verified schedule says so.
struct JoinResponse {
  std::uint32_t from_id = 0;
  bool accepted = false;
  std::int64_t accepted_round = -1;
  PeerSet peers;
  std::string reason;
};

enum class MessageType : std::uint8_t {
  kSyncRequest = 1,
  kSyncResponse = 2,
  kEagerSyncRequest = 3,
  kEagerSyncResponse = 4,
  kPositionRequest = 5,
  kPositionResponse = 6,
  kFastForwardRequest = 7,
  kFastForwardResponse = 8,
  kSnapshotChunkRequest = 9,
  kSnapshotChunkResponse = 10,
  kJoinRequest = 11,
  kJoinResponse = 12,
};
inline constexpr std::uint8_t kLastMessageType = 12;

using Message = std::variant<SyncRequest, SyncResponse, EagerSyncRequest, EagerSyncResponse, PositionRequest,
                             PositionResponse, FastForwardRequest, FastForwardResponse, SnapshotChunkRequest,
                             SnapshotChunkResponse, JoinRequest, JoinResponse>;

MessageType type_of(const Message& m);
const char* to_string(MessageType t);
// Payload only (the type travels beside it).
void encode_payload(const Message& m, Writer& w);
// Throws DecodeError on an unknown type, malformed or trailing bytes.
Message decode_payload(MessageType type, Reader& r);
Message decode_payload(std::uint8_t type, const std::uint8_t* p, std::size_t n);

}  // namespace chatter
