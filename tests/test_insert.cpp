// Hashgraph insertion: every refusal path (spec/consensus.md and DESIGN.md, Error policy: refused
// input is typed and changes nothing), tampering, and the compact wire form.
#include <doctest/doctest.h>

#include "tests/graph_builder.h"

using namespace chatter;
using chatter::testing::GraphBuilder;

namespace {

struct Snapshot {
  std::uint64_t events, undetermined, stored;
  std::vector<std::int64_t> indexes;
  std::int64_t last_round;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snap(GraphBuilder& g) {
  return {g.graph().event_count(), g.graph().undetermined_count(), g.store().event_count(),
          g.graph().known_indexes(), g.graph().last_round()};
}

// Inserts `e`, expects refusal with `want`, and checks nothing changed.
void expect_refused(GraphBuilder& g, const Event& e, InsertError want) {
  const Snapshot before = snap(g);
  InsertResult r = g.graph().insert(e);
  INFO("detail: " << r.detail);
  CHECK(r.error == want);
  CHECK(!r.detail.empty());
  CHECK(snap(g) == before);
  CHECK(!g.graph().contains(e.hash()));
}

GraphBuilder small() {
  GraphBuilder g({{0, {"A", "B", "C"}}});
  g.add("a0", "A");
  g.add("b0", "B");
  g.add("a1", "A", "a0", "b0", {"x"});
  return g;
}

}  // namespace

TEST_CASE("insert refuses a duplicate event (kDuplicate)") {
  auto g = small();
  const Snapshot before = snap(g);
  CHECK(g.graph().insert(g.event("a1")).error == InsertError::kDuplicate);
  CHECK(snap(g) == before);
}

TEST_CASE("insert refuses a creator in no peer set (kUnknownCreator)") {
  auto g = small();
  expect_refused(g, g.make("z0", "Z", "", ""), InsertError::kUnknownCreator);
  expect_refused(g, g.make("z1", "Z", "", "a1"), InsertError::kUnknownCreator);
}

TEST_CASE("insert refuses a self-parent that is not the creator's last event (kSelfParentNotLast)") {
  auto g = small();
  SUBCASE("a fork: a second child of a0") { expect_refused(g, g.make("a1x", "A", "a0", "b0", {"fork"}), InsertError::kSelfParentNotLast); }
  SUBCASE("self-parent by another creator") {
    Event e = g.make("c?", "C", "b0", "a0");  // C's 'self-parent' is B's event
    expect_refused(g, e, InsertError::kSelfParentNotLast);
  }
  SUBCASE("no self-parent although the creator has events") {
    expect_refused(g, g.make("a0x", "A", "", "b0"), InsertError::kSelfParentNotLast);
  }
  SUBCASE("unknown self-parent hash") {
    EventBody b = g.event("a1").body();
    b.self_parent = blake2b("nothing");
    b.index = 2;
    expect_refused(g, Event::create(b, KeyPair::from_name("A")), InsertError::kSelfParentNotLast);
  }
}

TEST_CASE("insert refuses an index that is not self-parent + 1 (kBadIndex)") {
  auto g = small();
  expect_refused(g, g.make("a2", "A", "a1", "b0", {}, 5), InsertError::kBadIndex);
  expect_refused(g, g.make("a2", "A", "a1", "b0", {}, 1), InsertError::kBadIndex);
  expect_refused(g, g.make("c0", "C", "", "", {}, 1), InsertError::kBadIndex);
}

TEST_CASE("insert refuses an unknown other-parent (kUnknownOtherParent)") {
  auto g = small();
  EventBody b = g.make("a2", "A", "a1", "").body();
  b.other_parent = blake2b("nowhere");
  expect_refused(g, Event::create(b, KeyPair::from_name("A")), InsertError::kUnknownOtherParent);
}

TEST_CASE("insert refuses tampered signatures and bodies (kBadSignature)") {
  auto g = small();
  const Event good = g.make("a2", "A", "a1", "b0", {"pay 5"});
  SUBCASE("a flipped signature bit") {
    Signature s = good.signature();
    s.data[10] ^= 0x01;
    expect_refused(g, Event(good.body(), s), InsertError::kBadSignature);
  }
  SUBCASE("a body changed after signing (its hash changes, the signature no longer matches)") {
    EventBody b = good.body();
    b.transactions[0] = to_bytes("pay 500");
    Event tampered(b, good.signature());
    CHECK(tampered.hash() != good.hash());
    expect_refused(g, tampered, InsertError::kBadSignature);
  }
  SUBCASE("a timestamp changed after signing") {
    EventBody b = good.body();
    b.timestamp += 1;
    expect_refused(g, Event(b, good.signature()), InsertError::kBadSignature);
  }
  SUBCASE("signed by another key than the creator's") {
    expect_refused(g, Event::create(good.body(), KeyPair::from_name("B")), InsertError::kBadSignature);
  }
  // The untampered event is still accepted afterwards.
  CHECK(g.graph().insert(good).ok());
}

TEST_CASE("insert with preverified skips only the signature check") {
  auto g = small();
  const Event good = g.make("a2", "A", "a1", "b0");
  Signature s = good.signature();
  s.data[0] ^= 0xff;
  CHECK(g.graph().insert(Event(good.body(), s), true).ok());
  // Structural checks still apply.
  CHECK(g.graph().insert(g.make("b1", "B", "b0", "", {}, 7), true).error == InsertError::kBadIndex);
}

TEST_CASE("wire form: to_wire then resolve_wire rebuilds the identical event") {
  auto g = small();
  g.add("b1", "B", "b0", "a1", {"y"});
  for (const char* name : {"a0", "a1", "b1"}) {
    auto w = g.graph().to_wire(g.hash(name));
    REQUIRE(w.has_value());
    Event out;
    REQUIRE(g.graph().resolve_wire(*w, out).ok());
    CHECK(out.hash() == g.hash(name));
    CHECK(out.verify());
  }
  auto w = *g.graph().to_wire(g.hash("b1"));
  SUBCASE("unknown creator id") {
    w.creator_id ^= 0x5a5a5a5a;
    Event out;
    CHECK(g.graph().resolve_wire(w, out).error == InsertError::kMalformed);
  }
  SUBCASE("unknown other-parent index") {
    w.other_parent_index = 99;
    Event out;
    CHECK(g.graph().resolve_wire(w, out).error == InsertError::kUnknownOtherParent);
  }
  SUBCASE("unknown self-parent index") {
    w.self_parent_index = 42;
    Event out;
    CHECK(g.graph().resolve_wire(w, out).error == InsertError::kSelfParentNotLast);
  }
}

TEST_CASE("coordinates: sees and strongly_sees follow the definitions on a small graph") {
  GraphBuilder g({{0, {"A", "B", "C"}}});
  g.add("a0", "A");
  g.add("b0", "B");
  g.add("c0", "C");
  g.add("b1", "B", "b0", "a0");
  g.add("c1", "C", "c0", "b1");
  g.add("a1", "A", "a0", "c1");
  auto& h = g.graph();
  CHECK(h.sees(g.hash("a1"), g.hash("b0")));   // through c1 -> b1 -> b0
  CHECK(h.sees(g.hash("a1"), g.hash("a1")));   // an event is its own ancestor
  CHECK(!h.sees(g.hash("b1"), g.hash("c0")));
  // c1 reaches a0 through events of A (a0 itself), B (b1) and C (c1): 3 >= SuperMajority(3) = 3.
  CHECK(h.strongly_sees(g.hash("c1"), g.hash("a0"), 0));
  // b1 reaches a0 only through A and B (no C event descends from a0 and precedes b1): 2 < 3.
  CHECK(!h.strongly_sees(g.hash("b1"), g.hash("a0"), 0));
  // a1 strongly sees a0 and b0 but not c0 (no B event descends from c0): 2 witnesses < 3.
  CHECK(h.strongly_sees(g.hash("a1"), g.hash("b0"), 0));
  CHECK(!h.strongly_sees(g.hash("a1"), g.hash("c0"), 0));
  CHECK(g.info("a1").round == 0);
  CHECK(g.info("a1").lamport == 3);
  CHECK(g.info("b1").lamport == 1);
}
