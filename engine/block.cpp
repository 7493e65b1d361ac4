#include "engine/block.h"

#include <algorithm>
#include <string>

#include "engine/crypto.h"

namespace chatter {

namespace {

// Smallest encodings, used with Reader::count (codec.h).
constexpr std::size_t kMinBytesSize = 4;
constexpr std::size_t kMinInternalTxSize = 1 + (32 + 4 + 4) + 64;
constexpr std::size_t kMinReceiptSize = kMinInternalTxSize + 1;
constexpr std::size_t kBlockSigEntrySize = 32 + 64;

}  // namespace

void InternalTransactionReceipt::encode(Writer& w) const {
  transaction.encode(w);
  w.boolean(accepted);
}

InternalTransactionReceipt InternalTransactionReceipt::decode(Reader& r) {
  InternalTransactionReceipt rc;
  rc.transaction = InternalTransaction::decode(r);
  rc.accepted = r.boolean();
  return rc;
}

void BlockBody::encode(Writer& w) const {
  w.u64(index);
  w.i64(round_received);
  w.i64(timestamp);
  w.bytes(state_hash);
  w.fixed(frame_hash);
  w.fixed(peers_hash);
  w.fixed(prev_block_hash);
  w.fixed(snapshot_hash);
  w.u32(static_cast<std::uint32_t>(transactions.size()));
  for (const auto& t : transactions) w.bytes(t);
  w.u32(static_cast<std::uint32_t>(internal_transactions.size()));
  for (const auto& t : internal_transactions) t.encode(w);
  w.u32(static_cast<std::uint32_t>(internal_transaction_receipts.size()));
  for (const auto& rc : internal_transaction_receipts) rc.encode(w);
}

BlockBody BlockBody::decode(Reader& r) {
  BlockBody b;
  b.index = r.u64();
  b.round_received = r.i64();
  b.timestamp = r.i64();
  b.state_hash = r.bytes();
  b.frame_hash = r.fixed<32>();
  b.peers_hash = r.fixed<32>();
  b.prev_block_hash = r.fixed<32>();
  b.snapshot_hash = r.fixed<32>();
  const std::uint32_t n = r.count(kMinBytesSize);
  b.transactions.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) b.transactions.push_back(r.bytes());
  b.internal_transactions = decode_seq<InternalTransaction>(r, kMinInternalTxSize);
  b.internal_transaction_receipts = decode_seq<InternalTransactionReceipt>(r, kMinReceiptSize);
  return b;
}

Hash Block::hash() const {
  Writer w;
  body_.encode(w);
  return blake2b(w.data());
}

void Block::mark_verified(const Hash& h, const PublicKey& key) const {
  if (h != verified_for_) {
    verified_for_ = h;
    verified_.clear();
  }
  verified_.insert(key);
}

BlockSignature Block::sign(const KeyPair& kp) {
  const Hash h = hash();
  BlockSignature s{kp.public_key(), index(), kp.sign(h)};
  signatures_.insert_or_assign(s.validator, s.signature);
  mark_verified(h, s.validator);
  return s;
}

bool Block::add_signature(const BlockSignature& sig) {
  if (sig.index != index()) return false;
  const Hash h = hash();
  if (!verify(sig.validator, h, sig.signature)) return false;
  signatures_.insert_or_assign(sig.validator, sig.signature);
  mark_verified(h, sig.validator);
  return true;
}

std::int64_t Block::valid_signatures(const PeerSet& set) const {
  // Re-verify rather than trust what was recorded: the body may have been changed (mutable_body)
  // since, or the signatures may come straight from decode, which does not verify.
  // Each verification is remembered against the body hash it was made for (verified_).
  const Hash h = hash();
  if (h != verified_for_) {
    verified_for_ = h;
    verified_.clear();
  }
  std::int64_t n = 0;
  for (const auto& [key, sig] : signatures_) {
    if (!set.contains(key)) continue;
    if (verified_.count(key)) {
      ++n;
    } else if (verify(key, h, sig)) {
      verified_.insert(key);
      ++n;
    }
  }
  return n;
}

void Block::encode(Writer& w) const {
  body_.encode(w);
  w.u32(static_cast<std::uint32_t>(signatures_.size()));
  for (const auto& [key, sig] : signatures_) {
    w.fixed(key);
    w.fixed(sig);
  }
}

Block Block::decode(Reader& r) {
  Block b(BlockBody::decode(r));
  const std::uint32_t n = r.count(kBlockSigEntrySize);
  for (std::uint32_t i = 0; i < n; ++i) {
    const PublicKey key = r.fixed<32>();
    const Signature sig = r.fixed<64>();
    // Key order is the canonical order; refusing anything else also refuses duplicate keys.
    if (!b.signatures_.empty() && !(b.signatures_.rbegin()->first < key))
      throw DecodeError("Block: signatures not strictly ordered by validator key");
    b.signatures_.emplace_hint(b.signatures_.end(), key, sig);
  }
  return b;
}

namespace {
std::string short_hex(const Bytes& b) { return to_hex(b).substr(0, 16); }
std::string short_hex(const Hash& h) { return to_hex(h).substr(0, 16); }
}  // namespace

std::vector<std::string> block_body_differences(const BlockBody& x, const BlockBody& y) {
  std::vector<std::string> out;
  auto num = [&](const char* name, std::int64_t a, std::int64_t b) {
    if (a != b) out.push_back(std::string(name) + " (" + std::to_string(a) + " vs " + std::to_string(b) + ")");
  };
  auto hex = [&](const char* name, const std::string& a, const std::string& b) {
    if (a != b) out.push_back(std::string(name) + " (" + a + " vs " + b + ")");
  };
  num("index", static_cast<std::int64_t>(x.index), static_cast<std::int64_t>(y.index));
  num("round_received", x.round_received, y.round_received);
  num("timestamp", x.timestamp, y.timestamp);
  hex("state_hash", short_hex(x.state_hash), short_hex(y.state_hash));
  hex("frame_hash", short_hex(x.frame_hash), short_hex(y.frame_hash));
  hex("peers_hash", short_hex(x.peers_hash), short_hex(y.peers_hash));
  hex("prev_block_hash", short_hex(x.prev_block_hash), short_hex(y.prev_block_hash));
  hex("snapshot_hash", short_hex(x.snapshot_hash), short_hex(y.snapshot_hash));
  if (x.transactions != y.transactions) {
    std::size_t first = 0;
    while (first < std::min(x.transactions.size(), y.transactions.size()) && x.transactions[first] == y.transactions[first])
      ++first;
    out.push_back("transactions (" + std::to_string(x.transactions.size()) + " vs " + std::to_string(y.transactions.size()) +
                  ", first difference at " + std::to_string(first) + ")");
  }
  if (x.internal_transactions != y.internal_transactions)
    out.push_back("internal_transactions (" + std::to_string(x.internal_transactions.size()) + " vs " +
                  std::to_string(y.internal_transactions.size()) + ")");
  if (x.internal_transaction_receipts != y.internal_transaction_receipts)
    out.push_back("receipts (" + std::to_string(x.internal_transaction_receipts.size()) + " vs " +
                  std::to_string(y.internal_transaction_receipts.size()) + ")");
  return out;
}

bool has_accepted_receipt(const BlockBody& block) {
  for (const auto& rc : block.internal_transaction_receipts)
    if (rc.accepted) return true;
  return false;
}

bool apply_peer_changes(PeerSchedule& schedule, const BlockBody& block) {
  if (schedule.empty() || block.round_received < 0) return false;
  const std::int64_t at = block.round_received + PeerSchedule::kEffectDelay;
  const PeerSet& base = schedule.at(at);
  std::vector<Peer> peers = base.peers();
  bool changed = false;
  for (const auto& rc : block.internal_transaction_receipts) {
    if (!rc.accepted) continue;
    const InternalTransaction& tx = rc.transaction;
    if (std::find(block.internal_transactions.begin(), block.internal_transactions.end(), tx) ==
        block.internal_transactions.end())
      continue;  // a receipt for a transaction the block does not hold
    if (!tx.verify()) continue;
    auto it = std::find_if(peers.begin(), peers.end(), [&](const Peer& p) { return p.pub_key == tx.peer.pub_key; });
    if (tx.type == InternalTransactionType::kPeerAdd) {
      if (it != peers.end()) continue;
      const std::uint32_t id = tx.peer.id();
      if (std::any_of(peers.begin(), peers.end(), [&](const Peer& p) { return p.id() == id; })) continue;
      peers.push_back(tx.peer);
      changed = true;
    } else if (tx.type == InternalTransactionType::kPeerRemove) {
      if (it == peers.end() || peers.size() <= 1) continue;
      peers.erase(it);
      changed = true;
    }
  }
  if (!changed) return false;
  PeerSet next(std::move(peers));
  if (next == base) return false;
  schedule.add(at, std::move(next));
  return true;
}

}  // namespace chatter
