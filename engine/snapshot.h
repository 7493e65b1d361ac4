// Application snapshots in fast-forward: how a snapshot is bound to the chain and cut into chunks.
//
// The rule for BlockBody::snapshot_hash (every node computes the same, so the chunk size is a
// network parameter, NodeConfig::snapshot_chunk_size, like snapshot_interval):
// - a snapshot of at most chunk_size bytes travels inline in the FastForwardResponse and
//   snapshot_hash = BLAKE2b-256(snapshot);
// - a larger one is cut into chunks of chunk_size bytes (the last one shorter, never empty) and
//   snapshot_hash = BLAKE2b-256(canonical encoding of its SnapshotManifest). The manifest travels in
//   the FastForwardResponse, the chunks separately (SnapshotChunkRequest), each verified on arrival
//   against the manifest's hash for it.
// So a signed Block vouches for its Frame (frame_hash) and its snapshot alike.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/bytes.h"
#include "engine/codec.h"

namespace chatter {

struct SnapshotManifest {
  std::uint64_t total_size = 0;    // snapshot bytes
  std::uint32_t chunk_size = 0;    // bytes of every chunk but the last
  std::vector<Hash> chunk_hashes;  // BLAKE2b-256 of each chunk, in order

  std::uint64_t chunk_count() const { return chunk_hashes.size(); }
  // Bytes of chunk i (chunk_size, or what remains for the last one).
  std::uint64_t chunk_length(std::uint64_t i) const;
  std::uint64_t chunk_offset(std::uint64_t i) const { return i * chunk_size; }
  // Empty when the manifest is consistent for `expected_chunk_size` (chunk size equal, more than
  // one chunk's worth of bytes, exactly ceil(total / chunk) hashes, total at most max_total);
  // otherwise why not.
  std::string check(std::uint32_t expected_chunk_size, std::uint64_t max_total) const;

  // Canonical: u64 total_size, u32 chunk_size, u32 n + n x 32-byte hashes.
  void encode(Writer& w) const;
  // Throws DecodeError on malformed input (the count is checked against the remaining bytes first).
  static SnapshotManifest decode(Reader& r);
  Hash hash() const;  // BLAKE2b-256 of the encoding
  friend bool operator==(const SnapshotManifest&, const SnapshotManifest&) = default;
};

// The manifest of `snapshot` cut into chunks of chunk_size bytes (chunk_size > 0).
SnapshotManifest make_manifest(const Bytes& snapshot, std::uint32_t chunk_size);
// True when the snapshot travels inline (size <= chunk_size).
inline bool snapshot_inline(std::uint64_t size, std::uint32_t chunk_size) { return size <= chunk_size; }
// snapshot_hash by the rule above.
Hash snapshot_commitment(const Bytes& snapshot, std::uint32_t chunk_size);

}  // namespace chatter
