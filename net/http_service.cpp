// The HTTP service (net/http_service.h) with Boost.Beast, written with completion handlers (no
// coroutines: a lighter translation unit). Everything below runs on the service's one thread,
// except the closures handed to the node (NodeWork), which touch only what they own: a weak
// reference to the service, the query, and a weak reference to the connection that is only locked
// back on the service's thread.
#include "net/http_service.h"

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <exception>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <variant>

namespace chatter {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

namespace {

constexpr auto kLinger = 1000ms;             // reading (and dropping) what a refused client still sends
constexpr std::size_t kMaxDrain = 1u << 20;  // bytes
constexpr auto kAcceptPause = 100ms;         // after a failed accept (e.g. out of descriptors)

bool is_http_error(const error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_target).category();
}

// Decrements the count of closures waiting for the node when the last copy of the closure goes.
struct PendingGuard {
  explicit PendingGuard(std::shared_ptr<std::atomic<std::size_t>> c) : count(std::move(c)) {
    count->fetch_add(1);
  }
  ~PendingGuard() { count->fetch_sub(1); }
  PendingGuard(const PendingGuard&) = delete;
  PendingGuard& operator=(const PendingGuard&) = delete;
  std::shared_ptr<std::atomic<std::size_t>> count;
};

}  // namespace

struct HttpService::Impl : std::enable_shared_from_this<HttpService::Impl> {
  struct Session;

  Impl(QueryFn q, Options o) : query(std::move(q)), opt(std::move(o)), acceptor(io), accept_pause(io) {
    if (!query) throw std::invalid_argument("HttpService: the query hook is required");
    if (opt.io_timeout <= 0ms || opt.query_timeout <= 0ms)
      throw std::invalid_argument("HttpService: timeouts must be positive");
    if (opt.max_connections == 0)
      throw std::invalid_argument("HttpService: max_connections must be at least 1");
    const std::string where = opt.host + ":" + std::to_string(opt.port);
    error_code ec;
    tcp::endpoint ep;
    const auto addr = asio::ip::make_address(opt.host, ec);
    if (!ec) {
      ep = tcp::endpoint(addr, opt.port);
    } else {
      tcp::resolver resolver(io);
      auto results = resolver.resolve(opt.host, std::to_string(opt.port), ec);
      if (ec || results.empty())
        throw std::runtime_error("cannot serve HTTP on " + where + ": the host does not resolve (" +
                                 (ec ? ec.message() : std::string("no address")) + ")");
      ep = results.begin()->endpoint();
    }
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot serve HTTP on " + where + ": " + ec.message());
    bound_port = acceptor.local_endpoint(ec).port();
    if (ec) throw std::runtime_error("cannot serve HTTP on " + where + ": " + ec.message());
  }
  ~Impl() { tearing_down = true; }  // sessions destroyed with the io_context below leave `sessions` alone

  void log(const std::string& line) const {
    if (opt.log) opt.log(line);
  }

  void accept();
  void close_all();

  QueryFn query;
  Options opt;
  std::uint16_t bound_port = 0;
  std::set<Session*> sessions;  // open connections (service thread only)
  bool tearing_down = false;
  std::shared_ptr<std::atomic<std::size_t>> pending = std::make_shared<std::atomic<std::size_t>>(0);
  std::atomic<bool> started{false}, stopped{false};
  std::thread thread;
  std::atomic<std::uint64_t> accepted{0}, refused{0}, requests{0}, timeouts{0}, bad_requests{0},
      node_timeouts{0};
  // Last, so that it is destroyed first: pending handlers (and the sessions they own) go while the
  // members above still exist.
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::steady_timer accept_pause;
};

// One connection: read a request, answer it (maybe after asking the node), repeat while kept alive.
struct HttpService::Impl::Session : std::enable_shared_from_this<Session> {
  Session(Impl& i, tcp::socket s)
      : impl(i),
        stream(std::move(s)),
        buffer(i.opt.max_header_bytes + 1024),
        query_timer(stream.get_executor()) {
    impl.sessions.insert(this);
  }
  ~Session() {
    if (!impl.tearing_down) impl.sessions.erase(this);
  }

  void read() {
    parser.emplace();
    parser->header_limit(static_cast<std::uint32_t>(impl.opt.max_header_bytes));
    stream.expires_after(impl.opt.io_timeout);
    // Headers only: bodies are never read (a request with one is refused below).
    http::async_read_header(stream, buffer, *parser,
                            [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (ec == beast::error::timeout) {
      ++impl.timeouts;
      return close();
    }
    if (ec == http::error::end_of_stream || impl.stopped) return close();
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      ++impl.bad_requests;
      return refuse(
          431, "the request headers are larger than " + std::to_string(impl.opt.max_header_bytes) + " bytes");
    }
    if (ec && is_http_error(ec) && ec != http::error::partial_message) {
      ++impl.bad_requests;
      return refuse(400, "malformed HTTP request: " + ec.message());
    }
    if (ec) return close();  // reset, aborted, or the client went away mid-request
    ++impl.requests;
    const auto& req = parser->get();
    if (!parser->is_done()) {  // a body follows the headers
      ++impl.bad_requests;
      if (!allowed(req.method())) return refuse(405, not_allowed(req));
      return refuse(413, "requests must not have a body");
    }
    handle(req);
  }

  static bool allowed(http::verb v) {
    return v == http::verb::get || v == http::verb::head || v == http::verb::options;
  }
  static std::string not_allowed(const http::request<http::empty_body>& req) {
    return "method " + std::string(req.method_string()) + " is not allowed (GET, HEAD, OPTIONS)";
  }

  void handle(const http::request<http::empty_body>& req) {
    version = req.version();
    keep_alive = req.keep_alive();
    head = req.method() == http::verb::head;
    if (req.method() == http::verb::options) return respond_options();
    if (!allowed(req.method())) return respond(error_answer(405, not_allowed(req)));
    auto parsed = parse_request(std::string_view(req.target().data(), req.target().size()));
    if (auto* a = std::get_if<HttpAnswer>(&parsed)) return respond(std::move(*a));
    ask_node(std::get<ApiQuery>(parsed));
  }

  // Hands the query to the node's thread; the answer comes back by post, or 503 at the deadline.
  void ask_node(const ApiQuery& q) {
    if (impl.pending->load() >= impl.opt.max_pending_queries) {
      ++impl.node_timeouts;
      return respond(error_answer(503, "the node is busy: too many requests are waiting for it"));
    }
    const std::uint64_t gen = ++query_gen;
    waiting = true;
    query_timer.expires_after(impl.opt.query_timeout);
    query_timer.async_wait([self = shared_from_this(), gen](error_code ec) {
      if (ec || !self->waiting || self->query_gen != gen) return;
      self->waiting = false;
      ++self->impl.node_timeouts;
      self->respond(error_answer(503, "the node did not answer within " +
                                          std::to_string(self->impl.opt.query_timeout.count()) + " ms"));
    });
    struct Slot {
      std::weak_ptr<Session> session;  // locked only on the service's thread
      std::uint64_t gen = 0;
    };
    auto slot = std::make_shared<Slot>(Slot{weak_from_this(), gen});
    auto guard = std::make_shared<PendingGuard>(impl.pending);
    HttpService::NodeWork work = [w = impl.weak_from_this(), slot, q, guard](const Node& node,
                                                                             const Store& store) {
      auto service = w.lock();
      if (!service || service->stopped) return;
      HttpAnswer a = answer(q, node, store, service->opt.extra_stats, service->opt.extra_metrics);
      asio::post(service->io, [slot, a = std::move(a)]() mutable {
        if (auto s = slot->session.lock()) s->on_answer(slot->gen, std::move(a));
      });
    };
    try {
      impl.query(std::move(work));
    } catch (const std::exception& e) {
      waiting = false;
      query_timer.cancel();
      respond(error_answer(503, std::string("cannot reach the node: ") + e.what()));
    }
  }

  void on_answer(std::uint64_t gen, HttpAnswer a) {
    if (!waiting || gen != query_gen) return;  // already answered 503
    waiting = false;
    query_timer.cancel();
    respond(std::move(a));
  }

  void common_headers(unsigned status) {
    res = {};
    res.version(version);
    res.result(status);
    res.set(http::field::server, "chatter");
    res.set(http::field::access_control_allow_origin, "*");
    res.set(http::field::cache_control, "no-store");
  }

  void respond(HttpAnswer a) {
    common_headers(a.status);
    res.set(http::field::content_type, a.content_type);
    if (a.status == 405) res.set(http::field::allow, "GET, HEAD, OPTIONS");
    res.content_length(a.body.size());
    if (!head) res.body() = std::move(a.body);
    res.keep_alive(keep_alive);
    write();
  }

  void respond_options() {
    common_headers(204);
    res.set(http::field::allow, "GET, HEAD, OPTIONS");
    res.set(http::field::access_control_allow_methods, "GET, HEAD, OPTIONS");
    res.set(http::field::access_control_allow_headers, "*");
    res.set(http::field::access_control_max_age, "86400");
    res.keep_alive(keep_alive);
    write();
  }

  void write() {
    stream.expires_after(impl.opt.io_timeout);
    http::async_write(stream, res, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec == beast::error::timeout) ++self->impl.timeouts;
      if (ec || self->impl.stopped) return self->close();
      if (self->lingering) return self->linger();
      if (!self->keep_alive) return self->close();
      self->read();
    });
  }

  // A refused request: answer with the error, then stop sending, read and drop what the client is
  // still sending for a moment (so that it sees the answer rather than a reset), and close.
  void refuse(unsigned status, const std::string& text) {
    keep_alive = false;
    lingering = true;
    head = false;
    version = 11;
    respond(error_answer(status, text));
  }

  void linger() {
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.expires_after(kLinger);  // for the whole drain
    drain();
  }
  void drain() {
    stream.async_read_some(asio::buffer(scratch), [self = shared_from_this()](error_code ec, std::size_t n) {
      self->drained += n;
      if (ec || self->drained > kMaxDrain || self->impl.stopped) return self->close();
      self->drain();
    });
  }

  void close() {
    waiting = false;
    query_timer.cancel();
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
  }

  Impl& impl;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::optional<http::request_parser<http::empty_body>> parser;
  http::response<http::string_body> res;
  asio::steady_timer query_timer;
  std::array<char, 4096> scratch{};
  std::size_t drained = 0;
  std::uint64_t query_gen = 0;
  unsigned version = 11;
  bool waiting = false, keep_alive = true, head = false, lingering = false;
};

void HttpService::Impl::accept() {
  acceptor.async_accept([this](error_code ec, tcp::socket s) {
    if (stopped || !acceptor.is_open()) return;
    if (ec) {
      log("http: accept failed: " + ec.message());
      accept_pause.expires_after(kAcceptPause);
      accept_pause.async_wait([this](error_code e) {
        if (!e && !stopped) accept();
      });
      return;
    }
    if (sessions.size() >= opt.max_connections) {
      ++refused;
      error_code ignored;
      s.close(ignored);
    } else {
      ++accepted;
      std::make_shared<Session>(*this, std::move(s))->read();
    }
    accept();
  });
}

void HttpService::Impl::close_all() {
  error_code ignored;
  acceptor.close(ignored);
  accept_pause.cancel();
  for (Session* s : std::set<Session*>(sessions)) s->close();
}

HttpService::HttpService(QueryFn query, Options options)
    : impl_(std::make_shared<Impl>(std::move(query), std::move(options))) {}

HttpService::~HttpService() { stop(); }

void HttpService::start() {
  Impl& m = *impl_;
  if (m.stopped || m.started.exchange(true)) return;
  m.accept();
  // The thread does not own the Impl (this object joins it before letting go of impl_).
  m.thread = std::thread([raw = impl_.get()] {
    for (;;) {
      try {
        raw->io.run();
        return;
      } catch (const std::exception& e) {
        raw->log(std::string("http: internal error: ") + e.what());
      } catch (...) {
        raw->log("http: internal error");
      }
    }
  });
}

void HttpService::stop() {
  Impl& m = *impl_;
  if (m.stopped.exchange(true)) return;
  if (m.thread.joinable()) {
    asio::post(m.io, [raw = impl_.get()] {
      raw->close_all();
      raw->io.stop();  // handlers still queued are dropped with the io_context
    });
    m.thread.join();
  } else {
    m.close_all();
  }
}

std::uint16_t HttpService::port() const { return impl_->bound_port; }
std::string HttpService::host() const { return impl_->opt.host; }

HttpServiceStats HttpService::stats() const {
  const Impl& m = *impl_;
  HttpServiceStats s;
  s.connections_accepted = m.accepted.load();
  s.connections_refused = m.refused.load();
  s.requests = m.requests.load();
  s.timeouts = m.timeouts.load();
  s.bad_requests = m.bad_requests.load();
  s.node_timeouts = m.node_timeouts.load();
  return s;
}

}  // namespace chatter
