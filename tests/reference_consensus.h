// A reference model of spec/consensus.md for tests: each rule transcribed literally, with naive
// algorithms (ancestor sets, full recomputation, the spec's loop order), so that the optimised
// engine can be compared against it on many graphs. Batch mode only: all events are known.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "engine/hashgraph.h"

namespace chatter::testing {

struct ReferenceResult {
  std::vector<std::int64_t> round, lamport;
  std::vector<bool> witness;
  std::vector<std::optional<bool>> famous;
  std::vector<std::optional<std::int64_t>> round_received;
  std::set<std::int64_t> decided;
  std::int64_t last_round = -1;
  std::vector<std::size_t> order;  // consensus order (positions in the input)
  std::vector<std::pair<std::int64_t, std::vector<Bytes>>> blocks;  // (round received, txs)
  std::size_t coin_votes = 0;  // votes taken from the coin (t below supermajority in a coin round)
};

inline ReferenceResult reference_consensus(const std::vector<EventPtr>& evs, const PeerSchedule& sched,
                                           CoinMode coin_mode) {
  const std::size_t E = evs.size();
  std::map<Hash, std::size_t> pos;
  for (std::size_t i = 0; i < E; ++i) pos[evs[i]->hash()] = i;
  std::vector<std::optional<std::size_t>> spar(E), opar(E);
  for (std::size_t i = 0; i < E; ++i) {
    if (evs[i]->self_parent()) spar[i] = pos.at(*evs[i]->self_parent());
    if (evs[i]->other_parent()) opar[i] = pos.at(*evs[i]->other_parent());
  }
  // anc[x][y]: y is an ancestor of x (an event is its own ancestor).
  std::vector<std::vector<bool>> anc(E, std::vector<bool>(E, false));
  for (std::size_t x = 0; x < E; ++x) {
    anc[x][x] = true;
    for (auto p : {spar[x], opar[x]})
      if (p)
        for (std::size_t y = 0; y < E; ++y)
          if (anc[*p][y]) anc[x][y] = true;
  }
  auto ancestor = [&](std::size_t x, std::size_t y) { return bool(anc[x][y]); };
  auto creator = [&](std::size_t x) { return evs[x]->creator(); };
  auto index = [&](std::size_t x) { return static_cast<std::int64_t>(evs[x]->index()); };
  // lastAncestors(x)[p] / firstDescendants(y)[p], straight from the definitions (tabulated once).
  std::map<PublicKey, std::size_t> cidx;
  for (std::size_t z = 0; z < E; ++z) cidx.emplace(creator(z), cidx.size());
  const std::size_t NC = cidx.size();
  std::vector<std::vector<std::optional<std::int64_t>>> la_tab(E, std::vector<std::optional<std::int64_t>>(NC));
  std::vector<std::vector<std::optional<std::int64_t>>> fd_tab(E, std::vector<std::optional<std::int64_t>>(NC));
  for (std::size_t x = 0; x < E; ++x)
    for (std::size_t z = 0; z < E; ++z)
      if (anc[x][z]) {
        auto& l = la_tab[x][cidx[creator(z)]];
        if (!l || index(z) > *l) l = index(z);
        auto& f = fd_tab[z][cidx[creator(x)]];
        if (!f || index(x) < *f) f = index(x);
      }
  auto strongly_see = [&](std::size_t x, std::size_t y, const PeerSet& ps) {
    std::int64_t c = 0;
    for (const auto& peer : ps.peers()) {
      auto it = cidx.find(peer.pub_key);
      if (it == cidx.end()) continue;  // a member with no events: neither value is defined
      const auto& l = la_tab[x][it->second];
      const auto& f = fd_tab[y][it->second];
      if (l && f && *l >= *f) ++c;
    }
    return c >= super_majority(ps.size());
  };

  ReferenceResult R;
  R.round.assign(E, 0);
  R.lamport.assign(E, 0);
  R.witness.assign(E, false);
  R.famous.assign(E, std::nullopt);
  R.round_received.assign(E, std::nullopt);
  std::map<std::int64_t, std::vector<std::size_t>> witnesses;  // input order
  for (std::size_t x = 0; x < E; ++x) {
    if (!spar[x] && !opar[x]) {
      R.round[x] = 0;
      R.lamport[x] = 0;
    } else {
      std::int64_t pr = -1, lam = -1;
      for (auto p : {spar[x], opar[x]})
        if (p) {
          pr = std::max(pr, R.round[*p]);
          lam = std::max(lam, R.lamport[*p]);
        }
      const PeerSet& ps = sched.at(pr);
      std::int64_t seen = 0;
      for (std::size_t w : witnesses[pr])
        if (strongly_see(x, w, ps)) ++seen;
      R.round[x] = seen >= super_majority(ps.size()) ? pr + 1 : pr;
      R.lamport[x] = lam + 1;
    }
    const std::int64_t sp_round = spar[x] ? R.round[*spar[x]] : -1;
    R.witness[x] = sched.at(R.round[x]).contains(creator(x)) && R.round[x] > sp_round;
    if (R.witness[x]) witnesses[R.round[x]].push_back(x);
    R.last_round = std::max(R.last_round, R.round[x]);
  }

  // Fame, in the spec's loop order.
  std::map<std::pair<std::size_t, std::size_t>, bool> vote;  // (y, x)
  for (std::int64_t r = 0; r <= R.last_round; ++r) {
    for (std::size_t x : witnesses[r]) {
      bool done = false;
      for (std::int64_t j = r + 1; j <= R.last_round && !done; ++j) {
        for (std::size_t y : witnesses[j]) {
          const std::int64_t d = j - r;
          if (d == 1) {
            vote[{y, x}] = ancestor(y, x);
            continue;
          }
          std::int64_t yays = 0, nays = 0;
          for (std::size_t w : witnesses[j - 1])
            if (strongly_see(y, w, sched.at(j - 1))) (vote.at({w, x}) ? yays : nays)++;
          const bool v = yays >= nays;
          const std::int64_t t = v ? yays : nays;
          const std::int64_t sm = super_majority(sched.at(j).size());
          if (d % 4 != 0) {
            if (t >= sm) {
              R.famous[x] = v;
              done = true;
              break;
            }
            vote[{y, x}] = v;
          } else if (t >= sm) {
            vote[{y, x}] = v;
          } else {
            ++R.coin_votes;
            vote[{y, x}] = coin_mode == CoinMode::kTrue    ? true
                           : coin_mode == CoinMode::kFalse ? false
                                                           : signature_middle_bit(evs[y]->signature());
          }
        }
      }
    }
    std::int64_t decided = 0;
    bool all = true;
    for (std::size_t x : witnesses[r]) R.famous[x] ? ++decided : (all = false, 0);
    if (all && decided >= super_majority(sched.at(r).size())) R.decided.insert(r);
  }

  // Round received.
  for (std::size_t x = 0; x < E; ++x) {
    for (std::int64_t i = R.round[x] + 1; i <= R.last_round; ++i) {
      if (!R.decided.count(i)) break;
      std::vector<std::size_t> F;
      for (std::size_t w : witnesses[i])
        if (R.famous[w] == true) F.push_back(w);
      bool all = std::all_of(F.begin(), F.end(), [&](std::size_t f) { return ancestor(f, x); });
      if (all && static_cast<std::int64_t>(F.size()) >= super_majority(sched.at(i).size())) {
        R.round_received[x] = i;
        break;
      }
    }
  }

  // Processing decided rounds in order.
  for (std::int64_t r = 0; r <= R.last_round && R.decided.count(r); ++r) {
    std::vector<std::size_t> got;
    for (std::size_t x = 0; x < E; ++x)
      if (R.round_received[x] == r) got.push_back(x);
    std::sort(got.begin(), got.end(), [&](std::size_t a, std::size_t b) {
      if (R.lamport[a] != R.lamport[b]) return R.lamport[a] < R.lamport[b];
      return evs[a]->hash() < evs[b]->hash();
    });
    std::vector<Bytes> txs;
    for (std::size_t x : got) {
      R.order.push_back(x);
      for (const auto& t : evs[x]->body().transactions) txs.push_back(t);
    }
    if (!txs.empty()) R.blocks.emplace_back(r, std::move(txs));
  }
  return R;
}

}  // namespace chatter::testing
