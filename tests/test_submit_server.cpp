// SubmitServer (app_proxy/submit_server.h) against spec/socket-proxy.md: `Babble.SubmitTx` over Go-style
// JSON-RPC, objects back to back on a TCP stream. A real server on 127.0.0.1 (io_context on its own
// thread) and plain POSIX-socket clients; every wait has a generous deadline for loaded machines.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app_proxy/submit_request.h"
#include "app_proxy/submit_server.h"

using namespace chatter;
using Json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr auto kWait = 20s;  // upper bound for anything expected to happen

Bytes b(std::string_view s) { return to_bytes(s); }

// The transactions the server handed over; "full" is refused like a full pool would; in hold mode the
// done callbacks are kept for the test to call later.
struct Recorder {
  std::mutex mu;
  std::vector<std::string> accepted;
  std::vector<std::function<void(bool, std::string)>> held;
  std::atomic<std::size_t> calls{0};
  std::atomic<bool> hold{false};

  SubmitServer::SubmitFn fn() {
    return [this](Bytes tx, std::function<void(bool, std::string)> done) {
      ++calls;
      std::string s = to_string(tx);
      if (hold) {
        std::lock_guard lock(mu);
        held.push_back(std::move(done));
        accepted.push_back(s);
        return;
      }
      if (s == "full") {
        done(false, "transaction pool full");
        return;
      }
      {
        std::lock_guard lock(mu);
        accepted.push_back(s);
      }
      done(true, "");
    };
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mu);
    return accepted;
  }
};

struct Fixture {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  Recorder rec;
  std::optional<SubmitServer> server;
  std::thread thread;

  explicit Fixture(SubmitServer::Options o = {}) {
    server.emplace(io, o, rec.fn());
    server->start();
    thread = std::thread([this] { io.run(); });
  }
  ~Fixture() {
    server->stop();
    work.reset();
    thread.join();
  }
  std::uint16_t port() const { return server->port(); }
};

class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~Client() { close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // False when the peer closed (EPIPE / ECONNRESET).
  bool send(std::string_view s) {
    while (!s.empty()) {
      ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      s.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // One reply line, or nullopt when the connection closed or nothing came before the deadline.
  std::optional<Json> read_reply(std::chrono::milliseconds timeout = kWait) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return Json::parse(line);
      }
      if (!fill(deadline)) return std::nullopt;
    }
  }

  // True when the server closes the connection (EOF or reset) before the deadline, discarding data.
  bool closed_by_peer(std::chrono::milliseconds timeout = kWait) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (fill(deadline)) buf_.clear();
    return eof_;
  }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline) {
    if (eof_) return false;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) return true;
      eof_ = true;  // orderly close, or reset because the server closed with unread input
      return false;
    }
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buf_;
  bool eof_ = false;
};

std::string request(const Json& id, std::string_view tx, std::string_view method = "Babble.SubmitTx") {
  Json j = {{"method", method}, {"params", Json::array({base64_encode(b(tx))})}, {"id", id}};
  return j.dump();
}

void check_ok(const std::optional<Json>& r, const Json& id) {
  REQUIRE(r.has_value());
  CHECK((*r)["id"] == id);
  CHECK((*r)["result"] == true);
  CHECK((*r)["error"].is_null());
}

void check_error(const std::optional<Json>& r, const Json& id, std::string_view text_part) {
  REQUIRE(r.has_value());
  CHECK((*r)["id"] == id);
  CHECK((*r)["result"].is_null());
  REQUIRE((*r)["error"].is_string());
  const std::string err = (*r)["error"].get<std::string>();
  INFO("error text: " << err);
  CHECK(err.find(text_part) != std::string::npos);
}

template <typename Pred>
bool eventually(Pred p, std::chrono::milliseconds timeout = kWait) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (p()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return p();
}

}  // namespace

TEST_CASE("SubmitTx parsing: the plain request shape (fast path) gives what the full JSON parser gives") {
  // The same requests, once in the plain shape and once spelled so that only the full parser
  // reads them (keys reordered or recased, an escaped slash, spaces): identical results.
  const std::string b64 = base64_encode(Bytes{0x00, 0xff, 0x10, 0x7f, 0xfb, 0xef, 0x3e});
  const std::vector<std::pair<std::string, std::string>> same = {
      {R"({"method":"Babble.SubmitTx","params":[")" + b64 + R"("],"id":0})",
       R"({"id":0,"params":[")" + b64 + R"("],"method":"Babble.SubmitTx"})"},
      {" {\n \"method\" : \"Babble.SubmitTx\" ,\t\"params\":[ \"" + b64 + "\" ] , \"id\" : 123456789012345678 } \r\n",
       R"({"METHOD":"Babble.SubmitTx","Params":[")" + b64 + R"("],"Id":123456789012345678})"},
      {R"({"method":"Babble.SubmitTx","params":["AA/B"],"id":7})", R"({"method":"Babble.SubmitTx","params":["AA\/B"],"id":7})"},
      {R"({"method":"Babble.SubmitTx","params":[""],"id":1})", R"({"id":1,"method":"Babble.SubmitTx","params":[""]})"},
  };
  for (const auto& [plain, full] : same) {
    CAPTURE(plain);
    const SubmitRequest a = parse_submit_request(plain, 3);
    const SubmitRequest r = parse_submit_request(full, 3);
    CHECK(a.error.empty());
    CHECK(a.id == r.id);
    CHECK(a.tx == r.tx);
    CHECK(a.error == r.error);
  }
  // Near misses leave the fast path and are judged by the full parser: still refused or read right.
  CHECK(parse_submit_request(R"({"method":"Babble.SubmitTx","params":["AAA"],"id":1})", 3).error ==
        "jsonrpc: params[0] is not valid base64");
  CHECK(parse_submit_request(R"({"method":"Babble.SubmitTx","params":["AA=="],"id":01})", 3).error.rfind("invalid JSON request", 0) == 0);
  CHECK(parse_submit_request(R"({"method":"Babble.SubmitTx","params":["AA=="],"id":-1})", 3).id == "-1");
  CHECK(parse_submit_request(R"({"method":"Babble.SubmitTx","params":["AA=="],"id":1} x)", 3).error.rfind("invalid JSON request", 0) == 0);
  CHECK(parse_submit_request(R"({"method":"Babble.SubmitTx","params":["AA=="],"id":1,"id":2})", 3).id == "2");
}

TEST_CASE("base64: RFC 4648 section 10 vectors, as Go's StdEncoding") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : vectors) {
    CHECK(base64_encode(b(plain)) == enc);
    auto d = base64_decode(enc);
    REQUIRE(d.has_value());
    CHECK(to_string(*d) == plain);
  }
  Bytes all(256);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(i);
  CHECK(base64_decode(base64_encode(all)) == all);
  CHECK(base64_encode(Bytes{0xfb, 0xff}) == "+/8=");  // the standard alphabet, not URL-safe
}

TEST_CASE("base64: malformed input is refused like Go's StdEncoding") {
  for (const char* bad : {"Zg", "Zg=", "Zm9vY", "Zg===", "====", "Z===", "Zg=A",
                          "Zm9v=", "Zg==Zg==", "Zm9v Zg==", "-_8=", "Zm9\x80", "Zm9v\t"})
    CHECK_MESSAGE(!base64_decode(bad).has_value(), bad);
  // Go ignores '\r' and '\n' anywhere and (outside Strict mode) unused non-zero bits.
  CHECK(base64_decode("Zm9v\r\nYmFy\n") == b("foobar"));
  CHECK(base64_decode("Zh==") == b("f"));
}

TEST_CASE("SubmitTx server: pipelined and split requests get in-order replies (spec/socket-proxy.md)") {
  Fixture f;
  Client c(f.port());
  // Several requests in one write, with and without whitespace between them; id 3 is refused.
  std::string burst = request(1, "tx-a") + request(2, "tx-b") + "\n  " + request(3, "full") + "\r\n\t" +
                      request(4, "tx-c") + request("five", "tx-}{\"\\");
  REQUIRE(c.send(burst));
  check_ok(c.read_reply(), 1);
  check_ok(c.read_reply(), 2);
  check_error(c.read_reply(), 3, "transaction pool full");
  check_ok(c.read_reply(), 4);
  check_ok(c.read_reply(), "five");

  // One request (whose id string holds braces and escapes) split into many small writes.
  const Json tricky_id = "a}{\"\\}";
  const std::string split = request(tricky_id, "tx-split");
  for (std::size_t i = 0; i < split.size(); i += 3) {
    REQUIRE(c.send(split.substr(i, 3)));
    std::this_thread::sleep_for(1ms);
  }
  check_ok(c.read_reply(), tricky_id);
  CHECK(f.rec.snapshot() == std::vector<std::string>{"tx-a", "tx-b", "tx-c", "tx-}{\"\\", "tx-split"});
}

TEST_CASE("SubmitTx server: malformed JSON and bad requests get error replies, the connection survives") {
  Fixture f;
  Client c(f.port());
  REQUIRE(c.send(R"({"method": "Babble.SubmitTx", "params": [tru], "id": 7})"));
  check_error(c.read_reply(), nullptr, "");
  REQUIRE(c.send(request(8, "after-garbage")));
  check_ok(c.read_reply(), 8);

  REQUIRE(c.send(request(9, "x", "Babble.Nope")));
  check_error(c.read_reply(), 9, "rpc: can't find method Babble.Nope");
  REQUIRE(c.send(request(10, "x", "Other.SubmitTx")));
  check_error(c.read_reply(), 10, "rpc: can't find service Other.SubmitTx");
  REQUIRE(c.send(R"({"method": 5, "params": ["eA=="], "id": 11})"));
  check_error(c.read_reply(), 11, "method");
  REQUIRE(c.send(R"({"method": "Babble.SubmitTx", "params": [5], "id": 12})"));
  check_error(c.read_reply(), 12, "params");
  REQUIRE(c.send(R"({"method": "Babble.SubmitTx", "params": ["eA==", "eA=="], "id": 13})"));
  check_error(c.read_reply(), 13, "params");
  REQUIRE(c.send(R"({"method": "Babble.SubmitTx", "params": "eA==", "id": 14})"));
  check_error(c.read_reply(), 14, "params");
  REQUIRE(c.send(R"({"method": "Babble.SubmitTx", "id": 15})"));
  check_error(c.read_reply(), 15, "missing params");
  REQUIRE(c.send(R"({"method": "Babble.SubmitTx", "params": ["not base64!"], "id": 16})"));
  check_error(c.read_reply(), 16, "base64");
  REQUIRE(c.send(R"({"method": "Babble.SubmitTx", "params": ["eA=="]})"));  // no id: null, as Go
  check_ok(c.read_reply(), nullptr);
  REQUIRE(c.send(std::string(600, '[') + std::string(600, ']')));  // not an object: answered, then closed
  check_error(c.read_reply(), nullptr, "beginning of object");
  CHECK(c.closed_by_peer());
  CHECK(f.rec.snapshot() == std::vector<std::string>{"after-garbage", "x"});
}

TEST_CASE("SubmitTx server: deep nesting is refused without parsing, and the stream goes on") {
  Fixture f;
  Client c(f.port());
  REQUIRE(c.send("{\"id\": " + std::string(2000, '[') + std::string(2000, ']') + "}" + request(2, "ok")));
  check_error(c.read_reply(), nullptr, "depth");
  check_ok(c.read_reply(), 2);
}

TEST_CASE("SubmitTx server: a request over max_request_bytes closes that connection only") {
  SubmitServer::Options o;
  o.max_request_bytes = 1024;
  Fixture f(o);
  Client big(f.port());
  Client good(f.port());
  REQUIRE(big.send(request(1, std::string(600, 'x'))));  // ~830 bytes: allowed
  check_ok(big.read_reply(), 1);
  big.send(request(2, std::string(2000, 'y')));  // the server may close before all of it is written
  CHECK(big.closed_by_peer());
  REQUIRE(good.send(request(3, "fine")));
  check_ok(good.read_reply(), 3);
  CHECK(f.rec.snapshot() == std::vector<std::string>{std::string(600, 'x'), "fine"});
}

TEST_CASE("SubmitTx server: connections beyond max_connections are closed; the server keeps serving") {
  SubmitServer::Options o;
  o.max_connections = 3;
  Fixture f(o);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<Client>(f.port()));
    REQUIRE(clients.back()->send(request(i, "c" + std::to_string(i))));
    check_ok(clients.back()->read_reply(), i);  // accepted and counted before the next one
  }
  Client extra(f.port());
  extra.send(request(99, "extra"));
  CHECK(extra.closed_by_peer());

  // Free a place; the server notices the close asynchronously, so retry until a new client is served.
  clients.front()->close();
  bool served = false;
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!served && std::chrono::steady_clock::now() < deadline) {
    Client again(f.port());
    if (again.send(request(100, "again"))) {
      auto r = again.read_reply(2s);
      if (r) {
        check_ok(r, 100);
        served = true;
      }
    }
    if (!served) std::this_thread::sleep_for(50ms);
  }
  CHECK(served);
  auto txs = f.rec.snapshot();
  CHECK(std::count(txs.begin(), txs.end(), "extra") == 0);
}

TEST_CASE("SubmitTx server: done() from other threads in any order still replies in request order") {
  Fixture f;
  f.rec.hold = true;
  Client c(f.port());
  std::string burst;
  for (int i = 0; i < 20; ++i) burst += request(i, "h" + std::to_string(i));
  REQUIRE(c.send(burst));
  REQUIRE(eventually([&] { return f.rec.calls.load() == 20; }));
  CHECK(!c.read_reply(200ms).has_value());  // nothing is answered before submit completes
  std::vector<std::function<void(bool, std::string)>> held;
  {
    std::lock_guard lock(f.rec.mu);
    held = std::move(f.rec.held);
  }
  std::thread t([&] {
    for (int i = 19; i >= 0; --i)
      held[static_cast<std::size_t>(i)](i % 2 == 0, "refused " + std::to_string(i));
    held[0](false, "a second call is ignored");
  });
  t.join();
  for (int i = 0; i < 20; ++i) {
    if (i % 2 == 0)
      check_ok(c.read_reply(), i);
    else
      check_error(c.read_reply(), i, "refused " + std::to_string(i));
  }
}

TEST_CASE("SubmitTx server: at most 10,000 outstanding replies per connection (backpressure)") {
  Fixture f;
  f.rec.hold = true;
  Client c(f.port());
  constexpr int kTotal = 10200;
  std::string burst;
  for (int i = 0; i < kTotal; ++i) burst += request(i, "t");
  std::thread writer([&] { c.send(burst); });  // blocks while the server stops reading
  REQUIRE(eventually([&] { return f.rec.calls.load() >= 10000; }));
  std::this_thread::sleep_for(300ms);
  CHECK(f.rec.calls.load() == 10000);  // reading paused at the bound
  // Release everything submitted so far, then whatever arrives, until all are answered.
  std::size_t released = 0;
  int got = 0;
  const auto deadline = std::chrono::steady_clock::now() + 2 * kWait;
  while (got < kTotal && std::chrono::steady_clock::now() < deadline) {
    std::vector<std::function<void(bool, std::string)>> batch;
    {
      std::lock_guard lock(f.rec.mu);
      batch.assign(f.rec.held.begin() + static_cast<std::ptrdiff_t>(released), f.rec.held.end());
      released = f.rec.held.size();
    }
    for (auto& d : batch) d(true, "");
    while (got < kTotal) {
      auto r = c.read_reply(20ms);
      if (!r) break;
      if ((*r)["id"] != got || (*r)["result"] != true) break;
      ++got;
    }
  }
  writer.join();
  CHECK(got == kTotal);
  CHECK(f.rec.calls.load() == static_cast<std::size_t>(kTotal));
}

TEST_CASE("SubmitTx server: an idle connection is closed after idle_timeout") {
  SubmitServer::Options o;
  o.idle_timeout = 300ms;
  Fixture f(o);
  const auto t0 = std::chrono::steady_clock::now();  // before the connect: the close comes >= 300 ms later
  Client idle(f.port());
  CHECK(idle.closed_by_peer());
  CHECK(std::chrono::steady_clock::now() - t0 >= 300ms);
}

TEST_CASE("SubmitTx server: a client that half-closes still gets every reply, then the close") {
  Fixture f;
  Client half(f.port());
  REQUIRE(half.send(request(1, "last") + request(2, "full")));
  half.shutdown_write();
  check_ok(half.read_reply(), 1);
  check_error(half.read_reply(), 2, "transaction pool full");
  CHECK(half.closed_by_peer());
}

TEST_CASE("SubmitTx server: stop() closes every connection and is idempotent") {
  Fixture f;
  Client c(f.port());
  REQUIRE(c.send(request(1, "before")));
  check_ok(c.read_reply(), 1);
  f.server->stop();
  f.server->stop();
  CHECK(c.closed_by_peer());
  CHECK(f.rec.snapshot() == std::vector<std::string>{"before"});
}

TEST_CASE("SubmitTx server: an unusable listen address throws a clear error") {
  boost::asio::io_context io;
  Recorder rec;
  SubmitServer first(io, {}, rec.fn());
  SubmitServer::Options o;
  o.port = first.port();
  CHECK_THROWS_AS(SubmitServer(io, o, rec.fn()), std::runtime_error);
  o.host = "192.0.2.1";  // TEST-NET-1: not an address of this machine
  o.port = 0;
  CHECK_THROWS_AS(SubmitServer(io, o, rec.fn()), std::runtime_error);
}
