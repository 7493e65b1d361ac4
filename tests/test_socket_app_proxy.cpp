// SocketAppProxy (app_proxy/socket_app_proxy.h) against spec/socket-proxy.md: the JSON shapes (golden
// text), the AppBusy-then-answer flow, no second CommitBlock for an answered index, retries on a fresh
// connection, 3 failed tries -> AppError, error replies and malformed results -> AppError without a
// retry, malformed JSON -> connection closed and retried. The app is a scripted fake on a thread
// (plain POSIX sockets); every wait has a generous deadline and nothing asserts on timing.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app_proxy/base64.h"
#include "app_proxy/json_stream.h"
#include "app_proxy/socket_app_proxy.h"
#include "app_proxy/socket_json.h"
#include "engine/crypto.h"

using namespace chatter;
using Json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr auto kWait = 20s;

// What the fake app does with one request.
struct Action {
  enum Kind { kReply, kClose, kSilent } kind = kReply;
  std::string text;  // kReply: sent as is
};

Action reply_result(const Json& req, const Json& result) {
  return {Action::kReply, Json{{"id", req.at("id")}, {"result", result}, {"error", nullptr}}.dump() + "\n"};
}
Action reply_error(const Json& req, const std::string& e) {
  return {Action::kReply, Json{{"id", req.at("id")}, {"result", nullptr}, {"error", e}}.dump() + "\n"};
}

// The default app: StateHash = base64("hash-<index>"), every internal transaction accepted.
Action good_app(const Json& req) {
  const std::string m = req.at("method");
  const Json& p = req.at("params").at(0);
  if (m == "State.CommitBlock") {
    Json receipts = Json::array();
    for (const auto& itx : p.at("Body").at("InternalTransactions"))
      receipts.push_back({{"InternalTransaction", itx}, {"Accepted", true}});
    const std::string h = "hash-" + std::to_string(p.at("Body").at("Index").get<std::uint64_t>());
    return reply_result(
        req, {{"StateHash", base64_encode(to_bytes(h))}, {"InternalTransactionReceipts", receipts}});
  }
  if (m == "State.GetSnapshot") return reply_result(req, base64_encode(to_bytes("snap-" + p.dump())));
  if (m == "State.Restore") return reply_result(req, base64_encode(to_bytes("restored")));
  return reply_result(req, Json::object());
}

class FakeApp {
 public:
  using Handler = std::function<Action(const Json& req, std::size_t n)>;  // n: 0-based request count

  explicit FakeApp(Handler h, std::uint16_t port = 0) : handler_(std::move(h)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~FakeApp() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  std::size_t connections() const { return connections_; }
  std::vector<Json> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::size_t count(const std::string& method) {
    std::size_t n = 0;
    for (const auto& r : requests()) n += r.at("method") == method ? 1 : 0;
    return n;
  }

 private:
  bool wait_readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 20) > 0;
  }

  void run() {
    while (!stop_) {
      if (!wait_readable(fd_)) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++connections_;
      serve(c);
      ::close(c);
    }
  }

  // One connection at a time (the proxy uses one); returns when it closes or on kClose.
  void serve(int c) {
    std::string buf;
    JsonObjectScanner scanner(1u << 26);
    char chunk[65536];
    while (!stop_) {
      const auto r = scanner.scan(buf);
      if (r == JsonObjectScanner::Result::kObject) {
        const Json req =
            Json::parse(buf.substr(scanner.object_start(), scanner.pos() - scanner.object_start()));
        scanner.mark_consumed();
        buf.erase(0, scanner.take_consumed());
        std::size_t n;
        {
          std::lock_guard lock(mu_);
          n = requests_.size();
          requests_.push_back(req);
        }
        const Action a = handler_(req, n);
        if (a.kind == Action::kClose) return;
        if (a.kind == Action::kReply) ::send(c, a.text.data(), a.text.size(), MSG_NOSIGNAL);
        continue;
      }
      if (r != JsonObjectScanner::Result::kNeedMore) return;
      if (!wait_readable(c)) continue;
      const ssize_t got = ::recv(c, chunk, sizeof chunk, 0);
      if (got <= 0) return;
      buf.append(chunk, static_cast<std::size_t>(got));
    }
  }

  Handler handler_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> connections_{0};
  std::mutex mu_;
  std::vector<Json> requests_;
  std::thread thread_;
};

SocketAppProxy::Options options(std::uint16_t port, std::chrono::milliseconds timeout = 5000ms) {
  SocketAppProxy::Options o;
  o.port = port;
  o.timeout = timeout;
  return o;
}

Block make_block(std::uint64_t index, std::vector<std::string> txs = {},
                 std::vector<InternalTransaction> itxs = {}) {
  BlockBody b;
  b.index = index;
  b.round_received = 3;
  b.timestamp = 1'700'000'000'123'456'789;
  for (auto& t : txs) b.transactions.push_back(to_bytes(t));
  b.internal_transactions = std::move(itxs);
  return Block(std::move(b));
}

InternalTransaction make_itx(const std::string& name) {
  InternalTransaction itx;
  itx.type = InternalTransactionType::kPeerAdd;
  const KeyPair k = KeyPair::from_name(name);
  itx.peer = Peer{k.public_key(), "127.0.0.1:9000", name};
  itx.sign(k);
  return itx;
}

// Calls `f` until it stops throwing AppBusy (returns its value) or throws AppError.
template <typename F>
auto until_answer(F f) -> decltype(f()) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  for (;;) {
    try {
      return f();
    } catch (const AppBusy&) {
      REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "no answer from the socket proxy in time");
      std::this_thread::sleep_for(2ms);
    }
  }
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

TEST_CASE(
    "socket-proxy.md Shapes: golden Block JSON with transactions, internal transactions and signatures") {
  const InternalTransaction itx = make_itx("joiner");
  Block b = make_block(7, {"hello", "x"}, {itx});
  b.mutable_body().state_hash = to_bytes("sh");
  b.mutable_body().frame_hash = blake2b(std::string_view("frame"));
  b.mutable_body().peers_hash = blake2b(std::string_view("peers"));
  b.mutable_body().internal_transaction_receipts.push_back({itx, true});
  const KeyPair v = KeyPair::from_name("validator");
  const BlockSignature sig = b.sign(v);

  const std::string key = pubkey_hex(itx.peer.pub_key);
  const std::string itx_sig = upper(to_hex(itx.signature));
  const std::string itx_json = R"({"Body":{"Type":0,"Peer":{"NetAddr":"127.0.0.1:9000","PubKeyHex":")" + key +
                               R"(","Moniker":"joiner"}},"Signature":")" + itx_sig + R"("})";
  CHECK(internal_transaction_to_json(itx) == itx_json);
  const std::string expected =
      R"({"Body":{"Index":7,"RoundReceived":3,"Timestamp":1700000000,"StateHash":"c2g=","FrameHash":")" +
      base64_encode(b.body().frame_hash.data.data(), 32) + R"(","PeersHash":")" +
      base64_encode(b.body().peers_hash.data.data(), 32) +
      R"(","Transactions":["aGVsbG8=","eA=="],"InternalTransactions":[)" + itx_json +
      R"(],"InternalTransactionReceipts":[{"InternalTransaction":)" + itx_json +
      R"(,"Accepted":true}],"PrevBlockHash":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",)" +
      R"("TimestampNs":1700000000123456789},"Signatures":{")" + pubkey_hex(v.public_key()) + R"(":")" +
      upper(to_hex(sig.signature)) + R"("}})";
  CHECK(block_to_json(b) == expected);
  CHECK(itx_sig.size() == 128);
  // Valid JSON, and an empty block still has arrays (never null).
  CHECK(Json::accept(expected));
  const Json empty = Json::parse(block_to_json(make_block(0)));
  CHECK(empty.at("Body").at("Transactions") == Json::array());
  CHECK(empty.at("Body").at("InternalTransactions") == Json::array());
  CHECK(empty.at("Signatures") == Json::object());
}

TEST_CASE(
    "socket-proxy.md Shapes: CommitResponse parsing, receipts matched to the block's internal transactions") {
  const InternalTransaction itx = make_itx("joiner");
  const Block b = make_block(1, {}, {itx, make_itx("other")});
  const Json itx_json = Json::parse(internal_transaction_to_json(itx));
  std::string error;

  auto ok = parse_commit_response(
      Json{{"statehash", "AQI="},
           {"InternalTransactionReceipts", {{{"InternalTransaction", itx_json}, {"Accepted", true}}}}},
      b, error);
  REQUIRE_MESSAGE(ok.has_value(), error);
  CHECK(ok->state_hash == Bytes{1, 2});
  REQUIRE(ok->receipts.size() == 2);  // the missing second receipt: not accepted
  CHECK(ok->receipts[0].accepted);
  CHECK(ok->receipts[0].transaction == itx);
  CHECK_FALSE(ok->receipts[1].accepted);

  CHECK_FALSE(parse_commit_response(Json{{"InternalTransactionReceipts", nullptr}}, b, error).has_value());
  CHECK(error.find("no StateHash") != std::string::npos);
  CHECK_FALSE(parse_commit_response(Json{{"StateHash", "not base64!"}}, b, error).has_value());
  CHECK(error.find("not valid base64") != std::string::npos);
  CHECK_FALSE(parse_commit_response(Json{{"StateHash", 5}}, b, error).has_value());
  CHECK_FALSE(parse_commit_response(Json::array(), b, error).has_value());
  const Json three = Json::array({Json::object(), Json::object(), Json::object()});
  CHECK_FALSE(parse_commit_response(Json{{"StateHash", ""}, {"InternalTransactionReceipts", three}}, b, error)
                  .has_value());
  CHECK(error.find("3 receipts") != std::string::npos);
  // A receipt naming another peer than the block's internal transaction at its position.
  const Json wrong =
      Json::array({{{"InternalTransaction", Json::parse(internal_transaction_to_json(make_itx("x")))}}});
  CHECK_FALSE(parse_commit_response(Json{{"StateHash", ""}, {"InternalTransactionReceipts", wrong}}, b, error)
                  .has_value());
  const Json not_bool = Json::array({{{"Accepted", "yes"}}});
  CHECK_FALSE(
      parse_commit_response(Json{{"StateHash", ""}, {"InternalTransactionReceipts", not_bool}}, b, error)
          .has_value());
}

TEST_CASE("socket proxy: AppBusy, then the answer; one CommitBlock per index however often the node asks") {
  std::atomic<bool> release{false};
  FakeApp app([&](const Json& req, std::size_t) {
    while (req.at("method") == "State.CommitBlock" && !release) std::this_thread::sleep_for(1ms);
    return good_app(req);
  });
  std::atomic<int> ready{0};
  auto o = options(app.port());
  o.on_ready = [&] { ++ready; };
  SocketAppProxy proxy(o);

  const InternalTransaction itx = make_itx("joiner");
  const Block b = make_block(0, {"a", "b"}, {itx});
  for (int i = 0; i < 50; ++i) CHECK_THROWS_AS(proxy.commit_block(b), AppBusy);
  release = true;
  const CommitResponse r = until_answer([&] { return proxy.commit_block(b); });
  CHECK(r.state_hash == to_bytes("hash-0"));
  REQUIRE(r.receipts.size() == 1);
  CHECK(r.receipts[0].accepted);
  CHECK(r.receipts[0].transaction == itx);
  CHECK(ready >= 1);
  CHECK(app.count("State.CommitBlock") == 1);
  // What the app received is the block's JSON.
  const auto reqs = app.requests();
  const Json& sent = reqs.back();
  CHECK(sent.at("params").at(0) == Json::parse(block_to_json(b)));
  CHECK(sent.at("id").is_number_unsigned());

  // The next block goes out once; the answer was taken, so asking again for block 0 would be a new call.
  const CommitResponse r1 = until_answer([&] { return proxy.commit_block(make_block(1)); });
  CHECK(r1.state_hash == to_bytes("hash-1"));
  CHECK(app.count("State.CommitBlock") == 2);
  CHECK(proxy.app_reachable());
  CHECK(proxy.health() == AppHealth::kOk);
  const SocketAppStats s = proxy.stats();
  CHECK(s.errors == 0);
  CHECK(s.retries == 0);
  CHECK(s.connects == 1);
}

TEST_CASE("socket proxy: OnStateChanged is fire and forget, in call order with the other calls") {
  FakeApp app([](const Json& req, std::size_t) { return good_app(req); });
  SocketAppProxy proxy(options(app.port()));
  proxy.on_state_changed(NodeState::kBabbling);
  proxy.on_state_changed(NodeState::kSuspended);
  (void)until_answer([&] { return proxy.commit_block(make_block(0)); });
  const Bytes snap = until_answer([&] { return proxy.get_snapshot(0); });
  CHECK(snap == to_bytes("snap-0"));
  const Bytes restored = until_answer([&] { return proxy.restore(to_bytes("state")); });
  CHECK(restored == to_bytes("restored"));
  const auto reqs = app.requests();
  REQUIRE(reqs.size() == 5);
  CHECK(reqs[0].at("method") == "State.OnStateChanged");
  CHECK(reqs[0].at("params") == Json::array({0}));
  CHECK(reqs[1].at("params") == Json::array({5}));
  CHECK(reqs[2].at("method") == "State.CommitBlock");
  CHECK(reqs[3].at("method") == "State.GetSnapshot");
  CHECK(reqs[3].at("params") == Json::array({0}));
  CHECK(reqs[4].at("method") == "State.Restore");
  CHECK(reqs[4].at("params") == Json::array({base64_encode(to_bytes("state"))}));
}

TEST_CASE("socket proxy: the app drops the connection, the call is retried on a fresh one") {
  FakeApp app([](const Json& req, std::size_t n) {
    return n == 0 ? Action{Action::kClose, {}} : good_app(req);
  });
  SocketAppProxy proxy(options(app.port()));
  const CommitResponse r = until_answer([&] { return proxy.commit_block(make_block(4)); });
  CHECK(r.state_hash == to_bytes("hash-4"));
  CHECK(app.connections() == 2);
  CHECK(app.count("State.CommitBlock") == 2);
  CHECK(proxy.stats().retries == 1);
  CHECK(proxy.stats().errors == 0);
}

TEST_CASE("socket proxy: malformed JSON from the app closes the connection and the call is retried") {
  FakeApp app([](const Json& req, std::size_t n) {
    if (n == 0) return Action{Action::kReply, "{\"id\": 0, \"result\": {\"StateHash\": tru}}\n"};
    if (n == 1) return Action{Action::kReply, "]]] garbage\n"};
    return good_app(req);
  });
  SocketAppProxy proxy(options(app.port()));
  const CommitResponse r = until_answer([&] { return proxy.commit_block(make_block(2)); });
  CHECK(r.state_hash == to_bytes("hash-2"));
  CHECK(app.connections() == 3);
  CHECK(proxy.stats().retries == 2);
}

TEST_CASE("socket proxy: 3 timeouts fail the call with AppError; the node's next call starts a new one") {
  std::atomic<bool> silent{true};
  FakeApp app([&](const Json& req, std::size_t) {
    return silent ? Action{Action::kSilent, {}} : good_app(req);
  });
  SocketAppProxy proxy(options(app.port(), 200ms));
  const Block b = make_block(0);
  std::string what;
  try {
    (void)until_answer([&] { return proxy.commit_block(b); });
  } catch (const AppBusy&) {
    FAIL("AppBusy escaped");
  } catch (const AppError& e) {
    what = e.what();
  }
  CHECK(what.find("3 tries") != std::string::npos);
  CHECK(what.find("no reply") != std::string::npos);
  CHECK(app.count("State.CommitBlock") == 3);
  CHECK(app.connections() == 3);
  CHECK(proxy.stats().errors == 1);
  CHECK(proxy.stats().retries == 2);
  CHECK_FALSE(proxy.app_reachable());
  CHECK(proxy.last_error().find("no reply") != std::string::npos);
  silent = false;
  const CommitResponse r = until_answer([&] { return proxy.commit_block(b); });
  CHECK(r.state_hash == to_bytes("hash-0"));
  CHECK(proxy.app_reachable());
}

TEST_CASE("socket proxy: an error reply or a missing/malformed StateHash fails the call at once (no retry)") {
  std::string mode;
  std::mutex mu;
  FakeApp app([&](const Json& req, std::size_t) {
    std::lock_guard lock(mu);
    if (mode == "error") return reply_error(req, "state is corrupt");
    if (mode == "missing") return reply_result(req, Json{{"InternalTransactionReceipts", Json::array()}});
    if (mode == "malformed") return reply_result(req, Json{{"StateHash", "%%%"}});
    return good_app(req);
  });
  SocketAppProxy proxy(options(app.port()));
  std::uint64_t index = 0;
  for (const std::string m : {"error", "missing", "malformed"}) {
    {
      std::lock_guard lock(mu);
      mode = m;
    }
    const Block b = make_block(index++);
    std::string what;
    try {
      (void)until_answer([&] { return proxy.commit_block(b); });
    } catch (const AppError& e) {
      what = e.what();
    }
    INFO(m << ": " << what);
    CHECK_FALSE(what.empty());
    if (m == "error") CHECK(what.find("state is corrupt") != std::string::npos);
    if (m == "missing") CHECK(what.find("no StateHash") != std::string::npos);
    if (m == "malformed") CHECK(what.find("not valid base64") != std::string::npos);
    CHECK(proxy.health() == AppHealth::kFailing);
    CHECK(proxy.app_reachable());
  }
  CHECK(app.count("State.CommitBlock") == 3);  // one per block: no retries
  CHECK(app.connections() == 1);               // and the connection was kept
  CHECK(proxy.stats().retries == 0);
  CHECK(proxy.stats().errors == 3);
}

TEST_CASE("socket proxy: an app that is down fails the call after 3 tries; it works once the app is up") {
  std::uint16_t port = 0;
  {
    port = FakeApp([](const Json& req, std::size_t) { return good_app(req); }).port();
  }  // now closed
  std::vector<std::pair<AppHealth, std::string>> changes;
  std::mutex mu;
  auto o = options(port, 500ms);
  o.on_health = [&](AppHealth h, const std::string& why) {
    std::lock_guard lock(mu);
    changes.emplace_back(h, why);
  };
  SocketAppProxy proxy(o);
  CHECK_THROWS_WITH_AS(until_answer([&] { return proxy.commit_block(make_block(0)); }),
                       doctest::Contains("cannot connect"), AppError);
  CHECK(proxy.health() == AppHealth::kUnreachable);
  CHECK_FALSE(proxy.app_reachable());
  FakeApp app([](const Json& req, std::size_t) { return good_app(req); }, port);
  const CommitResponse r = until_answer([&] { return proxy.commit_block(make_block(0)); });
  CHECK(r.state_hash == to_bytes("hash-0"));
  std::lock_guard lock(mu);
  REQUIRE(changes.size() == 2);  // one report per change, not one per failed try
  CHECK(changes[0].first == AppHealth::kUnreachable);
  CHECK(changes[1].first == AppHealth::kOk);
}

TEST_CASE("socket proxy: a reply with another id is a failed try; stop() makes later calls fail") {
  FakeApp app([](const Json& req, std::size_t n) {
    if (n == 0) return Action{Action::kReply, "{\"id\": 999, \"result\": {}, \"error\": null}\n"};
    return good_app(req);
  });
  SocketAppProxy proxy(options(app.port()));
  const CommitResponse r = until_answer([&] { return proxy.commit_block(make_block(3)); });
  CHECK(r.state_hash == to_bytes("hash-3"));
  CHECK(proxy.stats().retries == 1);
  proxy.stop();
  CHECK_THROWS_AS(proxy.commit_block(make_block(4)), AppError);
  proxy.on_state_changed(NodeState::kShutdown);  // no effect, no throw
}

TEST_CASE("socket proxy: a reply over max_reply_bytes closes the connection and counts as a failed try") {
  FakeApp app([](const Json& req, std::size_t n) {
    if (n == 0) return reply_result(req, Json{{"StateHash", std::string(4000, 'A')}});
    return good_app(req);
  });
  auto o = options(app.port());
  o.max_reply_bytes = 1000;
  SocketAppProxy proxy(o);
  const CommitResponse r = until_answer([&] { return proxy.commit_block(make_block(9)); });
  CHECK(r.state_hash == to_bytes("hash-9"));
  CHECK(app.connections() == 2);
  CHECK(proxy.stats().retries == 1);
  CHECK(proxy.stats().errors == 0);
}

TEST_CASE("socket proxy: a reply nested deeper than kMaxReplyDepth is a failed try, not a stack overflow") {
  // Regression (found while factoring the reply parsing out for fuzz/fuzz_app_reply.cpp): an "error"
  // member nested a million levels deep (2 MB, under max_reply_bytes) was dumped recursively to build
  // the error text, which overflowed the node's stack. The reply is now refused before it is parsed.
  constexpr std::size_t kDepth = 1'000'000;
  FakeApp app([](const Json& req, std::size_t n) {
    if (n == 0)
      return Action{Action::kReply, "{\"id\": " + req.at("id").dump() + ", \"result\": null, \"error\": " +
                                        std::string(kDepth, '[') + std::string(kDepth, ']') + "}\n"};
    return good_app(req);
  });
  SocketAppProxy proxy(options(app.port()));
  const CommitResponse r = until_answer([&] { return proxy.commit_block(make_block(5)); });
  CHECK(r.state_hash == to_bytes("hash-5"));
  CHECK(app.connections() == 2);
  CHECK(proxy.stats().retries == 1);

  std::string error;
  const std::string shallow = "{\"id\": 1, \"error\": " + std::string(kMaxReplyDepth - 1, '[') +
                              std::string(kMaxReplyDepth - 1, ']') + "}";
  JsonObjectScanner scanner(1u << 26);
  REQUIRE(scanner.scan(shallow) == JsonObjectScanner::Result::kObject);
  CHECK(scanner.max_depth() == kMaxReplyDepth);
  const auto ok = parse_reply(shallow, scanner.max_depth(), 1, error);
  REQUIRE(ok.has_value());
  CHECK(reply_error_text(*ok).size() == 2 * (kMaxReplyDepth - 1));
  CHECK_FALSE(parse_reply(shallow, kMaxReplyDepth + 1, 1, error).has_value());
  CHECK(error.find("nests deeper than 512") != std::string::npos);
  CHECK_FALSE(parse_reply("{\"id\": 2}", 1, 1, error).has_value());
  CHECK(error.find("request id 1") != std::string::npos);
}
