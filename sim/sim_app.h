// SimApp: the deterministic application each simulated node commits blocks to (the AppProxy port,
// engine/app_proxy.h). It keeps no data, only a running hash, so that honest nodes that commit the
// same blocks report the same state hash and any divergence shows.
//
// Contract:
// - state hash after block b = BLAKE2b-256(previous state hash || every transaction of b, in order);
//   the state hash before block 0 is 32 zero bytes. Transactions are concatenated raw (no length
//   prefix): a simple, documented rule, equal on every node.
// - every internal transaction is accepted (a receipt with accepted = true, in block order).
// - commit_block checks the engine's side of the port contract (block 0 first, then each index once,
//   in order, never skipping one): a breach is recorded in contract_violation() and the block is
//   applied anyway, so that the simulator can report it as a safety failure instead of stalling.
// - get_snapshot(i) works for the last committed block i only (the engine asks right after the
//   commit): u64 index, the 32-byte state hash, u64 committed transactions, then `padding` filler
//   bytes (to give fast-forward experiments a snapshot of realistic size): the same in every
//   snapshot, BLAKE2b-256 of u64 k for k = 0, 1, ... (so chunks within a snapshot differ). restore() takes such
//   bytes back, sets the state and returns the state hash; anything else is an AppError.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/app_proxy.h"

namespace chatter {

class SimApp final : public AppProxy {
 public:
  explicit SimApp(std::size_t padding = 0) : padding_(padding) {}
  CommitResponse commit_block(const Block& block) override;
  Bytes get_snapshot(std::uint64_t block_index) override;
  Bytes restore(const Bytes& snapshot) override;
  void on_state_changed(NodeState state) override { state_ = state; }

  // State hash after the last committed block (32 zero bytes before any).
  const Bytes& state_hash() const { return state_hash_; }
  std::optional<std::uint64_t> last_block_index() const { return last_index_; }
  std::uint64_t committed_transactions() const { return committed_transactions_; }
  NodeState state() const { return state_; }
  std::uint64_t restores() const { return restores_; }  // successful restore() calls
  // Empty while the engine kept the commit contract; otherwise the first breach, one sentence.
  const std::string& contract_violation() const { return violation_; }
  // Test only (SimOptions::diverge_node): from block `from` on, the state hash also covers one salt
  // byte, so this node's blocks differ from everyone else's and the safety check must say so.
  void plant_divergence(std::uint64_t from) { diverge_from_ = from; }

 private:
  Bytes state_hash_ = Bytes(32, 0);
  std::optional<std::uint64_t> last_index_;
  std::uint64_t committed_transactions_ = 0;
  NodeState state_ = NodeState::kBabbling;
  std::size_t padding_ = 0;
  Bytes filler_;
  std::uint64_t restores_ = 0;
  std::string violation_;
  std::optional<std::uint64_t> diverge_from_;
};

}  // namespace chatter
