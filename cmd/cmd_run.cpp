// `chatter run --datadir DIR [options]` (spec/cli.md): one node over TCP. The in-process kvstore, or with
// --client-connect a socket application (SocketAppProxy, spec/socket-proxy.md), either wrapped
// by the ProbeApp that measures commit latency for `chatter testnet`, an in-memory store, the
// Runtime that drives the node on one io_context (this thread), the SubmitServer that accepts
// Babble.SubmitTx at --proxy-listen, and the HTTP service at --service-listen (net/http_service.h:
// its own thread, reaching the node through Runtime::post; off with --no-service). SIGINT/SIGTERM
// stop it (leaving politely arrives with the membership issue), write the final --report and exit 0.
//
// Log: one line per fact on standard error, "TIME level=L msg=WHAT key=value ...": started, a
// progress line every 5 s, errors; never one line per transaction or event at info.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "app_proxy/kvstore.h"
#include "app_proxy/socket_app_proxy.h"
#include "app_proxy/submit_server.h"
#include "cmd/commands.h"
#include "cmd/duration.h"
#include "cmd/keyfile.h"
#include "cmd/peers_file.h"
#include "cmd/probe_app.h"
#include "cmd/run_report.h"
#include "engine/node.h"
#include "net/http_service.h"
#include "net/runtime.h"
#include "store/inmem_store.h"
#include "store/lmdb_store.h"
#include "store/store_dir.h"

namespace chatter::cmd {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

struct RunArgs {
  std::string datadir, listen, advertise, moniker;
  std::string heartbeat = "10ms", slow_heartbeat = "1s", timeout = "1s";
  std::size_t sync_limit = 1000;
  std::string proxy_listen = "127.0.0.1:1338";
  std::string client_connect;  // empty: the in-process kvstore
  std::string log = "info";
  std::string service_listen = "127.0.0.1:8000";
  bool no_service = false;
  bool store = false, bootstrap = false;
  std::size_t cache_size = 50000;
  bool fast_sync = false;
  std::string report;
  // spec/cli.md options that need later issues: refused when given.
  std::vector<std::pair<std::string, CLI::Option*>> unimplemented;
};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

class Logger {
 public:
  explicit Logger(Level min) : min_(min) {}
  void log(Level level, const std::string& fields) const {
    if (level < min_) return;
    static const char* kNames[] = {"debug", "info", "warn", "error"};
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    char line_ms[8];
    std::snprintf(line_ms, sizeof line_ms, ".%03dZ", static_cast<int>(ms));
    std::cerr << stamp << line_ms << " level=" << kNames[static_cast<int>(level)] << " " << fields << "\n"
              << std::flush;
  }

 private:
  Level min_;
};

Level parse_level(const std::string& s) {
  if (s == "debug") return Level::kDebug;
  if (s == "info") return Level::kInfo;
  if (s == "warn") return Level::kWarn;
  if (s == "error") return Level::kError;
  throw UsageError("--log must be one of debug, info, warn, error (not '" + s + "')");
}

std::int64_t duration_option(const std::string& name, const std::string& text) {
  const auto ns = parse_duration_ns(text);
  if (!ns || *ns <= 0)
    throw UsageError("--" + name + " '" + text +
                     "' is not a positive duration (like 10ms, 1s, 500us, 2m, or an integer of milliseconds)");
  return *ns;
}

HostPort address_option(const std::string& name, const std::string& text, bool listening) {
  std::string error;
  const auto hp = parse_host_port(text, error, listening);
  if (!hp) throw UsageError("--" + name + ": " + error);
  return *hp;
}

template <typename T>
std::string opt_text(const std::optional<T>& v) {
  return v ? std::to_string(*v) : std::string("none");
}

// Everything a node needs, checked before anything is bound or started.
struct Setup {
  Level level = Level::kInfo;
  NodeConfig config;
  HostPort listen, proxy;
  std::optional<HostPort> client;  // --client-connect
  std::optional<HostPort> service;  // none with --no-service
  std::vector<PeerAddress> peers;
};

Setup prepare(const RunArgs& args) {
  for (const auto& [name, option] : args.unimplemented)
    if (option->count() > 0) throw UsageError("option --" + name + " is not implemented yet");
  Setup s;
  s.level = parse_level(args.log);
  s.config.heartbeat_ns = duration_option("heartbeat", args.heartbeat);
  s.config.slow_heartbeat_ns = duration_option("slow-heartbeat", args.slow_heartbeat);
  s.config.timeout_ns = duration_option("timeout", args.timeout);
  if (args.sync_limit == 0) throw UsageError("--sync-limit must be at least 1");
  s.config.sync_limit = args.sync_limit;
  s.proxy = address_option("proxy-listen", args.proxy_listen, true);
  if (!args.client_connect.empty()) s.client = address_option("client-connect", args.client_connect, false);
  if (!args.no_service) s.service = address_option("service-listen", args.service_listen, true);

  std::error_code ec;
  if (!fs::is_directory(args.datadir, ec))
    throw UsageError("the data directory " + args.datadir + " does not exist (create it with chatter keygen)");
  std::string error;
  const auto key = load_key(args.datadir, error);
  if (!key) throw UsageError(error);
  const fs::path dir(args.datadir);
  const auto peers = read_peers_file((dir / kPeersFile).string(), error);
  if (!peers) throw UsageError(error);
  std::optional<std::vector<Peer>> genesis = peers;
  if (fs::exists(dir / kGenesisPeersFile, ec)) {
    genesis = read_peers_file((dir / kGenesisPeersFile).string(), error);
    if (!genesis) throw UsageError(error);
  }
  const Peer* self = nullptr;
  for (const auto& p : *genesis)
    if (p.pub_key == key->public_key()) self = &p;
  if (self == nullptr)
    throw UsageError("this node's key " + pubkey_hex(key->public_key()) +
                     " is not in the genesis peer set; joining a running network arrives with the "
                     "membership issue");
  s.listen = address_option("listen", args.listen.empty() ? self->net_addr : args.listen, true);
  for (const auto& p : *genesis) {
    if (p.pub_key == self->pub_key) continue;
    const HostPort hp = address_option("peer " + p.moniker, p.net_addr, false);
    s.peers.push_back(PeerAddress{p.id(), hp.host, hp.port});
  }
  s.config.key = *key;
  s.config.genesis = PeerSet(*genesis);
  s.config.moniker = args.moniker.empty() ? self->moniker : args.moniker;
  if (s.config.moniker.empty()) s.config.moniker = "node" + std::to_string(self->id());
  s.config.seed = static_cast<std::uint64_t>(unix_now_ns()) ^ self->id();
  s.config.fast_sync = args.fast_sync;
  // A node that finds itself this many events behind a peer fast-forwards instead (BENCHMARKS.md).
  s.config.catch_up_threshold = 20 * s.config.sync_limit;
  return s;
}

int run_node(const RunArgs& args) {
  Setup setup;
  try {
    setup = prepare(args);
  } catch (const std::exception& e) {
    std::cerr << "chatter run: " << e.what() << "\n";
    return kExitUsage;
  }
  if (args.bootstrap && !args.store) {
    std::cerr << "chatter run: --bootstrap resumes from the store: it needs --store\n";
    return kExitUsage;
  }
  const Logger log(setup.level);
  try {
    asio::io_context io;
    // The store: in memory, or LMDB in DIR/store (locked for this process; an existing one is moved
    // aside unless --bootstrap resumes from it).
    std::optional<StoreDir> store_dir;
    std::unique_ptr<Store> store_holder;
    if (args.store) {
      store_dir.emplace(open_store_dir(args.datadir, args.bootstrap));
      log.log(Level::kInfo, "msg=store path=" + store_dir->store_path().string() + " detail=\"" + store_dir->message() + "\"");
      LmdbStore::Options lo;
      lo.cache_size = args.cache_size;
      store_holder = std::make_unique<LmdbStore>(store_dir->store_path(), lo);
      setup.config.bootstrap = args.bootstrap && store_dir->bootstrapping();
    } else {
      store_holder = std::make_unique<InmemStore>();
    }
    Store& store = *store_holder;
    // The application: in process, or a socket app whose answers wake the node (through `wake`,
    // which points at the runtime only while it exists) and whose health changes are logged once
    // each, on this thread.
    KvStore kv;
    struct WakeTarget {
      std::mutex mu;
      Runtime* runtime = nullptr;
    } wake;
    std::optional<SocketAppProxy> socket_app;
    if (setup.client) {
      SocketAppProxy::Options ao;
      ao.host = setup.client->host;
      ao.port = setup.client->port;
      ao.timeout = std::chrono::milliseconds(setup.config.timeout_ns / 1'000'000);
      ao.on_ready = [&wake] {
        std::lock_guard lock(wake.mu);
        if (wake.runtime != nullptr) wake.runtime->wake();
      };
      ao.on_health = [&io, &log, where = args.client_connect](AppHealth h, const std::string& reason) {
        asio::post(io, [&log, where, h, reason] {
          std::string f = std::string("msg=app app=") + where + " health=" + to_string(h);
          if (!reason.empty()) f += " error=\"" + reason + "\"";
          log.log(h == AppHealth::kOk ? Level::kInfo : Level::kWarn, f);
        });
      };
      socket_app.emplace(std::move(ao));
    }
    ProbeApp probe(socket_app ? static_cast<AppProxy&>(*socket_app) : kv, setup.config.moniker, unix_now_ns);
    const std::string moniker = setup.config.moniker;
    Node node(std::move(setup.config), store, probe);

    Runtime::Options ro;
    ro.listen_host = setup.listen.host;
    ro.listen_port = setup.listen.port;
    ro.peers = setup.peers;
    ro.log = [&log](const std::string& line) { log.log(Level::kWarn, "msg=runtime " + line); };
    Runtime runtime(io, node, ro);
    {
      std::lock_guard lock(wake.mu);
      wake.runtime = &runtime;
    }
    struct Unwake {  // destroyed before the runtime, so the app's thread never wakes a dead one
      WakeTarget& w;
      ~Unwake() {
        std::lock_guard lock(w.mu);
        w.runtime = nullptr;
      }
    } unwake{wake};

    SubmitServer::Options so;
    so.host = setup.proxy.host;
    so.port = setup.proxy.port;
    SubmitServer server(io, so, [&runtime](Bytes tx, std::function<void(bool, std::string)> done) {
      runtime.post([tx = std::move(tx), done = std::move(done)](Node& n) mutable {
        if (n.submit(std::move(tx))) return done(true, "");
        if (n.state() != NodeState::kBabbling)
          return done(false, std::string("node is not babbling (state ") + to_string(n.state()) + ")");
        done(false, "transaction pool full");
      });
    });

    // The HTTP service (net/http_service.h): its own thread; node data through runtime.post.
    // Declared after the runtime, so destroyed before it (the query hook uses the runtime).
    std::unique_ptr<HttpService> service;
    if (setup.service) {
      HttpService::Options ho;
      ho.host = setup.service->host;
      ho.port = setup.service->port;
      ho.log = [&log](const std::string& line) { log.log(Level::kWarn, "msg=service " + line); };
      ho.extra_stats = [&runtime, &socket_app](nlohmann::ordered_json& j) {
        // In process the application is always there; a socket app as the proxy last found it.
        j["app_reachable"] = socket_app ? socket_app->app_reachable() : true;
        if (socket_app && !socket_app->app_reachable()) j["app_error"] = socket_app->last_error();
        const TransportStats t = runtime.transport_stats();
        j["bytes_sent"] = t.bytes_sent;
        j["bytes_received"] = t.bytes_received;
        j["dropped_frames"] = t.dropped_frames;
        j["bad_frames"] = t.bad_frames;
        j["connect_failures"] = t.connect_failures;
      };
      service = std::make_unique<HttpService>(
          [&runtime, &store](HttpService::NodeWork work) {
            runtime.post([work = std::move(work), &store](Node& n) { work(n, store); });
          },
          std::move(ho));
    }

    std::optional<RunReport> report;
    if (!args.report.empty()) report.emplace(args.report, store, probe);
    auto write_report = [&](bool exited) {
      if (!report) return;
      const TransportStats t = runtime.transport_stats();
      report->set_transport(t.bytes_sent, t.bytes_received);
      std::string error;
      if (!report->write(node.stats(), exited, error)) log.log(Level::kError, "msg=report error=\"" + error + "\"");
    };

    runtime.start();
    server.start();
    if (service) service->start();
    {
      std::ostringstream f;
      f << "msg=started id=" << node.id() << " moniker=" << moniker << " listen=" << setup.listen.host << ":"
        << runtime.listen_port() << " proxy=" << setup.proxy.host << ":" << server.port() << " service="
        << (service ? service->host() + ":" + std::to_string(service->port()) : std::string("off"))
        << " peers=" << setup.peers.size();
      if (!args.advertise.empty()) f << " advertise=" << args.advertise;
      if (socket_app) f << " app=" << args.client_connect;
      log.log(Level::kInfo, f.str());
    }

    asio::steady_timer report_timer(io), progress_timer(io);
    // State changes and fast-forward outcomes, logged once each (checked every second).
    NodeStats last_seen = node.stats();
    auto log_changes = [&] {
      const NodeStats s = node.stats();
      if (s.fast_forward_refusals != last_seen.fast_forward_refusals)
        log.log(Level::kWarn, "msg=\"fast-forward answer refused\" reason=\"" + s.last_fast_forward_error + "\"");
      if (s.fast_forwards != last_seen.fast_forwards)
        log.log(Level::kInfo, "msg=fast-forwarded block=" + opt_text(s.fast_forward_block) +
                                  " snapshot_bytes=" + std::to_string(s.catch_up_bytes) +
                                  " bytes_received=" + std::to_string(runtime.transport_stats().bytes_received));
      if (s.state != last_seen.state || s.catch_up_status != last_seen.catch_up_status)
        log.log(Level::kInfo, std::string("msg=state state=") + to_string(s.state) + " status=\"" + s.catch_up_status + "\"");
      // A chunked snapshot transfer: one progress line a second (chunks, bytes, rate, ETA).
      if (s.state == NodeState::kCatchingUp && s.catch_up_chunks_total > 0)
        log.log(Level::kInfo, catch_up_progress_line(s, last_seen, 1.0));
      last_seen = s;
    };
    std::function<void()> arm_report = [&] {
      report_timer.expires_after(std::chrono::seconds(1));
      report_timer.async_wait([&](const boost::system::error_code& ec) {
        if (ec) return;
        log_changes();
        write_report(false);
        arm_report();
      });
    };
    std::function<void()> arm_progress = [&] {
      progress_timer.expires_after(std::chrono::seconds(5));
      progress_timer.async_wait([&](const boost::system::error_code& ec) {
        if (ec) return;
        const NodeStats s = node.stats();
        const TransportStats t = runtime.transport_stats();
        std::ostringstream f;
        f << "msg=progress state=" << to_string(s.state) << " round=" << opt_text(s.last_consensus_round)
          << " blocks=" << (s.last_block_index ? *s.last_block_index + 1 : 0) << " tx_committed=" << s.transactions
          << " pool=" << s.transaction_pool << " events=" << s.events << " undetermined=" << s.undetermined_events
          << " sync_errors=" << s.sync_errors << " bytes_sent=" << t.bytes_sent << " bytes_received=" << t.bytes_received
          << " dropped_frames=" << t.dropped_frames;
        log.log(Level::kInfo, f.str());
        arm_progress();
      });
    };
    write_report(false);
    arm_report();
    arm_progress();

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      log.log(Level::kInfo, "msg=stopping signal=" + std::to_string(signo));
      report_timer.cancel();
      progress_timer.cancel();
      server.stop();
      if (service) service->stop();
      runtime.stop();
      node.shutdown();
      io.stop();
    });
    io.run();
    // Lets the app hear of the Shutdown state if it is listening (bounded), then closes.
    if (socket_app) socket_app->stop(std::chrono::milliseconds(500));

    write_report(true);
    const NodeStats s = node.stats();
    log.log(Level::kInfo, "msg=stopped blocks=" + std::to_string(s.last_block_index ? *s.last_block_index + 1 : 0) +
                              " tx_committed=" + std::to_string(s.transactions));
    return 0;
  } catch (const std::exception& e) {
    // Environment failures (port in use, unusable address): one sentence, non-zero exit.
    std::string what = e.what();
    for (char& c : what)
      if (c == '\n' || c == '\r') c = ' ';
    std::cerr << "chatter run: " << what << "\n";
    return 1;
  }
}

}  // namespace

Command add_run_command(CLI::App& root) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* app = root.add_subcommand(
      "run",
      "Run one node (spec/cli.md). DIR holds priv_key, peers.json and optionally peers.genesis.json (JSON arrays "
      "of {\"NetAddr\", \"PubKeyHex\", \"Moniker\"}). Hosts the example key-value app (or uses the socket app "
      "at --client-connect) and accepts transactions with Babble.SubmitTx at --proxy-listen. SIGINT/SIGTERM stop "
      "it (exit 0). Durations: 10ms, 1s, 500us, 2m, or an integer of milliseconds.");
  app->add_option("--datadir", args->datadir, "Data directory (priv_key, peers.json)")->required();
  app->add_option("--listen", args->listen, "host:port for gossip (default: this node's NetAddr in peers.json)");
  app->add_option("--advertise", args->advertise, "host:port others reach this node at (informational for now)");
  app->add_option("--moniker", args->moniker, "Name of this node (default: its Moniker in peers.json)");
  app->add_option("--heartbeat", args->heartbeat, "Gossip period while busy")->capture_default_str();
  app->add_option("--slow-heartbeat", args->slow_heartbeat, "Gossip period while idle")->capture_default_str();
  app->add_option("--timeout", args->timeout, "An unanswered sync is abandoned after this")->capture_default_str();
  app->add_option("--sync-limit", args->sync_limit, "Max events in one sync response")->capture_default_str();
  app->add_option("--proxy-listen", args->proxy_listen, "host:port of the Babble.SubmitTx server")
      ->capture_default_str();
  app->add_option("--client-connect", args->client_connect,
                  "host:port of a socket application (spec/socket-proxy.md) to use instead of the in-process "
                  "key-value app; --timeout bounds each of its replies");
  app->add_option("--log", args->log, "Log level: debug, info, warn, error")->capture_default_str();
  app->add_option("--service-listen", args->service_listen,
                  "host:port of the HTTP service (read-only JSON: /stats, ...)")
      ->capture_default_str();
  app->add_flag("--no-service", args->no_service, "Do not start the HTTP service");
  app->add_option("--report", args->report,
                  "Write a JSON report (stats, committed blocks, latency histogram) to FILE every second and at exit");
  app->add_flag("--fast-sync", args->fast_sync,
                "Start in CatchingUp: fast-forward from the peer furthest ahead (verified block, frame and "
                "snapshot) instead of replaying history; falls back to gossip when no peer can serve");
  app->add_flag("--store", args->store,
                "Persist to LMDB in DIR/store (one process per DIR; an existing store is moved aside to "
                "DIR/store.YYYYMMDD-HHMMSS unless --bootstrap)");
  app->add_flag("--bootstrap", args->bootstrap,
                "Resume from the store (--store): the last frame, the events after it and the app's last "
                "snapshot, not history");
  app->add_option("--cache-size", args->cache_size, "Events kept decoded in memory by the LMDB store")
      ->capture_default_str();
  const std::string later = "Not implemented yet (refused with exit 2)";
  for (const char* opt : {"join-timeout", "suspend-limit"})
    args->unimplemented.emplace_back(opt, app->add_option(std::string("--") + opt, later));
  return Command{app, [args] { return run_node(*args); }};
}

}  // namespace chatter::cmd
