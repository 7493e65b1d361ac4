// Events: the vertices of the hashgraph (signed by their creator) and their compact wire form.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "engine/bytes.h"
#include "engine/codec.h"
#include "engine/crypto.h"
#include "engine/peer.h"

namespace chatter {

enum class InternalTransactionType : std::uint8_t { kPeerAdd = 0, kPeerRemove = 1 };

// A request to change the peer set, signed by the peer it names (Babble's InternalTransaction).
struct InternalTransaction {
  InternalTransactionType type = InternalTransactionType::kPeerAdd;
  Peer peer;
  Signature signature;  // by peer.pub_key over body_hash()

  // Canonical body: u8 type, Peer.
  void encode_body(Writer& w) const;
  Hash body_hash() const;
  void sign(const KeyPair& kp) { signature = kp.sign(body_hash()); }
  bool verify() const { return chatter::verify(peer.pub_key, body_hash(), signature); }

  void encode(Writer& w) const;  // body, then 64-byte signature
  static InternalTransaction decode(Reader& r);
  friend bool operator==(const InternalTransaction&, const InternalTransaction&) = default;
};

// A validator's signature of a block's hash, carried inside that validator's events.
struct BlockSignature {
  PublicKey validator;
  std::uint64_t index = 0;  // block index
  Signature signature;      // over the block hash

  void encode(Writer& w) const;  // 32-byte key, u64 index, 64-byte signature
  static BlockSignature decode(Reader& r);
  friend bool operator==(const BlockSignature&, const BlockSignature&) = default;
};

struct EventBody {
  std::vector<Bytes> transactions;
  std::vector<InternalTransaction> internal_transactions;
  std::vector<BlockSignature> block_signatures;
  std::optional<Hash> self_parent;
  std::optional<Hash> other_parent;
  PublicKey creator;
  std::uint64_t index = 0;
  std::int64_t timestamp = 0;  // creator's clock, Unix nanoseconds (informational; frames use medians)

  // Canonical: u32 n + bytes each (transactions); u32 n + InternalTransaction each; u32 n +
  // BlockSignature each; opt self-parent; opt other-parent; 32-byte creator; u64 index; i64 timestamp.
  void encode(Writer& w) const;
  static EventBody decode(Reader& r);
  Bytes encoded() const;
  friend bool operator==(const EventBody&, const EventBody&) = default;
};

// An event with its hash (BLAKE2b-256 of the canonical body, always computed locally, never taken
// from the wire) and the creator's signature over that hash.
class Event {
 public:
  Event() = default;
  // Computes the hash; the signature is taken as given (verify() checks it).
  Event(EventBody body, Signature signature);
  // Builds, hashes and signs.
  static Event create(EventBody body, const KeyPair& kp);

  const EventBody& body() const { return body_; }
  const Hash& hash() const { return hash_; }
  const Signature& signature() const { return signature_; }
  const PublicKey& creator() const { return body_.creator; }
  std::uint64_t index() const { return body_.index; }
  const std::optional<Hash>& self_parent() const { return body_.self_parent; }
  const std::optional<Hash>& other_parent() const { return body_.other_parent; }
  std::int64_t timestamp() const { return body_.timestamp; }
  bool has_payload() const {
    return !body_.transactions.empty() || !body_.internal_transactions.empty();
  }

  bool verify() const { return chatter::verify(body_.creator, hash_, signature_); }

  // Canonical full form: body, then 64-byte signature.
  void encode(Writer& w) const;
  Bytes encoded() const;
  static Event decode(Reader& r);
  static Event decode(const Bytes& b);  // whole buffer, no trailing bytes

  friend bool operator==(const Event& a, const Event& b) {
    return a.hash_ == b.hash_ && a.signature_ == b.signature_;
  }

 private:
  EventBody body_;
  Hash hash_;
  Signature signature_;
};

using EventPtr = std::shared_ptr<const Event>;

// Compact gossip form: parents named by (creator peer id, index) instead of hashes. The receiver
// rebuilds the full body from its own graph (Hashgraph::resolve_wire).
struct WireEvent {
  std::vector<Bytes> transactions;
  std::vector<InternalTransaction> internal_transactions;
  std::vector<BlockSignature> block_signatures;
  std::optional<std::uint64_t> self_parent_index;  // creator's previous index, when any
  std::optional<std::uint32_t> other_parent_creator_id;
  std::optional<std::uint64_t> other_parent_index;  // present iff other_parent_creator_id is
  std::uint32_t creator_id = 0;
  std::uint64_t index = 0;
  std::int64_t timestamp = 0;
  Signature signature;

  void encode(Writer& w) const;
  static WireEvent decode(Reader& r);
  friend bool operator==(const WireEvent&, const WireEvent&) = default;
};

}  // namespace chatter
