#include "sim/sim_app.h"

#include "engine/codec.h"
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
  if (diverge_from_ && block.index() >= *diverge_from_) buf.push_back(0x5a);
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

Bytes SimApp::get_snapshot(std::uint64_t block_index) {
  if (!last_index_ || *last_index_ != block_index)
    throw AppError("SimApp keeps only the state after its last block, not after block " +
                   std::to_string(block_index));
  Writer w;
  w.u64(block_index);
  w.raw(state_hash_.data(), state_hash_.size());
  w.u64(committed_transactions_);
  Bytes out = w.take();
  if (filler_.size() != padding_) {
    // The same filler in every snapshot, different in every 32 bytes (so the chunks of one snapshot
    // differ, and a later snapshot shares all but its first chunk with an earlier one).
    filler_.clear();
    filler_.reserve(padding_);
    for (std::uint64_t k = 0; filler_.size() < padding_; ++k) {
      Writer c;
      c.u64(k);
      const Hash h = blake2b(c.data());
      for (std::size_t j = 0; j < h.size() && filler_.size() < padding_; ++j) filler_.push_back(h.data[j]);
    }
  }
  out.insert(out.end(), filler_.begin(), filler_.end());
  return out;
}

Bytes SimApp::restore(const Bytes& snapshot) {
  try {
    Reader r(snapshot.data(), snapshot.size());
    const std::uint64_t index = r.u64();
    const auto hash = r.fixed<32>();
    const std::uint64_t committed = r.u64();
    last_index_ = index;
    state_hash_.assign(hash.begin(), hash.end());
    committed_transactions_ = committed;
    ++restores_;
    return state_hash_;
  } catch (const DecodeError& e) {
    throw AppError(std::string("SimApp cannot restore this snapshot: ") + e.what());
  }
}

}  // namespace chatter
