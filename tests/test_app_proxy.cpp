// AppProxy adapters (app_proxy/): the example KvStore application (transaction grammar, state-hash
// definition, snapshots) and the in-process handler proxy. The rules are those of the headers
// app_proxy/kvstore.h and app_proxy/inproc_app_proxy.h, implementing the port engine/app_proxy.h.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "app_proxy/inproc_app_proxy.h"
#include "app_proxy/kvstore.h"
#include "engine/codec.h"
#include "engine/crypto.h"
#include "engine/rng.h"

using namespace chatter;

namespace {

Block make_block(std::uint64_t index, const std::vector<std::string>& txs,
                 std::vector<InternalTransaction> itxs = {}) {
  BlockBody body;
  body.index = index;
  body.round_received = static_cast<std::int64_t>(index) + 1;
  for (const auto& t : txs) body.transactions.push_back(to_bytes(t));
  body.internal_transactions = std::move(itxs);
  return Block(std::move(body));
}

InternalTransaction make_itx(InternalTransactionType type, const std::string& name) {
  const KeyPair kp = KeyPair::from_name(name);
  InternalTransaction itx;
  itx.type = type;
  itx.peer.pub_key = kp.public_key();
  itx.peer.net_addr = name + ":1337";
  itx.peer.moniker = name;
  itx.sign(kp);
  return itx;
}

Bytes hash_bytes(const Hash& h) { return Bytes(h.begin(), h.end()); }

}  // namespace

TEST_CASE("kvstore: SET sets, overwrites, keeps spaces and empty values; DEL removes") {
  KvStore kv;
  CHECK(kv.apply("SET a 1"));
  CHECK(kv.get("a") == "1");
  CHECK(kv.apply("SET a two words  and  more "));  // value: everything after the key's space
  CHECK(kv.get("a") == "two words  and  more ");
  CHECK(kv.apply("SET e "));  // empty value
  CHECK(kv.get("e") == "");
  CHECK(kv.apply("SET nl with newline\n"));  // one trailing line break is stripped
  CHECK(kv.get("nl") == "with newline");
  CHECK(kv.apply("SET crlf v\r\n"));
  CHECK(kv.get("crlf") == "v");
  CHECK(kv.size() == 4);

  CHECK(kv.apply("DEL a"));
  CHECK_FALSE(kv.get("a").has_value());
  CHECK(kv.apply("DEL absent"));  // valid no-op
  CHECK(kv.size() == 3);
  CHECK(kv.committed_transactions() == 7);
  CHECK(kv.ignored() == 0);
  CHECK(kv.state_hash() == KvStore::compute_state_hash(kv.entries()));
}

TEST_CASE("kvstore: malformed transactions are ignored deterministically and counted") {
  KvStore kv;
  REQUIRE(kv.apply("SET keep me"));
  const Bytes before = kv.state_hash();
  const std::vector<std::string> bad = {
      "",           "SET",          "SET ",      "SET k",   "SET  k v",
      "set k v",    "DEL",          "DEL ",      "DEL a b", "DEL keep ",
      "PUT k v",    " SET k v",     "SETk v",    "DELkeep", "SET k v\nSET x y",
      "SET k a\rb", "DEL keep\n\n", "SET k v\r",
  };
  for (const auto& t : bad) CHECK_MESSAGE(!kv.apply(t), "accepted: " << t);
  // Binary noise, through a block as the engine delivers it.
  BlockBody body;
  Rng rng(7);
  for (int i = 0; i < 50; ++i) {
    Bytes b(static_cast<std::size_t>(rng.below(40)));
    for (auto& x : b) x = static_cast<std::uint8_t>(rng.below(256));
    if (b.size() >= 4) b[0] = 0xff;  // never a verb
    body.transactions.push_back(b);
  }
  const auto res = kv.commit_block(Block(body));
  CHECK(kv.ignored() == bad.size() + 50);
  CHECK(kv.committed_transactions() == 1);
  CHECK(kv.size() == 1);
  CHECK(kv.get("keep") == "me");
  CHECK(kv.state_hash() == before);
  CHECK(res.state_hash == before);
}

TEST_CASE("kvstore: the state hash is exactly the documented definition") {
  // entry_digest(k, v) = BLAKE2b-256(u32 len k || k || u32 len v || v)
  Writer e;
  e.u32(3);
  e.raw(reinterpret_cast<const std::uint8_t*>("key"), 3);
  e.u32(5);
  e.raw(reinterpret_cast<const std::uint8_t*>("value"), 5);
  const Hash d = blake2b(e.data());
  CHECK(KvStore::entry_digest("key", "value") == d);

  // One entry: acc = d; state = BLAKE2b-256(u64 1 || acc).
  Writer s1;
  s1.u64(1);
  s1.fixed(d);
  KvStore kv;
  REQUIRE(kv.apply("SET key value"));
  CHECK(kv.state_hash() == hash_bytes(blake2b(s1.data())));

  // Empty map: BLAKE2b-256 of 40 zero bytes.
  KvStore empty;
  CHECK(empty.state_hash() == hash_bytes(blake2b(Bytes(40, 0))));
  CHECK(empty.state_hash().size() == 32);

  // Two entries: acc = d1 + d2 mod 2^256, little-endian, with carries.
  REQUIRE(kv.apply("SET k2 v2"));
  const Hash d2 = KvStore::entry_digest("k2", "v2");
  Hash sum;
  unsigned carry = 0;
  for (std::size_t i = 0; i < 32; ++i) {
    const unsigned x = unsigned{d.data[i]} + d2.data[i] + carry;
    sum.data[i] = static_cast<std::uint8_t>(x);
    carry = x >> 8;
  }
  Writer s2;
  s2.u64(2);
  s2.fixed(sum);
  CHECK(kv.state_hash() == hash_bytes(blake2b(s2.data())));
}

TEST_CASE("kvstore: the state hash depends only on the map contents, not on history") {
  KvStore a;
  KvStore b;
  for (const char* t : {"SET x 1", "SET y 2", "SET z 3", "DEL z"}) REQUIRE(a.apply(t));
  for (const char* t : {"SET y old", "SET q 9", "SET x 1", "DEL q", "SET y 2", "DEL nothing"})
    REQUIRE(b.apply(t));
  CHECK(a.entries() == b.entries());
  CHECK(a.state_hash() == b.state_hash());

  // Any different map hashes differently: another value, another key, one entry more or less.
  KvStore c;
  for (const char* t : {"SET x 1", "SET y 3"}) REQUIRE(c.apply(t));
  CHECK(c.state_hash() != a.state_hash());
  REQUIRE(c.apply("SET y 2"));
  CHECK(c.state_hash() == a.state_hash());
  REQUIRE(c.apply("SET w "));
  CHECK(c.state_hash() != a.state_hash());
  REQUIRE(c.apply("DEL w"));
  REQUIRE(c.apply("DEL y"));
  CHECK(c.state_hash() != a.state_hash());
  // Key/value boundaries are length-prefixed: "SET ab c" and "SET a bc" differ.
  KvStore d1;
  KvStore d2;
  REQUIRE(d1.apply("SET ab c"));
  REQUIRE(d2.apply("SET a bc"));
  CHECK(d1.state_hash() != d2.state_hash());
  // Emptying a store returns to the empty hash.
  for (const char* t : {"DEL x", "DEL y"}) REQUIRE(a.apply(t));
  CHECK(a.state_hash() == KvStore().state_hash());
}

TEST_CASE("kvstore: the incremental hash equals a from-scratch recomputation (2,000 random ops, 50 keys)") {
  Rng rng(20240601);
  KvStore kv;
  KvStore::Map model;
  for (int i = 0; i < 2000; ++i) {
    const std::string key = "k" + std::to_string(rng.below(50));
    if (rng.chance(1, 3)) {
      REQUIRE(kv.apply("DEL " + key));
      model.erase(key);
    } else {
      std::string value = "v" + std::to_string(rng.below(1000));
      if (rng.chance(1, 10)) value.clear();
      if (rng.chance(1, 10)) value += " with spaces";
      REQUIRE(kv.apply("SET " + key + " " + value));
      model[key] = value;
    }
    if (i % 50 == 49) {
      REQUIRE(kv.entries() == model);
      REQUIRE(kv.state_hash() == KvStore::compute_state_hash(model));
    }
  }
  CHECK(kv.entries() == model);
  CHECK(kv.state_hash() == KvStore::compute_state_hash(model));
  CHECK(kv.committed_transactions() == 2000);
  CHECK(kv.ignored() == 0);
}

TEST_CASE("kvstore: commit_block applies transactions in order and accepts every internal transaction") {
  KvStore kv;
  const auto add = make_itx(InternalTransactionType::kPeerAdd, "carol");
  const auto rem = make_itx(InternalTransactionType::kPeerRemove, "dave");
  const auto res = kv.commit_block(make_block(0, {"SET a 1", "SET a 2", "bogus", "SET b x"}, {add, rem}));
  CHECK(kv.get("a") == "2");  // later transactions win: block order is applied
  CHECK(kv.get("b") == "x");
  CHECK(kv.ignored() == 1);
  CHECK(kv.committed_transactions() == 3);
  REQUIRE(res.receipts.size() == 2);  // one per internal transaction, same order
  CHECK(res.receipts[0].transaction == add);
  CHECK(res.receipts[0].accepted);
  CHECK(res.receipts[1].transaction == rem);
  CHECK(res.receipts[1].accepted);
  CHECK(res.state_hash == kv.state_hash());
  CHECK(kv.last_block_index() == std::optional<std::uint64_t>(0));

  const auto empty = kv.commit_block(make_block(1, {}));
  CHECK(empty.receipts.empty());
  CHECK(empty.state_hash == res.state_hash);
  CHECK(kv.last_block_index() == std::optional<std::uint64_t>(1));
}

TEST_CASE("kvstore: a block out of index order is refused with AppError and changes nothing") {
  KvStore kv;
  CHECK_FALSE(kv.last_block_index().has_value());
  kv.commit_block(make_block(5, {"SET a 1"}));  // the first block may have any index
  const Bytes h = kv.state_hash();
  CHECK_THROWS_AS(kv.commit_block(make_block(7, {"SET a 2"})), AppError);  // skipped 6
  CHECK_THROWS_AS(kv.commit_block(make_block(5, {"SET a 2"})), AppError);  // repeated
  CHECK(kv.state_hash() == h);
  CHECK(kv.get("a") == "1");
  CHECK(kv.committed_transactions() == 1);
  CHECK(kv.last_block_index() == std::optional<std::uint64_t>(5));
  kv.commit_block(make_block(6, {"SET a 3"}));
  CHECK(kv.get("a") == "3");
}

TEST_CASE("kvstore: snapshot and restore round trip to the same state hash") {
  KvStore a;
  CHECK_THROWS_AS(a.get_snapshot(0), AppError);  // nothing committed yet
  a.commit_block(make_block(0, {"SET x 1", "SET y hello world", "SET z "}));
  a.commit_block(make_block(1, {"DEL x", "SET w 4"}));
  CHECK_THROWS_WITH_AS(a.get_snapshot(0), "snapshot for block 0 not available", AppError);
  CHECK_THROWS_AS(a.get_snapshot(2), AppError);
  const Bytes snap = a.get_snapshot(1);
  CHECK(snap == KvStore::encode_snapshot(a.entries()));

  // The canonical encoding: u32 count, then (bytes key, bytes value) in key order.
  Writer w;
  w.u32(3);
  for (const auto& [k, v] : KvStore::Map{{"w", "4"}, {"y", "hello world"}, {"z", ""}}) {
    w.str(k);
    w.str(v);
  }
  CHECK(snap == w.data());

  KvStore b;
  REQUIRE(b.apply("SET stale state"));
  const Bytes restored = b.restore(snap);
  CHECK(restored == a.state_hash());
  CHECK(b.state_hash() == a.state_hash());
  CHECK(b.entries() == a.entries());
  CHECK_FALSE(b.get("stale").has_value());
  // The block index is not in the snapshot: unknown until the next commit.
  CHECK_FALSE(b.last_block_index().has_value());
  CHECK_THROWS_AS(b.get_snapshot(1), AppError);

  // Both continue identically.
  const auto ra = a.commit_block(make_block(2, {"SET y bye", "SET v 5"}));
  const auto rb = b.commit_block(make_block(2, {"SET y bye", "SET v 5"}));
  CHECK(ra.state_hash == rb.state_hash);
  CHECK(b.get_snapshot(2) == a.get_snapshot(2));

  // Restoring an empty map.
  KvStore c;
  CHECK(c.restore(KvStore::encode_snapshot({})) == KvStore().state_hash());
}

TEST_CASE("kvstore: restore refuses malformed snapshots and leaves the state untouched") {
  KvStore src;
  src.commit_block(make_block(0, {"SET alpha 1", "SET beta two", "SET gamma "}));
  const Bytes snap = src.get_snapshot(0);

  KvStore kv;
  kv.commit_block(make_block(3, {"SET mine 1", "SET other 2"}));
  const Bytes h = kv.state_hash();
  const auto entries = kv.entries();
  auto unchanged = [&] {
    CHECK(kv.state_hash() == h);
    CHECK(kv.entries() == entries);
    CHECK(kv.last_block_index() == std::optional<std::uint64_t>(3));
  };

  // Every strict prefix (truncation), and one trailing byte.
  for (std::size_t n = 0; n < snap.size(); ++n)
    CHECK_THROWS_AS(kv.restore(Bytes(snap.begin(), snap.begin() + static_cast<std::ptrdiff_t>(n))), AppError);
  Bytes trailing = snap;
  trailing.push_back(0);
  CHECK_THROWS_AS(kv.restore(trailing), AppError);
  unchanged();

  // A huge count must be refused before anything is reserved.
  Writer huge;
  huge.u32(0xffffffffu);
  huge.str("a");
  huge.str("b");
  CHECK_THROWS_AS(kv.restore(huge.data()), AppError);
  // A huge length inside an entry.
  Writer long_len;
  long_len.u32(1);
  long_len.u32(0x7fffffffu);
  long_len.raw(reinterpret_cast<const std::uint8_t*>("abcd"), 4);
  CHECK_THROWS_AS(kv.restore(long_len.data()), AppError);
  unchanged();

  // Maps no transaction sequence can produce, or non-canonical order.
  auto encode = [](const std::vector<std::pair<std::string, std::string>>& es) {
    Writer w;
    w.u32(static_cast<std::uint32_t>(es.size()));
    for (const auto& [k, v] : es) {
      w.str(k);
      w.str(v);
    }
    return w.take();
  };
  CHECK_THROWS_AS(kv.restore(encode({{"b", "1"}, {"a", "2"}})), AppError);  // out of order
  CHECK_THROWS_AS(kv.restore(encode({{"a", "1"}, {"a", "2"}})), AppError);  // duplicate key
  CHECK_THROWS_AS(kv.restore(encode({{"", "1"}})), AppError);               // empty key
  CHECK_THROWS_AS(kv.restore(encode({{"a b", "1"}})), AppError);            // space in key
  CHECK_THROWS_AS(kv.restore(encode({{"a", "x\ny"}})), AppError);           // line break in value
  unchanged();

  // Random noise (seeded).
  Rng rng(99);
  for (int i = 0; i < 200; ++i) {
    Bytes b(static_cast<std::size_t>(rng.below(64)));
    for (auto& x : b) x = static_cast<std::uint8_t>(rng.below(256));
    if (b.size() >= 4) b[3] = 0x80;  // count >= 2^31: never a valid snapshot of this size
    CHECK_THROWS_AS(kv.restore(b), AppError);
  }
  unchanged();

  // A well-formed snapshot is still accepted afterwards.
  CHECK(kv.restore(snap) == src.state_hash());
}

TEST_CASE("kvstore: on_state_changed records the node state") {
  KvStore kv;
  kv.on_state_changed(NodeState::kCatchingUp);
  CHECK(kv.node_state() == NodeState::kCatchingUp);
  kv.on_state_changed(NodeState::kShutdown);
  CHECK(kv.node_state() == NodeState::kShutdown);
}

TEST_CASE("app proxy: InprocAppProxy forwards every call to its handlers") {
  std::vector<std::uint64_t> committed;
  std::vector<std::uint64_t> snapshots;
  std::vector<Bytes> restores;
  std::vector<NodeState> states;
  InprocHandlers h;
  h.commit = [&](const Block& b) {
    committed.push_back(b.index());
    CommitResponse r;
    r.state_hash = Bytes{static_cast<std::uint8_t>(b.index())};
    for (const auto& itx : b.body().internal_transactions) r.receipts.push_back({itx, false});
    return r;
  };
  h.snapshot = [&](std::uint64_t i) {
    snapshots.push_back(i);
    return Bytes{1, 2, 3};
  };
  h.restore = [&](const Bytes& s) {
    restores.push_back(s);
    return Bytes{9};
  };
  h.state_changed = [&](NodeState s) { states.push_back(s); };
  InprocAppProxy proxy(std::move(h));

  const auto itx = make_itx(InternalTransactionType::kPeerAdd, "erin");
  const auto res = proxy.commit_block(make_block(4, {"x"}, {itx}));
  CHECK(committed == std::vector<std::uint64_t>{4});
  CHECK(res.state_hash == Bytes{4});
  REQUIRE(res.receipts.size() == 1);
  CHECK(res.receipts[0].transaction == itx);
  CHECK_FALSE(res.receipts[0].accepted);  // the handler's answer, not the proxy's
  CHECK(proxy.get_snapshot(4) == Bytes{1, 2, 3});
  CHECK(snapshots == std::vector<std::uint64_t>{4});
  CHECK(proxy.restore(Bytes{7, 7}) == Bytes{9});
  CHECK(restores == std::vector<Bytes>{Bytes{7, 7}});
  proxy.on_state_changed(NodeState::kJoining);
  CHECK(states == std::vector<NodeState>{NodeState::kJoining});
}

TEST_CASE("app proxy: InprocAppProxy requires commit; missing optional handlers") {
  CHECK_THROWS_AS(InprocAppProxy(InprocHandlers{}), std::invalid_argument);

  InprocHandlers h;
  h.commit = [](const Block&) { return CommitResponse{}; };
  InprocAppProxy proxy(std::move(h));
  CHECK_THROWS_AS(proxy.get_snapshot(0), AppError);
  CHECK_THROWS_AS(proxy.restore(Bytes{}), AppError);
  CHECK_NOTHROW(proxy.on_state_changed(NodeState::kBabbling));  // ignored
}

TEST_CASE("app proxy: InprocAppProxy converts handler exceptions to AppError with the message") {
  int which = 0;
  InprocHandlers h;
  h.commit = [&](const Block&) -> CommitResponse {
    if (which == 0) throw std::runtime_error("disk on fire");
    if (which == 1) throw std::out_of_range("index 12");
    if (which == 2) throw AppError("already an app error");
    throw 42;
  };
  h.snapshot = [](std::uint64_t) -> Bytes { throw std::logic_error("no snapshot today"); };
  h.restore = [](const Bytes&) -> Bytes { throw std::invalid_argument("bad snapshot"); };
  h.state_changed = [](NodeState) { throw std::runtime_error("listener failed"); };
  InprocAppProxy proxy(std::move(h));

  const Block b = make_block(0, {});
  CHECK_THROWS_WITH_AS(proxy.commit_block(b), "disk on fire", AppError);
  which = 1;
  CHECK_THROWS_WITH_AS(proxy.commit_block(b), "index 12", AppError);
  which = 2;
  CHECK_THROWS_WITH_AS(proxy.commit_block(b), "already an app error", AppError);
  which = 3;
  CHECK_THROWS_AS(proxy.commit_block(b), AppError);
  CHECK_THROWS_WITH_AS(proxy.get_snapshot(1), "no snapshot today", AppError);
  CHECK_THROWS_WITH_AS(proxy.restore(Bytes{}), "bad snapshot", AppError);
  CHECK_THROWS_WITH_AS(proxy.on_state_changed(NodeState::kSuspended), "listener failed", AppError);
}

TEST_CASE("app proxy: a KvStore behind InprocAppProxy commits like the KvStore itself") {
  KvStore kv;
  InprocHandlers h;
  h.commit = [&](const Block& b) { return kv.commit_block(b); };
  h.snapshot = [&](std::uint64_t i) { return kv.get_snapshot(i); };
  h.restore = [&](const Bytes& s) { return kv.restore(s); };
  InprocAppProxy proxy(std::move(h));
  const auto r = proxy.commit_block(make_block(0, {"SET a b"}));
  CHECK(r.state_hash == kv.state_hash());
  CHECK(kv.get("a") == "b");
  // KvStore's own AppError passes through unchanged.
  CHECK_THROWS_WITH_AS(proxy.get_snapshot(3), "snapshot for block 3 not available", AppError);
}
