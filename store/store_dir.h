// The node's data directory around the persistent store: one chatter process a directory, and what
// happens to an existing store when the node does or does not bootstrap from it.
//
//   DATADIR/store.lock               flock'ed exclusively while the StoreDir lives; holds the pid
//   DATADIR/store/                   the LmdbStore environment (data.mdb, lock.mdb)
//   DATADIR/store.YYYYMMDD-HHMMSS    a previous store moved aside (UTC; "-1", "-2"... when taken)
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "store/store_error.h"

namespace chatter {

// Owns the data directory's lock (released when destroyed: keep it for the process lifetime). The
// lock is an flock on an O_CLOEXEC descriptor, so an exec'ed child does not keep it; a fork'ed
// child shares it until both close.
class StoreDir {
 public:
  StoreDir(StoreDir&& other) noexcept;
  StoreDir& operator=(StoreDir&& other) noexcept;
  StoreDir(const StoreDir&) = delete;
  StoreDir& operator=(const StoreDir&) = delete;
  ~StoreDir();

  const std::filesystem::path& store_path() const { return store_path_; }  // DATADIR/store
  // Where an existing store was moved (not bootstrapping), if it was.
  const std::optional<std::filesystem::path>& moved_to() const { return moved_to_; }
  // Whether store_path() holds a store to bootstrap from (false: LmdbStore starts an empty one).
  bool bootstrapping() const { return bootstrapping_; }
  // One sentence for the operator: what was found and what was done with it.
  const std::string& message() const { return message_; }

 private:
  friend StoreDir open_store_dir(const std::filesystem::path&, bool, std::chrono::system_clock::time_point);
  StoreDir() = default;
  int lock_fd_ = -1;
  std::filesystem::path store_path_;
  std::optional<std::filesystem::path> moved_to_;
  bool bootstrapping_ = false;
  std::string message_;
};

// Creates `datadir` when missing and locks it (StoreError kInUse: "the data directory DIR is in use
// by another chatter process (pid N)"). Then, with a store present in DATADIR/store: bootstrap uses
// it; otherwise it is renamed to DATADIR/store.<now as UTC YYYYMMDD-HHMMSS> and an empty store
// follows. Without a store, an empty one follows either way. Environment failures (permissions,
// read-only file system, rename failures) are StoreError with one sentence.
StoreDir open_store_dir(const std::filesystem::path& datadir, bool bootstrap,
                        std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace chatter
