#include "engine/snapshot.h"

#include <algorithm>

#include "engine/crypto.h"

namespace chatter {

std::uint64_t SnapshotManifest::chunk_length(std::uint64_t i) const {
  const std::uint64_t off = chunk_offset(i);
  if (off >= total_size) return 0;
  return std::min<std::uint64_t>(chunk_size, total_size - off);
}

std::string SnapshotManifest::check(std::uint32_t expected_chunk_size, std::uint64_t max_total) const {
  if (chunk_size != expected_chunk_size)
    return "the manifest's chunk size " + std::to_string(chunk_size) + " is not the network's " +
           std::to_string(expected_chunk_size);
  if (total_size <= chunk_size) return "a snapshot of one chunk or less travels inline, not in a manifest";
  if (total_size > max_total)
    return "the snapshot of " + std::to_string(total_size) + " bytes exceeds the limit of " +
           std::to_string(max_total);
  const std::uint64_t n = (total_size + chunk_size - 1) / chunk_size;
  if (chunk_hashes.size() != n)
    return "the manifest lists " + std::to_string(chunk_hashes.size()) + " chunks, " + std::to_string(n) +
           " are needed";
  return {};
}

void SnapshotManifest::encode(Writer& w) const {
  w.u64(total_size);
  w.u32(chunk_size);
  w.u32(static_cast<std::uint32_t>(chunk_hashes.size()));
  for (const Hash& h : chunk_hashes) w.fixed(h);
}

SnapshotManifest SnapshotManifest::decode(Reader& r) {
  SnapshotManifest m;
  m.total_size = r.u64();
  m.chunk_size = r.u32();
  if (m.chunk_size == 0) throw DecodeError("SnapshotManifest: zero chunk size");
  const std::uint32_t n = r.count(32);
  m.chunk_hashes.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) m.chunk_hashes.push_back(r.fixed<32>());
  return m;
}

Hash SnapshotManifest::hash() const {
  Writer w;
  encode(w);
  return blake2b(w.data());
}

SnapshotManifest make_manifest(const Bytes& snapshot, std::uint32_t chunk_size) {
  SnapshotManifest m;
  m.total_size = snapshot.size();
  m.chunk_size = chunk_size;
  for (std::size_t off = 0; off < snapshot.size(); off += chunk_size) {
    const std::size_t len = std::min<std::size_t>(chunk_size, snapshot.size() - off);
    m.chunk_hashes.push_back(blake2b(snapshot.data() + off, len));
  }
  return m;
}

Hash snapshot_commitment(const Bytes& snapshot, std::uint32_t chunk_size) {
  if (snapshot_inline(snapshot.size(), chunk_size)) return blake2b(snapshot);
  return make_manifest(snapshot, chunk_size).hash();
}

}  // namespace chatter
