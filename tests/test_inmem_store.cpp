// InmemStore against the Store port contract (engine/store.h).
#include <doctest/doctest.h>

#include "store/inmem_store.h"

using namespace chatter;

namespace {

EventPtr event(const KeyPair& k, std::uint64_t index) {
  EventBody b;
  b.creator = k.public_key();
  b.index = index;
  return std::make_shared<const Event>(Event::create(b, k));
}

BlockBody block_body(std::uint64_t index) {
  BlockBody b;
  b.index = index;
  b.round_received = static_cast<std::int64_t>(index) + 1;
  return b;
}

PeerSet set_of(std::initializer_list<const char*> names) {
  std::vector<Peer> ps;
  for (auto n : names) ps.push_back(Peer{KeyPair::from_name(n).public_key(), "", n});
  return PeerSet(std::move(ps));
}

}  // namespace

TEST_CASE("Store: events are retrievable by hash; unknown hashes give nullptr") {
  InmemStore s;
  const auto k = KeyPair::from_name("A");
  const EventPtr e0 = event(k, 0);
  const EventPtr e1 = event(k, 1);
  CHECK(s.event_count() == 0);
  CHECK(s.get_event(e0->hash()) == nullptr);
  s.put_event(e0);
  s.put_event(e1);
  s.put_event(e0);  // idempotent
  CHECK(s.event_count() == 2);
  REQUIRE(s.get_event(e1->hash()) != nullptr);
  CHECK(*s.get_event(e1->hash()) == *e1);
  CHECK(s.get_event(e0->hash())->index() == 0);
  CHECK(s.get_event(Hash{}) == nullptr);
}

TEST_CASE("Store: consensus order is appended a round at a time and kept in order") {
  InmemStore s;
  Hash a, b, c;
  a.data[0] = 1;
  b.data[0] = 2;
  c.data[0] = 3;
  s.append_consensus_events({c, a});
  s.append_consensus_events({});
  s.append_consensus_events({b});
  CHECK(s.consensus_event_count() == 3);
  CHECK(s.consensus_events() == std::vector<Hash>{c, a, b});
}

TEST_CASE("Store: blocks by index; last_block_index is the highest stored index") {
  InmemStore s;
  CHECK_FALSE(s.last_block_index().has_value());
  CHECK_FALSE(s.get_block(0).has_value());
  s.put_block(Block(block_body(0)));
  s.put_block(Block(block_body(2)));
  s.put_block(Block(block_body(1)));
  CHECK(s.last_block_index() == 2u);
  REQUIRE(s.get_block(1).has_value());
  CHECK(s.get_block(1)->body() == block_body(1));
  CHECK_FALSE(s.get_block(3).has_value());
}

TEST_CASE("Store: put_block of the same block accumulates signatures; a changed body drops stale ones") {
  InmemStore s;
  const auto ka = KeyPair::from_name("A");
  const auto kb = KeyPair::from_name("B");
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

  // A different body under the same index replaces the block; old signatures do not verify for it.
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

TEST_CASE("Store: frames by round, replaced on re-put") {
  InmemStore s;
  CHECK_FALSE(s.get_frame(3).has_value());
  Frame f;
  f.round = 3;
  f.peers = set_of({"A"});
  f.schedule = PeerSchedule(f.peers);
  f.timestamp = 7;
  s.put_frame(f);
  REQUIRE(s.get_frame(3).has_value());
  CHECK(s.get_frame(3)->hash() == f.hash());
  CHECK_FALSE(s.get_frame(2).has_value());
  f.timestamp = 8;
  s.put_frame(f);
  CHECK(s.get_frame(3)->timestamp == 8);
}

TEST_CASE("Store: peer sets form the schedule returned by peer_schedule") {
  InmemStore s;
  CHECK(s.peer_schedule().empty());
  s.put_peer_set(0, set_of({"A", "B"}));
  s.put_peer_set(10, set_of({"A", "B", "C"}));
  const PeerSchedule sch = s.peer_schedule();
  CHECK(sch.entries().size() == 2);
  CHECK(sch.at(5) == set_of({"A", "B"}));
  CHECK(sch.at(10) == set_of({"A", "B", "C"}));
}
