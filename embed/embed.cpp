#include "embed/embed.h"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "cmd/keyfile.h"
#include "cmd/peers_file.h"
#include "store/inmem_store.h"
#include "store/lmdb_store.h"
#include "store/store_dir.h"

namespace chatter {

namespace fs = std::filesystem;

const Peer* DataDir::self() const {
  for (const auto& p : genesis)
    if (p.pub_key == key.public_key()) return &p;
  return nullptr;
}

DataDir load_datadir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw std::runtime_error("the data directory " + dir + " does not exist (create it with chatter keygen)");
  std::string error;
  const auto key = cmd::load_key(dir, error);
  if (!key) throw std::runtime_error(error);
  const auto peers = cmd::read_peers_file((fs::path(dir) / cmd::kPeersFile).string(), error);
  if (!peers) throw std::runtime_error(error);
  DataDir d{*key, *peers, *peers};
  const fs::path genesis = fs::path(dir) / cmd::kGenesisPeersFile;
  if (fs::exists(genesis, ec)) {
    const auto g = cmd::read_peers_file(genesis.string(), error);
    if (!g) throw std::runtime_error(error);
    d.genesis = *g;
  }
  return d;
}

namespace {

enum class Phase { kIdle, kRunning, kStopped };

cmd::HostPort address(const std::string& what, const std::string& text, bool listening) {
  std::string error;
  const auto hp = cmd::parse_host_port(text, error, listening);
  if (!hp) throw std::invalid_argument(what + ": " + error);
  return *hp;
}

}  // namespace

// Member order is destruction order in reverse: the runtime goes before the node, the node before
// the store and the io_context.
struct EmbeddedNode::Impl {
  std::optional<StoreDir> store_dir;
  std::unique_ptr<Store> store;
  boost::asio::io_context io;
  std::unique_ptr<Node> node;
  std::unique_ptr<Runtime> runtime;
  std::thread thread;
  std::atomic<std::thread::id> node_thread{};  // set by the node's thread itself
  // Guards phase and thread; held by direct node calls while no thread runs the node, and by stop()
  // until the thread has finished (the node's thread never takes it).
  mutable std::mutex mu;
  Phase phase = Phase::kIdle;

  bool on_node_thread() const { return std::this_thread::get_id() == node_thread.load(); }

  // Runs f on the node's thread and waits for its result; directly when that thread is not running
  // (idle, stopped) or is the caller.
  template <typename F>
  auto call(F f) const -> decltype(f(std::declval<Node&>())) {
    using R = decltype(f(std::declval<Node&>()));
    if (on_node_thread()) return f(*node);
    std::unique_lock lock(mu);
    if (phase != Phase::kRunning) return f(*node);
    auto done = std::make_shared<std::promise<R>>();
    auto result = done->get_future();
    // Posted while holding mu: stop() posts its own work after this, so this runs first, or in
    // stop()'s final poll.
    runtime->post([f = std::move(f), done](Node& n) mutable { done->set_value(f(n)); });
    lock.unlock();
    return result.get();
  }
};

EmbeddedNode::EmbeddedNode(Options options, AppProxy& app) : impl_(std::make_unique<Impl>()) {
  NodeConfig& config = options.node;
  const Peer* self = nullptr;
  for (const auto& p : config.genesis.peers())
    if (p.pub_key == config.key.public_key()) self = &p;
  if (self == nullptr)
    throw std::invalid_argument("this node's key " + pubkey_hex(config.key.public_key()) +
                                " is not in the genesis peer set");
  const cmd::HostPort listen =
      address("listen", options.listen.empty() ? self->net_addr : options.listen, true);
  std::vector<PeerAddress> peers;
  for (const auto& p : config.genesis.peers()) {
    if (p.pub_key == self->pub_key) continue;
    const cmd::HostPort hp = address("peer " + p.moniker, p.net_addr, false);
    peers.push_back(PeerAddress{p.id(), hp.host, hp.port});
  }
  if (config.moniker.empty())
    config.moniker = self->moniker.empty() ? "node" + std::to_string(self->id()) : self->moniker;
  if (config.seed == 0) config.seed = static_cast<std::uint64_t>(unix_now_ns()) ^ self->id();

  if (options.store_datadir.empty()) {
    impl_->store = std::make_unique<InmemStore>();
    config.bootstrap = false;
  } else {
    impl_->store_dir.emplace(open_store_dir(options.store_datadir, config.bootstrap));
    if (options.log) options.log("msg=store detail=\"" + impl_->store_dir->message() + "\"");
    LmdbStore::Options lo;
    lo.cache_size = options.cache_size;
    impl_->store = std::make_unique<LmdbStore>(impl_->store_dir->store_path(), lo);
    config.bootstrap = config.bootstrap && impl_->store_dir->bootstrapping();
  }
  impl_->node = std::make_unique<Node>(std::move(config), *impl_->store, app);

  Runtime::Options ro;
  ro.listen_host = listen.host;
  ro.listen_port = listen.port;
  ro.peers = std::move(peers);
  ro.log = options.log;
  impl_->runtime = std::make_unique<Runtime>(impl_->io, *impl_->node, std::move(ro));
}

EmbeddedNode::~EmbeddedNode() {
  stop();
  // The runtime is destroyed while no thread runs the io_context (net/runtime.h).
  impl_->runtime.reset();
}

void EmbeddedNode::start() {
  if (impl_->on_node_thread())
    throw std::logic_error("EmbeddedNode::start: called from the node's own thread");
  std::lock_guard lock(impl_->mu);
  if (impl_->phase != Phase::kIdle) throw std::logic_error("EmbeddedNode::start: already started or stopped");
  impl_->runtime->start();
  impl_->phase = Phase::kRunning;
  impl_->thread = std::thread([this] {
    impl_->node_thread = std::this_thread::get_id();
    impl_->io.run();
  });
}

void EmbeddedNode::stop() {
  if (impl_->on_node_thread())
    throw std::logic_error("EmbeddedNode::stop: called from the node's own thread");
  std::lock_guard lock(impl_->mu);
  const Phase was = impl_->phase;
  impl_->phase = Phase::kStopped;
  if (was != Phase::kRunning) {
    if (was == Phase::kIdle) impl_->node->shutdown();
    return;
  }
  boost::asio::post(impl_->io, [this] {
    impl_->runtime->stop();
    impl_->node->shutdown();
    impl_->io.stop();
  });
  impl_->thread.join();
  impl_->node_thread = std::thread::id{};
  // Work posted before the stop that io.stop() left queued runs now (submit/stats callers wait on it).
  impl_->io.restart();
  impl_->io.poll();
}

bool EmbeddedNode::submit(Bytes tx) {
  return impl_->call([tx = std::move(tx)](Node& n) mutable { return n.submit(std::move(tx)); });
}

NodeStats EmbeddedNode::stats() const {
  return impl_->call([](Node& n) { return n.stats(); });
}

TransportStats EmbeddedNode::transport_stats() const { return impl_->runtime->transport_stats(); }
std::uint16_t EmbeddedNode::listen_port() const { return impl_->runtime->listen_port(); }
std::uint32_t EmbeddedNode::id() const { return impl_->node->id(); }

}  // namespace chatter
