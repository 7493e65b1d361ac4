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

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "engine/app_proxy.h"
#include "engine/block.h"

namespace chatter {

// Compact JSON text of a Block / an InternalTransaction, as above.
std::string block_to_json(const Block& block);
std::string internal_transaction_to_json(const InternalTransaction& itx);

// The CommitResponse in `result` for `block`; nullopt with `error` set (one sentence) when malformed.
std::optional<CommitResponse> parse_commit_response(const nlohmann::json& result, const Block& block,
                                                    std::string& error);

// Replies nested deeper than this are refused before they are parsed: nothing legitimate nests beyond a
// few levels, and dumping or walking a value recurses once per level (a deep enough reply would
// overflow the node's stack).
inline constexpr std::size_t kMaxReplyDepth = 512;

// One JSON-RPC reply object, as JsonObjectScanner delimited it (`depth`: the deepest nesting it saw),
// to the request `id`: the parsed object, or nullopt with `error` set when it nests deeper than
// kMaxReplyDepth, is not valid JSON, not an object, or does not carry the id. Never throws.
std::optional<nlohmann::json> parse_reply(std::string_view text, std::size_t depth, std::uint64_t id,
                                          std::string& error);

// The app's "error" member of a parsed reply as text ("" when it is absent or null).
std::string reply_error_text(const nlohmann::json& reply);

// A base64 byte string result (GetSnapshot, Restore); nullopt with `error` set otherwise.
std::optional<Bytes> parse_base64_result(const nlohmann::json& result, const char* what, std::string& error);

}  // namespace chatter
