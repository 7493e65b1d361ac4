// JSON shapes of the socket proxy (socket_json.h). Blocks are written by hand rather than through a
// JSON tree: every value is a number, base64 or hex (nothing to escape) except NetAddr and Moniker,
// and a block may carry thousands of transactions, so this keeps the node's CPU cost per block low.
#include "app_proxy/socket_json.h"

#include <nlohmann/json.hpp>

#include "app_proxy/base64.h"
#include "app_proxy/json_stream.h"

namespace chatter {

namespace {

using Json = nlohmann::json;

std::string upper_hex(const std::uint8_t* p, std::size_t n) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 15]);
  }
  return out;
}

void append_string(std::string& out, const std::string& s) {
  out += Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
}

void append_b64(std::string& out, const std::uint8_t* p, std::size_t n) {
  out.push_back('"');
  out += base64_encode(p, n);
  out.push_back('"');
}

void append_itx(std::string& out, const InternalTransaction& itx) {
  out += "{\"Body\":{\"Type\":";
  out += std::to_string(static_cast<int>(itx.type));
  out += ",\"Peer\":{\"NetAddr\":";
  append_string(out, itx.peer.net_addr);
  out += ",\"PubKeyHex\":\"";
  out += itx.peer.pub_key_hex();
  out += "\",\"Moniker\":";
  append_string(out, itx.peer.moniker);
  out += "}},\"Signature\":\"";
  out += upper_hex(itx.signature.data.data(), itx.signature.data.size());
  out += "\"}";
}

// Floor division, so that negative timestamps (never seen in practice) still map consistently.
std::int64_t floor_seconds(std::int64_t ns) {
  std::int64_t s = ns / 1'000'000'000;
  if (ns % 1'000'000'000 < 0) --s;
  return s;
}

}  // namespace

std::string internal_transaction_to_json(const InternalTransaction& itx) {
  std::string out;
  append_itx(out, itx);
  return out;
}

std::string block_to_json(const Block& block) {
  const BlockBody& b = block.body();
  std::size_t reserve = 512;
  for (const Bytes& tx : b.transactions) reserve += tx.size() * 4 / 3 + 8;
  std::string out;
  out.reserve(reserve);
  out += "{\"Body\":{\"Index\":" + std::to_string(b.index);
  out += ",\"RoundReceived\":" + std::to_string(b.round_received);
  out += ",\"Timestamp\":" + std::to_string(floor_seconds(b.timestamp));
  out += ",\"StateHash\":";
  append_b64(out, b.state_hash.data(), b.state_hash.size());
  out += ",\"FrameHash\":";
  append_b64(out, b.frame_hash.data.data(), b.frame_hash.data.size());
  out += ",\"PeersHash\":";
  append_b64(out, b.peers_hash.data.data(), b.peers_hash.data.size());
  out += ",\"Transactions\":[";
  for (std::size_t i = 0; i < b.transactions.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_b64(out, b.transactions[i].data(), b.transactions[i].size());
  }
  out += "],\"InternalTransactions\":[";
  for (std::size_t i = 0; i < b.internal_transactions.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_itx(out, b.internal_transactions[i]);
  }
  out += "],\"InternalTransactionReceipts\":[";
  for (std::size_t i = 0; i < b.internal_transaction_receipts.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += "{\"InternalTransaction\":";
    append_itx(out, b.internal_transaction_receipts[i].transaction);
    out += b.internal_transaction_receipts[i].accepted ? ",\"Accepted\":true}" : ",\"Accepted\":false}";
  }
  out += "],\"PrevBlockHash\":";
  append_b64(out, b.prev_block_hash.data.data(), b.prev_block_hash.data.size());
  out += ",\"TimestampNs\":" + std::to_string(b.timestamp);
  out += "},\"Signatures\":{";
  bool first = true;
  for (const auto& [key, sig] : block.signatures()) {
    if (!first) out.push_back(',');
    first = false;
    out += "\"" + pubkey_hex(key) + "\":\"" + upper_hex(sig.data.data(), sig.data.size()) + "\"";
  }
  out += "}}";
  return out;
}

std::optional<Json> parse_reply(std::string_view text, std::size_t depth, std::uint64_t id,
                                std::string& error) {
  if (depth > kMaxReplyDepth) {
    error = "the app's reply nests deeper than " + std::to_string(kMaxReplyDepth) + " levels";
    return std::nullopt;
  }
  Json reply = Json::parse(text.begin(), text.end(), nullptr, false);
  if (reply.is_discarded() || !reply.is_object()) {
    error = "the app's reply is not valid JSON";
    return std::nullopt;
  }
  const Json* rid = find_field(reply, "id");
  if (rid == nullptr || !rid->is_number_unsigned() || rid->get<std::uint64_t>() != id) {
    error = "the app's reply does not carry the request id " + std::to_string(id);
    return std::nullopt;
  }
  return reply;
}

std::string reply_error_text(const Json& reply) {
  const Json* err = find_field(reply, "error");
  if (err == nullptr || err->is_null()) return "";
  return err->is_string() ? err->get<std::string>() : err->dump();
}

std::optional<Bytes> parse_base64_result(const Json& result, const char* what, std::string& error) {
  if (!result.is_string()) {
    error = std::string(what) + " is not a base64 string";
    return std::nullopt;
  }
  auto bytes = base64_decode(result.get_ref<const std::string&>());
  if (!bytes) error = std::string(what) + " is not valid base64";
  return bytes;
}

std::optional<CommitResponse> parse_commit_response(const Json& result, const Block& block,
                                                    std::string& error) {
  if (!result.is_object()) {
    error = "the CommitBlock result is not a JSON object";
    return std::nullopt;
  }
  const Json* hash = find_field(result, "StateHash");
  if (hash == nullptr || hash->is_null()) {
    error = "the CommitBlock result has no StateHash";
    return std::nullopt;
  }
  CommitResponse res;
  auto state_hash = parse_base64_result(*hash, "the CommitBlock StateHash", error);
  if (!state_hash) return std::nullopt;
  res.state_hash = std::move(*state_hash);

  const auto& itxs = block.body().internal_transactions;
  const Json* receipts = find_field(result, "InternalTransactionReceipts");
  std::vector<bool> accepted(itxs.size(), false);
  if (receipts != nullptr && !receipts->is_null()) {
    if (!receipts->is_array()) {
      error = "InternalTransactionReceipts is not an array";
      return std::nullopt;
    }
    if (receipts->size() > itxs.size()) {
      error = "the app returned " + std::to_string(receipts->size()) + " receipts for a block of " +
              std::to_string(itxs.size()) + " internal transactions";
      return std::nullopt;
    }
    for (std::size_t i = 0; i < receipts->size(); ++i) {
      const Json& r = (*receipts)[i];
      const std::string where = "receipt " + std::to_string(i);
      if (!r.is_object()) {
        error = where + " is not a JSON object";
        return std::nullopt;
      }
      if (const Json* a = find_field(r, "Accepted"); a != nullptr && !a->is_null()) {
        if (!a->is_boolean()) {
          error = where + ": Accepted is not a boolean";
          return std::nullopt;
        }
        accepted[i] = a->get<bool>();
      }
      const Json* t = find_field(r, "InternalTransaction");
      if (t == nullptr || t->is_null()) continue;
      const Json* body = find_field(*t, "Body");
      const Json* type = body ? find_field(*body, "Type") : nullptr;
      const Json* peer = body ? find_field(*body, "Peer") : nullptr;
      const Json* key = peer ? find_field(*peer, "PubKeyHex") : nullptr;
      const bool type_ok = type != nullptr && type->is_number_integer() &&
                           type->get<std::int64_t>() == static_cast<std::int64_t>(itxs[i].type);
      const bool key_ok = key != nullptr && key->is_string() &&
                          pubkey_from_hex(key->get_ref<const std::string&>()) == itxs[i].peer.pub_key;
      if (!type_ok || !key_ok) {
        error = where + " does not name the block's internal transaction " + std::to_string(i);
        return std::nullopt;
      }
    }
  }
  res.receipts.reserve(itxs.size());
  for (std::size_t i = 0; i < itxs.size(); ++i)
    res.receipts.push_back(InternalTransactionReceipt{itxs[i], accepted[i]});
  return res;
}

}  // namespace chatter
