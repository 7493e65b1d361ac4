#include "engine/peer.h"

#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <set>
#include <stdexcept>

#include "engine/crypto.h"

namespace chatter {

namespace {

// Smallest encodings, used to bound hostile counts before reserving (codec.h).
constexpr std::size_t kMinPeerSize = 32 + 4 + 4;  // key, empty net_addr, empty moniker
constexpr std::size_t kMinPeerSetSize = 4;        // empty set
constexpr std::size_t kMinScheduleEntrySize = 8 + kMinPeerSetSize;

}  // namespace

std::uint32_t peer_id_of(const PublicKey& k) {
  // FNV-1a 32-bit, as Babble's peer ids (hash/fnv New32a over the raw key bytes).
  std::uint32_t h = 2166136261u;
  for (auto b : k) {
    h ^= b;
    h *= 16777619u;
  }
  return h;
}

std::uint32_t Peer::id() const { return peer_id_of(pub_key); }

void Peer::encode(Writer& w) const {
  w.fixed(pub_key);
  w.str(net_addr);
  w.str(moniker);
}

Peer Peer::decode(Reader& r) {
  Peer p;
  p.pub_key = r.fixed<32>();
  p.net_addr = r.str();
  p.moniker = r.str();
  return p;
}

PeerSet::PeerSet(std::vector<Peer> peers) : peers_(std::move(peers)) {
  // Ordered containers: only membership is asked, but engine/ avoids unordered iteration by rule.
  std::set<PublicKey> keys;
  std::set<std::uint32_t> ids;
  for (const auto& p : peers_) {
    if (!keys.insert(p.pub_key).second)
      throw std::invalid_argument("PeerSet: duplicate public key " + p.pub_key_hex());
    // Events on the wire name creators by id, so two members with one id would be ambiguous.
    if (!ids.insert(p.id()).second)
      throw std::invalid_argument("PeerSet: peer id " + std::to_string(p.id()) + " of " + p.pub_key_hex() +
                                  " collides with another member's id");
  }
  Writer w;
  w.reserve(4 + 32 * peers_.size());
  w.u32(static_cast<std::uint32_t>(peers_.size()));
  for (const auto& p : peers_) w.fixed(p.pub_key);
  hash_ = blake2b(w.data());
}

bool PeerSet::contains(const PublicKey& k) const { return position(k) >= 0; }

int PeerSet::position(const PublicKey& k) const {
  for (std::size_t i = 0; i < peers_.size(); ++i)
    if (peers_[i].pub_key == k) return static_cast<int>(i);
  return -1;
}

const Peer* PeerSet::by_id(std::uint32_t id) const {
  for (const auto& p : peers_)
    if (p.id() == id) return &p;
  return nullptr;
}

void PeerSet::encode(Writer& w) const {
  w.u32(static_cast<std::uint32_t>(peers_.size()));
  for (const auto& p : peers_) p.encode(w);
}

PeerSet PeerSet::decode(Reader& r) {
  const std::uint32_t n = r.count(kMinPeerSize);
  std::vector<Peer> peers;
  peers.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) peers.push_back(Peer::decode(r));
  try {
    return PeerSet(std::move(peers));
  } catch (const std::invalid_argument& e) {
    // Decoders report every refusal as DecodeError (codec.h), whatever the cause.
    throw DecodeError(e.what());
  }
}

void PeerSchedule::add(std::int64_t round, PeerSet set) { sets_.insert_or_assign(round, std::move(set)); }

const PeerSet& PeerSchedule::at(std::int64_t round) const {
  if (sets_.empty()) {
    std::fprintf(stderr, "chatter::PeerSchedule::at: empty schedule (round %lld)\n",
                 static_cast<long long>(round));
    std::abort();
  }
  auto it = sets_.upper_bound(round);
  if (it == sets_.begin()) return it->second;  // below every key: the first set
  return std::prev(it)->second;
}

std::vector<PublicKey> PeerSchedule::all_keys() const {
  std::vector<PublicKey> out;
  std::set<PublicKey> seen;
  for (const auto& [round, set] : sets_)
    for (const auto& p : set.peers())
      if (seen.insert(p.pub_key).second) out.push_back(p.pub_key);
  return out;
}

void PeerSchedule::encode(Writer& w) const {
  w.u32(static_cast<std::uint32_t>(sets_.size()));
  for (const auto& [round, set] : sets_) {
    w.i64(round);
    set.encode(w);
  }
}

PeerSchedule PeerSchedule::decode(Reader& r) {
  const std::uint32_t n = r.count(kMinScheduleEntrySize);
  PeerSchedule s;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::int64_t round = r.i64();
    // Strictly increasing rounds make the encoding canonical (one byte string per schedule).
    if (!s.sets_.empty() && round <= s.sets_.rbegin()->first)
      throw DecodeError("PeerSchedule: rounds not strictly increasing at " + std::to_string(round));
    s.sets_.emplace_hint(s.sets_.end(), round, PeerSet::decode(r));
  }
  return s;
}

}  // namespace chatter
