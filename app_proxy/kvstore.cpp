#include "app_proxy/kvstore.h"

#include <utility>

#include "engine/codec.h"
#include "engine/crypto.h"

namespace chatter {

// Why a sum mod 2^256 and not XOR for the accumulator: both are order-independent and invertible
// (so an entry can be removed or replaced in O(1)), and keys are unique so XOR's self-cancellation
// of equal entries would not bite. But XOR is linear over GF(2): from about 256 entries a client
// chooses (its own SET transactions), Gaussian elimination finds a subset whose digests XOR to any
// target in polynomial time, i.e. two different maps with the same state hash. Addition modulo
// 2^256 has no such linear shortcut (this is the MSet-Add-Hash construction of Clarke et al.);
// the best known attacks are generalised-birthday searches, far beyond practical for 256 bits at
// the entry counts a replicated store reaches. The count in the final hash separates maps whose
// digests happen to sum equally but differ in size.

namespace {

constexpr std::string_view kSet = "SET ";
constexpr std::string_view kDel = "DEL ";

// acc += d (mod 2^256), both little-endian.
void acc_add(KvStore::Acc& acc, const Hash& d) {
  unsigned carry = 0;
  for (std::size_t i = 0; i < acc.data.size(); ++i) {
    const unsigned s = static_cast<unsigned>(acc.data[i]) + d.data[i] + carry;
    acc.data[i] = static_cast<std::uint8_t>(s & 0xff);
    carry = s >> 8;
  }
}

// acc -= d (mod 2^256), both little-endian.
void acc_sub(KvStore::Acc& acc, const Hash& d) {
  int borrow = 0;
  for (std::size_t i = 0; i < acc.data.size(); ++i) {
    int s = static_cast<int>(acc.data[i]) - d.data[i] - borrow;
    borrow = s < 0 ? 1 : 0;
    if (s < 0) s += 256;
    acc.data[i] = static_cast<std::uint8_t>(s);
  }
}

Bytes hash_of(std::size_t count, const KvStore::Acc& acc) {
  Writer w;
  w.u64(count);
  w.fixed(acc);
  const Hash h = blake2b(w.data());
  return Bytes(h.begin(), h.end());
}

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

bool valid_key(std::string_view k) {
  return !k.empty() && k.find(' ') == std::string_view::npos && !has_line_break(k);
}

struct Op {
  bool set = false;
  std::string_view key;
  std::string_view value;
};

// Parses one transaction (grammar in kvstore.h); nullopt when malformed.
std::optional<Op> parse(std::string_view tx) {
  if (tx.ends_with("\r\n"))
    tx.remove_suffix(2);
  else if (tx.ends_with('\n'))
    tx.remove_suffix(1);
  if (has_line_break(tx)) return std::nullopt;
  if (tx.starts_with(kSet)) {
    const std::string_view rest = tx.substr(kSet.size());
    const auto space = rest.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    Op op{true, rest.substr(0, space), rest.substr(space + 1)};
    if (op.key.empty()) return std::nullopt;
    return op;
  }
  if (tx.starts_with(kDel)) {
    Op op{false, tx.substr(kDel.size()), {}};
    if (!valid_key(op.key)) return std::nullopt;
    return op;
  }
  return std::nullopt;
}

std::string_view as_text(const Bytes& b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace

KvStore::KvStore() = default;

Hash KvStore::entry_digest(std::string_view key, std::string_view value) {
  Writer w;
  w.reserve(8 + key.size() + value.size());
  w.str(key);
  w.str(value);
  return blake2b(w.data());
}

Bytes KvStore::compute_state_hash(const Map& map) {
  Acc acc;
  for (const auto& [k, v] : map) acc_add(acc, entry_digest(k, v));
  return hash_of(map.size(), acc);
}

Bytes KvStore::encode_snapshot(const Map& map) {
  Writer w;
  w.u32(static_cast<std::uint32_t>(map.size()));
  for (const auto& [k, v] : map) {
    w.str(k);
    w.str(v);
  }
  return w.take();
}

void KvStore::put_locked(const std::string& key, std::string value) {
  auto it = map_.find(key);
  if (it != map_.end()) {
    acc_sub(acc_, entry_digest(it->first, it->second));
    it->second = std::move(value);
  } else {
    it = map_.emplace(key, std::move(value)).first;
  }
  acc_add(acc_, entry_digest(it->first, it->second));
}

void KvStore::erase_locked(const std::string& key) {
  auto it = map_.find(key);
  if (it == map_.end()) return;
  acc_sub(acc_, entry_digest(it->first, it->second));
  map_.erase(it);
}

bool KvStore::apply_locked(std::string_view transaction) {
  const auto op = parse(transaction);
  if (!op) {
    ++ignored_;
    return false;
  }
  if (op->set)
    put_locked(std::string(op->key), std::string(op->value));
  else
    erase_locked(std::string(op->key));
  ++committed_;
  return true;
}

bool KvStore::apply(std::string_view transaction) {
  std::lock_guard lock(mu_);
  return apply_locked(transaction);
}

Bytes KvStore::state_hash_locked() const { return hash_of(map_.size(), acc_); }

CommitResponse KvStore::commit_block(const Block& block) {
  std::lock_guard lock(mu_);
  if (last_block_index_ && block.index() != *last_block_index_ + 1)
    throw AppError("kvstore: block " + std::to_string(block.index()) + " out of order: expected block " +
                   std::to_string(*last_block_index_ + 1));
  for (const Bytes& tx : block.body().transactions) apply_locked(as_text(tx));
  CommitResponse res;
  res.receipts.reserve(block.body().internal_transactions.size());
  for (const auto& itx : block.body().internal_transactions) res.receipts.push_back({itx, true});
  last_block_index_ = block.index();
  res.state_hash = state_hash_locked();
  return res;
}

Bytes KvStore::get_snapshot(std::uint64_t block_index) {
  std::lock_guard lock(mu_);
  if (!last_block_index_ || *last_block_index_ != block_index)
    throw AppError("snapshot for block " + std::to_string(block_index) + " not available");
  return encode_snapshot(map_);
}

Bytes KvStore::restore(const Bytes& snapshot) {
  // Decode and validate into a fresh map first: a refused snapshot leaves the state untouched.
  Map fresh;
  try {
    Reader r(snapshot);
    const std::uint32_t n = r.count(8);  // each entry is at least two u32 lengths
    for (std::uint32_t i = 0; i < n; ++i) {
      std::string key = r.str();
      std::string value = r.str();
      if (!valid_key(key)) throw DecodeError("entry " + std::to_string(i) + ": invalid key");
      if (has_line_break(value)) throw DecodeError("entry " + std::to_string(i) + ": line break in value");
      if (!fresh.empty() && !(fresh.rbegin()->first < key))
        throw DecodeError("entry " + std::to_string(i) + ": keys not in strictly increasing order");
      fresh.emplace_hint(fresh.end(), std::move(key), std::move(value));
    }
    r.expect_done();
  } catch (const DecodeError& e) {
    throw AppError(std::string("kvstore: malformed snapshot: ") + e.what());
  }
  Acc acc;
  for (const auto& [k, v] : fresh) acc_add(acc, entry_digest(k, v));

  std::lock_guard lock(mu_);
  map_ = std::move(fresh);
  acc_ = acc;
  last_block_index_.reset();
  return state_hash_locked();
}

void KvStore::on_state_changed(NodeState state) {
  std::lock_guard lock(mu_);
  node_state_ = state;
}

std::optional<std::string> KvStore::get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

std::size_t KvStore::size() const {
  std::lock_guard lock(mu_);
  return map_.size();
}

KvStore::Map KvStore::entries() const {
  std::lock_guard lock(mu_);
  return map_;
}

Bytes KvStore::state_hash() const {
  std::lock_guard lock(mu_);
  return state_hash_locked();
}

std::optional<std::uint64_t> KvStore::last_block_index() const {
  std::lock_guard lock(mu_);
  return last_block_index_;
}

std::uint64_t KvStore::committed_transactions() const {
  std::lock_guard lock(mu_);
  return committed_;
}

std::uint64_t KvStore::ignored() const {
  std::lock_guard lock(mu_);
  return ignored_;
}

NodeState KvStore::node_state() const {
  std::lock_guard lock(mu_);
  return node_state_;
}

}  // namespace chatter
