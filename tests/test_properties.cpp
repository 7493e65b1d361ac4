// Property tests of the hashgraph on seeded random gossip graphs (sim/gossip_graph.h).
//
// spec/consensus.md: everything depends only on the shape of the graph (and, where marked, on
// hashes and signatures). So:
//   (a) inserting the same events in any valid topological order and running consensus once gives
//       identical results (per-event values, per-round witness sets and decided flags, consensus
//       order, frames and blocks);
//   (b) running consensus after every insertion gives the same results, except that a witness that
//       arrives after its round was decided may stay undecided where the batch run says not famous;
//   (c) re-inserting any event is refused with kDuplicate and changes nothing, and consensus
//       actually progresses (so these tests can fail);
//   (d) the consensus order and the blocks follow the spec's ordering rules.
// A failing comparison prints the seed and the first differences.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "engine/hashgraph.h"
#include "sim/gossip_graph.h"
#include "store/inmem_store.h"

namespace chatter {
namespace {

struct EventSnap {
  std::int64_t round = 0;
  bool witness = false;
  std::int64_t lamport = 0;
  std::optional<bool> famous;
  std::optional<std::int64_t> round_received;
  friend bool operator==(const EventSnap&, const EventSnap&) = default;
};

struct RoundSnap {
  std::set<Hash> witnesses;
  bool decided = false;
  std::vector<Hash> received;  // consensus order when processed, sorted by hash otherwise
  friend bool operator==(const RoundSnap&, const RoundSnap&) = default;
};

struct BlockSnap {
  BlockBody body;
  Hash frame_hash;  // Store::get_frame(round_received)->hash()
  friend bool operator==(const BlockSnap&, const BlockSnap&) = default;
};

struct Snapshot {
  std::map<Hash, EventSnap> events;
  std::map<std::int64_t, RoundSnap> rounds;
  std::vector<Hash> consensus;
  std::vector<BlockSnap> blocks;
  std::map<std::int64_t, Hash> frames;  // every processed round
  std::int64_t last_round = -1;
  std::optional<std::int64_t> last_consensus_round;
};

// A store and a hashgraph over it (the store is declared first, so it outlives the graph).
struct Node {
  InmemStore store;
  Hashgraph hg;
  std::vector<Block> blocks;  // everything take_new_blocks() returned
  explicit Node(const PeerSet& peers) : hg(PeerSchedule(peers), store) {}
  void consensus() {
    hg.run_consensus();
    for (auto& b : hg.take_new_blocks()) blocks.push_back(std::move(b));
  }
};

GossipGraph graph(std::size_t n, std::size_t events, std::uint64_t seed) {
  GossipGraphOptions o;
  o.participants = n;
  o.events = events;
  o.seed = seed;
  o.txs_per_event = 1;
  o.tx_size = 8;
  return make_gossip_graph(o);
}

// Short readable name of an event: creator position, index, hash prefix.
struct Namer {
  std::map<Hash, std::string> names;
  explicit Namer(const GossipGraph& g) {
    for (const auto& e : g.events) {
      std::ostringstream o;  // (not "p" + std::to_string(...): g++ 12 warns falsely at -O3)
      o << "p" << g.peers.position(e->creator()) << "#" << e->index() << "(" << to_hex(e->hash()).substr(0, 8) << ")";
      names[e->hash()] = o.str();
    }
  }
  std::string operator()(const Hash& h) const {
    auto it = names.find(h);
    return it == names.end() ? "?" + to_hex(h).substr(0, 8) : it->second;
  }
};

std::string show(const std::optional<bool>& b) { return b ? (*b ? "true" : "false") : "undecided"; }
std::string show(const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : "none"; }
std::string show(const EventSnap& s) {
  std::ostringstream o;
  o << "{round " << s.round << ", witness " << s.witness << ", lamport " << s.lamport << ", famous "
    << show(s.famous) << ", round_received " << show(s.round_received) << "}";
  return o.str();
}

Snapshot snapshot(const Node& node, const std::vector<EventPtr>& events) {
  const Hashgraph& hg = node.hg;
  Snapshot s;
  for (const auto& e : events) {
    const auto info = hg.info(e->hash());
    REQUIRE_MESSAGE(info.has_value(), "inserted event has no info");
    s.events[e->hash()] = EventSnap{info->round, info->witness, info->lamport, info->famous, info->round_received};
  }
  s.last_round = hg.last_round();
  s.last_consensus_round = hg.last_consensus_round();
  for (std::int64_t r = 0; r <= s.last_round; ++r) {
    RoundSnap rs;
    for (const auto& w : hg.round_witnesses(r)) rs.witnesses.insert(w);
    rs.decided = hg.round_decided(r);
    rs.received = hg.round_received_events(r);
    if (!s.last_consensus_round || r > *s.last_consensus_round) std::sort(rs.received.begin(), rs.received.end());
    s.rounds[r] = std::move(rs);
  }
  s.consensus = hg.consensus_events();
  CHECK(node.store.consensus_events() == s.consensus);
  for (std::int64_t r = 0; s.last_consensus_round && r <= *s.last_consensus_round; ++r)
    if (auto f = node.store.get_frame(r)) s.frames[r] = f->hash();
  for (std::size_t i = 0; i < node.blocks.size(); ++i) {
    const Block& b = node.blocks[i];
    CHECK(b.index() == i);
    const auto stored = node.store.get_block(b.index());
    REQUIRE_MESSAGE(stored.has_value(), "block " << b.index() << " is not in the store");
    CHECK(stored->body() == b.body());
    const auto frame = node.store.get_frame(b.body().round_received);
    REQUIRE_MESSAGE(frame.has_value(), "no frame for block " << b.index());
    CHECK(frame->hash() == b.body().frame_hash);
    s.blocks.push_back(BlockSnap{b.body(), frame->hash()});
  }
  CHECK(node.store.last_block_index() ==
        (node.blocks.empty() ? std::nullopt : std::optional<std::uint64_t>(node.blocks.size() - 1)));
  return s;
}

// Witnesses inserted after their round was already decided (incremental runs only).
using LateSet = std::set<Hash>;

// Differences between a reference (batch) snapshot and another one, as readable lines. With `late`,
// fame may be undecided in `b` where `a` says not famous, for late witnesses only.
std::vector<std::string> differences(const Snapshot& a, const Snapshot& b, const Namer& name,
                                     const LateSet* late, bool compare_decided) {
  std::vector<std::string> out;
  auto add = [&](const std::string& s) {
    if (out.size() < 12) out.push_back(s);
  };
  for (const auto& [h, ea] : a.events) {
    auto it = b.events.find(h);
    if (it == b.events.end()) {
      add("event " + name(h) + " missing");
      continue;
    }
    EventSnap eb = it->second;
    if (late && late->count(h) && !eb.famous && ea.famous == false) eb.famous = false;  // allowed
    if (!(ea == eb)) add("event " + name(h) + ": reference " + show(ea) + ", other " + show(it->second) +
                         (late && late->count(h) ? " (late witness)" : ""));
  }
  if (a.last_round != b.last_round)
    add("last_round " + std::to_string(a.last_round) + " vs " + std::to_string(b.last_round));
  if (a.last_consensus_round != b.last_consensus_round)
    add("last_consensus_round " + show(a.last_consensus_round) + " vs " + show(b.last_consensus_round));
  for (const auto& [r, ra] : a.rounds) {
    auto it = b.rounds.find(r);
    if (it == b.rounds.end()) {
      add("round " + std::to_string(r) + " missing");
      continue;
    }
    const RoundSnap& rb = it->second;
    if (ra.witnesses != rb.witnesses)
      add("round " + std::to_string(r) + ": witness sets differ (" + std::to_string(ra.witnesses.size()) + " vs " +
          std::to_string(rb.witnesses.size()) + ")");
    if (compare_decided && ra.decided != rb.decided)
      add("round " + std::to_string(r) + ": decided " + std::to_string(ra.decided) + " vs " + std::to_string(rb.decided));
    if (ra.received != rb.received) add("round " + std::to_string(r) + ": received events differ");
  }
  if (a.consensus != b.consensus) {
    std::size_t i = 0;
    while (i < a.consensus.size() && i < b.consensus.size() && a.consensus[i] == b.consensus[i]) ++i;
    add("consensus order differs at position " + std::to_string(i) + " (lengths " + std::to_string(a.consensus.size()) +
        " vs " + std::to_string(b.consensus.size()) + ")" +
        (i < a.consensus.size() && i < b.consensus.size() ? ": " + name(a.consensus[i]) + " vs " + name(b.consensus[i]) : ""));
  }
  if (a.frames != b.frames) add("frames differ (" + std::to_string(a.frames.size()) + " vs " + std::to_string(b.frames.size()) + ")");
  if (a.blocks.size() != b.blocks.size())
    add("block count " + std::to_string(a.blocks.size()) + " vs " + std::to_string(b.blocks.size()));
  for (std::size_t i = 0; i < std::min(a.blocks.size(), b.blocks.size()); ++i) {
    const auto& x = a.blocks[i];
    const auto& y = b.blocks[i];
    if (x == y) continue;
    std::string what = "block " + std::to_string(i) + " differs:";
    if (x.body.round_received != y.body.round_received)
      what += " round_received " + std::to_string(x.body.round_received) + " vs " + std::to_string(y.body.round_received);
    if (x.body.transactions != y.body.transactions) what += " transactions;";
    if (x.frame_hash != y.frame_hash) what += " frame hash;";
    if (x.body.timestamp != y.body.timestamp) what += " timestamp;";
    add(what);
  }
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += "\n  " + l;
  return s;
}

Snapshot run_batch(const GossipGraph& g, const std::vector<EventPtr>& order) {
  Node node(g.peers);
  for (const auto& e : order) {
    const auto r = node.hg.insert(e);
    REQUIRE_MESSAGE(r.ok(), "insert refused: " << to_string(r.error) << " " << r.detail);
  }
  node.consensus();
  return snapshot(node, order);
}

// Consensus after every insertion; records the witnesses whose round was decided before they came.
Snapshot run_incremental(const GossipGraph& g, const std::vector<EventPtr>& order, LateSet& late) {
  Node node(g.peers);
  for (const auto& e : order) {
    // The event's round is its parents' round or one more: note whether each was decided just
    // before the insertion.
    std::int64_t pr = 0;
    for (const auto& p : {e->self_parent(), e->other_parent()})
      if (p) pr = std::max(pr, node.hg.info(*p).value().round);
    const bool decided_pr = node.hg.round_decided(pr);
    const bool decided_next = node.hg.round_decided(pr + 1);
    const auto r = node.hg.insert(e);
    REQUIRE_MESSAGE(r.ok(), "insert refused: " << to_string(r.error) << " " << r.detail);
    const auto info = node.hg.info(e->hash()).value();
    REQUIRE((info.round == pr || info.round == pr + 1));
    if (info.witness && (info.round == pr ? decided_pr : decided_next)) late.insert(e->hash());
    node.consensus();
  }
  node.consensus();
  return snapshot(node, order);
}

std::int64_t decided_rounds(const Snapshot& s) {
  std::int64_t n = 0;
  for (const auto& [r, rs] : s.rounds) n += rs.decided ? 1 : 0;
  return n;
}

struct Case {
  std::size_t n;
  std::size_t events;
  std::uint64_t seed;
  bool quiet = false;  // one creator is not pulled from for a stretch (GossipGraphOptions::quiet_*)
};

// 3 to 10 creators, a few hundred events each, several seeds per size; plus graphs with a quiet
// creator, whose witnesses a node may receive after their round was decided.
std::vector<Case> cases() {
  std::vector<Case> out;
  for (std::size_t n = 3; n <= 10; ++n)
    for (std::uint64_t s = 1; s <= 3; ++s) out.push_back(Case{n, 300 + 30 * n, 1000 * n + s});
  for (std::size_t n : {4, 5, 7, 10})
    for (std::uint64_t s = 1; s <= 2; ++s) out.push_back(Case{n, 500, 1000 * n + 500 + s, true});
  return out;
}

std::size_t quiet_creator(const Case& c) { return static_cast<std::size_t>(c.seed % c.n); }

GossipGraph graph(const Case& c) {
  GossipGraphOptions o;
  o.participants = c.n;
  o.events = c.events;
  o.seed = c.seed;
  o.txs_per_event = 1;
  o.tx_size = 8;
  if (c.quiet) {
    o.quiet_creator = quiet_creator(c);
    o.quiet_from = 60;
    o.quiet_to = 300;
  }
  return make_gossip_graph(o);
}

// A topological order that holds back `creator`'s events as long as possible (a random pick among
// the other ready events; one of its events only when nothing else is ready), as a node would
// receive them when its link to that creator is slow.
std::vector<EventPtr> delayed_order(const std::vector<EventPtr>& events, const PublicKey& creator, Rng& rng) {
  std::map<Hash, std::size_t> pos;
  for (std::size_t i = 0; i < events.size(); ++i) pos[events[i]->hash()] = i;
  std::vector<int> pending(events.size(), 0);
  std::vector<std::vector<std::size_t>> children(events.size());
  for (std::size_t i = 0; i < events.size(); ++i)
    for (const auto& p : {events[i]->self_parent(), events[i]->other_parent()})
      if (p) {
        ++pending[i];
        children[pos.at(*p)].push_back(i);
      }
  std::vector<std::size_t> ready, held;
  auto make_ready = [&](std::size_t i) { (events[i]->creator() == creator ? held : ready).push_back(i); };
  for (std::size_t i = 0; i < events.size(); ++i)
    if (pending[i] == 0) make_ready(i);
  std::vector<EventPtr> out;
  while (!ready.empty() || !held.empty()) {
    auto& from = ready.empty() ? held : ready;
    const std::size_t k = static_cast<std::size_t>(rng.below(from.size()));
    const std::size_t e = from[k];
    from[k] = from.back();
    from.pop_back();
    out.push_back(events[e]);
    for (std::size_t ch : children[e])
      if (--pending[ch] == 0) make_ready(ch);
  }
  REQUIRE(out.size() == events.size());
  return out;
}

}  // namespace

TEST_CASE("gossip graph: same options give the same graph whatever the signing threads") {
  GossipGraphOptions o;
  o.participants = 5;
  o.events = 700;
  o.seed = 42;
  const GossipGraph a = make_gossip_graph(o);
  o.sign_threads = 3;
  const GossipGraph b = make_gossip_graph(o);
  REQUIRE(a.events.size() == 700);
  REQUIRE(b.events.size() == 700);
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    CHECK(a.events[i]->hash() == b.events[i]->hash());
    CHECK(a.events[i]->signature() == b.events[i]->signature());
  }
  CHECK(a.peers == b.peers);
  for (std::size_t i = 0; i < 5; ++i) {
    std::string name = "p";
    name += std::to_string(i);
    CHECK(a.keys[i].public_key() == KeyPair::from_name(name).public_key());
    CHECK(a.events[i]->index() == 0);
    CHECK(a.events[i]->creator() == a.keys[i].public_key());
    CHECK_FALSE(a.events[i]->self_parent().has_value());
    CHECK_FALSE(a.events[i]->other_parent().has_value());
  }
  std::size_t verified = 0;
  for (const auto& e : a.events) verified += e->verify() ? 1 : 0;
  CHECK(verified == a.events.size());
  o.seed = 43;
  CHECK(make_gossip_graph(o).events.back()->hash() != a.events.back()->hash());
}

TEST_CASE("gossip graph: shuffle_topological is a permutation with parents first") {
  const GossipGraph g = graph(4, 400, 7);
  Rng rng(3);
  const auto order = shuffle_topological(g.events, rng);
  REQUIRE(order.size() == g.events.size());
  std::set<Hash> placed;
  for (const auto& e : order) {
    for (const auto& p : {e->self_parent(), e->other_parent()})
      if (p) CHECK(placed.count(*p) == 1);
    CHECK(placed.insert(e->hash()).second);
  }
  bool differs = false;
  for (std::size_t i = 0; i < order.size(); ++i) differs |= order[i] != g.events[i];
  CHECK(differs);
  Rng again(3);
  CHECK(shuffle_topological(g.events, again) == order);
}

TEST_CASE("property (a): any topological insertion order gives the same batch consensus") {
  for (const Case& c : cases()) {
    CAPTURE(c.n);
    CAPTURE(c.events);
    CAPTURE(c.seed);
    CAPTURE(c.quiet);
    const GossipGraph g = graph(c);
    const Namer name(g);
    const Snapshot ref = run_batch(g, g.events);
    for (std::uint64_t k = 1; k <= 4; ++k) {
      Rng rng(c.seed * 100 + k);
      // Three uniform shuffles, then one that holds back a creator.
      const auto order = k <= 3 ? shuffle_topological(g.events, rng)
                                : delayed_order(g.events, g.keys[quiet_creator(c)].public_key(), rng);
      const Snapshot other = run_batch(g, order);
      const auto diff = differences(ref, other, name, nullptr, true);
      CHECK_MESSAGE(diff.empty(), "seed " << c.seed << (k <= 3 ? ", shuffle seed " : ", delayed order seed ")
                                          << c.seed * 100 + k << ":" << joined(diff));
    }
  }
}

TEST_CASE("property (b): consensus after every insertion gives the batch results (late witnesses may stay undecided)") {
  for (const Case& c : cases()) {
    CAPTURE(c.n);
    CAPTURE(c.events);
    CAPTURE(c.seed);
    CAPTURE(c.quiet);
    const GossipGraph g = graph(c);
    const Namer name(g);
    const Snapshot ref = run_batch(g, g.events);
    Rng rng(c.seed * 100 + 7);
    Rng rng_delay(c.seed * 100 + 8);
    const std::vector<std::vector<EventPtr>> orders = {
        g.events, shuffle_topological(g.events, rng),
        delayed_order(g.events, g.keys[quiet_creator(c)].public_key(), rng_delay)};
    const char* const order_names[] = {"creation order", "shuffled order (seed *100+7)", "delayed order (seed *100+8)"};
    for (std::size_t k = 0; k < orders.size(); ++k) {
      LateSet late;
      const Snapshot inc = run_incremental(g, orders[k], late);
      const auto diff = differences(ref, inc, name, &late, true);
      CHECK_MESSAGE(diff.empty(), "seed " << c.seed << ", " << std::string(order_names[k]) << ", " << late.size()
                                          << " late witnesses:" << joined(diff));
      // A quiet creator's witnesses, held back, arrive after their round was decided: the exception
      // in (b) is exercised, not only allowed.
      if (c.quiet && k == 2) CHECK(!late.empty());
    }
  }
}

TEST_CASE("property (c): re-inserting any event is refused as kDuplicate and changes nothing; consensus progresses") {
  for (const Case& c : cases()) {
    CAPTURE(c.n);
    CAPTURE(c.seed);
    CAPTURE(c.quiet);
    const GossipGraph g = graph(c);
    const Namer name(g);
    Node node(g.peers);
    for (const auto& e : g.events) {
      REQUIRE(node.hg.insert(e).ok());
      const auto dup = node.hg.insert(e);
      CHECK(dup.error == InsertError::kDuplicate);
      node.consensus();
    }
    const Snapshot before = snapshot(node, g.events);
    const auto count = node.hg.event_count();
    CHECK(count == g.events.size());
    for (const auto& e : g.events) {
      CHECK(node.hg.insert(e, false).error == InsertError::kDuplicate);
      CHECK(node.hg.insert(e, true).error == InsertError::kDuplicate);
      CHECK(node.hg.insert(Event(e->body(), e->signature()), true).error == InsertError::kDuplicate);
    }
    CHECK(node.hg.event_count() == count);
    CHECK(node.store.event_count() == count);
    node.consensus();
    const Snapshot after = snapshot(node, g.events);
    const auto diff = differences(before, after, name, nullptr, true);
    CHECK_MESSAGE(diff.empty(), "refused duplicates changed the graph:" << joined(diff));

    // Progress: enough decided rounds, blocks and ordered events that a stalled engine fails.
    CHECK(decided_rounds(after) >= 5);
    CHECK(after.blocks.size() >= 3);
    CHECK(after.consensus.size() * 3 >= g.events.size());
  }
}

TEST_CASE("property (d): consensus order is by round received, then Lamport, then hash; blocks carry it") {
  for (const Case& c : cases()) {
    CAPTURE(c.n);
    CAPTURE(c.seed);
    CAPTURE(c.quiet);
    const GossipGraph g = graph(c);
    Node node(g.peers);
    for (const auto& e : g.events) REQUIRE(node.hg.insert(e, true).ok());
    node.consensus();
    const Snapshot s = snapshot(node, g.events);
    REQUIRE_FALSE(s.consensus.empty());
    std::set<Hash> seen;
    for (std::size_t i = 0; i < s.consensus.size(); ++i) {
      const auto& h = s.consensus[i];
      CHECK(seen.insert(h).second);
      const EventSnap& x = s.events.at(h);
      REQUIRE(x.round_received.has_value());
      CHECK(*x.round_received > x.round);
      if (i == 0) continue;
      const EventSnap& prev = s.events.at(s.consensus[i - 1]);
      const auto key = [](const EventSnap& e, const Hash& hh) { return std::tuple(*e.round_received, e.lamport, hh); };
      CHECK(key(prev, s.consensus[i - 1]) < key(x, h));
    }
    // Every event has a transaction, so each processed round with events makes one block, in order,
    // with the round's transactions in consensus order.
    std::size_t b = 0;
    for (std::int64_t r = 0; s.last_consensus_round && r <= *s.last_consensus_round; ++r) {
      std::vector<Bytes> txs;
      for (const auto& h : s.rounds.at(r).received)
        for (const auto& t : node.hg.event(h)->body().transactions) txs.push_back(t);
      CHECK(s.frames.count(r) == 1);
      if (txs.empty()) continue;
      REQUIRE(b < s.blocks.size());
      CHECK(s.blocks[b].body.round_received == r);
      CHECK(s.blocks[b].body.transactions == txs);
      CHECK(s.blocks[b].body.index == b);
      ++b;
    }
    CHECK(b == s.blocks.size());
  }
}

TEST_CASE("single creator: a one-validator graph reaches consensus and makes blocks") {
  const GossipGraph g = graph(1, 120, 5);
  for (const auto& e : g.events) CHECK_FALSE(e->other_parent().has_value());
  const Namer name(g);
  const Snapshot batch = run_batch(g, g.events);
  LateSet late;
  const Snapshot inc = run_incremental(g, g.events, late);
  CHECK(decided_rounds(batch) >= 5);
  CHECK(batch.blocks.size() >= 3);
  CHECK(batch.consensus.size() >= 100);
  const auto diff = differences(batch, inc, name, &late, true);
  CHECK_MESSAGE(diff.empty(), "incremental vs batch:" << joined(diff));
}

}  // namespace chatter
