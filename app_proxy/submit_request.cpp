#include "app_proxy/submit_request.h"

#include <optional>

#include <nlohmann/json.hpp>

#include "app_proxy/base64.h"
#include "app_proxy/json_stream.h"

namespace chatter {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxErrorText = 512;
constexpr char kMethod[] = "Babble.SubmitTx";

// The error net/rpc gives for a method it does not serve.
std::string unknown_method_error(const std::string& method) {
  const auto dot = method.rfind('.');
  if (dot == std::string::npos) return "rpc: service/method request ill-formed: " + method;
  if (method.substr(0, dot) != "Babble") return "rpc: can't find service " + method;
  return "rpc: can't find method " + method;
}

SubmitRequest refuse(std::string id, std::string error) {
  SubmitRequest r;
  r.id = std::move(id);
  r.error = std::move(error);
  return r;
}

// The request as clients send it, {"method":"Babble.SubmitTx","params":["B64"],"id":N} with any
// whitespace between tokens, read without building a JSON tree: the submit path carries every
// transaction, and nlohmann's parser was the largest single cost of a node at 40,000 tx/s. Only
// this exact shape (those keys in that order, spelled so, a plain base64 string, a non-negative
// integer id) takes the fast path; anything else, including every malformed input, goes through
// the full parser, which gives the same answer for this shape (tests/test_submit_server.cpp).
std::optional<SubmitRequest> parse_plain_submit(std::string_view t) {
  std::size_t i = 0;
  auto ws = [&] {
    while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  };
  auto lit = [&](std::string_view l) {
    ws();
    if (t.substr(i, l.size()) != l) return false;
    i += l.size();
    return true;
  };
  if (!lit("{") || !lit("\"method\"") || !lit(":") || !lit("\"Babble.SubmitTx\"") || !lit(",") ||
      !lit("\"params\"") || !lit(":") || !lit("[") || !lit("\""))
    return std::nullopt;
  const std::size_t b64_start = i;
  auto b64_char = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
  };
  while (i < t.size() && b64_char(t[i]))
    ++i;
  const std::string_view b64 = t.substr(b64_start, i - b64_start);
  if (!lit("\"") || !lit("]") || !lit(",") || !lit("\"id\"") || !lit(":")) return std::nullopt;
  ws();
  const std::size_t id_start = i;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  const std::string_view id = t.substr(id_start, i - id_start);
  // A JSON integer without a leading zero, small enough to print back exactly as written.
  if (id.empty() || id.size() > 18 || (id.size() > 1 && id[0] == '0')) return std::nullopt;
  if (!lit("}")) return std::nullopt;
  ws();
  if (i != t.size()) return std::nullopt;
  auto tx = base64_decode(b64);
  if (!tx) return std::nullopt;  // the full parser words the error
  SubmitRequest r;
  r.id = std::string(id);
  r.tx = std::move(*tx);
  return r;
}

}  // namespace

SubmitRequest parse_submit_request(std::string_view text, std::size_t depth) {
  if (auto plain = parse_plain_submit(text)) return std::move(*plain);
  // Bounds the recursion of parsing and of dumping an echoed id. (Go's decoder allows 10000; a
  // request needs 2.)
  if (depth > kMaxSubmitRequestDepth) return refuse("null", "json: exceeded max depth");
  Json req;
  try {
    req = Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    // The message quotes the offending token, which may be long: keep the reply small.
    std::string what = e.what();
    if (what.size() > kMaxErrorText) what.resize(kMaxErrorText);
    return refuse("null", "invalid JSON request: " + what);
  }
  if (!req.is_object()) return refuse("null", "request is not a JSON object");  // a guard after the scanner
  std::string id = "null";
  if (const Json* v = find_field(req, "id")) id = v->dump(-1, ' ', false, Json::error_handler_t::replace);

  const Json* method = find_field(req, "method");
  std::string name;
  if (method != nullptr && !method->is_null()) {
    if (!method->is_string()) return refuse(std::move(id), "rpc: request method must be a string");
    name = method->get<std::string>();
  }
  if (name != kMethod) return refuse(std::move(id), unknown_method_error(name));
  const Json* params = find_field(req, "params");
  if (params == nullptr || params->is_null())
    return refuse(std::move(id), "jsonrpc: request body missing params");
  if (!params->is_array() || params->size() != 1 || !(*params)[0].is_string())
    return refuse(std::move(id), "jsonrpc: params must be an array of one base64 string");
  auto tx = base64_decode((*params)[0].get_ref<const std::string&>());
  if (!tx) return refuse(std::move(id), "jsonrpc: params[0] is not valid base64");
  SubmitRequest r;
  r.id = std::move(id);
  r.tx = std::move(*tx);
  return r;
}

}  // namespace chatter
