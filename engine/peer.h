// Validators and the peer-set schedule (spec/consensus.md, "Peer sets").
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/bytes.h"
#include "engine/codec.h"

namespace chatter {

// A validator as in Babble's peers.json: {"NetAddr", "PubKeyHex", "Moniker"}.
struct Peer {
  PublicKey pub_key;
  std::string net_addr;
  std::string moniker;

  // Babble's peer id: FNV-1a 32-bit of the raw public key bytes.
  std::uint32_t id() const;
  std::string pub_key_hex() const { return chatter::pubkey_hex(pub_key); }

  void encode(Writer& w) const;
  static Peer decode(Reader& r);
  friend bool operator==(const Peer&, const Peer&) = default;
};

std::uint32_t peer_id_of(const PublicKey& k);

inline std::int64_t super_majority(std::size_t n) { return static_cast<std::int64_t>(2 * n / 3 + 1); }
inline std::int64_t trust_count(std::size_t n) {
  return n <= 1 ? 0 : static_cast<std::int64_t>((n + 2) / 3);
}

// An ordered list of validators. Immutable once built.
class PeerSet {
 public:
  PeerSet() : PeerSet(std::vector<Peer>{}) {}
  // Refuses (std::invalid_argument with a clear message) duplicate keys and peer-id collisions.
  explicit PeerSet(std::vector<Peer> peers);

  const std::vector<Peer>& peers() const { return peers_; }
  std::size_t size() const { return peers_.size(); }
  bool contains(const PublicKey& k) const;
  // Position of k in the ordered list, or -1.
  int position(const PublicKey& k) const;
  const Peer* by_id(std::uint32_t id) const;
  std::int64_t super_majority() const { return chatter::super_majority(peers_.size()); }
  std::int64_t trust_count() const { return chatter::trust_count(peers_.size()); }
  // BLAKE2b-256 of the ordered public keys (u32 count, then each 32-byte key): membership identity,
  // not affected by address or moniker changes.
  const Hash& hash() const { return hash_; }

  // Canonical encoding: u32 count, then each Peer.
  void encode(Writer& w) const;
  static PeerSet decode(Reader& r);  // throws DecodeError (also on duplicates/collisions)
  friend bool operator==(const PeerSet& a, const PeerSet& b) { return a.peers_ == b.peers_; }

 private:
  std::vector<Peer> peers_;
  Hash hash_;
};

// round -> PeerSet. PS(r) is the entry with the greatest key <= r; below every key, the first entry.
class PeerSchedule {
 public:
  PeerSchedule() = default;
  explicit PeerSchedule(PeerSet genesis) { add(0, std::move(genesis)); }

  // Adds or replaces the set that takes effect at `round`.
  void add(std::int64_t round, PeerSet set);
  bool empty() const { return sets_.empty(); }
  const PeerSet& at(std::int64_t round) const;  // requires !empty()
  const std::map<std::int64_t, PeerSet>& entries() const { return sets_; }
  // Every public key in any set, in order of first appearance (by round, then position).
  std::vector<PublicKey> all_keys() const;
  // A peer-set change accepted in a block of round-received rr takes effect at rr + 6.
  static constexpr std::int64_t kEffectDelay = 6;

  void encode(Writer& w) const;  // u32 count, then (i64 round, PeerSet) in increasing round
  static PeerSchedule decode(Reader& r);
  friend bool operator==(const PeerSchedule&, const PeerSchedule&) = default;

 private:
  std::map<std::int64_t, PeerSet> sets_;
};

}  // namespace chatter
