// chatter-bench socketproxy: transactions per second committed through the socket app proxy
// (app_proxy/socket_app_proxy.h) next to the same single-node run with the in-process key-value app,
// and where the time goes, so that we can tell whether the engine or the app path is the bottleneck.
//
// Protocol: one validator alone (it creates events by itself while it has work) driven directly on
// this thread: keep the transaction pool topped up to --pool, tick the node, and sleep until its
// next tick or until the proxy has an answer (on_ready). The socket app is a minimal C++ server on
// its own thread in this process: it parses each request with nlohmann-json, decodes the
// transactions and chains a BLAKE2b hash over them (the work the Python example does), and replies.
// Each mode runs --seconds of wall-clock time after a warm-up of 0.5 s.
//
// Reported per mode: tx_committed, tx_per_s, blocks, node_cpu_s (this thread's CPU time: the engine,
// plus the app itself in process), and for the socket mode app_wait_s (time a call was outstanding:
// request written to reply read), proxy_encode_s (time the adapter's thread spent writing requests
// as JSON), app_path_busy_fraction ((app_wait_s + proxy_encode_s) / seconds), app_server_cpu_s (the
// fake app's thread CPU time, warm-up included) and mean_call_ms (wait per call). The adapter sends one call
// at a time, so "bottleneck" names the busier of the two in socket mode: "app path" (app_path_busy_fraction)
// or "engine" (node_cpu_fraction, the node thread's CPU time / seconds; the node keeps creating events and
// running consensus while a commit is outstanding). On a machine with fewer cores than the three busy threads
// (node, adapter, app) both figures include contention.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "bench/bench_util.h"
#include "app_proxy/base64.h"
#include "app_proxy/json_stream.h"
#include "app_proxy/kvstore.h"
#include "app_proxy/socket_app_proxy.h"
#include "engine/crypto.h"
#include "engine/node.h"
#include "store/inmem_store.h"

namespace chatter::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

struct Options {
  double seconds = 5;
  std::size_t tx_size = 100;
  std::size_t pool = 20000;
};


std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The minimal fast app: State.CommitBlock chains BLAKE2b over the transactions; anything else gets {}.
class FastApp {
 public:
  FastApp() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 4) != 0)
      throw std::runtime_error("cannot listen on loopback");
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~FastApp() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  double cpu_s() const { return cpu_s_; }  // the server thread's CPU seconds, once stop() returned
  void stop() {
    if (stop_.exchange(true)) return;
    thread_.join();
    thread_ = std::thread([] {});
  }

 private:
  static bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 20) > 0;
  }

  void run() {
    while (!stop_) {
      if (!readable(fd_)) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      int one = 1;
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      serve(c);
      ::close(c);
    }
    cpu_s_ = thread_cpu_s();
  }

  void serve(int c) {
    std::string buf;
    JsonObjectScanner scanner(SocketAppProxy::kMaxReplyBytes);
    std::vector<char> chunk(1 << 20);
    Hash state = blake2b(std::string_view("bench"));
    while (!stop_) {
      const auto r = scanner.scan(buf);
      if (r == JsonObjectScanner::Result::kObject) {
        const Json req = Json::parse(buf.begin() + static_cast<std::ptrdiff_t>(scanner.object_start()),
                                     buf.begin() + static_cast<std::ptrdiff_t>(scanner.pos()));
        scanner.mark_consumed();
        buf.erase(0, scanner.take_consumed());
        Json result = Json::object();
        if (req.at("method") == "State.CommitBlock") {
          for (const auto& t : req.at("params").at(0).at("Body").at("Transactions")) {
            const auto tx = base64_decode(t.get_ref<const std::string&>());
            Bytes in(state.data.begin(), state.data.end());
            in.insert(in.end(), tx->begin(), tx->end());
            state = blake2b(in);
          }
          result = {{"StateHash", base64_encode(state.data.data(), state.data.size())},
                    {"InternalTransactionReceipts", Json::array()}};
        }
        const std::string reply =
            Json{{"id", req.at("id")}, {"result", result}, {"error", nullptr}}.dump() + "\n";
        std::string_view rest = reply;
        while (!rest.empty()) {
          const ssize_t n = ::send(c, rest.data(), rest.size(), MSG_NOSIGNAL);
          if (n <= 0) return;
          rest.remove_prefix(static_cast<std::size_t>(n));
        }
        continue;
      }
      if (r != JsonObjectScanner::Result::kNeedMore) return;
      if (!readable(c)) continue;
      const ssize_t got = ::recv(c, chunk.data(), chunk.size(), 0);
      if (got <= 0) return;
      buf.append(chunk.data(), static_cast<std::size_t>(got));
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<double> cpu_s_{0};
  std::thread thread_;
};

struct Waker {
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  void notify() {
    {
      std::lock_guard lock(mu);
      ready = true;
    }
    cv.notify_one();
  }
};

struct RunResult {
  std::uint64_t tx_committed = 0, blocks = 0;
  double seconds = 0, node_cpu_s = 0;
};

// Drives a single-node network for `seconds` (after a 0.5 s warm-up) with `app` as its application.
// `on_measure` runs when the measured part starts.
RunResult drive(AppProxy& app, Waker& waker, const Options& o, const std::function<void()>& on_measure) {
  const KeyPair key = KeyPair::from_name("bench");
  NodeConfig cfg;
  cfg.key = key;
  cfg.genesis = PeerSet({Peer{key.public_key(), "127.0.0.1:1", "bench"}});
  cfg.moniker = "bench";
  cfg.heartbeat_ns = 100'000;  // create events as fast as the work allows
  cfg.max_pool = o.pool * 2;
  InmemStore store;
  Node node(cfg, store, app);

  std::uint64_t seq = 0;
  RunResult r;
  const auto warm_end = Clock::now() + std::chrono::milliseconds(500);
  const auto end =
      warm_end + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  bool measuring = false;
  std::uint64_t tx0 = 0, blocks0 = 0;
  double cpu0 = 0;
  for (;;) {
    const auto now = Clock::now();
    if (!measuring && now >= warm_end) {
      measuring = true;
      const NodeStats s = node.stats();
      tx0 = s.transactions;
      blocks0 = s.last_block_index ? *s.last_block_index + 1 : 0;
      cpu0 = thread_cpu_s();
      if (on_measure) on_measure();
    }
    if (now >= end) break;
    for (std::uint64_t pool = node.stats().transaction_pool; pool < o.pool; ++pool) {
      std::string tx = "SET k" + std::to_string(seq++) + " ";  // a valid kvstore command
      tx.resize(std::max(tx.size(), o.tx_size), 'x');
      if (!node.submit(Bytes(tx.begin(), tx.end()))) break;
    }
    (void)node.tick(now_ns());
    const std::int64_t wait = std::clamp<std::int64_t>(node.next_tick() - now_ns(), 0, 50'000'000);
    std::unique_lock lock(waker.mu);
    waker.cv.wait_for(lock, std::chrono::nanoseconds(wait), [&] { return waker.ready; });
    waker.ready = false;
  }
  const NodeStats s = node.stats();
  r.seconds = o.seconds;
  r.node_cpu_s = thread_cpu_s() - cpu0;
  r.tx_committed = s.transactions - tx0;
  r.blocks = (s.last_block_index ? *s.last_block_index + 1 : 0) - blocks0;
  return r;
}

Json run_json(const RunResult& r) {
  Json j;
  j["tx_committed"] = r.tx_committed;
  j["tx_per_s"] = static_cast<double>(r.tx_committed) / r.seconds;
  j["blocks"] = r.blocks;
  j["mean_block_txs"] = r.blocks ? static_cast<double>(r.tx_committed) / static_cast<double>(r.blocks) : 0.0;
  j["node_cpu_s"] = r.node_cpu_s;
  return j;
}

}  // namespace

int socketproxy_main(int argc, char** argv) {
  Options o;
  CLI::App cli{
      "Transactions per second through the socket app proxy vs the in-process app; prints one JSON "
      "document.",
      "chatter-bench socketproxy"};
  cli.add_option("--seconds", o.seconds, "measured seconds per mode")->check(CLI::Range(0.1, 3600.0));
  cli.add_option("--tx-size", o.tx_size, "bytes per transaction")->check(CLI::Range(8, 1000000));
  cli.add_option("--pool", o.pool, "transactions kept in the pool")->check(CLI::Range(1, 1000000));
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return cli.exit(e);
    std::cerr << "chatter-bench socketproxy: " << e.what() << "\n";
    return 2;
  }

  std::cerr << "in-process app...\n";
  KvStore kv;
  Waker idle;
  const RunResult inproc = drive(kv, idle, o, nullptr);

  std::cerr << "socket app proxy...\n";
  FastApp fast;
  Waker waker;
  SocketAppProxy::Options po;
  po.port = fast.port();
  po.timeout = std::chrono::milliseconds(10000);
  po.on_ready = [&waker] { waker.notify(); };
  RunResult sock;
  SocketAppStats st;
  {
    SocketAppProxy proxy(po);
    SocketAppStats before;
    sock = drive(proxy, waker, o, [&] { before = proxy.stats(); });
    st = proxy.stats();
    st.wait_ns -= before.wait_ns;
    st.encode_ns -= before.encode_ns;
    st.calls -= before.calls;
    proxy.stop();
  }
  fast.stop();

  Json out;
  out["benchmark"] = "socketproxy";
  out["seconds"] = o.seconds;
  out["tx_size"] = o.tx_size;
  out["inproc"] = run_json(inproc);
  Json s = run_json(sock);
  const double wait_s = static_cast<double>(st.wait_ns) / 1e9;
  const double encode_s = static_cast<double>(st.encode_ns) / 1e9;
  s["app_wait_s"] = wait_s;
  s["proxy_encode_s"] = encode_s;
  s["app_path_busy_fraction"] = (wait_s + encode_s) / o.seconds;
  s["app_server_cpu_s"] = fast.cpu_s();
  s["calls"] = st.calls;
  s["errors"] = st.errors;
  s["mean_call_ms"] = st.calls ? wait_s * 1000.0 / static_cast<double>(st.calls) : 0.0;
  s["node_cpu_fraction"] = sock.node_cpu_s / o.seconds;
  out["socket"] = s;
  out["socket_to_inproc_ratio"] =
      inproc.tx_committed ? static_cast<double>(sock.tx_committed) / static_cast<double>(inproc.tx_committed)
                          : 0.0;
  const double app_path = (wait_s + encode_s) / o.seconds;
  const double engine = s["node_cpu_fraction"].get<double>();
  out["bottleneck"] = app_path > engine ? "app path" : "engine";
  std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace chatter::bench
