// The node state machine on hand-driven inputs (DESIGN.md, "The core is a deterministic state
// machine"): a single validator commits on its own; a small network whose messages are delivered
// by the test commits the same blocks with the same state hashes; refusals change nothing.
#include <doctest/doctest.h>

#include <deque>
#include <map>

#include "engine/node.h"
#include "store/inmem_store.h"

using namespace chatter;

namespace {

// A deterministic app: state hash = BLAKE2b(previous || transactions), counts commits.
class ChainApp : public AppProxy {
 public:
  CommitResponse commit_block(const Block& b) override {
    if (fail_next) {
      --fail_next;
      throw AppError("app unavailable");
    }
    Writer w;
    w.bytes(state);
    for (const auto& t : b.body().transactions) w.bytes(t);
    Hash h = blake2b(w.data());
    state.assign(h.begin(), h.end());
    committed.push_back(b.index());
    for (const auto& t : b.body().transactions) txs.push_back(to_string(t));
    return {state, {}};
  }
  Bytes get_snapshot(std::uint64_t) override { throw AppError("no snapshots"); }
  Bytes restore(const Bytes&) override { throw AppError("no snapshots"); }
  void on_state_changed(NodeState s) override { states.push_back(s); }

  Bytes state;
  std::vector<std::uint64_t> committed;
  std::vector<std::string> txs;
  std::vector<NodeState> states;
  int fail_next = 0;
};

PeerSet peers_of(std::size_t n) {
  std::vector<Peer> ps;
  for (std::size_t i = 0; i < n; ++i)
    ps.push_back(Peer{KeyPair::from_name("n" + std::to_string(i)).public_key(), "", "n" + std::to_string(i)});
  return PeerSet(ps);
}

struct Net {
  explicit Net(std::size_t n) {
    PeerSet genesis = peers_of(n);
    for (std::size_t i = 0; i < n; ++i) {
      stores.push_back(std::make_unique<InmemStore>());
      apps.push_back(std::make_unique<ChainApp>());
      NodeConfig c;
      c.key = KeyPair::from_name("n" + std::to_string(i));
      c.genesis = genesis;
      c.moniker = "n" + std::to_string(i);
      c.seed = 100 + i;
      c.snapshot_interval = 0;  // ChainApp keeps no snapshots
      nodes.push_back(std::make_unique<Node>(c, *stores.back(), *apps.back()));
      index_of[nodes.back()->id()] = i;
    }
  }
  // Runs `ms` milliseconds of virtual time, delivering every message 1 ms after it was sent.
  void run(std::int64_t ms, std::size_t tx_every_ms = 0) {
    for (std::int64_t t = 0; t < ms; ++t) {
      now += 1'000'000;
      if (tx_every_ms && t % static_cast<std::int64_t>(tx_every_ms) == 0) {
        auto& n = *nodes[static_cast<std::size_t>(t) % nodes.size()];
        n.submit(to_bytes("tx" + std::to_string(tx_counter++)));
      }
      std::deque<std::pair<std::size_t, std::pair<std::uint32_t, Message>>> next;
      for (std::size_t i = 0; i < nodes.size(); ++i)
        for (auto& e : nodes[i]->tick(now)) next.push_back({index_of.at(e.to), {nodes[i]->id(), std::move(e.message)}});
      while (!in_transit.empty()) {
        auto [to, m] = std::move(in_transit.front());
        in_transit.pop_front();
        for (auto& e : nodes[to]->receive(m.first, m.second, now))
          next.push_back({index_of.at(e.to), {nodes[to]->id(), std::move(e.message)}});
      }
      in_transit = std::move(next);
    }
  }
  std::vector<std::unique_ptr<InmemStore>> stores;
  std::vector<std::unique_ptr<ChainApp>> apps;
  std::vector<std::unique_ptr<Node>> nodes;
  std::map<std::uint32_t, std::size_t> index_of;
  std::deque<std::pair<std::size_t, std::pair<std::uint32_t, Message>>> in_transit;
  std::int64_t now = 0;
  int tx_counter = 0;
};

}  // namespace

TEST_CASE("node: a single validator creates events on its own and commits every transaction") {
  Net net(1);
  auto& n = *net.nodes[0];
  for (int i = 0; i < 5; ++i) CHECK(n.submit(to_bytes("t" + std::to_string(i))));
  net.run(200);
  auto s = n.stats();
  CHECK(s.transactions == 5);
  CHECK(s.transaction_pool == 0);
  REQUIRE(s.last_block_index.has_value());
  CHECK(net.apps[0]->txs == std::vector<std::string>{"t0", "t1", "t2", "t3", "t4"});
  // Blocks are committed in order, none skipped, none twice.
  for (std::size_t i = 0; i < net.apps[0]->committed.size(); ++i) CHECK(net.apps[0]->committed[i] == i);
  // Its own signature makes a one-validator block valid: the anchor follows.
  CHECK(s.anchor_block.has_value());
  // Idle: no events are created forever.
  const auto events = n.stats().events;
  net.run(5000);
  CHECK(n.stats().events <= events + 3);
}

TEST_CASE("node: four validators commit the same blocks with the same state hashes, and sign them") {
  Net net(4);
  net.run(3000, 5);
  std::uint64_t min_last = UINT64_MAX;
  for (auto& n : net.nodes) {
    auto s = n->stats();
    REQUIRE(s.last_block_index.has_value());
    min_last = std::min(min_last, *s.last_block_index);
  }
  REQUIRE(min_last >= 3);
  for (std::uint64_t i = 0; i <= min_last; ++i) {
    auto b0 = net.stores[0]->get_block(i);
    REQUIRE(b0.has_value());
    for (std::size_t k = 1; k < net.nodes.size(); ++k) {
      auto bk = net.stores[k]->get_block(i);
      REQUIRE(bk.has_value());
      CHECK(bk->hash() == b0->hash());
      CHECK(bk->body().state_hash == b0->body().state_hash);
    }
    if (i > 0) CHECK(b0->body().prev_block_hash == net.stores[0]->get_block(i - 1)->hash());
  }
  // Every transaction submitted early enough reached every app, in the same order.
  CHECK(net.apps[0]->txs.size() > 100);
  for (std::size_t k = 1; k < net.nodes.size(); ++k) {
    const auto& a = net.apps[0]->txs;
    const auto& b = net.apps[k]->txs;
    const std::size_t n = std::min(a.size(), b.size());
    CHECK(std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(n), b.begin()));
  }
  // Signatures travel in events: every node knows an anchor block (> TrustCount(4) = 2 signatures).
  for (auto& n : net.nodes) CHECK(n->stats().anchor_block.has_value());
}

TEST_CASE("node: an app failure delays a block, never skips it or commits it twice") {
  Net net(1);
  net.apps[0]->fail_next = 3;
  net.nodes[0]->submit(to_bytes("a"));
  net.run(100);
  net.nodes[0]->submit(to_bytes("b"));
  net.run(300);
  CHECK(net.nodes[0]->stats().app_errors == 3);
  INFO("txs: " << net.apps[0]->txs.size() << " committed " << net.apps[0]->committed.size() << " pool "
               << net.nodes[0]->stats().transaction_pool << " events " << net.nodes[0]->stats().events);
  CHECK(net.apps[0]->txs == std::vector<std::string>{"a", "b"});
  for (std::size_t i = 0; i < net.apps[0]->committed.size(); ++i) CHECK(net.apps[0]->committed[i] == i);
}

TEST_CASE("node: messages from non-validators and forged events are refused without effect") {
  Net net(3);
  net.run(200, 10);
  auto& n = *net.nodes[0];
  const auto before = n.stats();
  // A sync response nobody asked for, and a message from an unknown peer id, are ignored.
  CHECK(n.receive(0xdeadbeef, SyncRequest{0xdeadbeef, {}}, net.now).empty());
  // Forged events in an eager push: bad signature on an otherwise valid wire event.
  auto wire = *net.nodes[1]->graph().to_wire(*net.nodes[1]->graph().last_event_of(KeyPair::from_name("n1").public_key()));
  wire.index += 1000;  // unknown position
  wire.signature.data[0] ^= 1;
  auto out = n.receive(net.nodes[1]->id(), EagerSyncRequest{net.nodes[1]->id(), {wire}}, net.now);
  REQUIRE(out.size() == 1);
  CHECK(std::get<EagerSyncResponse>(out[0].message).success == false);
  CHECK(n.stats().events == before.events);
  CHECK(n.stats().refused_events == before.refused_events + 1);
}

TEST_CASE("node: shutdown stops gossip and reports the state to the app") {
  Net net(2);
  net.run(50, 5);
  net.nodes[0]->shutdown();
  CHECK(net.nodes[0]->state() == NodeState::kShutdown);
  CHECK(net.apps[0]->states.back() == NodeState::kShutdown);
  CHECK(net.nodes[0]->tick(net.now + 10'000'000'000).empty());
  CHECK(!net.nodes[0]->submit(to_bytes("late")));
}
