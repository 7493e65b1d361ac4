#include "app_proxy/submit_request.h"

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

}  // namespace

SubmitRequest parse_submit_request(std::string_view text, std::size_t depth) {
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
