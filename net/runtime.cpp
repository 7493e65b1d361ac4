// The runtime (net/runtime.h): one Node on one io_context, its messages carried as wire frames over
// TCP. Written with Asio C++20 coroutines; everything below runs on the io_context's single thread,
// so the state here needs no locks (only the transport counters are atomics, for other threads).
//
// Shape:
//  - accept_loop: accepts incoming connections and spawns one read_loop each (read-only: frames
//    are decoded with FrameDecoder and handed to Node::receive).
//  - peer_loop (one per peer): waits for something to send, connects (with backoff after a
//    failure), then write_loop drains the peer's queue with gathered writes until the connection
//    fails or stays idle; a watch_close coroutine notices the peer closing its end.
//  - the tick timer: Node::tick at Node::next_tick (bounded to 1 ms .. 50 ms from now).
// Every socket operation is guarded by an OpDeadline that closes the connection when the operation
// outlives io_timeout.
#include "net/runtime.h"

#include "net/address.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <exception>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>
#include <variant>

#include "net/wire.h"

namespace chatter {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto kBackoffMin = 100ms;
constexpr auto kBackoffMax = 5000ms;
constexpr auto kMinTickDelay = 1ms;
constexpr auto kMaxTickDelay = 50ms;
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kMaxGatherFrames = 64;
constexpr std::size_t kMaxGatherBytes = 4u * 1024 * 1024;

// `co_await op(..., ec_token(ec))` stores the error instead of throwing.
auto ec_token(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

std::string endpoint_text(const tcp::socket& s) {
  error_code ec;
  const tcp::endpoint ep = s.remote_endpoint(ec);
  if (ec) return "unknown address";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

// One TCP connection (incoming or outgoing) and the timer that bounds its current operation.
struct Conn {
  explicit Conn(asio::io_context& io) : socket(io), resolver(io), deadline(io) {}
  explicit Conn(tcp::socket s) : socket(std::move(s)), resolver(socket.get_executor()), deadline(socket.get_executor()) {}

  void close() {
    error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    resolver.cancel();
    deadline.cancel();
  }

  tcp::socket socket;
  tcp::resolver resolver;
  asio::steady_timer deadline;
  std::uint64_t op = 0;    // generation of the guarded operation (a stale expiry must not fire)
  bool timed_out = false;  // the last guarded operation was cut off by its deadline
};

// Closes the connection if the operation in scope outlives `timeout`. Scoped to one co_await.
class OpDeadline {
 public:
  OpDeadline(const std::shared_ptr<Conn>& c, std::chrono::milliseconds timeout) : c_(c) {
    const std::uint64_t gen = ++c_->op;
    c_->timed_out = false;
    c_->deadline.expires_after(timeout);
    c_->deadline.async_wait([c, gen](error_code ec) {
      if (ec || c->op != gen) return;  // cancelled, or the operation already finished
      c->timed_out = true;
      c->close();
    });
  }
  ~OpDeadline() {
    ++c_->op;
    c_->deadline.cancel();
  }
  OpDeadline(const OpDeadline&) = delete;
  OpDeadline& operator=(const OpDeadline&) = delete;

 private:
  std::shared_ptr<Conn> c_;
};

using WireFrame = std::shared_ptr<const Bytes>;

// The outgoing side of one peer: its queue and its current connection.
struct OutPeer {
  OutPeer(asio::io_context& io, PeerAddress a) : addr(std::move(a)), wake(io) {}

  std::string name() const { return "peer " + std::to_string(addr.id) + " (" + addr.host + ":" + std::to_string(addr.port) + ")"; }
  // Wakes peer_loop (it waits on `wake` for new frames, an idle deadline or a backoff delay).
  void notify() { wake.cancel(); }

  PeerAddress addr;
  asio::steady_timer wake;
  std::deque<WireFrame> queue;
  std::size_t queued_bytes = 0;
  bool overflowing = false;     // the queue is dropping frames (logged once per episode)
  std::shared_ptr<Conn> conn;   // current connection, if any
};

}  // namespace

std::int64_t unix_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Runtime::Impl : std::enable_shared_from_this<Runtime::Impl> {
  Impl(asio::io_context& context, Node& n, Options options)
      : io(context), node(n), opt(std::move(options)), acceptor(context), tick_timer(context) {
    if (opt.max_frame == 0) throw std::invalid_argument("Runtime: max_frame must be at least 1");
    if (opt.io_timeout <= 0ms) throw std::invalid_argument("Runtime: io_timeout must be positive");
    const std::string where = opt.listen_host + ":" + std::to_string(opt.listen_port);
    error_code ec;
    tcp::endpoint ep;
    const auto addr = asio::ip::make_address(opt.listen_host, ec);
    if (!ec) {
      ep = tcp::endpoint(addr, opt.listen_port);
    } else {
      tcp::resolver resolver(io);
      auto results = resolver.resolve(opt.listen_host, std::to_string(opt.listen_port), ec);
      if (ec || results.empty())
        throw std::runtime_error("cannot listen on " + where + ": the host does not resolve (" +
                                 (ec ? ec.message() : std::string("no address")) + ")");
      ep = results.begin()->endpoint();
    }
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (ec) throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
    port = acceptor.local_endpoint(ec).port();
    if (ec) throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
  }

  void log(const std::string& line) const {
    if (opt.log) opt.log(line);
  }

  // Spawns a coroutine; an exception escaping it is logged (never silently lost, never a crash).
  void spawn(asio::awaitable<void> a) {
    asio::co_spawn(io, std::move(a), [w = weak_from_this()](std::exception_ptr e) {
      if (!e) return;
      auto self = w.lock();
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        if (self) self->log(std::string("runtime: internal task failed: ") + ex.what());
      } catch (...) {
        if (self) self->log("runtime: internal task failed");
      }
    });
  }

  void start() {
    if (started || stopped) return;
    started = true;
    error_code ec;
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on " + opt.listen_host + ":" + std::to_string(port) + ": " + ec.message());
    auto self = shared_from_this();
    spawn(accept_loop(self));
    for (const PeerAddress& a : opt.peers) {
      auto p = std::make_shared<OutPeer>(io, a);
      peers[a.id] = p;
      spawn(peer_loop(self, p));
    }
    arm_tick();
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    error_code ignored;
    tick_timer.cancel();
    acceptor.close(ignored);
    for (auto& [id, p] : peers) {
      if (p->conn) p->conn->close();
      p->notify();
    }
    for (const auto& c : incoming) c->close();
  }

  // ---- the node ---------------------------------------------------------------------------

  // What follows every node call: report progress, send what it produced, re-arm the tick.
  void after_node_call(std::vector<Envelope> out) {
    if (opt.on_progress) opt.on_progress(node);
    send(out);
    arm_tick();
  }

  void deliver(const Message& m) {
    const std::uint32_t from = std::visit([](const auto& x) { return x.from_id; }, m);
    after_node_call(node.receive(from, m, unix_now_ns()));
  }

  // Wakes at max(now + 1 ms, next_tick) but no later than now + 50 ms (blocks waiting for a retry
  // commit are retried on a tick). Re-arming earlier than the armed time replaces it.
  void arm_tick() {
    if (stopped || !started) return;
    std::int64_t delay = node.next_tick() - unix_now_ns();
    delay = std::clamp<std::int64_t>(delay, std::chrono::nanoseconds(kMinTickDelay).count(),
                                     std::chrono::nanoseconds(kMaxTickDelay).count());
    const auto when = Clock::now() + std::chrono::nanoseconds(delay);
    if (tick_armed && tick_at <= when) return;
    tick_armed = true;
    tick_at = when;
    tick_timer.expires_at(when);  // cancels the previous wait, if any
    tick_timer.async_wait([w = weak_from_this()](error_code ec) {
      auto self = w.lock();
      if (ec || !self || self->stopped) return;
      self->tick_armed = false;
      self->after_node_call(self->node.tick(unix_now_ns()));
    });
  }

  // ---- outgoing ---------------------------------------------------------------------------

  void send(std::vector<Envelope>& out) {
    for (Envelope& e : out) {
      auto it = peers.find(e.to);
      if (it == peers.end()) it = add_known_peer(e.to);
      if (it == peers.end()) {
        ++dropped_frames;
        if (unknown_logged.insert(e.to).second)
          log("no address for peer " + std::to_string(e.to) + ": messages to it are dropped");
        continue;
      }
      OutPeer& p = *it->second;
      auto frame = std::make_shared<const Bytes>(encode_frame(e.message));  // encoded once
      if (p.queued_bytes + frame->size() > opt.max_queue_bytes) {
        ++dropped_frames;
        if (!p.overflowing) log("send queue of " + p.name() + " is full: dropping messages");
        p.overflowing = true;
        continue;
      }
      p.overflowing = false;
      p.queued_bytes += frame->size();
      p.queue.push_back(std::move(frame));
      p.notify();
    }
  }

  // A destination the options did not list (a validator that joined, or a node asking to join):
  // its address comes from the node's known peers (NetAddr "host:port"). peers.end() when unknown
  // or unusable (logged once by the caller).
  std::map<std::uint32_t, std::shared_ptr<OutPeer>>::iterator add_known_peer(std::uint32_t id) {
    if (stopped || !started) return peers.end();
    for (const Peer& p : node.known_peers()) {
      if (p.id() != id) continue;
      std::string error;
      const auto hp = parse_host_port(p.net_addr, error);
      if (!hp) {
        log("peer " + std::to_string(id) + " (" + p.moniker + "): " + error);
        return peers.end();
      }
      PeerAddress a{id, hp->host, hp->port};
      log("peer " + std::to_string(id) + " (" + p.moniker + ") is at " + p.net_addr + ": connecting to it");
      auto out = std::make_shared<OutPeer>(io, a);
      auto [it, inserted] = peers.emplace(id, out);
      if (inserted) spawn(peer_loop(shared_from_this(), out));
      return it;
    }
    return peers.end();
  }

  void drop_queue(OutPeer& p) {
    dropped_frames += p.queue.size();
    p.queue.clear();
    p.queued_bytes = 0;
  }

  // Waits on p.wake until `until`, or until notified. True when `until` was reached.
  asio::awaitable<bool> wait_on(OutPeer& p, Clock::time_point until) {
    p.wake.expires_at(until);
    error_code ec;
    co_await p.wake.async_wait(ec_token(ec));
    co_return Clock::now() >= until;
  }

  asio::awaitable<void> peer_loop(std::shared_ptr<Impl> self, std::shared_ptr<OutPeer> p) {
    auto backoff = std::chrono::milliseconds(kBackoffMin);
    while (!stopped) {
      // Connect lazily: only when there is something to send.
      while (!stopped && p->queue.empty()) co_await wait_on(*p, Clock::time_point::max());
      if (stopped) break;

      auto c = std::make_shared<Conn>(io);
      p->conn = c;
      const std::string failure = co_await connect(c, p->addr);
      if (stopped) break;
      if (!failure.empty()) {
        ++connect_failures;
        c->close();
        p->conn.reset();
        drop_queue(*p);  // stale by the time we could send it; gossip retries by itself
        log("cannot connect to " + p->name() + ": " + failure + "; retrying in " + std::to_string(backoff.count()) + " ms");
        const auto until = Clock::now() + backoff;
        while (!stopped && !co_await wait_on(*p, until)) {
        }
        backoff = std::min(backoff * 2, std::chrono::milliseconds(kBackoffMax));
        continue;
      }
      backoff = kBackoffMin;
      error_code ignored;
      c->socket.set_option(tcp::no_delay(true), ignored);
      spawn(watch_close(self, c, p));
      co_await write_loop(c, *p);
      c->close();
      if (p->conn == c) p->conn.reset();
    }
  }

  // Resolves (numeric hosts directly) and connects within io_timeout. Empty string: connected.
  asio::awaitable<std::string> connect(std::shared_ptr<Conn> c, const PeerAddress& a) {
    std::vector<tcp::endpoint> endpoints;
    error_code ec;
    const auto addr = asio::ip::make_address(a.host, ec);
    if (!ec) {
      endpoints.emplace_back(addr, a.port);
    } else {
      OpDeadline guard(c, opt.io_timeout);
      auto results = co_await c->resolver.async_resolve(a.host, std::to_string(a.port), ec_token(ec));
      if (ec) co_return c->timed_out ? std::string("name resolution timed out") : "cannot resolve: " + ec.message();
      for (const auto& r : results) endpoints.push_back(r.endpoint());
      if (endpoints.empty()) co_return std::string("the name has no address");
    }
    if (stopped) co_return std::string("stopped");
    OpDeadline guard(c, opt.io_timeout);
    co_await asio::async_connect(c->socket, endpoints, ec_token(ec));
    if (ec) co_return c->timed_out ? std::string("connect timed out") : ec.message();
    co_return std::string();
  }

  // Sends the queue with gathered writes until the connection fails, stays idle for half of
  // io_timeout (the receiver closes a silent incoming connection after io_timeout; closing first
  // here means we never write into a connection the other side is about to drop), or stop().
  asio::awaitable<void> write_loop(std::shared_ptr<Conn> c, OutPeer& p) {
    std::vector<WireFrame> batch;
    std::vector<asio::const_buffer> buffers;
    const auto idle = opt.io_timeout / 2;
    while (!stopped && c->socket.is_open()) {
      if (p.queue.empty()) {
        const auto until = Clock::now() + idle;
        if (co_await wait_on(p, until) && p.queue.empty()) co_return;  // idle: close, reconnect on demand
        continue;
      }
      batch.clear();
      buffers.clear();
      std::size_t bytes = 0;
      for (const WireFrame& f : p.queue) {
        if (batch.size() == kMaxGatherFrames || (!batch.empty() && bytes + f->size() > kMaxGatherBytes)) break;
        batch.push_back(f);  // keeps the bytes alive while the write is in flight
        buffers.emplace_back(f->data(), f->size());
        bytes += f->size();
      }
      error_code ec;
      {
        OpDeadline guard(c, opt.io_timeout);
        co_await asio::async_write(c->socket, buffers, ec_token(ec));
      }
      if (ec) {
        if (!stopped)
          log("connection to " + p.name() + " failed: " + (c->timed_out ? std::string("write timed out") : ec.message()));
        co_return;
      }
      for (std::size_t i = 0; i < batch.size(); ++i) p.queue.pop_front();
      p.queued_bytes -= bytes;
      bytes_sent += bytes;
      frames_sent += batch.size();
    }
  }

  // The other side never writes on our outgoing connection: any completion of a read means it
  // closed (or misbehaves). Close ours and wake the writer so it reconnects when needed.
  asio::awaitable<void> watch_close(std::shared_ptr<Impl> self, std::shared_ptr<Conn> c, std::shared_ptr<OutPeer> p) {
    std::array<std::uint8_t, 1> b{};
    error_code ec;
    co_await c->socket.async_read_some(asio::buffer(b), ec_token(ec));
    if (p->conn != c) co_return;  // already replaced
    c->close();
    p->notify();
    (void)self;
  }

  // ---- incoming ---------------------------------------------------------------------------

  asio::awaitable<void> accept_loop(std::shared_ptr<Impl> self) {
    asio::steady_timer pause(io);
    while (!stopped) {
      tcp::socket s(io);
      error_code ec;
      co_await acceptor.async_accept(s, ec_token(ec));
      if (stopped) co_return;
      if (ec) {
        log("accept failed: " + ec.message());
        pause.expires_after(100ms);  // e.g. out of file descriptors: do not spin
        co_await pause.async_wait(ec_token(ec));
        continue;
      }
      s.set_option(tcp::no_delay(true), ec);
      auto c = std::make_shared<Conn>(std::move(s));
      incoming.insert(c);
      spawn(read_loop(self, c));
    }
  }

  asio::awaitable<void> read_loop(std::shared_ptr<Impl> self, std::shared_ptr<Conn> c) {
    const std::string from = endpoint_text(c->socket);
    FrameDecoder decoder(opt.max_frame);
    std::vector<std::uint8_t> buf(kReadChunk);
    Message m;
    std::string error;
    bool done = false;
    while (!stopped && !done) {
      const std::size_t want = std::min(buf.size(), decoder.room());
      if (want == 0) break;  // cannot happen after draining next(); never feed beyond room()
      error_code ec;
      std::size_t n = 0;
      {
        OpDeadline guard(c, opt.io_timeout);
        n = co_await c->socket.async_read_some(asio::buffer(buf.data(), want), ec_token(ec));
      }
      if (ec) {
        if (c->timed_out)
          log("closing incoming connection from " + from + ": nothing received for " +
              std::to_string(opt.io_timeout.count()) + " ms");
        else if (!stopped && ec != asio::error::eof && ec != asio::error::operation_aborted)
          log("incoming connection from " + from + " failed: " + ec.message());
        break;
      }
      bytes_received += n;
      decoder.feed(buf.data(), n);
      while (!stopped) {
        const auto status = decoder.next(m, error);
        if (status == FrameDecoder::Status::kNeedMore) break;
        if (status == FrameDecoder::Status::kError) {
          ++bad_frames;
          log("bad frame from " + from + ": " + error + "; closing the connection");
          done = true;
          break;
        }
        ++frames_received;
        deliver(m);
      }
    }
    c->close();
    incoming.erase(c);
    (void)self;
  }

  asio::io_context& io;
  Node& node;
  Options opt;
  tcp::acceptor acceptor;
  std::uint16_t port = 0;
  asio::steady_timer tick_timer;
  Clock::time_point tick_at;
  bool tick_armed = false;
  bool started = false, stopped = false;
  bool destroyed = false;  // ~Runtime ran
  std::map<std::uint32_t, std::shared_ptr<OutPeer>> peers;
  std::set<std::shared_ptr<Conn>> incoming;
  std::set<std::uint32_t> unknown_logged;

  std::atomic<std::uint64_t> bytes_sent{0}, bytes_received{0}, frames_sent{0}, frames_received{0};
  std::atomic<std::uint64_t> dropped_frames{0}, bad_frames{0}, connect_failures{0};
};

Runtime::Runtime(boost::asio::io_context& io, Node& node, Options options)
    : impl_(std::make_shared<Impl>(io, node, std::move(options))) {}

Runtime::~Runtime() {
  if (!impl_) return;
  impl_->destroyed = true;  // coroutines still pending may keep Impl alive, never the node
  impl_->stop();
}

void Runtime::set_peers(std::vector<PeerAddress> peers) {
  if (impl_->started) throw std::logic_error("Runtime::set_peers must be called before start()");
  impl_->opt.peers = std::move(peers);
}

void Runtime::start() { impl_->start(); }
void Runtime::stop() { impl_->stop(); }

void Runtime::post(std::function<void(Node&)> f) {
  asio::post(impl_->io, [w = std::weak_ptr<Impl>(impl_), f = std::move(f)] {
    auto self = w.lock();
    if (!self || self->destroyed) return;  // the runtime is gone (and with it, possibly, the node)
    f(self->node);
    if (!self->stopped) self->after_node_call({});
  });
}

void Runtime::post_call(std::function<std::vector<Envelope>(Node&)> f) {
  asio::post(impl_->io, [w = std::weak_ptr<Impl>(impl_), f = std::move(f)] {
    auto self = w.lock();
    if (!self || self->destroyed) return;
    auto out = f(self->node);
    if (!self->stopped) self->after_node_call(std::move(out));
  });
}

void Runtime::wake() {
  asio::post(impl_->io, [w = std::weak_ptr<Impl>(impl_)] {
    auto self = w.lock();
    if (!self || self->destroyed || self->stopped || !self->started) return;
    self->after_node_call(self->node.tick(unix_now_ns()));
  });
}

std::uint16_t Runtime::listen_port() const { return impl_->port; }

TransportStats Runtime::transport_stats() const {
  const Impl& m = *impl_;
  TransportStats s;
  s.bytes_sent = m.bytes_sent.load(std::memory_order_relaxed);
  s.bytes_received = m.bytes_received.load(std::memory_order_relaxed);
  s.frames_sent = m.frames_sent.load(std::memory_order_relaxed);
  s.frames_received = m.frames_received.load(std::memory_order_relaxed);
  s.dropped_frames = m.dropped_frames.load(std::memory_order_relaxed);
  s.bad_frames = m.bad_frames.load(std::memory_order_relaxed);
  s.connect_failures = m.connect_failures.load(std::memory_order_relaxed);
  return s;
}

}  // namespace chatter
