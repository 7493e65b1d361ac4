// Test helpers for the Store adapters: signed events with payload, blocks, frames and peer sets,
// and fixtures that give the same Store-contract tests an InmemStore or an LmdbStore.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/block.h"
#include "engine/event.h"
#include "engine/frame.h"
#include "process_helpers.h"
#include "store/inmem_store.h"
#include "store/lmdb_store.h"

namespace chatter::testing {

// A signed event with one transaction "tx-<creator name>-<index>" and the given parents.
inline EventPtr signed_event(const KeyPair& k, std::uint64_t index,
                             std::optional<Hash> self_parent = std::nullopt,
                             std::optional<Hash> other_parent = std::nullopt) {
  EventBody b;
  b.creator = k.public_key();
  b.index = index;
  b.self_parent = self_parent;
  b.other_parent = other_parent;
  b.timestamp = 1000 + static_cast<std::int64_t>(index);
  const std::string tx = "tx-" + std::to_string(index);
  b.transactions = {Bytes(tx.begin(), tx.end())};
  return std::make_shared<const Event>(Event::create(b, k));
}

// A chain of `n` events of two alternating creators A and B, each after the previous one.
inline std::vector<EventPtr> event_chain(std::size_t n) {
  const KeyPair a = KeyPair::from_name("A"), b = KeyPair::from_name("B");
  std::vector<EventPtr> out;
  std::optional<Hash> last_a, last_b;
  for (std::size_t i = 0; i < n; ++i) {
    const bool is_a = i % 2 == 0;
    const std::uint64_t index = i / 2;
    EventPtr e = signed_event(is_a ? a : b, index, is_a ? last_a : last_b, is_a ? last_b : last_a);
    (is_a ? last_a : last_b) = e->hash();
    out.push_back(std::move(e));
  }
  return out;
}

// An event with a fake (not verifying) signature: fast to make in the hundreds of thousands.
inline EventPtr unsigned_event(std::uint64_t index, std::size_t payload) {
  static const PublicKey creator = KeyPair::from_name("A").public_key();
  EventBody b;
  b.creator = creator;
  b.index = index;
  b.transactions = {Bytes(payload, static_cast<std::uint8_t>(index))};
  Signature sig;
  sig.data.fill(0x5a);
  return std::make_shared<const Event>(Event(std::move(b), sig));
}

inline PeerSet set_of(std::initializer_list<const char*> names) {
  std::vector<Peer> ps;
  for (auto n : names) ps.push_back(Peer{KeyPair::from_name(n).public_key(), std::string("addr-") + n, n});
  return PeerSet(std::move(ps));
}

inline BlockBody block_body(std::uint64_t index) {
  BlockBody b;
  b.index = index;
  b.round_received = static_cast<std::int64_t>(index) + 1;
  b.timestamp = 77;
  b.transactions = {Bytes{1, 2, 3}};
  b.frame_hash.data.fill(0x0f);
  return b;
}

inline Frame frame_of(std::int64_t round) {
  const KeyPair a = KeyPair::from_name("A"), b = KeyPair::from_name("B");
  Frame f;
  f.round = round;
  f.peers = set_of({"A", "B"});
  f.events = {FrameEvent{signed_event(a, 1), round, 3, false},
              FrameEvent{signed_event(b, 1), round, 4, true}};
  f.schedule = PeerSchedule(f.peers);
  f.roots = {Root{a.public_key(), {FrameEvent{signed_event(a, 0), round - 1, 1, true}}},
             Root{b.public_key(), {FrameEvent{signed_event(b, 0), round - 1, 2, true}}}};
  f.timestamp = 101;
  return f;
}

// Fixtures for TEST_CASE_TEMPLATE: `store()` is a fresh, empty store.
struct InmemFixture {
  static constexpr const char* kName = "InmemStore";
  InmemStore s;
  Store& store() { return s; }
  std::vector<Hash> consensus() const { return s.consensus_events(); }
};

inline LmdbStore::Options fast_options() {
  LmdbStore::Options o;
  o.sync = LmdbStore::Sync::kNone;  // these tests do not cut power
  o.map_size = std::size_t{1} << 30;
  return o;
}

struct LmdbFixture {
  static constexpr const char* kName = "LmdbStore";
  ScratchDir dir{"chatter-store"};
  LmdbStore s{dir.path / "store", fast_options()};
  Store& store() { return s; }
  std::vector<Hash> consensus() const { return s.consensus_events(0, 1u << 30); }
};

}  // namespace chatter::testing
