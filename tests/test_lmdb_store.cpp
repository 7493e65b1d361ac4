// LmdbStore beyond the shared contract (store/lmdb_store.h): persistence across reopen, batches as
// the unit of crash safety (kill -9 in a child process), the typed StoreError sentences for damaged
// or foreign stores and a full map, and the bounded event cache.
#include <doctest/doctest.h>
#include <lmdb.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "child_process.h"
#include "store/lmdb_util.h"
#include "store_test_util.h"

using namespace chatter;
using namespace chatter::testing;

namespace {

LmdbStore::Options durable_options() {
  LmdbStore::Options o;  // the default sync mode: what a node uses
  o.map_size = std::size_t{1} << 30;
  return o;
}

// Writes a record behind the store's back (as another chatter version or damage would have).
void write_raw(const fs::path& dir, const char* db, const Bytes& key, const Bytes& value) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_set_maxdbs(env, 16) == 0);
  REQUIRE(mdb_env_open(env, dir.c_str(), 0, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi dbi;
  REQUIRE(mdb_dbi_open(txn, db, 0, &dbi) == 0);
  MDB_val k{key.size(), const_cast<std::uint8_t*>(key.data())};
  MDB_val v{value.size(), const_cast<std::uint8_t*>(value.data())};
  REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

std::string read_file(const fs::path& p) { return read_text(p); }

void write_file(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
  REQUIRE(out.good());
}

// Expects `f` to throw StoreError of `kind`; returns its sentence.
template <class F>
std::string store_error_of(F&& f, StoreError::Kind kind) {
  try {
    f();
  } catch (const StoreError& e) {
    CHECK(static_cast<int>(e.kind()) == static_cast<int>(kind));
    return e.what();
  }
  FAIL("no StoreError was thrown");
  return {};
}

}  // namespace

TEST_CASE("LmdbStore: reopening keeps every record type and the counters") {
  ScratchDir d("chatter-store");
  const fs::path dir = d.path / "store";
  const auto events = event_chain(20);
  const auto ka = KeyPair::from_name("A"), kb = KeyPair::from_name("B");
  {
    LmdbStore s(dir, durable_options());
    s.begin_batch();
    for (const auto& e : events) s.put_event(e);
    s.append_consensus_events({events[0]->hash(), events[1]->hash(), events[2]->hash()});
    s.end_batch();
    Block b(block_body(0));
    b.sign(ka);
    s.put_block(b);
    Block b2(block_body(0));
    b2.sign(kb);
    s.put_block(b2);
    s.put_frame(frame_of(5));
    s.put_snapshot(0, Bytes{1, 2, 3});
    s.put_peer_set(0, set_of({"A", "B"}));
    s.put_peer_set(12, set_of({"A", "B", "C"}));
    s.put_meta("app", Bytes{42});
  }
  LmdbStore s(dir, durable_options());
  CHECK(s.event_count() == 20);
  CHECK(s.consensus_event_count() == 3);
  CHECK(s.consensus_events(1, 5) == std::vector<Hash>{events[1]->hash(), events[2]->hash()});
  CHECK(s.cache_entries() == 0);  // everything below comes from the file
  for (const auto& e : events) {
    const EventPtr got = s.get_event(e->hash());
    REQUIRE(got != nullptr);
    CHECK(*got == *e);
    CHECK(got->verify());
  }
  const auto order = s.events_from(0, 100);
  REQUIRE(order.size() == 20);
  for (std::size_t i = 0; i < 20; ++i) CHECK(order[i]->hash() == events[i]->hash());
  REQUIRE(s.get_block(0).has_value());
  CHECK(s.get_block(0)->valid_signatures(set_of({"A", "B"})) == 2);
  CHECK(s.last_block_index() == 0u);
  REQUIRE(s.get_frame(5).has_value());
  CHECK(s.get_frame(5)->hash() == frame_of(5).hash());
  CHECK(s.get_snapshot(0) == Bytes{1, 2, 3});
  CHECK(s.last_snapshot_index() == 0u);
  CHECK(s.peer_schedule().entries().size() == 2);
  CHECK(s.peer_schedule().at(20) == set_of({"A", "B", "C"}));
  CHECK(s.get_meta("app") == Bytes{42});
  CHECK(s.get_meta("store.schema_version") == lmdb::le32(LmdbStore::kSchemaVersion));
  // New events continue the order after the reopened ones.
  s.put_event(signed_event(ka, 100));
  CHECK(s.event_count() == 21);
  CHECK(s.events_from(20, 5).at(0)->index() == 100);
}

TEST_CASE("LmdbStore: event_at finds an event by creator and index (the creator index)") {
  LmdbFixture f;
  const auto events = event_chain(8);
  for (const auto& e : events) f.s.put_event(e);
  const auto ka = KeyPair::from_name("A"), kb = KeyPair::from_name("B");
  REQUIRE(f.s.event_at(ka.public_key(), 0) != nullptr);
  CHECK(f.s.event_at(ka.public_key(), 0)->hash() == events[0]->hash());
  CHECK(f.s.event_at(kb.public_key(), 3)->hash() == events[7]->hash());
  CHECK(f.s.event_at(kb.public_key(), 4) == nullptr);
  CHECK(f.s.event_at(KeyPair::from_name("C").public_key(), 0) == nullptr);
}

TEST_CASE("LmdbStore: meta keys starting with 'store.' are the store's own and refused") {
  LmdbFixture f;
  CHECK_THROWS_AS(f.s.put_meta("store.event_count", Bytes{1}), std::invalid_argument);
  CHECK(f.s.get_meta("store.schema_version").has_value());
}

namespace {

// A child commits one batch, then writes a second one and dies before end_batch: by SIGKILL
// (use_kill) or by _exit. Afterwards the store holds exactly the first batch.
void check_crash_before_end_batch(bool use_kill) {
  ScratchDir d("chatter-store");
  const fs::path dir = d.path / "store";
  const auto events = event_chain(60);
  {
    ChildProcess child([&](const auto& ready) {
      LmdbStore s(dir, durable_options());
      s.begin_batch();
      for (std::size_t i = 0; i < 10; ++i) s.put_event(events[i]);
      s.append_consensus_events({events[0]->hash()});
      s.end_batch();  // committed: must survive
      s.begin_batch();
      for (std::size_t i = 10; i < 60; ++i) s.put_event(events[i]);
      s.append_consensus_events({events[1]->hash(), events[2]->hash()});
      s.put_block(Block(block_body(0)));
      s.put_meta("k", Bytes{1});
      if (!use_kill) ::_exit(0);  // the process ends without end_batch
      ready("");
      for (;;) ::pause();
    });
    if (use_kill) {
      REQUIRE(child.wait_ready());
      child.kill9();
      CHECK(child.wait() == -SIGKILL);
    } else {
      CHECK_FALSE(child.wait_ready());
      CHECK(child.wait() == 0);
    }
  }
  LmdbStore s(dir, durable_options());
  CHECK(s.event_count() == 10);
  CHECK(s.consensus_event_count() == 1);
  CHECK(s.get_event(events[9]->hash()) != nullptr);
  CHECK(s.get_event(events[10]->hash()) == nullptr);
  CHECK(s.events_from(0, 100).size() == 10);
  CHECK_FALSE(s.get_block(0).has_value());
  CHECK_FALSE(s.get_meta("k").has_value());
}

}  // namespace

TEST_CASE("LmdbStore: a batch killed (kill -9) before end_batch leaves nothing of it behind") {
  check_crash_before_end_batch(true);
}

TEST_CASE("LmdbStore: a process exiting before end_batch leaves nothing of the batch behind") {
  check_crash_before_end_batch(false);
}

TEST_CASE("LmdbStore: a batch committed by end_batch survives kill -9 right after, whole") {
  ScratchDir d("chatter-store");
  const fs::path dir = d.path / "store";
  const auto events = event_chain(60);
  {
    ChildProcess child([&](const auto& ready) {
      LmdbStore s(dir, durable_options());
      s.begin_batch();
      for (const auto& e : events) s.put_event(e);
      s.append_consensus_events({events[0]->hash(), events[1]->hash()});
      s.put_block(Block(block_body(0)));
      s.put_meta("k", Bytes{1});
      s.end_batch();
      ready("");
      for (;;) ::pause();
    });
    REQUIRE(child.wait_ready());
    child.kill9();
    CHECK(child.wait() == -SIGKILL);
  }
  LmdbStore s(dir, durable_options());
  CHECK(s.event_count() == 60);
  CHECK(s.consensus_event_count() == 2);
  CHECK(s.events_from(0, 100).size() == 60);
  CHECK(s.get_block(0).has_value());
  CHECK(s.get_meta("k") == Bytes{1});
}

TEST_CASE("LmdbStore: a store of another schema version is refused with the sentence naming both versions") {
  ScratchDir d("chatter-store");
  const fs::path dir = d.path / "store";
  { LmdbStore s(dir, fast_options()); }
  const std::string key = "store.schema_version";
  write_raw(dir, "meta", Bytes(key.begin(), key.end()), lmdb::le32(99));
  const std::string what =
      store_error_of([&] { LmdbStore s(dir, fast_options()); }, StoreError::Kind::kSchemaMismatch);
  CHECK(what == "the store in " + dir.string() + " has schema version 99; this chatter reads version " +
                    std::to_string(LmdbStore::kSchemaVersion));
}

TEST_CASE("LmdbStore: a data file with overwritten header pages is refused with StoreError, no crash") {
  ScratchDir d("chatter-store");
  const fs::path dir = d.path / "store";
  {
    LmdbStore s(dir, fast_options());
    for (const auto& e : event_chain(50)) s.put_event(e);
  }
  std::string data = read_file(dir / "data.mdb");
  REQUIRE(data.size() > 8192);
  std::fill(data.begin(), data.begin() + 8192, '\xab');
  write_file(dir / "data.mdb", data);
  const std::string what =
      store_error_of([&] { LmdbStore s(dir, fast_options()); }, StoreError::Kind::kCorrupted);
  CHECK(what.find("the data file of the store in " + dir.string() + " is corrupted or truncated") == 0);
}

TEST_CASE("LmdbStore: a damaged event record is refused when read (its body no longer matches its hash)") {
  ScratchDir d("chatter-store");
  const fs::path dir = d.path / "store";
  const auto events = event_chain(50);
  {
    LmdbStore s(dir, fast_options());
    for (const auto& e : events) s.put_event(e);
  }
  std::string data = read_file(dir / "data.mdb");
  std::size_t replaced = 0;
  for (auto pos = data.find("tx-17"); pos != std::string::npos; pos = data.find("tx-17", pos + 1)) {
    data[pos + 4] = '9';  // "tx-19" is a valid body of another event, not the one stored under this hash
    ++replaced;
  }
  REQUIRE(replaced >= 1);
  write_file(dir / "data.mdb", data);
  LmdbStore s(dir, fast_options());
  CHECK(s.event_count() == 50);
  CHECK(s.get_event(events[0]->hash()) != nullptr);
  const std::string what =
      store_error_of([&] { s.get_event(events[34]->hash()); }, StoreError::Kind::kCorrupted);
  CHECK(what.find("the store in " + dir.string() + " is corrupted: the stored event") == 0);
  store_error_of([&] { s.events_from(0, 100); }, StoreError::Kind::kCorrupted);
}

TEST_CASE("LmdbStore: a stored record that does not decode is refused with StoreError kCorrupted") {
  ScratchDir d("chatter-store");
  const fs::path dir = d.path / "store";
  {
    LmdbStore s(dir, fast_options());
    s.put_block(Block(block_body(1)));
  }
  const auto key = lmdb::be64(1);
  write_raw(dir, "blocks", Bytes(key.begin(), key.end()), Bytes{1, 2, 3});
  {
    LmdbStore s(dir, fast_options());
    const std::string what = store_error_of([&] { s.get_block(1); }, StoreError::Kind::kCorrupted);
    CHECK(what.find("the store in " + dir.string() + " is corrupted: the stored block 1 does not decode") ==
          0);
    CHECK_FALSE(s.get_block(2).has_value());  // the rest stays readable
  }
  // The peer schedule is read when the store opens: a damaged peer set refuses the open.
  const auto round = lmdb::be64(std::uint64_t{1} << 63);  // round 0
  write_raw(dir, "peer_sets", Bytes(round.begin(), round.end()), Bytes{0xff, 0xff, 0xff, 0xff});
  const std::string what =
      store_error_of([&] { LmdbStore s(dir, fast_options()); }, StoreError::Kind::kCorrupted);
  CHECK(what.find("the store in " + dir.string() +
                  " is corrupted: the stored peer set of round 0 does not decode") == 0);
}

TEST_CASE(
    "LmdbStore: a truncated data file is refused with StoreError (never read past its end, never reset)") {
  ScratchDir d("chatter-store");
  const fs::path dir = d.path / "store";
  {
    LmdbStore s(dir, fast_options());
    s.begin_batch();
    for (std::uint64_t i = 0; i < 5000; ++i) s.put_event(unsigned_event(i, 200));
    s.end_batch();
  }
  const std::string data = read_file(dir / "data.mdb");
  REQUIRE(data.size() > 100000);
  for (const std::size_t size : {data.size() / 2, data.size() - 4096, std::size_t{5000}, std::size_t{0}}) {
    CAPTURE(size);
    write_file(dir / "data.mdb", data.substr(0, size));
    const std::string what =
        store_error_of([&] { LmdbStore s(dir, fast_options()); }, StoreError::Kind::kCorrupted);
    CHECK(what.find("the data file of the store in " + dir.string() + " is") == 0);
    CHECK(what.find("truncated") != std::string::npos);
    CHECK(fs::file_size(dir / "data.mdb") == size);  // left as found
  }
}

TEST_CASE(
    "LmdbStore: a full map is StoreError kMapFull; the failed batch is gone whole, the store stays usable") {
  ScratchDir d("chatter-store");
  const fs::path dir = d.path / "store";
  LmdbStore::Options o = fast_options();
  o.map_size = std::size_t{1} << 20;
  LmdbStore s(dir, o);
  const auto events = event_chain(10);
  s.put_event(events[0]);
  s.put_snapshot(0, Bytes(1000, 1));
  s.begin_batch();
  for (std::size_t i = 1; i < 10; ++i) s.put_event(events[i]);
  const std::string what = store_error_of(
      [&] {
        for (std::uint64_t i = 1; i < 100; ++i) s.put_snapshot(i, Bytes(100000, 2));
      },
      StoreError::Kind::kMapFull);
  CHECK(what.find("the store in " + dir.string() + " is full (map size 1048576 bytes)") == 0);
  CHECK_FALSE(s.in_batch());
  s.end_batch();  // nothing left to commit
  CHECK(s.event_count() == 1);
  CHECK(s.get_event(events[5]->hash()) == nullptr);
  CHECK(s.last_snapshot_index() == 0u);
  s.put_event(events[1]);  // still usable
  CHECK(s.event_count() == 2);
}

TEST_CASE("LmdbStore: the event cache stays within cache_size while 200,000 events are inserted") {
  ScratchDir d("chatter-store");
  LmdbStore::Options o = fast_options();
  o.cache_size = 1000;
  LmdbStore s(d.path / "store", o);
  const auto rss_anon_kb = [] {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("RssAnon:", 0) == 0) return std::stol(line.substr(8));
    return 0L;
  };
  const long before = rss_anon_kb();
  std::size_t max_entries = 0;
  EventPtr last;
  for (std::uint64_t batch = 0; batch < 200; ++batch) {
    s.begin_batch();
    for (std::uint64_t i = 0; i < 1000; ++i) {
      last = unsigned_event(batch * 1000 + i, 300);
      s.put_event(last);
    }
    s.end_batch();
    max_entries = std::max(max_entries, s.cache_entries());
  }
  CHECK(s.event_count() == 200000);
  CHECK(max_entries <= 1000);
  CHECK(max_entries >= 500);
  // Keeping 200,000 events of ~450 bytes would take ~100 MB of anonymous memory.
  const long grown_kb = rss_anon_kb() - before;
  MESSAGE("RssAnon grew by " << grown_kb << " KiB");
#if defined(__SANITIZE_ADDRESS__)
  // Not under AddressSanitizer (scripts/sanitize.sh): it keeps freed memory in quarantine (256 MB by
  // default) and pads every allocation, so resident memory says nothing about the cache bound there.
  MESSAGE("RssAnon bound not checked under AddressSanitizer");
#else
  CHECK(grown_kb < 32 * 1024);
#endif
  // A recent event is served from the cache: the very object that was put, not a decoded copy.
  CHECK(s.get_event(last->hash()).get() == last.get());
  // An old one comes from the file and is then cached, still within the bound.
  const EventPtr old = s.get_event(unsigned_event(5, 300)->hash());
  REQUIRE(old != nullptr);
  CHECK(old->index() == 5);
  CHECK(s.cache_entries() <= 1000);
}

TEST_CASE("LmdbStore: the data file's mapped pages do not pile up in resident memory as history grows") {
  ScratchDir d("chatter-store");
  LmdbStore s(d.path / "store", fast_options());
  const std::string data = std::filesystem::canonical(d.path / "store" / "data.mdb").string();
  // Resident KiB of this process's mapping of data.mdb (/proc/self/smaps), what LMDB has touched.
  const auto mapped_rss_kb = [&] {
    std::ifstream in("/proc/self/smaps");
    std::string line;
    bool in_map = false;
    long kb = 0;
    while (std::getline(in, line)) {
      const std::string first = line.substr(0, line.find(' '));  // "start-end" on a mapping's line
      if (!first.empty() && first.find('-') != std::string::npos && first.back() != ':')
        in_map = line.size() >= data.size() && line.compare(line.size() - data.size(), data.size(), data) == 0;
      else if (in_map && line.rfind("Rss:", 0) == 0)
        kb += std::stol(line.substr(4));
    }
    return kb;
  };
  // 1,024 batches (32 x the release interval) of 40 events of ~2 KB: an ~80 MB data file, each
  // batch rewriting the right edge of the B-trees through the map.
  long most = 0;
  for (std::uint64_t batch = 0; batch < 1024; ++batch) {
    s.begin_batch();
    for (std::uint64_t i = 0; i < 40; ++i) s.put_event(unsigned_event(batch * 40 + i, 2000));
    s.end_batch();
    most = std::max(most, mapped_rss_kb());
  }
  const auto file_kb = static_cast<long>(std::filesystem::file_size(data) / 1024);
  MESSAGE("data.mdb " << file_kb << " KiB, its mapping at most " << most << " KiB resident");
  REQUIRE(file_kb > 60 * 1024);
  // Without the periodic release the whole file's pages stay mapped (the mapping follows the file).
  CHECK(most < file_kb / 2);
  CHECK(s.event_count() == 1024 * 40);
  CHECK(s.get_event(unsigned_event(7, 2000)->hash()) != nullptr);  // still readable after a release
}
