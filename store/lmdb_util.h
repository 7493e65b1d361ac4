// Small helpers of LmdbStore (store/ only): key and value encodings, a cursor wrapper, the mapping
// of LMDB and system error codes to StoreError sentences, and the checks of the data file that
// LMDB itself does not make (a truncated file would otherwise be read through the memory map and
// end the process with SIGBUS, and an empty one would silently become a new store).
#pragma once

#include <lmdb.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "engine/bytes.h"
#include "engine/codec.h"
#include "store/store_error.h"

namespace chatter::lmdb {

// Where an error happened, for the sentence: the store's directory and its map size. Refers to the
// directory (made on every store call, so no copy of the path).
struct Context {
  const std::filesystem::path& dir;
  std::size_t map_size = 0;

  // Throws the StoreError for `rc` unless it is MDB_SUCCESS. `action` says what was being done
  // ("writing an event").
  void check(int rc, const std::string& action) const;
  StoreError corrupted(const std::string& detail) const;

  // Decodes a stored record with T::decode (all bytes consumed); any failure is kCorrupted.
  template <class T>
  T decode(const MDB_val& v, const std::string& what) const {
    try {
      Reader r(static_cast<const std::uint8_t*>(v.mv_data), v.mv_size);
      T out = T::decode(r);
      r.expect_done();
      return out;
    } catch (const std::exception& e) {
      throw corrupted("the stored " + what + " does not decode (" + e.what() + ")");
    }
  }
};

// The StoreError for an LMDB return code or errno value.
StoreError error(const Context& ctx, int rc, const std::string& action);

// Refuses a data file too short to hold LMDB's two meta pages (an empty data.mdb would be taken
// for a new environment: a silent reset).
void check_file_before_open(const Context& ctx);
// Refuses a data file shorter than the last page its newest meta page names.
void check_file_after_open(const Context& ctx, MDB_env* env);

inline std::array<std::uint8_t, 8> be64(std::uint64_t v) {
  std::array<std::uint8_t, 8> out{};
  for (int i = 7; i >= 0; --i, v >>= 8) out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
  return out;
}
inline std::uint64_t from_be64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}
Bytes le32(std::uint32_t v);
Bytes le64(std::uint64_t v);
std::optional<std::uint64_t> read_be64(const MDB_val& v);
std::optional<std::uint32_t> read_le32(const MDB_val& v);
std::optional<std::uint64_t> read_le64(const MDB_val& v);
std::optional<Hash> read_hash(const MDB_val& v);
std::optional<Hash> read_hash_prefix(const MDB_val& v);  // the first 32 bytes, when there are that many

// MDB_val views (LMDB does not write through them for reads and puts).
template <std::size_t N>
MDB_val val(const FixedBytes<N>& b) {
  return MDB_val{N, const_cast<std::uint8_t*>(b.data.data())};
}
template <std::size_t N>
MDB_val val(const std::array<std::uint8_t, N>& b) {
  return MDB_val{N, const_cast<std::uint8_t*>(b.data())};
}
inline MDB_val val(const Bytes& b) { return MDB_val{b.size(), const_cast<std::uint8_t*>(b.data())}; }
inline MDB_val val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

// A cursor over one database in a transaction, closed at scope exit.
class Cursor {
 public:
  Cursor(const Context& ctx, MDB_txn* txn, MDB_dbi dbi);
  ~Cursor() { mdb_cursor_close(cursor_); }
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  bool first() { return move(MDB_FIRST); }
  bool last() { return move(MDB_LAST); }
  bool next() { return move(MDB_NEXT); }
  bool seek(MDB_val key);  // the first key >= key
  const MDB_val& key() const { return key_; }
  const MDB_val& value() const { return value_; }

 private:
  bool move(MDB_cursor_op op);
  const Context& ctx_;
  MDB_cursor* cursor_ = nullptr;
  MDB_val key_{}, value_{};
};

// The greatest u64 key of a database, if any.
std::optional<std::uint64_t> last_u64_key(const Context& ctx, MDB_txn* txn, MDB_dbi dbi);

}  // namespace chatter::lmdb
