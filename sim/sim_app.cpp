#include "sim/sim_app.h"

#include "engine/crypto.h"

namespace chatter {

CommitResponse SimApp::commit_block(const Block& block) {
  const std::uint64_t expected = last_index_ ? *last_index_ + 1 : 0;
  if (violation_.empty() && block.index() != expected)
    violation_ = "the engine committed block " + std::to_string(block.index()) + " when block " +
                 std::to_string(expected) + " was next";

  Bytes buf;
  std::size_t total = state_hash_.size();
  for (const Bytes& tx : block.body().transactions) total += tx.size();
  buf.reserve(total);
  buf.insert(buf.end(), state_hash_.begin(), state_hash_.end());
  for (const Bytes& tx : block.body().transactions) buf.insert(buf.end(), tx.begin(), tx.end());
  const Hash h = blake2b(buf);
  state_hash_.assign(h.begin(), h.end());

  last_index_ = block.index();
  committed_transactions_ += block.body().transactions.size();

  CommitResponse res;
  res.state_hash = state_hash_;
  res.receipts.reserve(block.body().internal_transactions.size());
  for (const InternalTransaction& itx : block.body().internal_transactions)
    res.receipts.push_back(InternalTransactionReceipt{itx, true});
  return res;
}

Bytes SimApp::get_snapshot(std::uint64_t) { throw AppError("not supported"); }

Bytes SimApp::restore(const Bytes&) { throw AppError("not supported"); }

}  // namespace chatter
