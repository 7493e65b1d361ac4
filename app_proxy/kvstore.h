// KvStore: the example application, a replicated key-value map driven by text transactions. It is
// what `chatter testnet` and the simulator run by default, and the reference for writing an app.
//
// Transactions (a block's transactions, as bytes, applied in block order):
//   "SET <key> <value>"  sets key to value. The value is everything after the single space that
//                        follows the key; it may contain spaces and may be empty ("SET k " sets k
//                        to ""). "SET k" (no separating space) is malformed.
//   "DEL <key>"          removes key (deleting an absent key is a valid no-op).
// A transaction is one line: a single trailing "\n" or "\r\n" is stripped first, and any other
// '\n' or '\r' makes it malformed. Keys are non-empty and contain no space. Verbs are exact
// (upper case). Anything else is malformed: ignored (the map does not change) and counted in
// ignored(); never an error. Well-formed transactions are counted in committed_transactions().
//
// State hash (32 bytes), a function of the map contents only (not of history, so a restored
// snapshot gives the same hash as the node that produced it):
//   entry_digest(k, v) = BLAKE2b-256(u32 len(k) || k || u32 len(v) || v)   (little-endian lengths)
//   acc               = sum of entry_digest over all entries, mod 2^256, each digest read as a
//                       little-endian 256-bit integer; written back as 32 little-endian bytes
//   state_hash        = BLAKE2b-256(u64 count || acc)   (count = number of entries, little-endian)
// The empty map hashes BLAKE2b-256 of 40 zero bytes. acc is maintained incrementally (add the new
// entry's digest, subtract the old one), so a commit costs O(block size), not O(map size).
// compute_state_hash() is the from-scratch O(n) reference of the same definition.
//
// Snapshot (get_snapshot / restore): u32 count, then per entry (bytes key, bytes value) in strictly
// increasing key order (byte-wise), bytes = u32 length + content. restore() refuses (AppError,
// state untouched) anything that is not exactly such an encoding of a map transactions could
// reach: truncated, trailing bytes, a count larger than the input, keys out of order or
// duplicated, an empty key, a key with a space, or a line break in a key or value.
//
// AppProxy contract: commit_block applies the block's transactions in order, accepts every internal
// transaction (one receipt per internal transaction, same order, accepted = true) and returns the
// state hash. Blocks must arrive in index order: once a block index L is known to be the last one
// committed, a block whose index is not L + 1 is refused with AppError and nothing changes. Only
// the state after the last committed block is kept: get_snapshot(i) throws AppError unless i is
// that index. After restore() the last block index is unknown (the snapshot does not carry it)
// until the next commit, so get_snapshot throws until then and the next block may have any index.
//
// Threads: the engine drives it from one thread; a mutex guards the map so that readers on other
// threads (get, size, state_hash, entries, counters) see a consistent state between blocks.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "engine/app_proxy.h"

namespace chatter {

class KvStore : public AppProxy {
 public:
  using Map = std::map<std::string, std::string>;

  KvStore();

  CommitResponse commit_block(const Block& block) override;
  Bytes get_snapshot(std::uint64_t block_index) override;
  Bytes restore(const Bytes& snapshot) override;
  void on_state_changed(NodeState state) override;

  std::optional<std::string> get(const std::string& key) const;
  std::size_t size() const;
  Map entries() const;  // a copy of the whole map (tests, tools)
  Bytes state_hash() const;
  std::optional<std::uint64_t> last_block_index() const;
  std::uint64_t committed_transactions() const;  // well-formed transactions applied
  std::uint64_t ignored() const;                 // malformed transactions skipped
  NodeState node_state() const;                  // last state reported by the engine

  // Applies one transaction outside any block (tests, tools); returns false if it was malformed.
  bool apply(std::string_view transaction);

  // The definitions above, computed from scratch (O(n)): the reference the incremental hash must
  // equal.
  static Hash entry_digest(std::string_view key, std::string_view value);
  static Bytes compute_state_hash(const Map& map);
  // The canonical snapshot encoding of a map.
  static Bytes encode_snapshot(const Map& map);

  // The 32-byte accumulator: a 256-bit unsigned integer in little-endian byte order.
  using Acc = Hash;

 private:
  bool apply_locked(std::string_view transaction);
  void put_locked(const std::string& key, std::string value);
  void erase_locked(const std::string& key);
  Bytes state_hash_locked() const;

  mutable std::mutex mu_;
  Map map_;
  Acc acc_;  // sum of entry digests mod 2^256
  std::optional<std::uint64_t> last_block_index_;
  std::uint64_t committed_ = 0;
  std::uint64_t ignored_ = 0;
  NodeState node_state_ = NodeState::kBabbling;
};

}  // namespace chatter
