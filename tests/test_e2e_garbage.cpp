// End-to-end robustness (DESIGN.md, Error policy 1: bad input from a peer or a client is refused, never a
// crash): three real `chatter run` processes commit under load while many loopback connections throw
// garbage at every node's gossip port, its `--proxy-listen` JSON-RPC port and its HTTP service port:
// random bytes, huge, zero and truncated length prefixes, unknown message types, well-framed payloads
// of random bytes, forged gossip messages, malformed and deeply nested JSON, an oversized request,
// malformed HTTP, and half-open connections held through the check. Afterwards every node is alive,
// keeps committing, and all hold identical blocks (hash and state hash at every common index).
// Bounded loops, seeded randomness, loopback only; nothing asserts on timing.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cmd/keyfile.h"
#include "cmd/peers_file.h"
#include "cmd/testnet_load.h"
#include "cmd/testnet_nodes.h"
#include "engine/crypto.h"
#include "net/wire.h"
#include "tests/http_client.h"
#include "tests/process_helpers.h"

namespace fs = std::filesystem;
using namespace chatter;
using namespace chatter::cmd;
using namespace std::chrono_literals;
using Json = nlohmann::json;

namespace {

constexpr int kNodes = 3;
constexpr int kConnectionsPerPort = 100;  // per node and port, plus the half-open ones

std::string addr(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

// A client connection that never blocks for long: every send and receive gives up after 1 s.
class RawConn {
 public:
  explicit RawConn(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    timeval tv{};
    tv.tv_sec = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  bool ok() const { return fd_ >= 0; }
  // Best effort: stops at the first failed send (the server closed, or stopped reading for 1 s).
  void send(const std::string& bytes) {
    std::size_t off = 0;
    while (fd_ >= 0 && off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<std::size_t>(n);
    }
  }
  // Reads whatever arrives within the receive timeout, at most `limit` bytes.
  void drain(std::size_t limit = 1 << 20) {
    char b[16384];
    std::size_t got = 0;
    while (fd_ >= 0 && got < limit) {
      const ssize_t n = ::recv(fd_, b, sizeof b, 0);
      if (n <= 0) return;
      got += static_cast<std::size_t>(n);
    }
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  // Close with a reset instead of a FIN.
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string random_bytes(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

std::string le32(std::uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

std::string to_string(const Bytes& b) { return std::string(b.begin(), b.end()); }

// Bytes for the gossip port (net/wire.h frames), choice `k`.
std::string gossip_garbage(std::mt19937_64& rng, unsigned k) {
  switch (k % 9) {
    case 0:
      return random_bytes(rng, 1 + rng() % 65536);
    case 1:
      return le32(0xffffffffu) + "\x01" + random_bytes(rng, 100);  // far above the cap
    case 2:
      return le32(static_cast<std::uint32_t>(kDefaultMaxFrame) + 1) + "\x02";
    case 3:
      return le32(0) + random_bytes(rng, 10);  // zero length
    case 4:
      return le32(1000) + "\x01" + random_bytes(rng, 10);  // truncated, then closed
    case 5:
      return le32(10) + std::string(1, static_cast<char>(rng() % 2 ? 0 : 200)) + random_bytes(rng, 9);
    case 6: {  // a well-framed message of every type whose payload is random
      const std::size_t n = rng() % 4096;
      return le32(static_cast<std::uint32_t>(n + 1)) + std::string(1, static_cast<char>(1 + rng() % 8)) +
             random_bytes(rng, n);
    }
    case 7: {  // forged but well-formed gossip: unknown senders, events with bad signatures
      WireEvent e;
      e.creator_id = static_cast<std::uint32_t>(rng());
      e.index = rng() % 1000;
      e.transactions = {Bytes(16, 0x41)};
      std::string out = to_string(encode_frame(SyncRequest{static_cast<std::uint32_t>(rng()), {{1, rng()}}}));
      out += to_string(encode_frame(EagerSyncRequest{static_cast<std::uint32_t>(rng()), {e}}));
      out += to_string(encode_frame(FastForwardRequest{static_cast<std::uint32_t>(rng()), 0}));
      return out + to_string(encode_frame(PositionRequest{static_cast<std::uint32_t>(rng())}));
    }
    default:  // claims 16 MiB, sends 1 MiB of it, then goes away
      return le32(static_cast<std::uint32_t>(kDefaultMaxFrame)) + "\x08" + random_bytes(rng, 1 << 20);
  }
}

// Bytes for the Babble.SubmitTx JSON-RPC port, choice `k`.
std::string proxy_garbage(std::mt19937_64& rng, unsigned k) {
  switch (k % 9) {
    case 0:
      return random_bytes(rng, 1 + rng() % 65536);
    case 1:
      return "{\"method\":\"Babble.SubmitTx\",\"params\":[\"" + random_bytes(rng, 200) + "\"],\"id\":1}";
    case 2:
      return "{\"method\":\"Babble.SubmitTx\",\"params\":[\"!!not base64\"],\"id\":2}\n";
    case 3:
      return "{\"id\":" + std::string(100000, '[') + std::string(100000, ']') + "}";  // too deep
    case 4:
      return "{\"method\":\"Babble.SubmitTx\",\"params\":[\"" + std::string(5 << 20, 'A');  // > 4 MiB
    case 5: {
      std::string s;
      for (int i = 0; i < 200; ++i)
        s += "{\"method\":\"State.Nope\",\"params\":[{}],\"id\":" + std::to_string(i) + "}";
      return s;
    }
    case 6:
      return "{\"method\":\"Babble.SubmitTx\",\"params\":[\"aGk=\"],\"id\":3,}{]]]" + random_bytes(rng, 64);
    case 7:
      return "{\"method\":\"Babble.SubmitTx\",\"params\":[\"unterminated";
    default: {  // well-formed requests whose transactions are random bytes: the app must cope
      std::string s;
      for (int i = 0; i < 5; ++i) {
        const std::string tx = random_bytes(rng, 1 + rng() % 64);
        std::string b64;
        static constexpr char kA[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (std::size_t j = 0; j + 3 <= tx.size(); j += 3) {
          const unsigned v = (static_cast<unsigned char>(tx[j]) << 16) |
                             (static_cast<unsigned char>(tx[j + 1]) << 8) |
                             static_cast<unsigned char>(tx[j + 2]);
          b64 += {kA[(v >> 18) & 63], kA[(v >> 12) & 63], kA[(v >> 6) & 63], kA[v & 63]};
        }
        if (b64.empty()) b64 = "AAAA";
        s += "{\"method\":\"Babble.SubmitTx\",\"params\":[\"" + b64 + "\"],\"id\":" + std::to_string(i) +
             "}\n";
      }
      return s;
    }
  }
}

// Bytes for the HTTP service port, choice `k`.
std::string http_garbage(std::mt19937_64& rng, unsigned k) {
  switch (k % 9) {
    case 0:
      return random_bytes(rng, 1 + rng() % 65536);
    case 1:
      return "GET /" + std::string(100000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n";
    case 2:
      return "GET /stats HTTP/1.1\r\nHost: x\r\nX: " + std::string(1 << 20, 'b') + "\r\n\r\n";
    case 3:
      return "GET /block/18446744073709551616 HTTP/1.1\r\nHost: x\r\n\r\nGET /blocks/0?count=99999999999 "
             "HTTP/1.1\r\nHost: x\r\n\r\nGET /validators/-5 HTTP/1.1\r\nHost: x\r\n\r\nGET /graph?count=%zz "
             "HTTP/1.1\r\nHost: x\r\n\r\n";
    case 4:
      return "POST /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n" +
             random_bytes(rng, 1000);
    case 5:
      return "GET /stats HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" +
             random_bytes(rng, 50);
    case 6:
      return "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n" + random_bytes(rng, 4096);  // valid, then garbage
    case 7:
      return "\r\n\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
    default:
      return "GET /block/1 HTTP/9.9\r\n" + random_bytes(rng, 300) + "\r\n\r\n";
  }
}

// One node's attack on one port: kConnectionsPerPort connections of garbage, closed in various ways.
void attack(std::uint16_t port, std::uint64_t seed, std::string (*garbage)(std::mt19937_64&, unsigned)) {
  std::mt19937_64 rng(seed);
  for (int i = 0; i < kConnectionsPerPort; ++i) {
    RawConn c(port);
    if (!c.ok()) continue;
    const std::string bytes = garbage(rng, static_cast<unsigned>(i));
    // Sometimes in small pieces, so the servers see every split of the input.
    if (rng() % 4 == 0) {
      for (std::size_t off = 0; off < bytes.size() && off < 4096; off += 7) c.send(bytes.substr(off, 7));
    } else {
      c.send(bytes);
    }
    switch (rng() % 3) {
      case 0:
        c.reset();
        break;
      case 1:
        c.shutdown_write();  // half-close: the server may still answer
        c.drain();
        break;
      default:
        break;  // plain close at scope exit
    }
  }
}

struct Nodes {
  std::vector<NodeProcess> procs;
  ~Nodes() { stop_nodes(procs, std::chrono::milliseconds(10000)); }
};

std::optional<Json> stats(std::uint16_t service) {
  const auto r = chatter::testing::http_get(service, "/stats");
  if (!r || r->status != 200) return std::nullopt;
  const Json j = Json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// The last committed block index, -1 when none or when the node does not answer.
std::int64_t last_block(std::uint16_t service) {
  const auto s = stats(service);
  if (!s || !s->at("last_block_index").is_number()) return -1;
  return s->at("last_block_index").get<std::int64_t>();
}

}  // namespace

TEST_CASE(
    "DESIGN.md Error policy 1: garbage at the gossip, proxy and HTTP ports of running nodes refused, "
    "they keep committing and agree") {
  const char* exe = std::getenv("CHATTER_EXE");
  REQUIRE_MESSAGE(exe != nullptr, "CHATTER_EXE must be set (meson test sets it)");
  chatter::testing::ScratchDir scratch("chatter-e2e-garbage");
  const auto ports = pick_free_ports(3 * kNodes);
  auto gossip = [&](int i) { return ports[static_cast<std::size_t>(3 * i)]; };
  auto proxy = [&](int i) { return ports[static_cast<std::size_t>(3 * i + 1)]; };
  auto service = [&](int i) { return ports[static_cast<std::size_t>(3 * i + 2)]; };
  auto dir = [&](int i) { return scratch.path / ("node" + std::to_string(i)); };

  std::vector<Peer> peers;
  for (int i = 0; i < kNodes; ++i) {
    const KeyPair key = KeyPair::from_name("garbage-node" + std::to_string(i));
    std::string error;
    REQUIRE_MESSAGE(write_key_files(dir(i).string(), key, error), error);
    peers.push_back(Peer{key.public_key(), addr(gossip(i)), "node" + std::to_string(i)});
  }
  for (int i = 0; i < kNodes; ++i) {
    std::string error;
    REQUIRE_MESSAGE(write_peers_file((dir(i) / kPeersFile).string(), peers, error), error);
  }

  Nodes nodes;
  for (int i = 0; i < kNodes; ++i) {
    NodeProcess p;
    p.index = static_cast<std::size_t>(i);
    p.pid = spawn_process(exe,
                          {"run", "--datadir", dir(i).string(), "--proxy-listen", addr(proxy(i)),
                           "--service-listen", addr(service(i)), "--log", "warn"},
                          (scratch.path / ("node" + std::to_string(i) + ".log")).string());
    p.running = true;
    nodes.procs.push_back(p);
  }
  auto logs = [&] {
    std::string all;
    for (int i = 0; i < kNodes; ++i)
      all += "--- node" + std::to_string(i) + "\n" +
             tail_file((scratch.path / ("node" + std::to_string(i) + ".log")).string(), 15);
    return all;
  };
  auto all_alive = [&] {
    bool alive = true;
    for (auto& p : nodes.procs) alive = !reap_if_exited(p) && p.running && alive;
    return alive;
  };
  INFO(logs());

  // Load on every node, and a first block everywhere before the attack.
  std::vector<std::unique_ptr<LoadGenerator>> load;
  for (int i = 0; i < kNodes; ++i) {
    REQUIRE(chatter::testing::eventually([&] { return port_accepts(proxy(i)); }, 20ms, 60s));
    LoadGenerator::Options o;
    o.moniker = "node" + std::to_string(i);
    o.port = proxy(i);
    o.rate = 100;
    load.push_back(std::make_unique<LoadGenerator>(o));
    load.back()->start();
  }
  for (int i = 0; i < kNodes; ++i)
    REQUIRE_MESSAGE(chatter::testing::eventually([&] { return last_block(service(i)) >= 0; }, 50ms, 90s),
                    "node ", i, " committed no block before the attack");

  // Half-open connections, held until the end: connected and silent, or a partial header.
  std::vector<std::unique_ptr<RawConn>> held;
  for (int i = 0; i < kNodes; ++i) {
    for (std::uint16_t port : {gossip(i), proxy(i), service(i)}) {
      for (int k = 0; k < 5; ++k) {
        held.push_back(std::make_unique<RawConn>(port));
        if (k % 2 == 1) held.back()->send(port == service(i) ? "GET /stats HTTP/1.1\r\n" : "\x10\x00");
      }
    }
  }

  // The attack: every port of every node at once, one thread each, seeded.
  std::vector<std::thread> attackers;
  for (int i = 0; i < kNodes; ++i) {
    const auto seed = static_cast<std::uint64_t>(1000 + 10 * i);
    attackers.emplace_back(attack, gossip(i), seed, &gossip_garbage);
    attackers.emplace_back(attack, proxy(i), seed + 1, &proxy_garbage);
    attackers.emplace_back(attack, service(i), seed + 2, &http_garbage);
  }
  for (auto& t : attackers) t.join();

  // Every node survived, and each keeps committing (its block index grows past where it stood after
  // the attack) while the half-open connections are still held.
  REQUIRE(all_alive());
  std::vector<std::int64_t> after_attack;
  for (int i = 0; i < kNodes; ++i) {
    const std::int64_t b = last_block(service(i));
    CHECK_MESSAGE(b >= 0, "node ", i, " does not answer /stats after the attack");
    after_attack.push_back(b);
  }
  for (int i = 0; i < kNodes; ++i)
    CHECK_MESSAGE(chatter::testing::eventually(
                      [&] { return last_block(service(i)) >= after_attack[static_cast<std::size_t>(i)] + 2; },
                      50ms, 90s),
                  "node ", i, " stopped committing after the attack");
  CHECK(all_alive());
  held.clear();

  // Agreement: once the load stops the nodes settle on one last block; every block both hold is equal.
  for (auto& l : load) l.reset();
  CHECK(chatter::testing::eventually(
      [&] {
        const std::int64_t b0 = last_block(service(0));
        for (int i = 1; i < kNodes; ++i)
          if (last_block(service(i)) != b0) return false;
        return b0 >= 0;
      },
      100ms, 90s));
  std::int64_t common = last_block(service(0));
  for (int i = 1; i < kNodes; ++i) common = std::min(common, last_block(service(i)));
  REQUIRE(common >= 0);
  for (std::int64_t index = 0; index <= common; index += 50) {
    std::vector<Json> per_node;
    for (int i = 0; i < kNodes; ++i) {
      const auto r = chatter::testing::http_get(service(i), "/blocks/" + std::to_string(index) + "?count=50");
      REQUIRE(r.has_value());
      REQUIRE(r->status == 200);
      per_node.push_back(Json::parse(r->body));
    }
    for (int i = 1; i < kNodes; ++i) {
      const Json& a = per_node[0];
      const Json& b = per_node[static_cast<std::size_t>(i)];
      const std::size_t n = std::min(a.size(), b.size());
      CHECK(n > 0);
      for (std::size_t k = 0; k < n; ++k) {
        CAPTURE(a[k].at("index"));
        CHECK(a[k].at("hash") == b[k].at("hash"));
        CHECK(a[k].at("state_hash") == b[k].at("state_hash"));
      }
    }
  }
  const auto s0 = stats(service(0));
  REQUIRE(s0.has_value());
  for (int i = 1; i < kNodes; ++i) {
    const auto s = stats(service(i));
    REQUIRE(s.has_value());
    if (s->at("last_block_index") == s0->at("last_block_index"))
      CHECK(s->at("state_hash") == s0->at("state_hash"));
  }
  CHECK(all_alive());
}
