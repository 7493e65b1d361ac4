// The embedding facade's contract (embed/embed.h): a node runs on its own thread and commits what is
// submitted; every method is safe from inside the app's handlers; start/stop misuse is refused;
// bad options are std::invalid_argument; load_datadir reads what `chatter keygen` writes.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "app_proxy/inproc_app_proxy.h"
#include "cmd/keyfile.h"
#include "cmd/peers_file.h"
#include "embed/embed.h"
#include "engine/crypto.h"
#include "tests/process_helpers.h"

using namespace chatter;

namespace {

struct Recorder {
  std::mutex mu;
  std::vector<std::string> txs;
  std::atomic<int> submitted_inside{0};
  std::atomic<bool> stats_inside{false};
};

EmbeddedNode::Options alone(const KeyPair& key) {
  EmbeddedNode::Options o;
  o.node.key = key;
  o.node.genesis = PeerSet({Peer{key.public_key(), "127.0.0.1:0", "solo"}});
  o.listen = "127.0.0.1:0";
  return o;
}

bool eventually(const std::function<bool()>& f) {
  for (int i = 0; i < 400; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return f();
}

}  // namespace

TEST_CASE(
    "embed.h: a lone validator commits submitted transactions in order, and submit works inside commit") {
  Recorder rec;
  EmbeddedNode* self = nullptr;
  InprocHandlers h;
  h.commit = [&](const Block& b) {
    for (const auto& tx : b.body().transactions) {
      const std::string s(tx.begin(), tx.end());
      {
        std::lock_guard lock(rec.mu);
        rec.txs.push_back(s);
      }
      // From the node's own thread: answered at once, no deadlock.
      if (s == "first") rec.submitted_inside += self->submit(Bytes{'x'}) ? 1 : 0;
    }
    rec.stats_inside = self->stats().state == NodeState::kBabbling;
    return CommitResponse{Bytes(32, 1), {}};
  };
  // A block whose index is a multiple of NodeConfig::snapshot_interval completes only with a snapshot.
  h.snapshot = [](std::uint64_t) { return Bytes{}; };
  InprocAppProxy app(h);
  EmbeddedNode node(alone(KeyPair::from_name("solo")), app);
  self = &node;
  CHECK(node.listen_port() != 0);
  CHECK(node.stats().state == NodeState::kBabbling);  // before start: read directly
  node.start();
  CHECK_THROWS_AS(node.start(), std::logic_error);
  CHECK(node.submit(Bytes{'f', 'i', 'r', 's', 't'}));
  CHECK(node.submit(Bytes{'s', 'e', 'c', 'o', 'n', 'd'}));
  CHECK(eventually([&] {
    std::lock_guard lock(rec.mu);
    return rec.txs.size() >= 3;
  }));
  {
    std::lock_guard lock(rec.mu);
    REQUIRE(rec.txs.size() == 3);
    CHECK(rec.txs[0] == "first");
    CHECK(rec.txs[1] == "second");
    CHECK(rec.txs[2] == "x");
  }
  CHECK(rec.submitted_inside == 1);
  CHECK(rec.stats_inside);
  const NodeStats s = node.stats();
  CHECK(s.transactions == 3);
  CHECK(s.last_block_index.has_value());
  node.stop();
  node.stop();  // idempotent
  CHECK(node.stats().state == NodeState::kShutdown);
  CHECK_FALSE(node.submit(Bytes{'l', 'a', 't', 'e'}));
  CHECK_THROWS_AS(node.start(), std::logic_error);
}

TEST_CASE("embed.h: concurrent submitters while stop() runs all get an answer") {
  InprocHandlers h;
  h.commit = [](const Block&) { return CommitResponse{Bytes(32, 0), {}}; };
  h.snapshot = [](std::uint64_t) { return Bytes{}; };
  InprocAppProxy app(h);
  EmbeddedNode node(alone(KeyPair::from_name("solo2")), app);
  node.start();
  std::atomic<int> answered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        (void)node.submit(Bytes{static_cast<std::uint8_t>(i)});
        ++answered;
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  node.stop();
  for (auto& t : threads) t.join();
  CHECK(answered == 800);
  CHECK(node.stats().state == NodeState::kShutdown);
}

TEST_CASE("embed.h: options that cannot work are refused before anything starts") {
  InprocAppProxy app(InprocHandlers{[](const Block&) { return CommitResponse{}; }, {}, {}, {}});
  auto o = alone(KeyPair::from_name("solo3"));
  o.node.key = KeyPair::from_name("stranger");
  CHECK_THROWS_AS(EmbeddedNode(o, app), std::invalid_argument);
  o = alone(KeyPair::from_name("solo3"));
  o.listen = "no-port";
  CHECK_THROWS_AS(EmbeddedNode(o, app), std::invalid_argument);
}

TEST_CASE("embed.h: load_datadir reads the files chatter keygen and testnet write, and names what is wrong") {
  chatter::testing::ScratchDir scratch("chatter-embed-api");
  const std::string dir = (scratch.path / "n0").string();
  CHECK_THROWS_WITH_AS(load_datadir(dir), doctest::Contains("does not exist"), std::runtime_error);
  const KeyPair key = KeyPair::from_name("datadir");
  std::string error;
  REQUIRE(cmd::write_key_files(dir, key, error));
  CHECK_THROWS_WITH_AS(load_datadir(dir), doctest::Contains("peers.json"), std::runtime_error);
  const Peer me{key.public_key(), "127.0.0.1:7001", "me"};
  const Peer other{KeyPair::from_name("other").public_key(), "127.0.0.1:7002", "other"};
  REQUIRE(cmd::write_peers_file(dir + "/peers.json", {me, other}, error));
  DataDir d = load_datadir(dir);
  CHECK(d.key.public_key() == key.public_key());
  CHECK(d.genesis == std::vector<Peer>{me, other});
  REQUIRE(d.self() != nullptr);
  CHECK(d.self()->moniker == "me");
  REQUIRE(cmd::write_peers_file(dir + "/peers.genesis.json", {other}, error));
  d = load_datadir(dir);
  CHECK(d.peers.size() == 2);
  CHECK(d.genesis == std::vector<Peer>{other});
  CHECK(d.self() == nullptr);
}
