// libFuzzer target: the JSON-RPC reply side of the socket proxy, as SocketAppProxy reads the app's
// answers (app_proxy/socket_app_proxy.cpp): JsonObjectScanner delimits each reply, parse_reply checks
// it, reply_error_text takes the app's error, and the result goes through parse_commit_response (for a
// block with two internal transactions) and parse_base64_result (GetSnapshot, Restore).
//
// Input: byte 0 chooses the read size (1..64 bytes) and the request id the replies must carry (0..3);
// the rest is the stream. Checks: nothing throws; a refused reply has a reason; a parsed CommitResponse
// has one receipt per internal transaction of the block.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "app_proxy/json_stream.h"
#include "app_proxy/socket_json.h"
#include "engine/crypto.h"
#include "fuzz/fuzz_util.h"

using namespace chatter;
using Json = nlohmann::json;

namespace {

const Block& test_block() {
  static const Block block = [] {
    BlockBody body;
    body.index = 3;
    body.round_received = 5;
    for (const char* name : {"alice", "bob"}) {
      InternalTransaction itx;
      itx.type = name[0] == 'a' ? InternalTransactionType::kPeerAdd : InternalTransactionType::kPeerRemove;
      const KeyPair kp = KeyPair::from_name(name);
      itx.peer = Peer{kp.public_key(), "127.0.0.1:1337", name};
      itx.sign(kp);
      body.internal_transactions.push_back(itx);
    }
    return Block(body);
  }();
  return block;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t chunk = 1 + (data[0] & 0x3f);
  const std::uint64_t id = data[0] >> 6;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  const Block& block = test_block();

  JsonObjectScanner scanner(std::size_t{1} << 20);
  std::string buf;
  std::size_t fed = 0;
  for (;;) {
    using Scan = JsonObjectScanner::Result;
    const Scan r = scanner.scan(buf);
    if (r == Scan::kTooBig || r == Scan::kGarbage) break;  // a failed try: the connection is closed
    if (r == Scan::kNeedMore) {
      if (fed == stream.size()) break;
      const std::size_t k = std::min(chunk, stream.size() - fed);
      buf.append(stream.substr(fed, k));
      fed += k;
      continue;
    }
    const std::size_t start = scanner.object_start();
    std::string error;
    const auto reply = parse_reply(std::string_view(buf).substr(start, scanner.pos() - start),
                                   scanner.max_depth(), id, error);
    scanner.mark_consumed();
    buf.erase(0, scanner.take_consumed());
    if (!reply) {
      FUZZ_CHECK(!error.empty());
      continue;
    }
    (void)reply_error_text(*reply);
    static const Json kNull;
    const Json* found = find_field(*reply, "result");
    const Json& result = found ? *found : kNull;
    std::string e1, e2;
    if (const auto commit = parse_commit_response(result, block, e1)) {
      FUZZ_CHECK(commit->receipts.size() == block.body().internal_transactions.size());
    } else {
      FUZZ_CHECK(!e1.empty());
    }
    if (!parse_base64_result(result, "the GetSnapshot result", e2)) FUZZ_CHECK(!e2.empty());
  }
  return 0;
}
