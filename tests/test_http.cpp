// The HTTP service (net/http_service.h, spec/cli.md "HTTP service") in process: a single validator
// driven by a Runtime on its own thread commits on its own while a plain-socket client asks the
// service. Checks each endpoint's JSON against what the node and its store hold, the error codes
// (400, 404, 405, 413, 431, 503), CORS on every reply, keep-alive, hundreds of concurrent requests
// while the node commits, and that slow, idle, oversized or surplus clients are cut off without
// stalling the node (DESIGN.md, Error policy 1). Also the target parser (net/http_json.h) alone.
//
// Robust on a loaded 2-core machine: conditions are polled against generous deadlines; the only
// short timeouts are the service's own (configured small here) and nothing asserts on durations.
#include <doctest/doctest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "app_proxy/kvstore.h"
#include "app_proxy/submit_server.h"
#include "net/http_json.h"
#include "net/http_service.h"
#include "net/runtime.h"
#include "store/inmem_store.h"
#include "tests/http_client.h"

using namespace chatter;
using namespace std::chrono_literals;
using chatter::testing::eventually;
using chatter::testing::http_get;
using chatter::testing::http_request;
using chatter::testing::HttpConn;
using chatter::testing::HttpReply;
using Json = nlohmann::json;

namespace {

constexpr auto kDeadline = 60s;


// One validator (it commits alone), its runtime on a thread, and the HTTP service over it. A
// background thread submits a transaction every few milliseconds so that blocks keep coming.
class ServedNode {
 public:
  explicit ServedNode(HttpService::Options ho = {}) {
    const KeyPair key = KeyPair::from_name("http-solo");
    NodeConfig c;
    c.key = key;
    c.genesis = PeerSet({Peer{key.public_key(), "127.0.0.1:1", "solo"}});
    c.moniker = "solo";
    c.heartbeat_ns = 5'000'000;
    c.seed = 42;
    node_ = std::make_unique<Node>(c, store_, app_);
    Runtime::Options o;
    o.listen_port = 0;
    rt_ = std::make_unique<Runtime>(io_, *node_, o);
    ho.host = "127.0.0.1";
    ho.port = 0;
    ho.extra_stats = [](nlohmann::ordered_json& j) {
      j["app_reachable"] = true;
      j["host_field"] = 7;
    };
    http_ = std::make_unique<HttpService>(
        [this](HttpService::NodeWork w) { rt_->post([this, w = std::move(w)](Node& n) { w(n, store_); }); },
        ho);
    rt_->start();
    http_->start();
    thread_ = std::thread([this] {
      io_.run();
      finished_ = true;
    });
  }
  ~ServedNode() {
    stop_load();
    http_->stop();
    Runtime* rt = rt_.get();
    rt->post([rt](Node&) { rt->stop(); });
    if (!eventually([this] { return finished_.load(); })) io_.stop();
    thread_.join();
  }

  std::uint16_t port() const { return http_->port(); }
  HttpService& service() { return *http_; }

  void start_load() {
    load_ = std::thread([this] {
      for (std::uint64_t i = 0; !stop_load_; ++i) {
        rt_->post([i](Node& n) { (void)n.submit(to_bytes("SET k" + std::to_string(i) + " v")); });
        std::this_thread::sleep_for(5ms);
      }
    });
  }
  void stop_load() {
    stop_load_ = true;
    if (load_.joinable()) load_.join();
  }

  // Runs f on the node's thread and returns its result.
  template <class F>
  auto on_node(F f) {
    using R = decltype(f(std::declval<Node&>(), std::declval<const InmemStore&>()));
    auto p = std::make_shared<std::promise<R>>();
    auto fut = p->get_future();
    rt_->post([this, p, f](Node& n) { p->set_value(f(n, store_)); });
    REQUIRE(fut.wait_for(kDeadline) == std::future_status::ready);
    return fut.get();
  }
  std::optional<std::uint64_t> last_block() {
    return on_node([](Node& n, const InmemStore&) { return n.stats().last_block_index; });
  }
  // Blocks the node's thread until the returned promise is set (a stalled node).
  std::shared_ptr<std::promise<void>> stall() {
    auto release = std::make_shared<std::promise<void>>();
    auto entered = std::make_shared<std::promise<void>>();
    auto entered_future = entered->get_future();
    rt_->post([release, entered](Node&) {
      entered->set_value();
      release->get_future().wait();
    });
    REQUIRE(entered_future.wait_for(kDeadline) == std::future_status::ready);
    return release;
  }

 private:
  boost::asio::io_context io_;
  InmemStore store_;
  KvStore app_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<Runtime> rt_;
  std::unique_ptr<HttpService> http_;
  std::thread thread_, load_;
  std::atomic<bool> finished_{false}, stop_load_{false};
};

Json body_json(const std::optional<HttpReply>& r) {
  REQUIRE(r.has_value());
  CHECK(r->header("content-type") == "application/json");
  CHECK(r->header("access-control-allow-origin") == "*");
  return Json::parse(r->body);
}

// GET target on a new connection; the status must be `status`; returns the JSON body.
Json get_json(std::uint16_t port, const std::string& target, int status = 200) {
  const auto r = http_get(port, target);
  REQUIRE_MESSAGE(r.has_value(), "no reply to " << target);
  INFO(target << " -> " << r->status << " " << r->body);
  CHECK(r->status == status);
  return body_json(r);
}

void check_error(std::uint16_t port, const std::string& method, const std::string& target, int status) {
  const auto r = http_request(port, method, target);
  REQUIRE_MESSAGE(r.has_value(), "no reply to " << method << " " << target);
  INFO(method << " " << target << " -> " << r->status << " " << r->body);
  CHECK(r->status == status);
  CHECK(r->header("access-control-allow-origin") == "*");
  if (method != "HEAD") CHECK(Json::parse(r->body).at("error").is_string());
}

void check_peer_list(const Json& j, const std::string& moniker) {
  REQUIRE(j.is_array());
  REQUIRE(j.size() == 1);
  CHECK(j[0].at("Moniker") == moniker);
  CHECK(j[0].at("NetAddr") == "127.0.0.1:1");
  CHECK(j[0].at("PubKeyHex") == pubkey_hex(KeyPair::from_name("http-solo").public_key()));
}

}  // namespace

TEST_CASE("http_json: targets are parsed without the node; bad numbers are 400, unknown paths 404") {
  using Kind = ApiQuery::Kind;
  auto query = [](std::string_view t) {
    auto v = parse_request(t);
    REQUIRE_MESSAGE(std::holds_alternative<ApiQuery>(v), t);
    return std::get<ApiQuery>(v);
  };
  auto status = [](std::string_view t) {
    auto v = parse_request(t);
    REQUIRE_MESSAGE(std::holds_alternative<HttpAnswer>(v), t);
    CHECK(Json::parse(std::get<HttpAnswer>(v).body).is_object());
    return std::get<HttpAnswer>(v).status;
  };
  CHECK(query("/stats").kind == Kind::kStats);
  CHECK(query("/stats/").kind == Kind::kStats);
  CHECK(query("/block/7").number == 7);
  CHECK(query("/blocks/3").count == kMaxBlocks);  // default: up to 50
  CHECK(query("/blocks/3?count=10").count == 10);
  CHECK(query("/blocks/3?count=1000").count == kMaxBlocks);  // clamped
  CHECK(query("/graph").count == kDefaultGraphEvents);
  CHECK(query("/graph?limit=100000").count == kMaxGraphEvents);
  CHECK_FALSE(query("/validators").has_number);
  CHECK(query("/validators/12").number == 12);
  CHECK(query("/history").kind == Kind::kHistory);
  CHECK(query("/genesispeers").kind == Kind::kGenesisPeers);
  CHECK(query("/peers").kind == Kind::kPeers);
  CHECK(status("/api") == 200);  // the list of endpoints (/ is the graph page: tests/test_metrics.cpp)
  for (const char* bad :
       {"/block/x", "/block/-1", "/block/+1", "/block/1.5", "/block/99999999999999999999999",
        "/blocks/1?count=0", "/blocks/1?count=-3", "/blocks/1?count=", "/graph?limit=abc", "/validators/-2",
        "/validators/9223372036854775808"})
    CHECK_MESSAGE(status(bad) == 400, std::string(bad));
  for (const char* unknown : {"/nope", "/stats/1", "/block", "/block/", "/block/1/2", "/peers/x", "/STATS"})
    CHECK_MESSAGE(status(unknown) == 404, std::string(unknown));
  CHECK(status("stats") == 400);  // not a path
}

TEST_CASE("http: every endpoint answers JSON from the node and its store (spec/cli.md, HTTP service)") {
  ServedNode n;
  n.start_load();
  const std::uint16_t port = n.port();

  // /stats: the NodeStats fields with their values, plus what the host adds.
  REQUIRE(eventually([&] { return n.last_block().value_or(0) >= 2; }));
  const Json s = get_json(port, "/stats");
  for (const char* k : {"id", "moniker", "state", "last_consensus_round", "last_block_index", "anchor_block",
                        "consensus_events", "undetermined_events", "events", "transactions",
                        "transaction_pool", "num_peers", "sync_requests", "sync_errors", "events_created",
                        "refused_events", "app_errors", "state_hash", "app_reachable"})
    CHECK_MESSAGE(s.contains(k), k);
  CHECK(s.at("moniker") == "solo");
  CHECK(s.at("state") == "Babbling");
  CHECK(s.at("id") == peer_id_of(KeyPair::from_name("http-solo").public_key()));
  CHECK(s.at("app_reachable") == true);
  CHECK(s.at("host_field") == 7);
  CHECK(s.at("state_hash").is_string());
  const auto first_index = s.at("last_block_index").get<std::uint64_t>();
  CHECK(first_index >= 2);
  // It grows while the node commits.
  CHECK(eventually(
      [&] { return get_json(port, "/stats").at("last_block_index").get<std::uint64_t>() > first_index; }));

  // /block/0 is the store's block 0.
  const Json b0 = get_json(port, "/block/0");
  const auto stored = n.on_node([](Node&, const InmemStore& st) { return *st.get_block(0); });
  CHECK(b0.at("index") == 0);
  CHECK(b0.at("hash") == to_hex(stored.hash()));
  CHECK(b0.at("state_hash") == to_hex(stored.body().state_hash));
  CHECK(b0.at("frame_hash") == to_hex(stored.body().frame_hash));
  CHECK(b0.at("peers_hash") == to_hex(stored.body().peers_hash));
  CHECK(b0.at("prev_block_hash") == std::string(64, '0'));
  CHECK(b0.at("round_received") == stored.body().round_received);
  CHECK(b0.at("timestamp") == stored.body().timestamp);
  REQUIRE(b0.at("transactions").size() == stored.body().transactions.size());
  CHECK(b0.at("transactions")[0] == base64_encode(stored.body().transactions[0]));
  CHECK(b0.at("internal_transactions").is_array());
  CHECK(b0.at("receipts").is_array());
  CHECK(eventually([&] { return get_json(port, "/block/0").at("signatures").size() == 1; }));
  CHECK(get_json(port, "/block/0")
            .at("signatures")
            .contains(pubkey_hex(KeyPair::from_name("http-solo").public_key())));
  const Json b1 = get_json(port, "/block/1");
  CHECK(b1.at("prev_block_hash") == b0.at("hash"));

  // /blocks: consecutive, capped at 50, [] past the end; /block past the end is 404.
  const Json two = get_json(port, "/blocks/0?count=2");
  REQUIRE(two.size() == 2);
  CHECK(two[0] == get_json(port, "/block/0"));
  CHECK(two[1].at("index") == 1);
  const Json all = get_json(port, "/blocks/0");  // default count: up to 50 (more may have been committed)
  CHECK(all.size() >= std::min<std::uint64_t>(kMaxBlocks, first_index + 1));
  CHECK(all.size() <= kMaxBlocks);
  for (std::size_t i = 0; i < all.size(); ++i) CHECK(all[i].at("index") == i);
  CHECK(get_json(port, "/blocks/1000000000").empty());
  get_json(port, "/block/1000000000", 404);

  // Peers: one validator everywhere.
  check_peer_list(get_json(port, "/peers"), "solo");
  check_peer_list(get_json(port, "/genesispeers"), "solo");
  check_peer_list(get_json(port, "/validators"), "solo");
  check_peer_list(get_json(port, "/validators/3"), "solo");
  const Json h = get_json(port, "/history");
  REQUIRE(h.size() == 1);
  check_peer_list(h.at("0"), "solo");

  // /graph: the last events with what consensus knows about them.
  const Json g = get_json(port, "/graph?limit=8");
  REQUIRE(g.at("event_count").get<std::uint64_t>() >= 8);  // a few per block at least
  REQUIRE(g.at("events").size() == 8);
  CHECK(g.at("last_round").get<std::int64_t>() >= 1);
  REQUIRE(g.at("creators").size() == 1);
  CHECK(g.at("creators")[0].at("Moniker") == "solo");
  std::uint64_t prev_index = 0;
  for (std::size_t i = 0; i < g.at("events").size(); ++i) {
    const Json& e = g.at("events")[i];
    for (const char* k : {"hash", "creator", "creator_id", "index", "self_parent", "other_parent", "round",
                          "lamport", "witness", "famous", "round_received", "transactions", "timestamp", "block"})
      CHECK_MESSAGE(e.contains(k), k);
    CHECK(e.at("creator_id") == g.at("creators")[0].at("id"));
    if (i > 0) CHECK(e.at("index").get<std::uint64_t>() == prev_index + 1);  // one creator: a chain
    prev_index = e.at("index").get<std::uint64_t>();
    CHECK((e.at("famous").is_null() || e.at("witness") == true));
  }
  CHECK(get_json(port, "/graph").at("events").size() <= kDefaultGraphEvents);
}

TEST_CASE("http: status codes, CORS, HEAD, OPTIONS and keep-alive") {
  ServedNode n;
  const std::uint16_t port = n.port();
  check_error(port, "GET", "/nope", 404);
  check_error(port, "GET", "/block/abc", 400);
  check_error(port, "GET", "/blocks/1?count=0", 400);
  check_error(port, "GET", "/block/0", 404);  // no transactions submitted: no block yet
  check_error(port, "POST", "/stats", 405);
  check_error(port, "DELETE", "/block/0", 405);
  {
    const auto r = http_request(port, "POST", "/stats");
    REQUIRE(r.has_value());
    CHECK(r->header("allow") == "GET, HEAD, OPTIONS");
  }
  {
    // No block yet: the absent optionals are null.
    const Json s = get_json(port, "/stats");
    CHECK(s.at("last_block_index").is_null());
    CHECK(s.at("state_hash").is_null());
  }
  {
    // A POST with a body is refused on its headers (405); the body is never read.
    HttpConn c(port);
    REQUIRE(c.connected());
    c.send_raw("POST /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    const auto r = c.read_reply();
    REQUIRE(r.has_value());
    CHECK(r->status == 405);
    CHECK(c.closed_by_peer());
  }
  {
    // A GET with a body: 413.
    HttpConn c(port);
    c.send_raw("GET /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    const auto r = c.read_reply();
    REQUIRE(r.has_value());
    CHECK(r->status == 413);
  }
  {
    // HEAD: the headers of GET, no body; OPTIONS: the CORS preflight.
    HttpConn c(port);
    const auto head = c.request("HEAD", "/stats");
    REQUIRE(head.has_value());
    CHECK(head->status == 200);
    CHECK(head->body.empty());
    CHECK(std::stoul(head->header("content-length")) > 10);
    const auto opt = c.request("OPTIONS", "/stats");
    REQUIRE(opt.has_value());
    CHECK(opt->status == 204);
    CHECK(opt->header("access-control-allow-origin") == "*");
    CHECK(opt->header("access-control-allow-methods").find("GET") != std::string::npos);
    // Keep-alive: the same connection serves many requests, errors included.
    for (int i = 0; i < 20; ++i) {
      const auto r = c.request("GET", i % 2 ? "/stats" : "/nope");
      REQUIRE(r.has_value());
      CHECK(r->status == (i % 2 ? 200 : 404));
    }
    // Pipelined requests are answered in order.
    c.send_raw("GET /peers HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto p1 = c.read_reply();
    const auto p2 = c.read_reply();
    REQUIRE(p1.has_value());
    REQUIRE(p2.has_value());
    CHECK(p1->status == 200);
    CHECK(p2->status == 404);
    // Connection: close is honoured.
    const auto last = c.request("GET", "/stats", "Connection: close\r\n");
    REQUIRE(last.has_value());
    CHECK(c.closed_by_peer());
  }
  {
    // Garbage gets 400 and a closed connection; the service keeps serving.
    HttpConn c(port);
    c.send_raw(std::string("\x01\x02garbage \xff\xfe\r\n\r\n", 16));  // 16: the literal's length
    const auto r = c.read_reply();
    if (r) CHECK(r->status == 400);
    CHECK(c.closed_by_peer());
  }
  CHECK(n.service().stats().bad_requests >= 3);
  get_json(port, "/stats");
}

TEST_CASE("http: oversized requests are refused with 431 and the connection closes") {
  ServedNode n;
  const std::uint16_t port = n.port();
  for (const std::string& request :
       {"GET /stats HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n",
        "GET /" + std::string(20000, 'b') + " HTTP/1.1\r\nHost: x\r\n\r\n"}) {
    HttpConn c(port);
    REQUIRE(c.connected());
    c.send_raw(request);
    const auto r = c.read_reply();
    REQUIRE(r.has_value());
    CHECK(r->status == 431);
    CHECK(Json::parse(r->body).at("error").is_string());
    CHECK(c.closed_by_peer());
  }
  get_json(port, "/stats");
}

TEST_CASE("http: hundreds of concurrent requests are all answered while the node keeps committing") {
  ServedNode n;
  n.start_load();
  const std::uint16_t port = n.port();
  REQUIRE(eventually([&] { return n.last_block().has_value(); }));
  const auto before = *n.last_block();

  // 200 connections at once, each with one request in flight.
  const std::vector<std::string> targets = {"/stats",          "/block/0", "/blocks/0?count=5", "/peers",
                                            "/graph?limit=50", "/history", "/validators",       "/nope"};
  std::vector<std::unique_ptr<HttpConn>> conns;
  for (int i = 0; i < 200; ++i) {
    conns.push_back(std::make_unique<HttpConn>(port));
    REQUIRE(conns.back()->connected());
    REQUIRE(conns.back()->send_request("GET", targets[i % targets.size()]));
  }
  // Meanwhile 4 keep-alive clients on their own threads.
  std::atomic<int> threaded_ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&] {
      HttpConn c(port);
      for (int i = 0; i < 50; ++i) {
        const auto r = c.request("GET", "/stats");
        if (r && r->status == 200) ++threaded_ok;
      }
    });
  int answered = 0;
  for (std::size_t i = 0; i < conns.size(); ++i) {
    const auto r = conns[i]->read_reply();
    if (!r) continue;
    const int want = targets[i % targets.size()] == "/nope" ? 404 : 200;
    if (r->status == want && r->header("access-control-allow-origin") == "*") ++answered;
  }
  for (auto& t : clients) t.join();
  CHECK(answered == 200);
  CHECK(threaded_ok.load() == 200);
  // The node kept committing through it.
  CHECK(eventually([&] { return n.last_block().value_or(0) > before + 2; }));
  CHECK(n.service().stats().node_timeouts == 0);
}

TEST_CASE("http: slow and idle clients are timed out (io_timeout) without stalling the node") {
  HttpService::Options o;
  o.io_timeout = 500ms;
  ServedNode n(o);
  n.start_load();
  const std::uint16_t port = n.port();
  REQUIRE(eventually([&] { return n.last_block().has_value(); }));
  {
    // A request that never completes, and a connection that never sends: both closed.
    HttpConn slow(port), idle(port);
    REQUIRE(slow.send_raw("GET /stats HTTP/1.1\r\nHost:"));
    const auto before = *n.last_block();
    CHECK(slow.closed_by_peer());
    CHECK(idle.closed_by_peer());
    // (counted once the read handler runs, just after the socket is closed)
    CHECK(eventually([&] { return n.service().stats().timeouts >= 2; }));
    // The node committed meanwhile and the service still answers.
    CHECK(eventually([&] { return n.last_block().value_or(0) > before; }));
    get_json(port, "/stats");
  }
  {
    // An idle keep-alive connection is closed after io_timeout too.
    HttpConn c(port);
    REQUIRE(c.request("GET", "/stats").has_value());
    CHECK(c.closed_by_peer());
  }
  // Once they are gone, new connections are served again.
  CHECK(eventually([&] {
    const auto r = http_get(port, "/stats");
    return r && r->status == 200;
  }));
}

TEST_CASE(
    "http: beyond max_connections a new connection is closed at once; once one goes, others are served") {
  HttpService::Options o;
  o.max_connections = 8;
  ServedNode n(o);  // io_timeout 10 s: the 8 stay open through the test
  const std::uint16_t port = n.port();
  std::vector<std::unique_ptr<HttpConn>> open;
  for (int i = 0; i < 8; ++i) {
    open.push_back(std::make_unique<HttpConn>(port));
    const auto r = open.back()->request("GET", "/peers");  // served: it is one of the 8 sessions
    REQUIRE(r.has_value());
    CHECK(r->status == 200);
  }
  {
    HttpConn extra(port);
    REQUIRE(extra.connected());  // the kernel accepts; the service closes it without reading
    CHECK(extra.closed_by_peer());
  }
  CHECK(n.service().stats().connections_refused >= 1);
  open.pop_back();  // one goes: a new connection is served again (once the service sees it closed)
  CHECK(eventually([&] {
    const auto r = http_get(port, "/stats");
    return r && r->status == 200;
  }));
  // The 7 left are still served.
  for (auto& c : open) {
    const auto r = c->request("GET", "/stats");
    REQUIRE(r.has_value());
    CHECK(r->status == 200);
  }
}

TEST_CASE("http: a stalled node thread gets 503 after query_timeout; the service itself stays responsive") {
  HttpService::Options o;
  o.query_timeout = 300ms;
  ServedNode n(o);
  const std::uint16_t port = n.port();
  get_json(port, "/stats");
  auto release = n.stall();
  const Json e = get_json(port, "/stats", 503);
  CHECK(e.at("error").get<std::string>().find("did not answer") != std::string::npos);
  // Requests the service answers alone are unaffected.
  check_error(port, "GET", "/nope", 404);
  check_error(port, "GET", "/block/x", 400);
  CHECK(n.service().stats().node_timeouts >= 1);
  release->set_value();
  CHECK(eventually([&] {
    const auto r = http_get(port, "/stats");
    return r && r->status == 200;
  }));
}

TEST_CASE("http: the service binds at construction; a port in use is one clear sentence") {
  ServedNode n;
  HttpService::Options o;
  o.host = "127.0.0.1";
  o.port = n.port();
  try {
    HttpService second([](HttpService::NodeWork) {}, o);
    FAIL("binding a port in use must throw");
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    CHECK(what.find("cannot serve HTTP on 127.0.0.1:" + std::to_string(n.port())) != std::string::npos);
    CHECK(what.find('\n') == std::string::npos);
  }
  // Destroying a service that was never started, or stopping twice, is fine.
  o.port = 0;
  HttpService idle([](HttpService::NodeWork) {}, o);
  idle.stop();
  idle.stop();
}
