// Bank: a replicated ledger, the example application of the embedding facade. It implements the
// AppProxy port (chatter/engine/app_proxy.h) directly.
//
// State: accounts with unsigned 64-bit balances, starting from kGenesis (the same on every node).
// Transactions (one per submitted byte string, applied in consensus order):
//   "TRANSFER <from> <to> <amount>"   moves amount (a positive decimal integer) from one existing
//                                     account to another existing one when `from` holds at least
//                                     amount; otherwise the transfer is rejected (counted, no change).
// Anything else is rejected too. So the total of all balances never changes.
//
// Determinism: the result depends only on the transactions in block order (no clock, no randomness,
// no unordered iteration). The state hash is BLAKE2b-256 of the snapshot encoding, so a node restored
// from a snapshot reports the same hash as the node that took it.
// Snapshot: u32 count, then (string name, u64 balance) in strictly increasing name order, then
// u64 applied, u64 rejected (the canonical encoding of chatter/engine/codec.h). restore() refuses
// anything else with AppError and changes nothing.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "engine/app_proxy.h"

namespace bank {

inline constexpr std::uint64_t kOpeningBalance = 1000;
inline constexpr const char* kGenesis[] = {"alice", "bob", "carol", "dave"};

class Bank : public chatter::AppProxy {
 public:
  using Balances = std::map<std::string, std::uint64_t>;

  Bank();

  chatter::CommitResponse commit_block(const chatter::Block& block) override;
  chatter::Bytes get_snapshot(std::uint64_t block_index) override;
  chatter::Bytes restore(const chatter::Bytes& snapshot) override;
  void on_state_changed(chatter::NodeState state) override;

  // Readers, safe from any thread.
  Balances balances() const;
  std::uint64_t total() const;
  std::uint64_t applied() const;   // transfers that moved money
  std::uint64_t rejected() const;  // malformed or unfunded transactions
  chatter::Bytes state_hash() const;
  std::int64_t last_block() const;  // -1 before the first block

  // Applies one transaction; false when it was rejected.
  bool apply(std::string_view tx);

 private:
  bool apply_locked(std::string_view tx);
  chatter::Bytes encode_locked() const;

  mutable std::mutex mu_;
  Balances balances_;
  std::uint64_t applied_ = 0, rejected_ = 0;
  std::int64_t last_block_ = -1;
};

}  // namespace bank
