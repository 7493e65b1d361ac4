#include "bank.h"

#include <charconv>
#include <vector>

#include "engine/codec.h"
#include "engine/crypto.h"

namespace bank {
namespace {

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t j = s.find(' ', i);
    out.push_back(s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return out;
}

}  // namespace

Bank::Bank() {
  for (const char* name : kGenesis) balances_[name] = kOpeningBalance;
}

bool Bank::apply_locked(std::string_view tx) {
  const auto w = words(tx);
  std::uint64_t amount = 0;
  const bool well_formed =
      w.size() == 4 && w[0] == "TRANSFER" && w[1] != w[2] &&
      std::from_chars(w[3].data(), w[3].data() + w[3].size(), amount).ptr == w[3].data() + w[3].size() &&
      amount > 0;
  if (!well_formed) return (++rejected_, false);
  const auto from = balances_.find(std::string(w[1]));
  const auto to = balances_.find(std::string(w[2]));
  if (from == balances_.end() || to == balances_.end() || from->second < amount) return (++rejected_, false);
  from->second -= amount;
  to->second += amount;
  ++applied_;
  return true;
}

bool Bank::apply(std::string_view tx) {
  std::lock_guard lock(mu_);
  return apply_locked(tx);
}

chatter::CommitResponse Bank::commit_block(const chatter::Block& block) {
  std::lock_guard lock(mu_);
  for (const auto& tx : block.body().transactions)
    apply_locked(std::string_view(reinterpret_cast<const char*>(tx.data()), tx.size()));
  last_block_ = static_cast<std::int64_t>(block.index());
  chatter::CommitResponse r;
  const chatter::Hash h = chatter::blake2b(encode_locked());
  r.state_hash.assign(h.begin(), h.end());
  // This app does not vote on membership: it accepts every peer-set change the validators agreed on.
  for (const auto& itx : block.body().internal_transactions) r.receipts.push_back({itx, true});
  return r;
}

chatter::Bytes Bank::encode_locked() const {
  chatter::Writer w;
  w.u32(static_cast<std::uint32_t>(balances_.size()));
  for (const auto& [name, balance] : balances_) {
    w.str(name);
    w.u64(balance);
  }
  w.u64(applied_);
  w.u64(rejected_);
  return w.take();
}

chatter::Bytes Bank::get_snapshot(std::uint64_t) {
  // The engine asks right after committing the block (engine/node.h, "Snapshots"): the current state.
  std::lock_guard lock(mu_);
  return encode_locked();
}

chatter::Bytes Bank::restore(const chatter::Bytes& snapshot) {
  Balances balances;
  std::uint64_t applied = 0, rejected = 0;
  try {
    chatter::Reader r(snapshot);
    const std::uint32_t n = r.count(12);  // each entry holds at least a u32 length and a u64
    for (std::uint32_t i = 0; i < n; ++i) {
      std::string name = r.str();
      const std::uint64_t balance = r.u64();
      if (name.empty() || (!balances.empty() && balances.rbegin()->first >= name))
        throw chatter::DecodeError("accounts out of order");
      balances.emplace_hint(balances.end(), std::move(name), balance);
    }
    applied = r.u64();
    rejected = r.u64();
    r.expect_done();
  } catch (const chatter::DecodeError& e) {
    throw chatter::AppError(std::string("bank: bad snapshot: ") + e.what());
  }
  std::lock_guard lock(mu_);
  balances_ = std::move(balances);
  applied_ = applied;
  rejected_ = rejected;
  const chatter::Hash h = chatter::blake2b(encode_locked());
  return chatter::Bytes(h.begin(), h.end());
}

void Bank::on_state_changed(chatter::NodeState) {}

Bank::Balances Bank::balances() const {
  std::lock_guard lock(mu_);
  return balances_;
}

std::uint64_t Bank::total() const {
  std::lock_guard lock(mu_);
  std::uint64_t t = 0;
  for (const auto& [name, balance] : balances_) t += balance;
  return t;
}

std::uint64_t Bank::applied() const {
  std::lock_guard lock(mu_);
  return applied_;
}

std::uint64_t Bank::rejected() const {
  std::lock_guard lock(mu_);
  return rejected_;
}

chatter::Bytes Bank::state_hash() const {
  std::lock_guard lock(mu_);
  const chatter::Hash h = chatter::blake2b(encode_locked());
  return chatter::Bytes(h.begin(), h.end());
}

std::int64_t Bank::last_block() const {
  std::lock_guard lock(mu_);
  return last_block_;
}

}  // namespace bank
