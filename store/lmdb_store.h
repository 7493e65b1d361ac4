// LmdbStore: the Store port (engine/store.h) persisted in one LMDB environment in a directory
// (normally DATADIR/store, see store/store_dir.h). Same semantics as InmemStore: put_event is
// idempotent and appends at position event_count(); put_block merges the signatures already stored
// for that index (a changed body keeps only those that verify against it); frames, snapshots, peer
// sets and meta values are replaced on re-put.
//
// Named databases (keys are big-endian so that LMDB's byte order is numeric order; signed rounds
// have their sign bit flipped):
//   events       u64 position           -> 32-byte hash + canonical Event bytes (body + signature);
//                                          positions are insertion order (events_from)
//   event_index  32-byte hash           -> u64 position (get_event; idempotent put_event)
//   creators     creator key + u64 index -> u64 position (event_at; the first event stored wins)
//   consensus    u64 position           -> hash (consensus order)
//   blocks       u64 index              -> canonical Block (body + signatures)
//   frames       i64 round              -> canonical Frame
//   snapshots    u64 block index        -> snapshot bytes
//   peer_sets    i64 round              -> canonical PeerSet
//   meta         string                 -> bytes; keys starting with "store." are the store's own
//                                          (schema version, event and consensus counters)
//
// Batches: begin_batch() opens one write transaction; every put until end_batch() goes into it and
// every read sees it; end_batch() commits it once. Puts outside a batch commit on their own. After
// kill -9 the store is exactly before or after each batch (LMDB's copy-on-write commit). A batch
// still open when the store is destroyed is abandoned, like a crash.
//
// Durability (Options::sync): the default kMetaNoSync flushes data pages once per commit but not the
// meta page, which LMDB documents as keeping integrity on a system crash while possibly undoing the
// last committed transactions. kill -9 never loses a committed batch under any mode (the page cache
// survives the process). kFull also flushes the meta page (two flushes a commit, never loses a
// commit); kNone never flushes (a power cut may corrupt the store: for tests and benchmarks only).
//
// Memory: a bounded cache of recently put or read events (at most Options::cache_size entries) plus
// the peer schedule; nothing grows with history. LMDB's pages of the data file that the process has
// mapped are released every 32 commits (release_mapped_pages), so resident memory does not follow
// the file's size either. Counters live in meta, written in the same
// transaction as the events they count.
//
// Errors: every environment failure throws StoreError (store/store_error.h) with one sentence naming
// the directory: schema mismatch, corrupted or truncated data file (also a stored record that does
// not decode or whose hash does not match its key), map full, read-only or full disk (LMDB's EIO on
// a short write counts as a full disk when the file system has less than 1 MiB left), and any other
// LMDB error with its mdb_strerror text. A failed write transaction is aborted whole (in a batch:
// the whole batch), the counters and caches go back to the committed state, and the store stays
// usable for reads. Not thread-safe (one driving thread, as the port says).
//
// Limits of damage detection: LMDB keeps no page checksums. Refused with StoreError: damaged meta
// pages, a data file shorter than its header says (checked at open: LMDB would read past the end
// through the map and die of SIGBUS), an empty data file (LMDB would start a new store), a record
// that does not decode, an event body that does not hash to its stored hash. Not detected: a
// damaged event signature (get_event does not verify; that would cost an Ed25519 verification a
// read), and damage inside B-tree page headers, which LMDB may or may not report as MDB_CORRUPTED.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/store.h"
#include "store/store_error.h"

struct MDB_txn;  // lmdb.h stays out of this header
struct MDB_val;

namespace chatter {

class LmdbStore final : public Store {
 public:
  static constexpr std::uint32_t kSchemaVersion = 1;

  enum class Sync { kFull, kMetaNoSync, kNone };

  struct Options {
    // Upper bound of the data file (LMDB reserves it as virtual address space, the file grows as
    // needed). Reaching it is StoreError kMapFull.
    std::size_t map_size = sizeof(void*) >= 8 ? (std::size_t{64} << 30) : (std::size_t{1} << 30);
    std::size_t cache_size = 50000;  // at most this many events kept decoded in memory (0 or 1: none)
    Sync sync = Sync::kMetaNoSync;
  };

  // Opens the store in `dir` (created when missing), or throws StoreError.
  explicit LmdbStore(const std::filesystem::path& dir) : LmdbStore(dir, Options{}) {}
  LmdbStore(const std::filesystem::path& dir, Options options);
  ~LmdbStore() override;
  LmdbStore(const LmdbStore&) = delete;
  LmdbStore& operator=(const LmdbStore&) = delete;

  void put_event(const EventPtr& e) override;
  EventPtr get_event(const Hash& h) const override;
  std::uint64_t event_count() const override { return event_count_; }
  // The event `creator` made at `index`, or nullptr.
  EventPtr event_at(const PublicKey& creator, std::uint64_t index) const;
  std::optional<std::uint64_t> position_of(const PublicKey& creator, std::uint64_t index) const override;

  void append_consensus_events(const std::vector<Hash>& hashes) override;
  std::uint64_t consensus_event_count() const override { return consensus_count_; }
  // At most `limit` hashes of the consensus order from `position` on.
  std::vector<Hash> consensus_events(std::uint64_t position, std::size_t limit) const;

  void put_block(Block b) override;
  std::optional<Block> get_block(std::uint64_t index) const override;
  std::optional<std::uint64_t> last_block_index() const override;

  void put_frame(Frame f) override;
  std::optional<Frame> get_frame(std::int64_t round) const override;

  void put_peer_set(std::int64_t round, const PeerSet& set) override;
  PeerSchedule peer_schedule() const override { return schedule_; }

  void begin_batch() override;
  void end_batch() override;
  bool in_batch() const { return batch_ != nullptr; }

  std::vector<EventPtr> events_from(std::uint64_t position, std::size_t limit) const override;

  void put_snapshot(std::uint64_t block_index, Bytes snapshot) override;
  std::optional<Bytes> get_snapshot(std::uint64_t block_index) const override;
  std::optional<std::uint64_t> last_snapshot_index() const override;

  // Keys starting with "store." are reserved (std::invalid_argument); get_meta reads them too.
  void put_meta(const std::string& key, Bytes value) override;
  std::optional<Bytes> get_meta(const std::string& key) const override;

  const std::filesystem::path& dir() const { return dir_; }
  std::size_t cache_entries() const;
  std::size_t map_size() const { return options_.map_size; }

 private:
  struct Env;  // the LMDB handles (keeps lmdb.h out of this header)
  class EventCache;
  struct Txn;

  template <class F>
  void write(F&& f);
  template <class F>
  auto read(F&& f) const;
  void load_state();
  void commit(Txn& txn);
  void rollback_state();
  void release_mapped_pages();  // see lmdb_store.cpp: keeps RssFile from growing with history
  void write_counters(Txn& txn);
  EventPtr fetch_event(MDB_txn* txn, const Hash& h) const;
  EventPtr decode_event(const MDB_val& record) const;

  std::filesystem::path dir_;
  Options options_;
  std::unique_ptr<Env> env_;
  std::unique_ptr<EventCache> cache_;
  std::unique_ptr<Txn> batch_;  // the open batch's write transaction
  std::uint64_t event_count_ = 0;
  std::uint64_t consensus_count_ = 0;
  std::uint64_t commits_ = 0;                      // write transactions committed since opening
  static constexpr std::uint64_t kReleaseEvery = 32;  // commits between release_mapped_pages()
  void* map_addr_ = nullptr;  // LMDB's map of data.mdb, found in /proc/self/maps on first use
  std::size_t map_len_ = 0;
  bool map_lookup_failed_ = false;
  PeerSchedule schedule_;
};

}  // namespace chatter
