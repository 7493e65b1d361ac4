// The Store port contract (engine/store.h), checked against every adapter with the same tests, so
// that InmemStore and LmdbStore agree. Each case names the rule of the port it checks.
#include <doctest/doctest.h>

#include "store_test_util.h"

using namespace chatter;
using namespace chatter::testing;

#define STORE_ADAPTERS InmemFixture, LmdbFixture

TEST_CASE_TEMPLATE("Store contract: events round-trip by hash with their signature; put_event is idempotent",
                   F, STORE_ADAPTERS) {
  F f;
  Store& s = f.store();
  const auto events = event_chain(4);
  CHECK(s.event_count() == 0);
  CHECK(s.get_event(events[0]->hash()) == nullptr);
  for (const auto& e : events) s.put_event(e);
  s.put_event(events[1]);  // again: no second copy
  CHECK(s.event_count() == 4);
  for (const auto& e : events) {
    const EventPtr got = s.get_event(e->hash());
    REQUIRE(got != nullptr);
    CHECK(*got == *e);
    CHECK(got->body() == e->body());
    CHECK(got->signature() == e->signature());
    CHECK(got->verify());
  }
  CHECK(s.get_event(Hash{}) == nullptr);
}

TEST_CASE_TEMPLATE("Store contract: events_from returns insertion order from a position, at most limit", F,
                   STORE_ADAPTERS) {
  F f;
  Store& s = f.store();
  const auto events = event_chain(10);
  for (const auto& e : events) s.put_event(e);
  s.put_event(events[3]);  // a repeated put does not take a position
  const auto all = s.events_from(0, 100);
  REQUIRE(all.size() == 10);
  for (std::size_t i = 0; i < 10; ++i) CHECK(all[i]->hash() == events[i]->hash());
  const auto mid = s.events_from(3, 4);
  REQUIRE(mid.size() == 4);
  CHECK(mid.front()->hash() == events[3]->hash());
  CHECK(mid.back()->hash() == events[6]->hash());
  CHECK(s.events_from(8, 10).size() == 2);
  CHECK(s.events_from(10, 10).empty());
  CHECK(s.events_from(0, 0).empty());
}

TEST_CASE_TEMPLATE("Store contract: the consensus order is appended a round at a time and kept in order", F,
                   STORE_ADAPTERS) {
  F f;
  Store& s = f.store();
  Hash a, b, c;
  a.data[0] = 1;
  b.data[0] = 2;
  c.data[0] = 3;
  s.append_consensus_events({c, a});
  s.append_consensus_events({});
  s.append_consensus_events({b});
  CHECK(s.consensus_event_count() == 3);
  CHECK(f.consensus() == std::vector<Hash>{c, a, b});
}

TEST_CASE_TEMPLATE("Store contract: blocks by index; last_block_index is the highest stored index", F,
                   STORE_ADAPTERS) {
  F f;
  Store& s = f.store();
  CHECK_FALSE(s.last_block_index().has_value());
  CHECK_FALSE(s.get_block(0).has_value());
  s.put_block(Block(block_body(0)));
  s.put_block(Block(block_body(2)));
  s.put_block(Block(block_body(1)));
  CHECK(s.last_block_index() == 2u);
  REQUIRE(s.get_block(1).has_value());
  CHECK(s.get_block(1)->body() == block_body(1));
  CHECK_FALSE(s.get_block(3).has_value());
  s.put_block(Block(block_body(300)));  // keys order numerically, not by first byte
  CHECK(s.last_block_index() == 300u);
}

TEST_CASE_TEMPLATE(
    "Store contract: put_block accumulates signatures; a changed body keeps only those that verify", F,
    STORE_ADAPTERS) {
  F f;
  Store& s = f.store();
  const auto ka = KeyPair::from_name("A"), kb = KeyPair::from_name("B");
  Block first(block_body(0));
  first.sign(ka);
  s.put_block(first);
  Block second(block_body(0));
  second.sign(kb);
  s.put_block(second);
  auto got = s.get_block(0);
  REQUIRE(got.has_value());
  CHECK(got->signatures().size() == 2);
  CHECK(got->valid_signatures(set_of({"A", "B"})) == 2);

  Block changed(block_body(0));
  changed.mutable_body().state_hash = {9};
  changed.sign(kb);
  s.put_block(changed);
  got = s.get_block(0);
  REQUIRE(got.has_value());
  CHECK(got->body().state_hash == Bytes{9});
  CHECK(got->signatures().size() == 1);
  CHECK(got->valid_signatures(set_of({"A", "B"})) == 1);
}

TEST_CASE_TEMPLATE(
    "Store contract: frames by round (negative rounds too), with events and roots, replaced on re-put", F,
    STORE_ADAPTERS) {
  F f;
  Store& s = f.store();
  CHECK_FALSE(s.get_frame(3).has_value());
  Frame fr = frame_of(3);
  s.put_frame(fr);
  s.put_frame(frame_of(-1));
  REQUIRE(s.get_frame(3).has_value());
  const Frame got = *s.get_frame(3);
  CHECK(got.hash() == fr.hash());
  REQUIRE(got.events.size() == 2);
  CHECK(*got.events[1].event == *fr.events[1].event);
  CHECK(got.roots.size() == 2);
  REQUIRE(s.get_frame(-1).has_value());
  CHECK(s.get_frame(-1)->round == -1);
  CHECK_FALSE(s.get_frame(2).has_value());
  fr.timestamp = 8;
  s.put_frame(fr);
  CHECK(s.get_frame(3)->timestamp == 8);
}

TEST_CASE_TEMPLATE("Store contract: peer sets form the schedule returned by peer_schedule", F,
                   STORE_ADAPTERS) {
  F f;
  Store& s = f.store();
  CHECK(s.peer_schedule().empty());
  s.put_peer_set(0, set_of({"A", "B"}));
  s.put_peer_set(10, set_of({"A", "B", "C"}));
  s.put_peer_set(-5, set_of({"A"}));
  const PeerSchedule sch = s.peer_schedule();
  CHECK(sch.entries().size() == 3);
  CHECK(sch.at(-5) == set_of({"A"}));
  CHECK(sch.at(5) == set_of({"A", "B"}));
  CHECK(sch.at(10) == set_of({"A", "B", "C"}));
  CHECK(sch.at(10).peers()[2].net_addr == "addr-C");
}

TEST_CASE_TEMPLATE("Store contract: snapshots by block index; last_snapshot_index is the highest", F,
                   STORE_ADAPTERS) {
  F f;
  Store& s = f.store();
  CHECK_FALSE(s.last_snapshot_index().has_value());
  CHECK_FALSE(s.get_snapshot(0).has_value());
  s.put_snapshot(4, Bytes{4, 4});
  s.put_snapshot(9, Bytes(100000, 9));  // larger than a page
  s.put_snapshot(2, Bytes{});
  CHECK(s.last_snapshot_index() == 9u);
  CHECK(s.get_snapshot(4) == Bytes{4, 4});
  CHECK(s.get_snapshot(9) == Bytes(100000, 9));
  CHECK(s.get_snapshot(2) == Bytes{});
  s.put_snapshot(4, Bytes{5});
  CHECK(s.get_snapshot(4) == Bytes{5});
}

TEST_CASE_TEMPLATE("Store contract: meta values by name, replaced on re-put", F, STORE_ADAPTERS) {
  F f;
  Store& s = f.store();
  CHECK_FALSE(s.get_meta("last_round").has_value());
  s.put_meta("last_round", Bytes{1, 2});
  s.put_meta("empty", Bytes{});
  CHECK(s.get_meta("last_round") == Bytes{1, 2});
  CHECK(s.get_meta("empty") == Bytes{});
  s.put_meta("last_round", Bytes{3});
  CHECK(s.get_meta("last_round") == Bytes{3});
}

TEST_CASE_TEMPLATE("Store contract: reads inside a batch see its writes; after end_batch everything is there",
                   F, STORE_ADAPTERS) {
  F f;
  Store& s = f.store();
  const auto events = event_chain(6);
  s.put_event(events[0]);
  s.begin_batch();
  for (std::size_t i = 1; i < events.size(); ++i) s.put_event(events[i]);
  s.append_consensus_events({events[0]->hash(), events[1]->hash()});
  s.put_block(Block(block_body(0)));
  s.put_peer_set(0, set_of({"A", "B"}));
  s.put_meta("k", Bytes{7});
  CHECK(s.event_count() == 6);
  REQUIRE(s.get_event(events[5]->hash()) != nullptr);
  CHECK(s.events_from(4, 10).size() == 2);
  CHECK(s.get_block(0).has_value());
  CHECK(s.get_meta("k") == Bytes{7});
  CHECK(s.peer_schedule().entries().size() == 1);
  s.end_batch();
  CHECK(s.event_count() == 6);
  CHECK(s.consensus_event_count() == 2);
  CHECK(s.events_from(0, 10).size() == 6);
  CHECK(s.get_block(0).has_value());
}
