#include "store/lmdb_store.h"

#include <lmdb.h>
#include <sys/mman.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <tuple>
#include <system_error>

#include "engine/invariant.h"
#include "store/lmdb_util.h"

namespace chatter {

namespace fs = std::filesystem;
using lmdb::be64;
using lmdb::from_be64;
using lmdb::val;

namespace {

constexpr const char* kSchemaKey = "store.schema_version";
constexpr const char* kEventCountKey = "store.event_count";
constexpr const char* kConsensusCountKey = "store.consensus_event_count";
constexpr std::string_view kReservedPrefix = "store.";

// Signed rounds as big-endian keys with the sign bit flipped, so byte order is numeric order.
std::array<std::uint8_t, 8> round_key(std::int64_t r) {
  return be64(static_cast<std::uint64_t>(r) ^ (std::uint64_t{1} << 63));
}

Bytes copy_bytes(const MDB_val& v) {
  const auto* p = static_cast<const std::uint8_t*>(v.mv_data);
  return Bytes(p, p + v.mv_size);
}

}  // namespace

// ---- the LMDB handles ----

struct LmdbStore::Env {
  MDB_env* env = nullptr;
  MDB_dbi events = 0, index = 0, creators = 0, consensus = 0, blocks = 0, frames = 0, snapshots = 0,
          peer_sets = 0, meta = 0;
  MDB_txn* reader = nullptr;  // a read-only transaction reset between reads (MDB_NOTLS), renewed on use
  ~Env() {
    if (reader) mdb_txn_abort(reader);
    if (env) mdb_env_close(env);
  }
};

struct LmdbStore::Txn {
  MDB_txn* txn = nullptr;
  ~Txn() {
    if (txn) mdb_txn_abort(txn);
  }
};

// Recently used events, at most `capacity` of them: two generations of a hash map. New entries go
// into the young one; when it holds capacity/2 entries it becomes the old one (dropping the previous
// old one), so a capacity of 1 means no cache. A hit in the old generation moves the entry to the young one.
// Cheaper than an exact LRU and as good for "recent events are hot".
class LmdbStore::EventCache {
 public:
  explicit EventCache(std::size_t capacity) : half_(capacity / 2) {}

  EventPtr find(const Hash& h) {
    if (half_ == 0) return nullptr;
    if (auto it = young_.find(h); it != young_.end()) return it->second;
    auto it = old_.find(h);
    if (it == old_.end()) return nullptr;
    EventPtr e = std::move(it->second);
    old_.erase(it);
    put(e);
    return e;
  }
  void put(const EventPtr& e) {
    if (half_ == 0) return;
    if (young_.size() >= half_) {
      old_ = std::move(young_);
      young_.clear();
    }
    young_.insert_or_assign(e->hash(), e);
  }
  void clear() {
    young_.clear();
    old_.clear();
  }
  std::size_t size() const { return young_.size() + old_.size(); }

 private:
  std::size_t half_;
  std::unordered_map<Hash, EventPtr, DigestHasher> young_, old_;
};

// ---- opening ----

LmdbStore::LmdbStore(const fs::path& dir, Options options)
    : dir_(dir),
      options_(options),
      env_(std::make_unique<Env>()),
      cache_(std::make_unique<EventCache>(options.cache_size)) {
  const lmdb::Context ctx{dir_, options_.map_size};
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw lmdb::error(ctx, ec.value(), "creating the directory");
  lmdb::check_file_before_open(ctx);

  ctx.check(mdb_env_create(&env_->env), "creating the environment");
  ctx.check(mdb_env_set_maxdbs(env_->env, 16), "configuring the environment");
  ctx.check(mdb_env_set_mapsize(env_->env, options_.map_size), "setting the map size");
  // MDB_NORDAHEAD: the store's reads are random (events by hash, recent positions), so readahead
  // and fault-around would only map pages nobody reads into this process's resident memory.
  unsigned flags = MDB_NOTLS | MDB_NORDAHEAD;
  if (options_.sync == Sync::kMetaNoSync) flags |= MDB_NOMETASYNC;
  if (options_.sync == Sync::kNone) flags |= MDB_NOSYNC;
  ctx.check(mdb_env_open(env_->env, dir_.c_str(), flags, 0644), "opening");
  lmdb::check_file_after_open(ctx, env_->env);
  MDB_envinfo info{};
  ctx.check(mdb_env_info(env_->env, &info), "reading its header");
  options_.map_size = info.me_mapsize;  // as LMDB set it (at least the existing data file)

  Txn t;
  ctx.check(mdb_txn_begin(env_->env, nullptr, 0, &t.txn), "starting a transaction");
  const auto open_db = [&](const char* name, MDB_dbi* dbi) {
    ctx.check(mdb_dbi_open(t.txn, name, MDB_CREATE, dbi), "opening its databases");
  };
  open_db("events", &env_->events);
  open_db("event_index", &env_->index);
  open_db("creators", &env_->creators);
  open_db("consensus", &env_->consensus);
  open_db("blocks", &env_->blocks);
  open_db("frames", &env_->frames);
  open_db("snapshots", &env_->snapshots);
  open_db("peer_sets", &env_->peer_sets);
  open_db("meta", &env_->meta);

  MDB_val k = val(std::string_view(kSchemaKey)), v{};
  const int rc = mdb_get(t.txn, env_->meta, &k, &v);
  if (rc == MDB_NOTFOUND) {
    // A new store, unless records exist without a version: that is damage, not a fresh start.
    MDB_stat st{};
    ctx.check(mdb_stat(t.txn, env_->events, &st), "reading its statistics");
    if (st.ms_entries != 0)
      throw StoreError(
          StoreError::Kind::kCorrupted,
          "the store in " + dir_.string() + " is corrupted: it holds events but no schema version");
    const Bytes version = lmdb::le32(kSchemaVersion);
    MDB_val vv = val(version);
    ctx.check(mdb_put(t.txn, env_->meta, &k, &vv, 0), "writing its schema version");
  } else {
    ctx.check(rc, "reading its schema version");
    const auto found = lmdb::read_le32(v);
    if (!found)
      throw StoreError(
          StoreError::Kind::kCorrupted,
          "the store in " + dir_.string() + " is corrupted: its schema version record is damaged");
    if (*found != kSchemaVersion)
      throw StoreError(StoreError::Kind::kSchemaMismatch,
                       "the store in " + dir_.string() + " has schema version " + std::to_string(*found) +
                           "; this chatter reads version " + std::to_string(kSchemaVersion));
  }
  const int crc = mdb_txn_commit(t.txn);
  t.txn = nullptr;
  ctx.check(crc, "committing its schema version");
  load_state();
}

LmdbStore::~LmdbStore() = default;  // an open batch is aborted by ~Txn before ~Env closes the env

std::size_t LmdbStore::cache_entries() const { return cache_->size(); }

// ---- transactions ----

template <class F>
auto LmdbStore::read(F&& f) const {
  if (batch_) return f(batch_->txn);  // reads inside a batch see its writes
  const lmdb::Context ctx{dir_, options_.map_size};
  if (env_->reader == nullptr)
    ctx.check(mdb_txn_begin(env_->env, nullptr, MDB_RDONLY, &env_->reader), "starting a read");
  else
    ctx.check(mdb_txn_renew(env_->reader), "starting a read");
  struct Reset {
    MDB_txn* t;
    ~Reset() { mdb_txn_reset(t); }
  } reset{env_->reader};
  return f(env_->reader);
}

template <class F>
void LmdbStore::write(F&& f) {
  const lmdb::Context ctx{dir_, options_.map_size};
  if (batch_) {
    try {
      f(batch_->txn);
    } catch (...) {
      batch_.reset();  // the whole batch goes
      rollback_state();
      throw;
    }
    return;
  }
  Txn t;
  ctx.check(mdb_txn_begin(env_->env, nullptr, 0, &t.txn), "starting a write");
  try {
    f(t.txn);
    commit(t);
  } catch (...) {
    if (t.txn) {
      mdb_txn_abort(t.txn);
      t.txn = nullptr;
    }
    rollback_state();
    throw;
  }
}

void LmdbStore::write_counters(Txn& t) {
  const lmdb::Context ctx{dir_, options_.map_size};
  const auto put = [&](const char* key, std::uint64_t n) {
    MDB_val k = val(std::string_view(key));
    const Bytes b = lmdb::le64(n);
    MDB_val v = val(b);
    ctx.check(mdb_put(t.txn, env_->meta, &k, &v, 0), "writing its counters");
  };
  put(kEventCountKey, event_count_);
  put(kConsensusCountKey, consensus_count_);
}

void LmdbStore::commit(Txn& t) {
  write_counters(t);
  const int rc = mdb_txn_commit(t.txn);
  t.txn = nullptr;  // freed by mdb_txn_commit, even on failure
  lmdb::Context{dir_, options_.map_size}.check(rc, "committing");
  if (++commits_ % kReleaseEvery == 0) release_mapped_pages();
}

// LMDB reads the pages a write transaction changes through its read-only shared map, so over time
// nearly every page of the data file gets mapped into this process and counts as its resident
// memory (RssFile), growing with history although none of it is the process's own: they are clean
// page-cache pages. Dropping the mappings (MADV_DONTNEED on a read-only MAP_SHARED file mapping
// discards nothing: the next access maps the page again from the page cache) keeps the resident
// size at what the node really uses. LMDB does not expose its map's address (MDB_envinfo's
// me_mapaddr is set only for MDB_FIXEDMAP), so it is looked up once in /proc/self/maps. Advisory:
// when it is not found or madvise fails, nothing changes.
namespace {

std::pair<void*, std::size_t> find_mapping(const fs::path& file) {
  std::error_code ec;
  const fs::path target = fs::canonical(file, ec);
  if (ec) return {nullptr, 0};
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    // "start-end perms offset dev inode   pathname"
    const auto slash = line.find('/');
    if (slash == std::string::npos || fs::path(line.substr(slash)) != target) continue;
    std::uintptr_t start = 0, end = 0;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR, &start, &end) != 2 || end <= start) continue;
    return {reinterpret_cast<void*>(start), static_cast<std::size_t>(end - start)};
  }
  return {nullptr, 0};
}

}  // namespace

void LmdbStore::release_mapped_pages() {
  if (map_addr_ == nullptr) {
    if (map_lookup_failed_) return;
    std::tie(map_addr_, map_len_) = find_mapping(dir_ / "data.mdb");
    if (map_addr_ == nullptr) {
      map_lookup_failed_ = true;
      return;
    }
  }
  MDB_envinfo info{};
  MDB_stat st{};
  if (mdb_env_info(env_->env, &info) != 0 || mdb_env_stat(env_->env, &st) != 0) return;
  const std::size_t used = (static_cast<std::size_t>(info.me_last_pgno) + 1) * st.ms_psize;
  ::madvise(map_addr_, std::min(used, map_len_), MADV_DONTNEED);
}

void LmdbStore::rollback_state() {
  cache_->clear();
  load_state();
}

void LmdbStore::load_state() {
  const lmdb::Context ctx{dir_, options_.map_size};
  read([&](MDB_txn* t) {
    const auto counter = [&](const char* key) -> std::uint64_t {
      MDB_val k = val(std::string_view(key)), v{};
      const int rc = mdb_get(t, env_->meta, &k, &v);
      if (rc == MDB_NOTFOUND) return 0;
      ctx.check(rc, "reading its counters");
      const auto n = lmdb::read_le64(v);
      if (!n) throw ctx.corrupted(std::string("its record ") + key + " is damaged");
      return *n;
    };
    event_count_ = counter(kEventCountKey);
    consensus_count_ = counter(kConsensusCountKey);
    PeerSchedule schedule;
    lmdb::Cursor c(ctx, t, env_->peer_sets);
    for (bool ok = c.first(); ok; ok = c.next()) {
      const auto key = lmdb::read_be64(c.key());
      if (!key) throw ctx.corrupted("a peer-set key is damaged");
      const auto round = static_cast<std::int64_t>(*key ^ (std::uint64_t{1} << 63));
      schedule.add(round, ctx.decode<PeerSet>(c.value(), "peer set of round " + std::to_string(round)));
    }
    schedule_ = std::move(schedule);
  });
}

void LmdbStore::begin_batch() {
  CHATTER_INVARIANT(!batch_);  // batches do not nest (engine/store.h)
  auto t = std::make_unique<Txn>();
  lmdb::Context{dir_, options_.map_size}.check(mdb_txn_begin(env_->env, nullptr, 0, &t->txn),
                                               "starting a batch");
  batch_ = std::move(t);
}

void LmdbStore::end_batch() {
  if (!batch_) return;  // none open, or it failed and was already aborted (the failure was thrown)
  std::unique_ptr<Txn> t = std::move(batch_);
  try {
    commit(*t);
  } catch (...) {
    rollback_state();
    throw;
  }
}

// ---- events ----

// An events record is the event's hash followed by its canonical bytes (body + signature). The hash
// is recomputed from the stored body and compared with the stored one, so a damaged body cannot pass
// as the event it is filed under.
EventPtr LmdbStore::decode_event(const MDB_val& v) const {
  const lmdb::Context ctx{dir_, options_.map_size};
  const auto stored = lmdb::read_hash_prefix(v);
  if (!stored) throw ctx.corrupted("an event record is too short");
  const std::string name = "event " + to_hex(stored->data.data(), 8);
  const MDB_val body{v.mv_size - 32, static_cast<std::uint8_t*>(v.mv_data) + 32};
  auto e = std::make_shared<const Event>(ctx.decode<Event>(body, name));
  if (e->hash() != *stored) throw ctx.corrupted("the stored " + name + " does not match its hash");
  return e;
}

EventPtr LmdbStore::fetch_event(MDB_txn* t, const Hash& h) const {
  const lmdb::Context ctx{dir_, options_.map_size};
  MDB_val k = val(h), pos{};
  int rc = mdb_get(t, env_->index, &k, &pos);
  if (rc == MDB_NOTFOUND) return nullptr;
  ctx.check(rc, "reading the event index");
  if (pos.mv_size != 8) throw ctx.corrupted("an event-index record is damaged");
  MDB_val v{};
  rc = mdb_get(t, env_->events, &pos, &v);
  if (rc == MDB_NOTFOUND) throw ctx.corrupted("the event index names an event that is not stored");
  ctx.check(rc, "reading an event");
  EventPtr e = decode_event(v);
  if (e->hash() != h)
    throw ctx.corrupted("the event index files " + to_hex(h.data.data(), 8) + " under another event");
  return e;
}

void LmdbStore::put_event(const EventPtr& e) {
  if (cache_->find(e->hash())) return;  // the cache holds only stored (or in-batch) events
  const lmdb::Context ctx{dir_, options_.map_size};
  if (!batch_) {
    // Outside a batch a repeated put would cost a durable commit of nothing: look first.
    const bool known = read([&](MDB_txn* t) {
      MDB_val k = val(e->hash()), v{};
      const int rc = mdb_get(t, env_->index, &k, &v);
      if (rc == MDB_NOTFOUND) return false;
      ctx.check(rc, "reading the event index");
      return true;
    });
    if (known) return;
  }
  write([&](MDB_txn* t) {
    // Events are filed by position, so a batch appends to the end of the events tree; only the
    // small hash -> position index takes random keys.
    const auto pos = be64(event_count_);
    MDB_val k = val(e->hash()), pv = val(pos);
    const int rc = mdb_put(t, env_->index, &k, &pv, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) return;
    ctx.check(rc, "writing the event index");
    Writer w;
    w.reserve(512);
    w.fixed(e->hash());
    e->encode(w);
    MDB_val v = val(w.data());
    ctx.check(mdb_put(t, env_->events, &pv, &v, MDB_APPEND), "writing an event");
    std::array<std::uint8_t, 40> ck{};
    std::memcpy(ck.data(), e->creator().data.data(), 32);
    const auto idx = be64(e->index());
    std::memcpy(ck.data() + 32, idx.data(), 8);
    MDB_val ckv = val(ck);
    const int crc = mdb_put(t, env_->creators, &ckv, &pv, MDB_NOOVERWRITE);
    if (crc != MDB_KEYEXIST) ctx.check(crc, "writing the creator index");
    ++event_count_;
    cache_->put(e);
  });
}

EventPtr LmdbStore::get_event(const Hash& h) const {
  if (EventPtr e = cache_->find(h)) return e;
  EventPtr e = read([&](MDB_txn* t) { return fetch_event(t, h); });
  if (e) cache_->put(e);
  return e;
}

std::optional<std::uint64_t> LmdbStore::position_of(const PublicKey& creator, std::uint64_t index) const {
  const lmdb::Context ctx{dir_, options_.map_size};
  return read([&](MDB_txn* t) -> std::optional<std::uint64_t> {
    std::array<std::uint8_t, 40> ck{};
    std::memcpy(ck.data(), creator.data.data(), 32);
    const auto idx = be64(index);
    std::memcpy(ck.data() + 32, idx.data(), 8);
    MDB_val k = val(ck), pos{};
    const int rc = mdb_get(t, env_->creators, &k, &pos);
    if (rc == MDB_NOTFOUND) return std::nullopt;
    ctx.check(rc, "reading the creator index");
    const auto p = lmdb::read_be64(pos);
    if (!p) throw ctx.corrupted("a creator-index entry is damaged");
    return *p;
  });
}

EventPtr LmdbStore::event_at(const PublicKey& creator, std::uint64_t index) const {
  const lmdb::Context ctx{dir_, options_.map_size};
  return read([&](MDB_txn* t) -> EventPtr {
    std::array<std::uint8_t, 40> ck{};
    std::memcpy(ck.data(), creator.data.data(), 32);
    const auto idx = be64(index);
    std::memcpy(ck.data() + 32, idx.data(), 8);
    MDB_val k = val(ck), pos{};
    int rc = mdb_get(t, env_->creators, &k, &pos);
    if (rc == MDB_NOTFOUND) return nullptr;
    ctx.check(rc, "reading the creator index");
    MDB_val v{};
    rc = mdb_get(t, env_->events, &pos, &v);
    if (rc == MDB_NOTFOUND) throw ctx.corrupted("the creator index names an event that is not stored");
    ctx.check(rc, "reading an event");
    const auto h = lmdb::read_hash_prefix(v);
    if (h)
      if (EventPtr e = cache_->find(*h)) return e;
    return decode_event(v);
  });
}

std::vector<EventPtr> LmdbStore::events_from(std::uint64_t position, std::size_t limit) const {
  std::vector<EventPtr> out;
  if (position >= event_count_ || limit == 0) return out;
  const lmdb::Context ctx{dir_, options_.map_size};
  read([&](MDB_txn* t) {
    lmdb::Cursor c(ctx, t, env_->events);
    const auto start = be64(position);
    for (bool ok = c.seek(val(start)); ok && out.size() < limit; ok = c.next()) {
      // Scans of old history (a peer catching up) do not evict the recent events from the cache.
      const auto h = lmdb::read_hash_prefix(c.value());
      EventPtr e = h ? cache_->find(*h) : nullptr;
      out.push_back(e ? std::move(e) : decode_event(c.value()));
    }
  });
  return out;
}

// ---- consensus order ----

void LmdbStore::append_consensus_events(const std::vector<Hash>& hashes) {
  if (hashes.empty()) return;
  const lmdb::Context ctx{dir_, options_.map_size};
  write([&](MDB_txn* t) {
    for (const Hash& h : hashes) {
      const auto pos = be64(consensus_count_);
      MDB_val k = val(pos), v = val(h);
      ctx.check(mdb_put(t, env_->consensus, &k, &v, MDB_APPEND), "writing the consensus order");
      ++consensus_count_;
    }
  });
}

std::vector<Hash> LmdbStore::consensus_events(std::uint64_t position, std::size_t limit) const {
  std::vector<Hash> out;
  if (position >= consensus_count_ || limit == 0) return out;
  const lmdb::Context ctx{dir_, options_.map_size};
  read([&](MDB_txn* t) {
    lmdb::Cursor c(ctx, t, env_->consensus);
    const auto start = be64(position);
    for (bool ok = c.seek(val(start)); ok && out.size() < limit; ok = c.next()) {
      const auto h = lmdb::read_hash(c.value());
      if (!h) throw ctx.corrupted("a consensus-order record is damaged");
      out.push_back(*h);
    }
  });
  return out;
}

// ---- blocks, frames, peer sets ----

void LmdbStore::put_block(Block b) {
  const lmdb::Context ctx{dir_, options_.map_size};
  write([&](MDB_txn* t) {
    const auto key = be64(b.index());
    MDB_val k = val(key), v{};
    const int rc = mdb_get(t, env_->blocks, &k, &v);
    if (rc != MDB_NOTFOUND) {
      ctx.check(rc, "reading a block");
      // As InmemStore: keep the signatures already stored; add_signature re-verifies each against
      // the new body, so a different body drops them.
      const Block old = ctx.decode<Block>(v, "block " + std::to_string(b.index()));
      for (const auto& [pk, sig] : old.signatures())
        if (!b.signatures().contains(pk)) b.add_signature(BlockSignature{pk, b.index(), sig});
    }
    Writer w;
    b.encode(w);
    MDB_val nv = val(w.data());
    ctx.check(mdb_put(t, env_->blocks, &k, &nv, 0), "writing a block");
  });
}

std::optional<Block> LmdbStore::get_block(std::uint64_t index) const {
  const lmdb::Context ctx{dir_, options_.map_size};
  return read([&](MDB_txn* t) -> std::optional<Block> {
    const auto key = be64(index);
    MDB_val k = val(key), v{};
    const int rc = mdb_get(t, env_->blocks, &k, &v);
    if (rc == MDB_NOTFOUND) return std::nullopt;
    ctx.check(rc, "reading a block");
    return ctx.decode<Block>(v, "block " + std::to_string(index));
  });
}

std::optional<std::uint64_t> LmdbStore::last_block_index() const {
  const lmdb::Context ctx{dir_, options_.map_size};
  return read([&](MDB_txn* t) { return lmdb::last_u64_key(ctx, t, env_->blocks); });
}

void LmdbStore::put_frame(Frame f) {
  const lmdb::Context ctx{dir_, options_.map_size};
  write([&](MDB_txn* t) {
    const auto key = round_key(f.round);
    Writer w;
    f.encode(w);
    MDB_val k = val(key), v = val(w.data());
    ctx.check(mdb_put(t, env_->frames, &k, &v, 0), "writing a frame");
  });
}

std::optional<Frame> LmdbStore::get_frame(std::int64_t round) const {
  const lmdb::Context ctx{dir_, options_.map_size};
  return read([&](MDB_txn* t) -> std::optional<Frame> {
    const auto key = round_key(round);
    MDB_val k = val(key), v{};
    const int rc = mdb_get(t, env_->frames, &k, &v);
    if (rc == MDB_NOTFOUND) return std::nullopt;
    ctx.check(rc, "reading a frame");
    return ctx.decode<Frame>(v, "frame of round " + std::to_string(round));
  });
}

void LmdbStore::put_peer_set(std::int64_t round, const PeerSet& set) {
  const lmdb::Context ctx{dir_, options_.map_size};
  write([&](MDB_txn* t) {
    const auto key = round_key(round);
    Writer w;
    set.encode(w);
    MDB_val k = val(key), v = val(w.data());
    ctx.check(mdb_put(t, env_->peer_sets, &k, &v, 0), "writing a peer set");
    schedule_.add(round, set);  // a failed transaction reloads the schedule (rollback_state)
  });
}

// ---- snapshots and meta ----

void LmdbStore::put_snapshot(std::uint64_t block_index, Bytes snapshot) {
  const lmdb::Context ctx{dir_, options_.map_size};
  write([&](MDB_txn* t) {
    const auto key = be64(block_index);
    MDB_val k = val(key), v = val(snapshot);
    ctx.check(mdb_put(t, env_->snapshots, &k, &v, 0), "writing a snapshot");
  });
}

std::optional<Bytes> LmdbStore::get_snapshot(std::uint64_t block_index) const {
  const lmdb::Context ctx{dir_, options_.map_size};
  return read([&](MDB_txn* t) -> std::optional<Bytes> {
    const auto key = be64(block_index);
    MDB_val k = val(key), v{};
    const int rc = mdb_get(t, env_->snapshots, &k, &v);
    if (rc == MDB_NOTFOUND) return std::nullopt;
    ctx.check(rc, "reading a snapshot");
    return copy_bytes(v);
  });
}

std::optional<std::uint64_t> LmdbStore::last_snapshot_index() const {
  const lmdb::Context ctx{dir_, options_.map_size};
  return read([&](MDB_txn* t) { return lmdb::last_u64_key(ctx, t, env_->snapshots); });
}

void LmdbStore::put_meta(const std::string& key, Bytes value) {
  if (key.starts_with(kReservedPrefix))
    throw std::invalid_argument("the meta key '" + key + "' is reserved for the store itself");
  const lmdb::Context ctx{dir_, options_.map_size};
  write([&](MDB_txn* t) {
    MDB_val k = val(std::string_view(key)), v = val(value);
    ctx.check(mdb_put(t, env_->meta, &k, &v, 0), "writing the meta value " + key);
  });
}

std::optional<Bytes> LmdbStore::get_meta(const std::string& key) const {
  const lmdb::Context ctx{dir_, options_.map_size};
  return read([&](MDB_txn* t) -> std::optional<Bytes> {
    MDB_val k = val(std::string_view(key)), v{};
    const int rc = mdb_get(t, env_->meta, &k, &v);
    if (rc == MDB_NOTFOUND) return std::nullopt;
    ctx.check(rc, "reading the meta value " + key);
    return copy_bytes(v);
  });
}

}  // namespace chatter
