// Test helper: builds hand-drawn graphs by event name ("a0", "b1", ...) on a real Hashgraph, with
// keys derived from creator names, real signatures and the real insertion checks.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/hashgraph.h"
#include "store/inmem_store.h"

namespace chatter::testing {

inline PeerSet peer_set_of(const std::vector<std::string>& names) {
  std::vector<Peer> peers;
  for (const auto& n : names) peers.push_back(Peer{KeyPair::from_name(n).public_key(), "", n});
  return PeerSet(std::move(peers));
}

class GraphBuilder {
 public:
  // schedule: round -> member names. The first entry is the genesis set.
  explicit GraphBuilder(const std::map<std::int64_t, std::vector<std::string>>& schedule,
                        CoinMode coin = CoinMode::kSignature) {
    PeerSchedule s;
    for (const auto& [r, names] : schedule) {
      s.add(r, peer_set_of(names));
      for (const auto& n : names) keys_.emplace(n, KeyPair::from_name(n));
    }
    Hashgraph::Options o;
    o.coin = coin;
    graph_ = std::make_unique<Hashgraph>(s, store_, o);
  }

  // Builds and signs an event; does not insert it.
  Event make(const std::string& name, const std::string& creator, const std::string& self_parent,
             const std::string& other_parent, std::vector<std::string> txs = {},
             std::optional<std::uint64_t> index = std::nullopt) {
    auto key = keys_.find(creator);
    KeyPair kp = key != keys_.end() ? key->second : KeyPair::from_name(creator);
    EventBody b;
    b.creator = kp.public_key();
    for (auto& t : txs) b.transactions.push_back(to_bytes(t));
    if (!self_parent.empty()) {
      b.self_parent = events_.at(self_parent).hash();
      b.index = events_.at(self_parent).index() + 1;
    }
    if (!other_parent.empty()) b.other_parent = events_.at(other_parent).hash();
    if (index) b.index = *index;
    b.timestamp = static_cast<std::int64_t>(events_.size());
    (void)name;
    return Event::create(std::move(b), kp);
  }

  // Builds, inserts (REQUIRE success) and names an event.
  const Event& add(const std::string& name, const std::string& creator, const std::string& self_parent = "",
                   const std::string& other_parent = "", std::vector<std::string> txs = {}) {
    Event e = make(name, creator, self_parent, other_parent, std::move(txs));
    InsertResult r = graph_->insert(e);
    INFO("inserting " << name << ": " << r.detail);
    REQUIRE(r.ok());
    names_.emplace(e.hash(), name);
    return events_.emplace(name, std::move(e)).first->second;
  }

  Hashgraph& graph() { return *graph_; }
  InmemStore& store() { return store_; }
  const Event& event(const std::string& name) const { return events_.at(name); }
  const Hash& hash(const std::string& name) const { return events_.at(name).hash(); }
  EventInfo info(const std::string& name) const { return *graph_->info(hash(name)); }
  std::string name_of(const Hash& h) const { return names_.at(h); }
  std::vector<std::string> names_of(const std::vector<Hash>& hs) const {
    std::vector<std::string> out;
    for (const auto& h : hs) out.push_back(name_of(h));
    return out;
  }

 private:
  InmemStore store_;
  std::unique_ptr<Hashgraph> graph_;
  std::map<std::string, KeyPair> keys_;
  std::map<std::string, Event> events_;
  std::map<Hash, std::string> names_;
};

}  // namespace chatter::testing
