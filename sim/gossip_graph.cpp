#include "sim/gossip_graph.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>

namespace chatter {
namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "make_gossip_graph: %s\n", what);
  std::abort();
}

Bytes random_bytes(Rng& rng, std::size_t n) {
  Bytes out(n);
  std::size_t i = 0;
  while (i < n) {
    std::uint64_t v = rng.next();
    for (int b = 0; b < 8 && i < n; ++b, ++i) {
      out[i] = static_cast<std::uint8_t>(v & 0xff);
      v >>= 8;
    }
  }
  return out;
}

// Signs bodies[first, last) and builds the events. Each slot is written by exactly one worker.
void sign_range(std::vector<EventBody>& bodies, const std::vector<Hash>& hashes,
                const std::vector<std::uint32_t>& creator_of, const std::vector<KeyPair>& keys,
                std::vector<EventPtr>& out, std::size_t first, std::size_t last) {
  for (std::size_t k = first; k < last; ++k) {
    const Signature sig = keys[creator_of[k]].sign(hashes[k]);
    // Event(body, sig) hashes the body again (cheap next to signing) and keeps the signature.
    auto e = std::make_shared<const Event>(std::move(bodies[k]), sig);
    if (e->hash() != hashes[k]) die("event hash differs from the precomputed body hash");
    out[k] = std::move(e);
  }
}

}  // namespace

GossipGraph make_gossip_graph(const GossipGraphOptions& options) {
  if (options.participants == 0) throw std::invalid_argument("gossip graph needs at least one participant");
  crypto_init();

  const std::size_t n = options.participants;
  const std::size_t total = options.events;
  GossipGraph g;
  g.keys.reserve(n);
  std::vector<Peer> peers;
  peers.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    // Appending (rather than "p" + std::to_string(i)) avoids g++ 12's false -Wrestrict at -O3.
    std::string name = "p";
    name += std::to_string(i);
    std::string addr = "sim:";
    addr += std::to_string(i);
    g.keys.push_back(KeyPair::from_name(name));
    peers.push_back(Peer{g.keys.back().public_key(), std::move(addr), name});
  }
  g.peers = PeerSet(std::move(peers));

  // Pass 1 (sequential): bodies and their hashes. A child names its parents by hash, so hashing
  // follows creation order; it is cheap next to signing.
  Rng rng(options.seed);
  std::vector<EventBody> bodies;
  std::vector<Hash> hashes;
  std::vector<std::uint32_t> creator_of;
  bodies.reserve(total);
  hashes.reserve(total);
  creator_of.reserve(total);
  std::vector<std::size_t> last(n, 0);  // position in `bodies` of each creator's last event

  auto add = [&](std::uint32_t c, std::optional<Hash> self_parent, std::optional<Hash> other_parent,
                 std::uint64_t index) {
    EventBody b;
    b.transactions.reserve(options.txs_per_event);
    for (std::size_t t = 0; t < options.txs_per_event; ++t)
      b.transactions.push_back(random_bytes(rng, options.tx_size));
    b.self_parent = self_parent;
    b.other_parent = other_parent;
    b.creator = g.keys[c].public_key();
    b.index = index;
    b.timestamp = static_cast<std::int64_t>(bodies.size());  // the step number: position in creation order
    hashes.push_back(blake2b(b.encoded()));
    bodies.push_back(std::move(b));
    creator_of.push_back(c);
    last[c] = bodies.size() - 1;
  };

  for (std::size_t i = 0; i < n && bodies.size() < total; ++i)
    add(static_cast<std::uint32_t>(i), std::nullopt, std::nullopt, 0);
  while (bodies.size() < total) {
    const auto c = static_cast<std::uint32_t>(rng.below(n));
    std::optional<Hash> other;
    const std::size_t step = bodies.size();
    const bool quiet = n >= 3 && options.quiet_creator < n && c != options.quiet_creator &&
                       step >= options.quiet_from && step < options.quiet_to;
    if (quiet) {
      // Uniform among the creators other than c and the quiet one.
      const auto q = static_cast<std::uint32_t>(options.quiet_creator);
      auto o = static_cast<std::uint32_t>(rng.below(n - 2));
      for (std::uint32_t skip : {std::min(c, q), std::max(c, q)})
        if (o >= skip) ++o;
      other = hashes[last[o]];
    } else if (n > 1) {
      auto o = static_cast<std::uint32_t>(rng.below(n - 1));
      if (o >= c) ++o;  // skip c
      other = hashes[last[o]];
    }
    const std::size_t sp = last[c];
    add(c, hashes[sp], other, bodies[sp].index + 1);
  }

  // Pass 2: signing, optionally split across threads. Ed25519 is deterministic, so the result does
  // not depend on the number of threads.
  g.events.resize(total);
  const std::size_t threads =
      std::max<std::size_t>(1, std::min<std::size_t>(options.sign_threads, total / 256 + 1));
  if (threads == 1) {
    sign_range(bodies, hashes, creator_of, g.keys, g.events, 0, total);
  } else {
    std::vector<std::thread> workers;
    workers.reserve(threads);
    for (std::size_t t = 0; t < threads; ++t) {
      const std::size_t first = total * t / threads;
      const std::size_t end = total * (t + 1) / threads;
      workers.emplace_back(
          [&, first, end] { sign_range(bodies, hashes, creator_of, g.keys, g.events, first, end); });
    }
    for (auto& w : workers) w.join();
  }
  return g;
}

std::vector<EventPtr> shuffle_topological(const std::vector<EventPtr>& events, Rng& rng) {
  const std::size_t m = events.size();
  std::unordered_map<Hash, std::uint32_t, DigestHasher> pos;
  pos.reserve(m);
  for (std::size_t i = 0; i < m; ++i) pos.emplace(events[i]->hash(), static_cast<std::uint32_t>(i));

  // Parent edges inside `events` (a parent outside the list counts as already placed), then the
  // children of each event in compressed form: offsets into one flat array.
  std::vector<std::uint8_t> pending(m, 0);
  std::vector<std::uint32_t> child_count(m + 1, 0);
  std::vector<std::uint32_t> parent_a(m, UINT32_MAX), parent_b(m, UINT32_MAX);
  auto find = [&](const std::optional<Hash>& h) -> std::uint32_t {
    if (!h) return UINT32_MAX;
    auto it = pos.find(*h);
    return it == pos.end() ? UINT32_MAX : it->second;
  };
  for (std::size_t i = 0; i < m; ++i) {
    parent_a[i] = find(events[i]->self_parent());
    parent_b[i] = find(events[i]->other_parent());
    for (std::uint32_t p : {parent_a[i], parent_b[i]}) {
      if (p == UINT32_MAX) continue;
      ++pending[i];
      ++child_count[p + 1];
    }
  }
  std::unordered_map<Hash, std::uint32_t, DigestHasher>().swap(pos);
  for (std::size_t i = 0; i < m; ++i) child_count[i + 1] += child_count[i];
  std::vector<std::uint32_t> children(child_count[m]);
  {
    std::vector<std::uint32_t> fill(child_count.begin(), child_count.end() - 1);
    for (std::size_t i = 0; i < m; ++i)
      for (std::uint32_t p : {parent_a[i], parent_b[i]})
        if (p != UINT32_MAX) children[fill[p]++] = static_cast<std::uint32_t>(i);
  }

  std::vector<std::uint32_t> ready;
  for (std::size_t i = 0; i < m; ++i)
    if (pending[i] == 0) ready.push_back(static_cast<std::uint32_t>(i));
  std::vector<EventPtr> out;
  out.reserve(m);
  while (!ready.empty()) {
    const std::size_t k = static_cast<std::size_t>(rng.below(ready.size()));
    const std::uint32_t e = ready[k];
    ready[k] = ready.back();
    ready.pop_back();
    out.push_back(events[e]);
    for (std::uint32_t j = child_count[e]; j < child_count[e + 1]; ++j)
      if (--pending[children[j]] == 0) ready.push_back(children[j]);
  }
  if (out.size() != m) throw std::invalid_argument("shuffle_topological: the events contain a cycle");
  return out;
}

}  // namespace chatter
