// Blocks (spec/consensus.md, "Blocks"): the unit the application commits, signed by validators.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "engine/event.h"
#include "engine/peer.h"

namespace chatter {

struct InternalTransactionReceipt {
  InternalTransaction transaction;
  bool accepted = false;

  void encode(Writer& w) const;
  static InternalTransactionReceipt decode(Reader& r);
  friend bool operator==(const InternalTransactionReceipt&, const InternalTransactionReceipt&) = default;
};

struct BlockBody {
  std::uint64_t index = 0;
  std::int64_t round_received = 0;
  std::int64_t timestamp = 0;  // the Frame's timestamp
  Bytes state_hash;            // application state hash after this block; filled at commit
  Hash frame_hash;
  Hash peers_hash;             // PS(round_received).hash()
  Hash prev_block_hash;        // hash of block index-1 (all zero for block 0); filled at commit
  // BLAKE2b-256 of the application snapshot taken right after this block, binding the snapshot to
  // the chain for fast-forward (all zero when no snapshot was taken at this block); filled at commit.
  Hash snapshot_hash;
  std::vector<Bytes> transactions;
  std::vector<InternalTransaction> internal_transactions;
  std::vector<InternalTransactionReceipt> internal_transaction_receipts;  // filled at commit

  // Canonical: u64 index, i64 round_received, i64 timestamp, bytes state_hash, frame_hash,
  // peers_hash, prev_block_hash, snapshot_hash, u32 n + bytes (txs), u32 n + itx, u32 n + receipts.
  void encode(Writer& w) const;
  static BlockBody decode(Reader& r);
  friend bool operator==(const BlockBody&, const BlockBody&) = default;
};

class Block {
 public:
  Block() = default;
  explicit Block(BlockBody body) : body_(std::move(body)) {}

  const BlockBody& body() const { return body_; }
  BlockBody& mutable_body() { return body_; }  // callers must not change a signed block
  std::uint64_t index() const { return body_.index; }
  // BLAKE2b-256 of the canonical body.
  Hash hash() const;

  // Signs the current body hash with kp and records the signature.
  BlockSignature sign(const KeyPair& kp);
  // Records a signature if it is valid for this block (right index, verifies against hash()).
  // Returns false (and records nothing) otherwise.
  bool add_signature(const BlockSignature& sig);
  const std::map<PublicKey, Signature>& signatures() const { return signatures_; }
  // Number of distinct members of `set` whose recorded signature verifies.
  std::int64_t valid_signatures(const PeerSet& set) const;
  // Valid for P: more than TrustCount(|P|) distinct members of P signed it (spec, "Blocks").
  bool valid_for(const PeerSet& set) const { return valid_signatures(set) > set.trust_count(); }

  // Canonical: body, u32 n + (32-byte key, 64-byte signature) in key order.
  void encode(Writer& w) const;
  static Block decode(Reader& r);
  friend bool operator==(const Block& a, const Block& b) {
    return a.body_ == b.body_ && a.signatures_ == b.signatures_;
  }

 private:
  void mark_verified(const Hash& h, const PublicKey& key) const;

  BlockBody body_;
  std::map<PublicKey, Signature> signatures_;
  // The signatures already known to verify against verified_for_ (the body hash when they were
  // checked), so that counting valid signatures, which the node does for every signature it
  // receives, does not run Ed25519 again for each recorded one. A changed body has another hash,
  // which empties it: the cache never vouches for a body it did not check.
  mutable Hash verified_for_{};
  mutable std::set<PublicKey> verified_;
};

// The fields in which two block bodies differ, each as "name (a vs b)" with short hex values, in
// field order (empty when equal): for diagnosing a safety failure (sim checks, chatter testnet).
std::vector<std::string> block_body_differences(const BlockBody& a, const BlockBody& b);

// Peer-set changes (spec/consensus.md, "Peer sets"; issue 7). The change a committed block makes to
// the schedule: for each receipt, in order, that the application accepted and whose transaction is
// one of the block's internal transactions and verifies (signed by the peer it names), PEER_ADD
// appends the peer to the set and PEER_REMOVE removes it. No-ops: adding a member, removing a
// non-member, an add whose peer id collides with a member's, a removal that would empty the set.
// The base is the set in effect at round_received + 6 and the result takes effect there
// (PeerSchedule::kEffectDelay). Returns true when the schedule changed (then `schedule` holds the
// new entry). Deterministic and idempotent: every node applies it to the same committed block.
bool apply_peer_changes(PeerSchedule& schedule, const BlockBody& block);
// True when the block carries an accepted receipt (whether or not it changes the set).
bool has_accepted_receipt(const BlockBody& block);

}  // namespace chatter
