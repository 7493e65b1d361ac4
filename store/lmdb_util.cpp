#include "store/lmdb_util.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace chatter::lmdb {

namespace fs = std::filesystem;

namespace {

// LMDB reports a write that the disk could take only in part (what a full disk does to a large
// write) as EIO, not ENOSPC: when the store's file system has (almost) no room left, that EIO is a
// full disk.
bool disk_nearly_full(const fs::path& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return false;
  return static_cast<unsigned long long>(st.f_bavail) * st.f_frsize < (1ull << 20);
}

}  // namespace

StoreError error(const Context& ctx, int rc, const std::string& action) {
  const std::string dir = ctx.dir.string();
  using Kind = StoreError::Kind;
  if (rc == EIO && disk_nearly_full(ctx.dir)) rc = ENOSPC;
  switch (rc) {
    case MDB_MAP_FULL:
      return StoreError(Kind::kMapFull, "the store in " + dir + " is full (map size " +
                                            std::to_string(ctx.map_size) + " bytes) while " + action +
                                            "; reopen it with a larger map size");
    case MDB_CORRUPTED:
    case MDB_INVALID:
    case MDB_PAGE_NOTFOUND:
      return StoreError(Kind::kCorrupted, "the data file of the store in " + dir +
                                              " is corrupted or truncated (" + mdb_strerror(rc) + ", while " +
                                              action + ")");
    case MDB_VERSION_MISMATCH:
      return StoreError(Kind::kCorrupted, "the data file of the store in " + dir +
                                              " was written by an incompatible LMDB version (while " +
                                              action + ")");
    case ENOSPC:
      return StoreError(Kind::kDiskFull,
                        "the disk holding the store in " + dir + " is full (while " + action + ")");
    case EACCES:
    case EPERM:
      return StoreError(Kind::kReadOnly, "the store in " + dir +
                                             " cannot be written: permission denied (while " + action + ")");
    case EROFS:
      return StoreError(Kind::kReadOnly,
                        "the store in " + dir + " is on a read-only file system (while " + action + ")");
    default:
      return StoreError(Kind::kOther,
                        "the store in " + dir + " failed while " + action + ": " + mdb_strerror(rc));
  }
}

void Context::check(int rc, const std::string& action) const {
  if (rc != MDB_SUCCESS) throw error(*this, rc, action);
}

StoreError Context::corrupted(const std::string& detail) const {
  return StoreError(StoreError::Kind::kCorrupted,
                    "the store in " + dir.string() + " is corrupted: " + detail);
}

void check_file_before_open(const Context& ctx) {
  const fs::path data = ctx.dir / "data.mdb";
  std::error_code ec;
  if (!fs::exists(data, ec)) return;
  const auto size = fs::file_size(data, ec);
  if (ec) throw error(ctx, ec.value(), "reading the size of its data file");
  // Two meta pages of the smallest page size LMDB uses on Linux.
  if (size < 2 * 4096)
    throw StoreError(StoreError::Kind::kCorrupted, "the data file of the store in " + ctx.dir.string() +
                                                       " is truncated (" + std::to_string(size) + " bytes)");
}

void check_file_after_open(const Context& ctx, MDB_env* env) {
  MDB_envinfo info{};
  MDB_stat st{};
  ctx.check(mdb_env_info(env, &info), "reading its header");
  ctx.check(mdb_env_stat(env, &st), "reading its header");
  std::error_code ec;
  const auto size = fs::file_size(ctx.dir / "data.mdb", ec);
  if (ec) throw error(ctx, ec.value(), "reading the size of its data file");
  const std::uint64_t needed = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * st.ms_psize;
  if (size < needed)
    throw StoreError(StoreError::Kind::kCorrupted,
                     "the data file of the store in " + ctx.dir.string() + " is truncated (" +
                         std::to_string(size) + " bytes, its header needs " + std::to_string(needed) + ")");
}

Bytes le32(std::uint32_t v) {
  Writer w;
  w.u32(v);
  return w.take();
}

Bytes le64(std::uint64_t v) {
  Writer w;
  w.u64(v);
  return w.take();
}

std::optional<std::uint64_t> read_be64(const MDB_val& v) {
  if (v.mv_size != 8) return std::nullopt;
  return from_be64(static_cast<const std::uint8_t*>(v.mv_data));
}

std::optional<std::uint32_t> read_le32(const MDB_val& v) {
  if (v.mv_size != 4) return std::nullopt;
  Reader r(static_cast<const std::uint8_t*>(v.mv_data), 4);
  return r.u32();
}

std::optional<std::uint64_t> read_le64(const MDB_val& v) {
  if (v.mv_size != 8) return std::nullopt;
  Reader r(static_cast<const std::uint8_t*>(v.mv_data), 8);
  return r.u64();
}

std::optional<Hash> read_hash(const MDB_val& v) {
  if (v.mv_size != 32) return std::nullopt;
  Hash h;
  std::memcpy(h.data.data(), v.mv_data, 32);
  return h;
}

std::optional<Hash> read_hash_prefix(const MDB_val& v) {
  if (v.mv_size < 32) return std::nullopt;
  Hash h;
  std::memcpy(h.data.data(), v.mv_data, 32);
  return h;
}

Cursor::Cursor(const Context& ctx, MDB_txn* txn, MDB_dbi dbi) : ctx_(ctx) {
  ctx_.check(mdb_cursor_open(txn, dbi, &cursor_), "opening a cursor");
}

bool Cursor::move(MDB_cursor_op op) {
  const int rc = mdb_cursor_get(cursor_, &key_, &value_, op);
  if (rc == MDB_NOTFOUND) return false;
  ctx_.check(rc, "walking a database");
  return true;
}

bool Cursor::seek(MDB_val key) {
  key_ = key;
  return move(MDB_SET_RANGE);
}

std::optional<std::uint64_t> last_u64_key(const Context& ctx, MDB_txn* txn, MDB_dbi dbi) {
  Cursor c(ctx, txn, dbi);
  if (!c.last()) return std::nullopt;
  const auto k = read_be64(c.key());
  if (!k) throw ctx.corrupted("a record key is damaged");
  return k;
}

}  // namespace chatter::lmdb
