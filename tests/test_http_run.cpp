// The HTTP service of a real `chatter run` process (spec/cli.md, "HTTP service" and `--service-listen`,
// `--no-service`): a one-validator network under load (it commits on its own) answers every endpoint
// with JSON and CORS, the error codes hold, many concurrent clients are answered, the started line
// names the bound address, a port in use is one sentence and exit 1, SIGTERM still exits 0.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "app_proxy/submit_server.h"
#include "cmd/keyfile.h"
#include "cmd/peers_file.h"
#include "cmd/testnet_load.h"
#include "cmd/testnet_nodes.h"
#include "engine/crypto.h"
#include "tests/http_client.h"
#include "tests/process_helpers.h"

namespace fs = std::filesystem;
using namespace chatter;
using namespace chatter::cmd;
using namespace std::chrono_literals;
using chatter::testing::eventually;
using chatter::testing::http_get;
using chatter::testing::http_request;
using chatter::testing::HttpConn;
using chatter::testing::quote;
using chatter::testing::read_text;
using chatter::testing::Run;
using chatter::testing::ScratchDir;
using Json = nlohmann::json;

namespace {

std::string addr(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

// A one-validator data directory; returns its gossip address.
void make_datadir(const fs::path& dir, std::uint16_t gossip_port) {
  const KeyPair key = KeyPair::generate();
  std::string error;
  REQUIRE_MESSAGE(write_key_files(dir.string(), key, error), error);
  REQUIRE_MESSAGE(write_peers_file((dir / kPeersFile).string(),
                                   {Peer{key.public_key(), addr(gossip_port), "solo"}}, error),
                  error);
}

// Stops the process (SIGTERM, SIGKILL after the grace period) when the test ends early.
struct ProcessGuard {
  std::vector<NodeProcess> nodes;
  ~ProcessGuard() { stop_nodes(nodes, std::chrono::milliseconds(10000)); }
};

Json get_json(std::uint16_t port, const std::string& target, int status = 200) {
  const auto r = http_get(port, target);
  REQUIRE_MESSAGE(r.has_value(), "no reply to " << target);
  INFO(target << " -> " << r->status << " " << r->body);
  CHECK(r->status == status);
  CHECK(r->header("content-type") == "application/json");
  CHECK(r->header("access-control-allow-origin") == "*");
  return Json::parse(r->body);
}

}  // namespace

TEST_CASE("cli.md run: --service-listen serves the HTTP API of a running node") {
  ScratchDir scratch("chatter-http");
  const fs::path dir = scratch.path / "node";
  const auto ports = pick_free_ports(3);
  const std::uint16_t gossip = ports[0], proxy = ports[1], service = ports[2];
  make_datadir(dir, gossip);
  const std::string log = (scratch.path / "node.log").string();
  const char* exe = std::getenv("CHATTER_EXE");
  REQUIRE(exe != nullptr);

  ProcessGuard guard;
  NodeProcess p;
  p.pid = spawn_process(exe,
                        {"run", "--datadir", dir.string(), "--proxy-listen", addr(proxy), "--service-listen",
                         addr(service), "--heartbeat", "5ms"},
                        log);
  p.running = true;
  guard.nodes.push_back(p);
  REQUIRE_MESSAGE(eventually([&] {
                    const auto r = http_get(service, "/stats");
                    return r && r->status == 200;
                  }),
                  read_text(log));
  CHECK(read_text(log).find("service=" + addr(service)) != std::string::npos);

  LoadGenerator::Options lo;
  lo.moniker = "solo";
  lo.port = proxy;
  lo.rate = 300;
  LoadGenerator load(lo);
  load.start();

  // /stats: the contract's fields; last_block_index grows.
  REQUIRE(eventually([&] { return get_json(service, "/stats").at("last_block_index").is_number(); }));
  const Json s = get_json(service, "/stats");
  for (const char* k : {"id", "moniker", "state", "last_consensus_round", "last_block_index",
                        "consensus_events", "undetermined_events", "transactions", "transaction_pool",
                        "num_peers", "state_hash", "app_reachable", "bytes_sent"})
    CHECK_MESSAGE(s.contains(k), k);
  CHECK(s.at("moniker") == "solo");
  CHECK(s.at("state") == "Babbling");
  CHECK(s.at("app_reachable") == true);
  CHECK(s.at("num_peers") == 1);
  const auto first = s.at("last_block_index").get<std::uint64_t>();
  CHECK(eventually(
      [&] { return get_json(service, "/stats").at("last_block_index").get<std::uint64_t>() > first + 1; }));

  // /block/0: the shape, and transactions the load generator sent (base64 of "SET solo.<n> ...").
  const Json b0 = get_json(service, "/block/0");
  CHECK(b0.at("index") == 0);
  CHECK(b0.at("hash").get<std::string>().size() == 64);
  CHECK(b0.at("prev_block_hash") == std::string(64, '0'));
  REQUIRE_FALSE(b0.at("transactions").empty());
  const auto tx = base64_decode(b0.at("transactions")[0].get<std::string>());
  REQUIRE(tx.has_value());
  CHECK(to_string(*tx).rfind("SET solo.", 0) == 0);
  const Json b1 = get_json(service, "/block/1");
  CHECK(b1.at("prev_block_hash") == b0.at("hash"));
  const Json blocks = get_json(service, "/blocks/0?count=1000");
  CHECK(blocks.size() <= 50);
  CHECK(blocks.size() >= 2);
  CHECK(blocks[0] == get_json(service, "/block/0"));
  CHECK(get_json(service, "/peers").at(0).at("NetAddr") == addr(gossip));
  CHECK(get_json(service, "/genesispeers") == get_json(service, "/peers"));
  CHECK(get_json(service, "/validators/0") == get_json(service, "/peers"));
  CHECK(get_json(service, "/history").contains("0"));
  CHECK(get_json(service, "/graph?limit=10").at("events").size() == 10);

  // Errors.
  CHECK(get_json(service, "/nope", 404).contains("error"));
  CHECK(get_json(service, "/block/x", 400).contains("error"));
  CHECK(get_json(service, "/block/1000000000", 404).contains("error"));
  {
    const auto r = http_request(service, "POST", "/stats");
    REQUIRE(r.has_value());
    CHECK(r->status == 405);
    CHECK(r->header("access-control-allow-origin") == "*");
  }
  {
    HttpConn c(service);
    c.send_raw("GET /stats HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    const auto r = c.read_reply();
    REQUIRE(r.has_value());
    CHECK(r->status == 431);
    CHECK(c.closed_by_peer());
  }

  // 150 concurrent requests while the node commits.
  const auto before = get_json(service, "/stats").at("last_block_index").get<std::uint64_t>();
  std::vector<std::unique_ptr<HttpConn>> conns;
  for (int i = 0; i < 150; ++i) {
    conns.push_back(std::make_unique<HttpConn>(service));
    REQUIRE(conns.back()->send_request(
        "GET", i % 3 == 0 ? "/stats" : (i % 3 == 1 ? "/blocks/0?count=3" : "/graph")));
  }
  int answered = 0;
  for (auto& c : conns) {
    const auto r = c->read_reply();
    answered += r && r->status == 200 ? 1 : 0;
  }
  CHECK(answered == 150);
  CHECK(eventually(
      [&] { return get_json(service, "/stats").at("last_block_index").get<std::uint64_t>() > before; }));

  // A second node asking for the same service port: one sentence, exit 1.
  {
    const auto other = pick_free_ports(2);
    const Run r = chatter::testing::run_chatter(
        scratch, "run --datadir " + quote(dir.string()) + " --listen " + addr(other[0]) + " --proxy-listen " +
                     addr(other[1]) + " --service-listen " + addr(service));
    CHECK(r.status == 1);
    CHECK(chatter::testing::lines(r.err) == 1);
    CHECK(r.err.find("cannot serve HTTP on " + addr(service)) != std::string::npos);
  }

  load.finish(2000);
  stop_nodes(guard.nodes, std::chrono::milliseconds(10000));
  CHECK(WIFEXITED(guard.nodes[0].status));
  CHECK(WEXITSTATUS(guard.nodes[0].status) == 0);
}

TEST_CASE("cli.md run: --no-service starts no HTTP service; a bad --service-listen is a usage error") {
  ScratchDir scratch("chatter-http");
  const fs::path dir = scratch.path / "node";
  const auto ports = pick_free_ports(3);
  make_datadir(dir, ports[0]);
  {
    const Run r =
        chatter::testing::run_chatter(scratch, "run --datadir " + quote(dir.string()) +
                                                   " --service-listen nope --proxy-listen " + addr(ports[1]));
    CHECK(r.status == 2);
    CHECK(chatter::testing::lines(r.err) == 1);
    CHECK(r.err.find("--service-listen") != std::string::npos);
  }
  const std::string log = (scratch.path / "node.log").string();
  ProcessGuard guard;
  NodeProcess p;
  p.pid = spawn_process(std::getenv("CHATTER_EXE"),
                        {"run", "--datadir", dir.string(), "--proxy-listen", addr(ports[1]),
                         "--service-listen", addr(ports[2]), "--no-service"},
                        log);
  p.running = true;
  guard.nodes.push_back(p);
  REQUIRE_MESSAGE(eventually([&] { return read_text(log).find("msg=started") != std::string::npos; }),
                  read_text(log));
  CHECK(read_text(log).find("service=off") != std::string::npos);
  CHECK_FALSE(port_accepts(ports[2]));
  stop_nodes(guard.nodes, std::chrono::milliseconds(10000));
  CHECK(WIFEXITED(guard.nodes[0].status));
  CHECK(WEXITSTATUS(guard.nodes[0].status) == 0);
}
