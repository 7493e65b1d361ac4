// cmd/block_diff.h: the testnet's diagnosis of two nodes holding different blocks names exactly the
// fields that differ, read from the two stores.
#include <doctest/doctest.h>

#include <fstream>

#include "cmd/block_diff.h"
#include "store_test_util.h"

using namespace chatter;
using namespace chatter::testing;

namespace {

struct TwoStores {
  ScratchDir dir{"chatter-blockdiff"};
  std::string path_a = (dir.path / "a").string(), path_b = (dir.path / "b").string();
  void put(const std::string& path, const Block& b, const Frame& f) {
    LmdbStore s(path, fast_options());
    s.begin_batch();
    s.put_block(b);
    s.put_frame(f);
    s.end_batch();
  }
};

}  // namespace

TEST_CASE("block_diff: names the differing state hash and nothing else") {
  TwoStores t;
  BlockBody a = block_body(3);
  a.state_hash = Bytes(32, 1);
  BlockBody b = a;
  b.state_hash = Bytes(32, 2);
  const Frame f = frame_of(a.round_received);
  t.put(t.path_a, Block(a), f);
  t.put(t.path_b, Block(b), f);
  const std::string d = cmd::describe_block_difference(t.path_a, t.path_b, 3);
  CHECK(d.find("state_hash") != std::string::npos);
  CHECK(d.find("frame") == std::string::npos);
  CHECK(d.find("transactions") == std::string::npos);
}

TEST_CASE("block_diff: a different frame is traced to its roots and events") {
  TwoStores t;
  BlockBody a = block_body(4);
  Frame fa = frame_of(a.round_received);
  Frame fb = fa;
  fb.roots[1].events.clear();  // the second creator's Root differs
  a.frame_hash = fa.hash();
  BlockBody b = a;
  b.frame_hash = fb.hash();
  b.transactions.push_back(Bytes{9});
  t.put(t.path_a, Block(a), fa);
  t.put(t.path_b, Block(b), fb);
  const std::string d = cmd::describe_block_difference(t.path_a, t.path_b, 4);
  CHECK(d.find("frame_hash") != std::string::npos);
  CHECK(d.find("root of") != std::string::npos);
  CHECK(d.find("transactions (1 vs 2, first difference at 1)") != std::string::npos);
  CHECK(d.find("state_hash") == std::string::npos);
}

TEST_CASE("block_diff: a missing block or an unusable store is said, never thrown") {
  TwoStores t;
  const BlockBody a = block_body(2);
  t.put(t.path_a, Block(a), frame_of(a.round_received));
  t.put(t.path_b, Block(a), frame_of(a.round_received));
  CHECK(cmd::describe_block_difference(t.path_a, t.path_b, 2).find("bodies are equal") != std::string::npos);
  CHECK(cmd::describe_block_difference(t.path_a, t.path_b, 7).find("missing") != std::string::npos);
  const std::string bad = (t.dir.path / "not-a-store-file").string();
  { std::ofstream(bad) << "x"; }
  CHECK(cmd::describe_block_difference(bad, t.path_b, 2).find("cannot compare") != std::string::npos);
}
