// The node's monitoring counters (NodeStats, "Metrics"; engine/node_metrics.h) on hand-driven inputs:
// sync latency is the difference of the `now` values given (so the same inputs give the same
// histogram), events received count only new events from peers, blocks committed and
// round -> block (Node::block_of_round) follow the commits, fast-forwards started and refused are
// counted with a fixed reason label; and the reason of every refusal sentence of
// node_fastforward.cpp.
#include <doctest/doctest.h>

#include "engine/node.h"
#include "store/inmem_store.h"

using namespace chatter;

namespace {

class CountingApp : public AppProxy {
 public:
  CommitResponse commit_block(const Block& b) override {
    state.push_back(static_cast<std::uint8_t>(b.index()));
    return {state, {}};
  }
  Bytes get_snapshot(std::uint64_t) override { return to_bytes("snap"); }
  Bytes restore(const Bytes&) override { throw AppError("cannot restore"); }
  void on_state_changed(NodeState) override {}
  Bytes state;
};

PeerSet two_peers() {
  return PeerSet({Peer{KeyPair::from_name("m0").public_key(), "", "m0"},
                  Peer{KeyPair::from_name("m1").public_key(), "", "m1"}});
}

NodeConfig config_of(int i) {
  NodeConfig c;
  c.key = KeyPair::from_name("m" + std::to_string(i));
  c.genesis = two_peers();
  c.moniker = "m" + std::to_string(i);
  c.seed = 7 + static_cast<std::uint64_t>(i);
  c.snapshot_interval = 0;
  return c;
}

constexpr std::int64_t kMs = 1'000'000;

// Node a ticks until it sends a SyncRequest; returns it.
std::optional<Envelope> first_sync(Node& a, std::int64_t& now) {
  for (int i = 0; i < 10000; ++i) {
    now += kMs;
    for (auto& e : a.tick(now))
      if (std::holds_alternative<SyncRequest>(e.message)) return e;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("node metrics: sync latency is now(answer) - now(request), in fixed buckets; events received") {
  InmemStore sa, sb;
  CountingApp aa, ab;
  Node a(config_of(0), sa, aa), b(config_of(1), sb, ab);
  std::int64_t now = 0;
  // b has events a lacks: with a transaction to pack, b creates one after its first sync and
  // pushes it to a.
  REQUIRE(b.submit(to_bytes("tx")));
  auto req_b = first_sync(b, now);
  REQUIRE(req_b);
  for (auto& e : a.receive(b.id(), req_b->message, now))
    for (auto& back : b.receive(a.id(), e.message, now)) (void)a.receive(b.id(), back.message, now);
  const std::uint64_t received_before = a.stats().events_received;
  CHECK(received_before >= 1);               // b's event, pushed
  CHECK(a.stats().sync_latency.count == 0);  // a has not asked anyone yet

  auto req = first_sync(a, now);
  REQUIRE(req);
  REQUIRE(req->to == b.id());
  const std::int64_t sent = now;
  auto answer = b.receive(a.id(), req->message, sent);
  REQUIRE(answer.size() == 1);
  REQUIRE(std::holds_alternative<SyncResponse>(answer[0].message));
  const std::size_t carried = std::get<SyncResponse>(answer[0].message).events.size();
  (void)a.receive(b.id(), answer[0].message, sent + 3 * kMs);  // 3 ms later

  const NodeStats s = a.stats();
  CHECK(s.sync_latency.count == 1);
  CHECK(s.sync_latency.sum_ns == 3 * kMs);
  // Bounds 1, 2.5, 5 ms...: 3 ms is in the third bucket (2.5 ms < x <= 5 ms).
  CHECK(s.sync_latency.buckets[2] == 1);
  std::uint64_t total = 0;
  for (auto n : s.sync_latency.buckets) total += n;
  CHECK(total == 1);
  CHECK(s.events_received == received_before + carried);

  // The same answer again is stale (no sync in flight): no latency, no event counted twice.
  (void)a.receive(b.id(), answer[0].message, sent + 9 * kMs);
  CHECK(a.stats().sync_latency.count == 1);
  CHECK(a.stats().events_received == received_before + carried);
}

TEST_CASE(
    "node metrics: the histogram's buckets hold what they say (bounds inclusive, +Inf, negative as 0)") {
  LatencyHistogram h;
  h.record(LatencyHistogram::kBoundsNs[0]);      // exactly on the first bound: first bucket
  h.record(LatencyHistogram::kBoundsNs[0] + 1);  // just above: second
  h.record(-5);                                  // a clock that stepped back: 0, first bucket
  h.record(LatencyHistogram::kBoundsNs.back() + 1);
  CHECK(h.buckets[0] == 2);
  CHECK(h.buckets[1] == 1);
  CHECK(h.buckets.back() == 1);
  CHECK(h.count == 4);
  CHECK(h.sum_ns == 2 * LatencyHistogram::kBoundsNs[0] + 1 + LatencyHistogram::kBoundsNs.back() + 1);
  h.record(INT64_MAX);
  CHECK(h.sum_ns == INT64_MAX);  // saturates
}

TEST_CASE("node metrics: a lone validator counts its commits and maps rounds to blocks") {
  InmemStore store;
  CountingApp app;
  NodeConfig c;
  c.key = KeyPair::from_name("solo");
  c.genesis = PeerSet({Peer{c.key.public_key(), "", "solo"}});
  c.snapshot_interval = 0;
  Node n(c, store, app);
  std::int64_t now = 0;
  for (int i = 0; i < 400; ++i) {
    if (i % 10 == 0) (void)n.submit(to_bytes("tx" + std::to_string(i)));
    now += 10 * kMs;
    (void)n.tick(now);
  }
  const NodeStats s = n.stats();
  REQUIRE(s.last_block_index);
  CHECK(s.blocks_committed == *s.last_block_index + 1);
  CHECK(s.events_received == 0);  // alone: every event is its own
  CHECK(s.sync_latency.count == 0);
  const auto last = store.get_block(*s.last_block_index);
  REQUIRE(last);
  CHECK(n.block_of_round(last->body().round_received) == *s.last_block_index);
  CHECK_FALSE(n.block_of_round(-7));
}

TEST_CASE("node metrics: fast-forwards started and refused are counted by reason") {
  InmemStore sa;
  CountingApp aa;
  NodeConfig c = config_of(0);
  c.fast_sync = true;
  c.timeout_ns = 100 * kMs;
  Node a(c, sa, aa);
  const std::uint32_t peer = peer_id_of(KeyPair::from_name("m1").public_key());
  CHECK(a.state() == NodeState::kCatchingUp);
  CHECK(a.stats().fast_forwards_started == 1);  // with fast_sync from the start

  std::int64_t now = kMs;
  auto asks = a.tick(now);  // PositionRequest to the one peer
  REQUIRE(asks.size() == 1);
  CHECK(std::holds_alternative<PositionRequest>(asks[0].message));
  PositionResponse pos;
  pos.from_id = peer;
  pos.anchor_index = 5;
  (void)a.receive(peer, pos, now);
  now += kMs;
  auto fetch = a.tick(now);
  REQUIRE(fetch.size() == 1);
  CHECK(std::holds_alternative<FastForwardRequest>(fetch[0].message));
  FastForwardResponse no;  // "the peer cannot serve a fast-forward"
  no.from_id = peer;
  (void)a.receive(peer, no, now);

  const NodeStats s = a.stats();
  CHECK(s.fast_forward_refusals == 1);
  CHECK(s.fast_forward_refusals_by_reason[static_cast<std::size_t>(FastForwardRefusal::kUnavailable)] == 1);
  std::uint64_t sum = 0;
  for (auto n : s.fast_forward_refusals_by_reason) sum += n;
  CHECK(sum == s.fast_forward_refusals);
  CHECK(s.fast_forwards_started == 1);  // still the same catch-up
  // Every peer failed: back to gossip. Not a new start.
  now += kMs;
  (void)a.tick(now);
  CHECK(a.state() == NodeState::kBabbling);
  CHECK(a.stats().fast_forwards_started == 1);
}

TEST_CASE("node metrics: each refusal sentence of node_fastforward.cpp has its reason label") {
  struct Case {
    const char* why;
    FastForwardRefusal reason;
  };
  const Case cases[] = {
      {"peer 1: the peer cannot serve a fast-forward", FastForwardRefusal::kUnavailable},
      {"peer 1: block 3 is not newer than this node's block 9", FastForwardRefusal::kStale},
      {"peer 1: negative round received", FastForwardRefusal::kUntrusted},
      {"peer 1: block 3 has 1 valid signatures of trusted validators; more than 2 are needed",
       FastForwardRefusal::kUntrusted},
      {"peer 1: the block's peers hash is not the trusted peer set's", FastForwardRefusal::kUntrusted},
      {"peer 1: the frame's round is not the block's round received", FastForwardRefusal::kFrame},
      {"peer 1: the frame does not hash to the block's frame hash", FastForwardRefusal::kFrame},
      {"peer 1: the frame's peer-set schedule differs from the trusted one (unproven change)",
       FastForwardRefusal::kFrame},
      {"peer 1: the block commits to no snapshot", FastForwardRefusal::kSnapshot},
      {"peer 1: the snapshot does not hash to the block's snapshot hash", FastForwardRefusal::kSnapshot},
      {"peer 1: the frame is inconsistent: a root is missing", FastForwardRefusal::kFrame},
      {"peer 1: the application could not restore the snapshot: disk", FastForwardRefusal::kApp},
      {"peer 1: application non-determinism: after restoring the snapshot of block 4 the app reports",
       FastForwardRefusal::kApp},
      {"peer 1: no fast-forward answer within the timeout", FastForwardRefusal::kTimeout},
      {"something new", FastForwardRefusal::kOther},
      {"", FastForwardRefusal::kOther},
  };
  for (const Case& c : cases) {
    INFO(c.why);
    CHECK(classify_fast_forward_refusal(c.why) == c.reason);
  }
  for (std::size_t i = 0; i < kFastForwardRefusalCount; ++i)
    CHECK(std::string(to_string(static_cast<FastForwardRefusal>(i))) != "");
  CHECK(std::string(to_string(FastForwardRefusal::kOther)) == "other");
}
