// The data directory around the store (store/store_dir.h): one chatter process a directory (flock
// with the holder's pid), moving a previous store aside when not bootstrapping, and a directory the
// process may not write refused with StoreError kReadOnly.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include "child_process.h"
#include "store/store_dir.h"
#include "store_test_util.h"

using namespace chatter;
using namespace chatter::testing;

namespace {

std::chrono::system_clock::time_point at_2024_01_02_03_04_05() {
  return std::chrono::system_clock::from_time_t(1704164645);  // 2024-01-02 03:04:05 UTC
}

void make_store(const fs::path& dir, std::size_t events) {
  LmdbStore s(dir, fast_options());
  for (const auto& e : event_chain(events)) s.put_event(e);
}

}  // namespace

TEST_CASE("Store dir: a second process is refused while the first holds the lock, naming its pid") {
  ScratchDir d("chatter-dir");
  const fs::path datadir = d.path / "node";
  ChildProcess holder([&](const auto& ready) {
    StoreDir sd = open_store_dir(datadir, true);
    ready("");
    for (;;) ::pause();
  });
  REQUIRE(holder.wait_ready());
  try {
    (void)open_store_dir(datadir, true);
    FAIL("the lock was not refused");
  } catch (const StoreError& e) {
    CHECK(e.kind() == StoreError::Kind::kInUse);
    CHECK(std::string(e.what()) == "the data directory " + datadir.string() +
                                       " is in use by another chatter process (pid " +
                                       std::to_string(holder.pid()) + ")");
  }
  holder.kill9();
  holder.wait();
  // The lock goes with its process: now this one gets it and records its own pid.
  StoreDir sd = open_store_dir(datadir, true);
  CHECK(read_text(datadir / "store.lock") == std::to_string(::getpid()) + "\n");
}

TEST_CASE("Store dir: without bootstrap an existing store is moved aside to store.YYYYMMDD-HHMMSS (UTC)") {
  ScratchDir d("chatter-dir");
  const fs::path datadir = d.path;
  make_store(datadir / "store", 6);
  {
    StoreDir sd = open_store_dir(datadir, false, at_2024_01_02_03_04_05());
    REQUIRE(sd.moved_to().has_value());
    CHECK(*sd.moved_to() == datadir / "store.20240102-030405");
    CHECK_FALSE(sd.bootstrapping());
    CHECK(sd.message() == "moved the previous store to " + (datadir / "store.20240102-030405").string() +
                              " (not bootstrapping); starting an empty store in " +
                              (datadir / "store").string());
    CHECK_FALSE(fs::exists(sd.store_path() / "data.mdb"));
    LmdbStore moved(*sd.moved_to(), fast_options());
    CHECK(moved.event_count() == 6);
    LmdbStore fresh(sd.store_path(), fast_options());
    CHECK(fresh.event_count() == 0);
    fresh.put_event(event_chain(1)[0]);
  }
  // The same second again: the name is taken, so a suffix.
  StoreDir sd = open_store_dir(datadir, false, at_2024_01_02_03_04_05());
  REQUIRE(sd.moved_to().has_value());
  CHECK(*sd.moved_to() == datadir / "store.20240102-030405-1");
  CHECK(fs::exists(datadir / "store.20240102-030405" / "data.mdb"));
}

TEST_CASE("Store dir: bootstrap keeps an existing store; without one it starts empty and says so") {
  ScratchDir d("chatter-dir");
  {
    StoreDir sd = open_store_dir(d.path, true);
    CHECK_FALSE(sd.bootstrapping());
    CHECK_FALSE(sd.moved_to().has_value());
    CHECK(sd.message() ==
          "no store to bootstrap from in " + (d.path / "store").string() + "; starting an empty one");
    make_store(sd.store_path(), 4);
  }
  StoreDir sd = open_store_dir(d.path, true);
  CHECK(sd.bootstrapping());
  CHECK_FALSE(sd.moved_to().has_value());
  CHECK(sd.message() == "bootstrapping from the store in " + (d.path / "store").string());
  LmdbStore s(sd.store_path(), fast_options());
  CHECK(s.event_count() == 4);
}

namespace {

// Runs `body` where writing to `dir` is not allowed: as root, in a child that drops to the nobody
// user; otherwise in a child too (same code path), with the directory's write bits cleared.
// Returns the StoreError kind (or -1 when nothing was thrown, -2 for another exception, -3 when root
// cannot drop its privileges here) and sentence.
std::pair<int, std::string> store_error_without_write_permission(const std::function<void()>& body) {
  ChildProcess child([&](const auto& ready) {
    if (::getuid() == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
        ready("-3 cannot drop root privileges here");
        return;
      }
    }
    try {
      body();
      ready("-1 ");
    } catch (const StoreError& e) {
      ready(std::to_string(static_cast<int>(e.kind())) + " " + e.what());
    } catch (const std::exception& e) {
      ready(std::string("-2 ") + e.what());
    }
  });
  std::string msg;
  const bool ready = child.wait_ready(&msg);
  const int status = child.wait();
  REQUIRE_MESSAGE(ready, "child exited with " << status);
  const auto space = msg.find(' ');
  return {std::stoi(msg.substr(0, space)), msg.substr(space + 1)};
}

}  // namespace

TEST_CASE("LmdbStore: a directory the process may not write is refused with StoreError kReadOnly") {
  if (::getuid() == 0) {
    ChildProcess probe(
        [](const auto& ready) { ready(::setgid(65534) == 0 && ::setuid(65534) == 0 ? "ok" : "no"); });
    std::string answer;
    probe.wait_ready(&answer);
    probe.wait();
    if (answer != "ok") {
      MESSAGE("skipped: running as root and cannot drop privileges here, so permissions do not apply");
      return;
    }
  }
  ScratchDir d("chatter-dir");
  fs::permissions(d.path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
  const fs::path existing = d.path / "existing";
  make_store(existing, 3);
  const auto read_only = fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                         fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec;
  fs::permissions(d.path, read_only);
  fs::permissions(existing, read_only);
  for (const auto& f : fs::directory_iterator(existing))
    fs::permissions(f.path(), fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);

  SUBCASE("a new store in a directory that cannot be created") {
    const fs::path dir = d.path / "store";
    const auto [kind, what] = store_error_without_write_permission([&] { LmdbStore s(dir, fast_options()); });
    CHECK(kind == static_cast<int>(StoreError::Kind::kReadOnly));
    CHECK(what.find("the store in " + dir.string() + " cannot be written: permission denied") == 0);
  }
  SUBCASE("an existing store whose files cannot be written") {
    const auto [kind, what] =
        store_error_without_write_permission([&] { LmdbStore s(existing, fast_options()); });
    CHECK(kind == static_cast<int>(StoreError::Kind::kReadOnly));
    CHECK(what.find("the store in " + existing.string() + " cannot be written: permission denied") == 0);
  }
  SUBCASE("a data directory where the lock file cannot be created") {
    const auto [kind, what] =
        store_error_without_write_permission([&] { (void)open_store_dir(d.path, true); });
    CHECK(kind == static_cast<int>(StoreError::Kind::kReadOnly));
    CHECK(what == "cannot open the lock file " + (d.path / "store.lock").string() + ": Permission denied");
  }
  fs::permissions(d.path, fs::perms::owner_all);
  fs::permissions(existing, fs::perms::owner_all);
}

namespace {

// A small tmpfs mounted on a scratch directory for one test (root only), unmounted at the end.
struct SmallMount {
  fs::path at;
  bool ok = false;
  SmallMount(const fs::path& dir, const char* size) : at(dir) {
    fs::create_directories(at);
    const std::string cmd = "mount -t tmpfs -o size=" + std::string(size) + " tmpfs '" + at.string() + "' 2>/dev/null";
    ok = ::getuid() == 0 && std::system(cmd.c_str()) == 0;
  }
  bool remount(const char* how) const {
    return std::system(("mount -o remount," + std::string(how) + " '" + at.string() + "' 2>/dev/null").c_str()) == 0;
  }
  ~SmallMount() {
    if (ok) (void)std::system(("umount -l '" + at.string() + "' 2>/dev/null").c_str());
  }
};

}  // namespace

TEST_CASE("LmdbStore: a full disk is StoreError kDiskFull, one sentence, and the failed batch leaves nothing") {
  ScratchDir d("chatter-dir");
  SmallMount m(d.path / "disk", "768k");
  if (!m.ok) {
    MESSAGE("skipped: cannot mount a small tmpfs here (needs root and mount permission)");
    return;
  }
  const fs::path dir = m.at / "store";
  std::uint64_t committed = 0;
  int kind = -1;
  std::string what;
  {
    LmdbStore::Options o = fast_options();
    o.map_size = std::size_t{64} << 20;  // far more than the disk: the disk fills first
    LmdbStore s(dir, o);
    try {
      for (std::uint64_t batch = 0; batch < 1000; ++batch) {
        s.begin_batch();
        for (std::uint64_t i = 0; i < 8; ++i) s.put_event(unsigned_event(batch * 8 + i, 4000));
        s.end_batch();
        committed = s.event_count();
      }
    } catch (const StoreError& e) {
      kind = static_cast<int>(e.kind());
      what = e.what();
    }
  }
  INFO(what);
  CHECK(kind == static_cast<int>(StoreError::Kind::kDiskFull));
  CHECK(what.find("the disk holding the store in " + dir.string() + " is full") == 0);
  REQUIRE(committed > 0);
  // Reopened: every batch committed before the disk filled, nothing of the one that failed.
  LmdbStore again(dir, fast_options());
  CHECK(again.event_count() == committed);
  CHECK(again.get_event(unsigned_event(committed - 1, 4000)->hash()) != nullptr);
  CHECK(again.get_event(unsigned_event(committed, 4000)->hash()) == nullptr);
}

TEST_CASE("LmdbStore: a store on a read-only file system is StoreError kReadOnly with one sentence") {
  ScratchDir d("chatter-dir");
  SmallMount m(d.path / "disk", "4m");
  if (!m.ok) {
    MESSAGE("skipped: cannot mount a small tmpfs here (needs root and mount permission)");
    return;
  }
  const fs::path dir = m.at / "store";
  make_store(dir, 3);
  REQUIRE(m.remount("ro"));
  int kind = -1;
  std::string what;
  try {
    LmdbStore s(dir, fast_options());
  } catch (const StoreError& e) {
    kind = static_cast<int>(e.kind());
    what = e.what();
  }
  CHECK(kind == static_cast<int>(StoreError::Kind::kReadOnly));
  CHECK(what.find("the store in " + dir.string() + " is on a read-only file system") == 0);
  REQUIRE(m.remount("rw"));
  LmdbStore s(dir, fast_options());  // nothing was changed: the store opens again, whole
  CHECK(s.event_count() == 3);
}
