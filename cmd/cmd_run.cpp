// `chatter run --datadir DIR [options]` (spec/cli.md): one node over TCP. The in-process kvstore, or with
// --client-connect a socket application (SocketAppProxy, spec/socket-proxy.md), either wrapped
// by the ProbeApp that measures commit latency for `chatter testnet`, an in-memory store, the
// Runtime that drives the node on one io_context (this thread), the SubmitServer that accepts
// Babble.SubmitTx at --proxy-listen, and the HTTP service at --service-listen (net/http_service.h:
// its own thread, reaching the node through Runtime::post; off with --no-service). A key in neither
// peers.json nor peers.genesis.json makes a new node that asks to join (Joining). SIGINT/SIGTERM: a
// validator leaves politely (asks to be removed, waits until it takes effect, at most
// --leave-timeout), then the final --report is written and the process exits 0.
//
// Log (cmd/log.h, --log): one line per fact on standard error, "TIME level=L component=C msg=WHAT
// key=value ...": started, a progress line every 5 s, state changes and errors (cmd/run_log.h);
// never one line per transaction or event at info.
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "app_proxy/kvstore.h"
#include "app_proxy/socket_app_proxy.h"
#include "app_proxy/submit_server.h"
#include "cmd/commands.h"
#include "cmd/duration.h"
#include "cmd/keyfile.h"
#include "cmd/log.h"
#include "cmd/peers_file.h"
#include "cmd/probe_app.h"
#include "cmd/run_log.h"
#include "cmd/run_report.h"
#include "engine/node.h"
#include "net/http_service.h"
#include "net/metrics.h"
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
  std::string join_timeout = "10s";
  std::int64_t suspend_limit = 100;
  std::string leave_timeout = "30s";
};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

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

// Everything a node needs, checked before anything is bound or started.
struct Setup {
  LogConfig log;
  NodeConfig config;
  HostPort listen, proxy;
  std::optional<HostPort> client;  // --client-connect
  std::optional<HostPort> service;  // none with --no-service
  std::vector<PeerAddress> peers;
  std::int64_t leave_timeout_ns = 0;  // SIGINT/SIGTERM: how long a validator waits for its removal
};

Setup prepare(const RunArgs& args) {
  Setup s;
  std::string log_error;
  const auto log = parse_log_spec(args.log, log_error);
  if (!log) throw UsageError(log_error);
  s.log = *log;
  s.config.heartbeat_ns = duration_option("heartbeat", args.heartbeat);
  s.config.slow_heartbeat_ns = duration_option("slow-heartbeat", args.slow_heartbeat);
  s.config.timeout_ns = duration_option("timeout", args.timeout);
  s.config.join_timeout_ns = duration_option("join-timeout", args.join_timeout);
  if (args.suspend_limit < 0) throw UsageError("--suspend-limit must be 0 (never) or a positive number");
  s.config.suspend_limit = static_cast<std::uint64_t>(args.suspend_limit);
  {
    const auto ns = parse_duration_ns(args.leave_timeout);
    if (!ns || *ns < 0)
      throw UsageError("--leave-timeout '" + args.leave_timeout + "' is not a duration (like 30s, or 0 to stop without leaving)");
    s.leave_timeout_ns = *ns;
  }
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
  // This node in the genesis set or in peers.json (the current set). In neither, it is a new node
  // that asks the validators of peers.json to add it (Joining): it needs --listen, since no file
  // says where it listens.
  const Peer* self = nullptr;
  for (const std::vector<Peer>* list : {&std::as_const(*genesis), &std::as_const(*peers)})
    for (const auto& p : *list)
      if (!self && p.pub_key == key->public_key()) self = &p;
  if (self == nullptr && args.listen.empty())
    throw UsageError("this node's key " + pubkey_hex(key->public_key()) +
                     " is in neither peers.json nor the genesis peers: to join the network it needs --listen "
                     "(and --advertise when others reach it at another address)");
  const Peer me{key->public_key(), self ? self->net_addr : args.listen, self ? self->moniker : std::string()};
  s.listen = address_option("listen", args.listen.empty() ? me.net_addr : args.listen, true);
  if (!args.advertise.empty()) address_option("advertise", args.advertise, false);
  // Addresses of every peer the files name (the runtime finds later ones through the node).
  std::vector<std::uint32_t> seen;
  for (const std::vector<Peer>* list : {&std::as_const(*genesis), &std::as_const(*peers)})
    for (const auto& p : *list) {
      if (p.pub_key == me.pub_key || std::find(seen.begin(), seen.end(), p.id()) != seen.end()) continue;
      seen.push_back(p.id());
      const HostPort hp = address_option("peer " + p.moniker, p.net_addr, false);
      s.peers.push_back(PeerAddress{p.id(), hp.host, hp.port});
    }
  s.config.key = *key;
  s.config.genesis = PeerSet(*genesis);
  for (const auto& p : *peers)
    if (p.pub_key != me.pub_key) s.config.contacts.push_back(p);
  s.config.net_addr = !args.advertise.empty() ? args.advertise
                      : !me.net_addr.empty()  ? me.net_addr
                                              : s.listen.host + ":" + std::to_string(s.listen.port);
  s.config.moniker = args.moniker.empty() ? me.moniker : args.moniker;
  if (s.config.moniker.empty()) s.config.moniker = "node" + std::to_string(me.id());
  s.config.seed = static_cast<std::uint64_t>(unix_now_ns()) ^ me.id();
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
  const Log log(setup.log);
  try {
    asio::io_context io;
    // Installed first: a SIGINT/SIGTERM that arrives while the node starts is queued until the
    // handler below waits for it, instead of killing the process (the default action).
    asio::signal_set signals(io, SIGINT, SIGTERM);
    // The store: in memory, or LMDB in DIR/store (locked for this process; an existing one is moved
    // aside unless --bootstrap resumes from it).
    std::optional<StoreDir> store_dir;
    std::unique_ptr<Store> store_holder;
    if (args.store) {
      store_dir.emplace(open_store_dir(args.datadir, args.bootstrap));
      log.write("store", LogLevel::kInfo, "store",
                {{"path", store_dir->store_path().string()}, {"detail", store_dir->message()}});
      LmdbStore::Options lo;
      lo.cache_size = args.cache_size;
      store_holder = std::make_unique<LmdbStore>(store_dir->store_path(), lo);
      setup.config.bootstrap = args.bootstrap && store_dir->bootstrapping();
    } else {
      // Bounded like the LMDB store's cache: the newest --cache-size events (and the recent blocks
      // and Frames), so a long-running in-memory node does not grow with history.
      InmemStore::Options io;
      io.cache_size = std::max<std::size_t>(args.cache_size, 1);
      store_holder = std::make_unique<InmemStore>(io);
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
          LogFields f{{"app", where}, {"health", to_string(h)}};
          if (!reason.empty()) f.emplace_back("error", reason);
          log.write("app", h == AppHealth::kOk ? LogLevel::kInfo : LogLevel::kWarn, "app", f);
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
    ro.log = [&log](const std::string& line) { log.write("net", LogLevel::kWarn, line); };
    NodeLog node_log(log, node.stats());
    ro.on_progress = [&node_log](const Node& n) { node_log.blocks(n); };
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
      ho.log = [&log](const std::string& line) { log.write("http", LogLevel::kWarn, line); };
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
      ho.extra_metrics = [&runtime, &socket_app](MetricsWriter& w) {
        write_transport_metrics(w, runtime.transport_stats());
        w.gauge("chatter_app_reachable", "1 while the application answers (always 1 in process).",
                socket_app && !socket_app->app_reachable() ? 0 : 1);
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
      report->set_schedule(node.graph().schedule());
      std::string error;
      if (!report->write(node.stats(), exited, error))
        log.write("node", LogLevel::kError, "report", {{"path", args.report}, {"error", error}});
    };

    runtime.start();
    server.start();
    if (service) service->start();
    {
      LogFields f{{"id", std::to_string(node.id())},
                  {"moniker", moniker},
                  {"listen", setup.listen.host + ":" + std::to_string(runtime.listen_port())},
                  {"proxy", setup.proxy.host + ":" + std::to_string(server.port())},
                  {"service", service ? service->host() + ":" + std::to_string(service->port()) : "off"},
                  {"peers", std::to_string(setup.peers.size())}};
      if (!args.advertise.empty()) f.emplace_back("advertise", args.advertise);
      if (socket_app) f.emplace_back("app", args.client_connect);
      log.write("node", LogLevel::kInfo, "started", f);
    }

    asio::steady_timer report_timer(io), progress_timer(io);
    // State changes, fast-forward outcomes and errors, logged once each (checked every second).
    auto log_changes = [&] { node_log.changes(node.stats(), runtime.transport_stats()); };
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
        node_log.progress(node.stats(), runtime.transport_stats());
        arm_progress();
      });
    };
    write_report(false);
    arm_report();
    arm_progress();

    // SIGINT/SIGTERM: a validator leaves politely (Node::leave: it asks to be removed and goes on
    // gossiping until the removal takes effect, then Shutdown), for at most --leave-timeout; a
    // second signal stops it at once. A node that is alone or no validator stops at once.
    bool stopping = false;
    auto stop_all = [&] {
      if (stopping) return;
      stopping = true;
      report_timer.cancel();
      progress_timer.cancel();
      server.stop();
      if (service) service->stop();
      runtime.stop();
      node.shutdown();
      io.stop();
    };
    asio::steady_timer leave_timer(io);
    const auto leave_deadline = std::make_shared<std::chrono::steady_clock::time_point>();
    std::function<void()> watch_leave = [&] {
      leave_timer.expires_after(std::chrono::milliseconds(20));
      leave_timer.async_wait([&](const boost::system::error_code& ec) {
        if (ec) return;
        if (node.state() == NodeState::kShutdown) {
          const NodeStats st = node.stats();
          log.write("node", LogLevel::kInfo, "left", {{"status", st.membership_status}});
          stop_all();
        } else if (std::chrono::steady_clock::now() >= *leave_deadline) {
          log.write("node", LogLevel::kWarn, "leave timed out",
                    {{"waited", args.leave_timeout}, {"status", node.stats().membership_status}});
          stop_all();
        } else {
          watch_leave();
        }
      });
    };
    std::function<void()> arm_signals = [&] {
      signals.async_wait([&](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        if (*leave_deadline != std::chrono::steady_clock::time_point{}) {
          log.write("node", LogLevel::kInfo, "stopping", {{"signal", std::to_string(signo)}, {"detail", "second signal"}});
          stop_all();
          return;
        }
        if (setup.leave_timeout_ns == 0) {  // --leave-timeout 0: stop without leaving
          log.write("node", LogLevel::kInfo, "stopping", {{"signal", std::to_string(signo)}});
          stop_all();
          return;
        }
        log.write("node", LogLevel::kInfo, "leaving", {{"signal", std::to_string(signo)}});
        *leave_deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(setup.leave_timeout_ns);
        runtime.post_call([](Node& n) { return n.leave(unix_now_ns()); });
        watch_leave();
        arm_signals();
      });
    };
    arm_signals();
    io.run();
    // Lets the app hear of the Shutdown state if it is listening (bounded), then closes.
    if (socket_app) socket_app->stop(std::chrono::milliseconds(500));

    write_report(true);
    const NodeStats s = node.stats();
    log.write("node", LogLevel::kInfo, "stopped",
              {{"blocks", std::to_string(s.last_block_index ? *s.last_block_index + 1 : 0)},
               {"tx_committed", std::to_string(s.transactions)}});
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
      "at --client-connect) and accepts transactions with Babble.SubmitTx at --proxy-listen. A key in neither "
      "file joins the running network (it needs --listen). SIGINT/SIGTERM: a validator leaves politely (asks to be "
      "removed, waits for it at most --leave-timeout), then exits 0. Durations: 10ms, 1s, 500us, 2m, or an "
      "integer of milliseconds.");
  app->add_option("--datadir", args->datadir, "Data directory (priv_key, peers.json)")->required();
  app->add_option("--listen", args->listen, "host:port for gossip (default: this node's NetAddr in peers.json)");
  app->add_option("--advertise", args->advertise, "host:port others reach this node at, carried in its request to join (default: its NetAddr in the peer files, or --listen)");
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
  app->add_option("--log", args->log,
                  "Log levels: a level for every component (trace, debug, info, warn, error, off) and/or "
                  "component=level items, comma-separated (components: node, gossip, fastsync, store, app, "
                  "http, net), e.g. info,gossip=debug")
      ->capture_default_str();
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
  app->add_option("--cache-size", args->cache_size, "Events kept in memory: the LMDB store's decoded cache, or all the in-memory store keeps")
      ->capture_default_str();
  app->add_option("--join-timeout", args->join_timeout,
                  "A node outside the validator set asks a validator of peers.json to add it; unanswered after "
                  "this, it asks the next one (the wait doubling up to 60 s)")
      ->capture_default_str();
  app->add_option("--suspend-limit", args->suspend_limit,
                  "Suspended (no new events, still answering) when this node's undetermined events exceed this "
                  "many times the number of validators (0: never)")
      ->capture_default_str();
  app->add_option("--leave-timeout", args->leave_timeout,
                  "SIGINT/SIGTERM: a validator asks to be removed and waits at most this long for the removal to "
                  "take effect before it stops anyway; 0: stop at once without leaving (the whole network stops)")
      ->capture_default_str();
  return Command{app, [args] { return run_node(*args); }};
}

}  // namespace chatter::cmd
