// The JSON shapes of the socket proxy (spec/socket-proxy.md, "Shapes"), written as Babble's Go structs
// encode them, so that Babble applications decode them unchanged:
//
//   Block = {"Body": {"Index", "RoundReceived", "Timestamp", "StateHash", "FrameHash", "PeersHash",
//                     "Transactions", "InternalTransactions", "InternalTransactionReceipts",
//                     + engine extras "PrevBlockHash", "TimestampNs"},
//            "Signatures": {"0X<PUBKEY HEX>": "<SIGNATURE HEX>"}}
//
// Choices the spec leaves open, fixed here:
//  - byte strings (transactions, hashes) are base64, padded (Go's []byte);
//  - "Timestamp" is Unix seconds as Babble's (the engine's frame timestamp in nanoseconds, floored);
//    the exact value is in the extra field "TimestampNs";
//  - signature text (block signatures and InternalTransaction.Signature) is the 64-byte Ed25519
//    signature as upper-case hex without prefix (128 characters); map keys are the validator's
//    PubKeyHex ("0X" + upper-case hex), as in peers.json;
//  - lists are always arrays ([] when empty, never null); fields come in the order above.
//
// CommitResponse parsing is strict about what the engine relies on and lenient like Go elsewhere:
// "StateHash" must be a base64 string (missing, null or not base64 is an error: the engine cannot
// commit without it); "InternalTransactionReceipts" may be missing or null. Receipts are matched to
// the block's internal transactions by position: more receipts than internal transactions is an
// error, a missing receipt means "not accepted", and a receipt whose InternalTransaction (when
// present) names another Type or PubKeyHex than the block's is an error. "Accepted" must be a
// boolean when present. Unknown fields are ignored, keys match case-insensitively.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "engine/app_proxy.h"
#include "engine/block.h"

namespace chatter {

// Compact JSON text of a Block / an InternalTransaction, as above.
std::string block_to_json(const Block& block);
std::string internal_transaction_to_json(const InternalTransaction& itx);

// The CommitResponse in `result` for `block`; nullopt with `error` set (one sentence) when malformed.
std::optional<CommitResponse> parse_commit_response(const nlohmann::json& result, const Block& block,
                                                    std::string& error);

// A base64 byte string result (GetSnapshot, Restore); nullopt with `error` set otherwise.
std::optional<Bytes> parse_base64_result(const nlohmann::json& result, const char* what, std::string& error);

}  // namespace chatter
