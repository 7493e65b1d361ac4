// Diagnosis of a safety failure in `chatter testnet`: when two nodes hold different blocks at the
// same index, which fields of the block (and of the Frame it commits to) differ, read from the two
// nodes' stores once they have stopped. Operators and tests get one line that says where to look
// (application state, consensus order, frame roots...) instead of two opaque hashes.
#pragma once

#include <cstdint>
#include <string>

namespace chatter::cmd {

// `store_a` and `store_b` are LMDB store directories (DIR/node<i>/store) of stopped nodes. Returns
// a sentence naming the differing fields of block `index` and of its Frame, or why it could not
// tell (a store that cannot be opened, a block one of them lacks). Never throws.
std::string describe_block_difference(const std::string& store_a, const std::string& store_b, std::uint64_t index);

}  // namespace chatter::cmd
