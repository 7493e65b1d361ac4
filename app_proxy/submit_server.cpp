// SubmitServer: `Babble.SubmitTx` over Go-style JSON-RPC on TCP (spec/socket-proxy.md).
//
// Threading: the io_context is run by one thread (the header's "io_context's thread"); every member
// of Impl and Connection is touched only there. The only entries from other threads are stop()
// (dispatched onto the io_context after setting an atomic flag) and the `done` callbacks handed to
// submit, which post their result back to the io_context (they hold only a weak reference to the
// connection, so a late done() after a close or stop() is dropped; it must not outlive the io_context).
//
// Framing: Go's jsonrpc codec runs a json.Decoder on the stream, so requests are JSON objects one
// after another with optional whitespace between them. A small scanner (JsonObjectScanner in
// json_stream.h, shared with the socket proxy client: string/escape state and
// bracket depth) finds where each object ends without parsing it, which lets us cap each request at
// max_request_bytes before buffering it, and keep going after a malformed object (its boundary is
// known), while a stream that does not start an object is answered once and closed.
//
// Ordering and backpressure: every request takes a slot in a per-connection queue in arrival order;
// replies are written from the front of that queue only, so they go out in request order whatever
// order submit() completes in. Reading stops while kMaxPendingReplies slots (or kMaxPendingBytes of
// ids and reply text) are outstanding, and resumes as writes drain them.
#include "app_proxy/submit_server.h"

#include "app_proxy/json_stream.h"
#include "app_proxy/submit_request.h"

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <deque>
#include <exception>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace chatter {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxPendingReplies = 10000;
constexpr std::size_t kMaxPendingBytes = 16u * 1024 * 1024;
constexpr std::size_t kReadChunk = 64u * 1024;
constexpr std::chrono::milliseconds kAcceptRetry{100};

std::string json_string(std::string_view s) {
  return Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string reply_ok(const std::string& id) { return "{\"id\":" + id + ",\"result\":true,\"error\":null}\n"; }

std::string reply_error(const std::string& id, std::string_view text) {
  return "{\"id\":" + id + ",\"result\":null,\"error\":" + json_string(text) + "}\n";
}

std::string describe_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 15];
}

// What the server and its connections share; outlives the SubmitServer while handlers run.
struct Shared {
  SubmitServer::Options options;
  SubmitServer::SubmitFn submit;
  std::atomic<bool> stopped{false};
};

}  // namespace

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<Shared> shared, std::function<void(Connection*)> on_close)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        shared_(std::move(shared)),
        on_close_(std::move(on_close)),
        scanner_(shared_->options.max_request_bytes) {}

  void start() {
    last_activity_ = Clock::now();
    arm_timer(shared_->options.idle_timeout);
    maybe_read();
  }

  // Closes the socket now; pending done() results are dropped when they arrive.
  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    slots_.clear();
    buf_.clear();
    if (on_close_) {
      auto cb = std::move(on_close_);
      on_close_ = nullptr;
      cb(this);
    }
  }

 private:
  struct Slot {
    std::string id;     // the request's id, as JSON text
    std::string reply;  // the full reply line once ready
    bool ready = false;
  };

  // ---- reading ----

  bool over_limit() const {
    return slots_.size() >= kMaxPendingReplies || pending_bytes_ >= kMaxPendingBytes;
  }

  void maybe_read() {
    if (closed_ || reading_ || draining_ || over_limit()) return;
    reading_ = true;
    // A separate chunk, not buf_'s tail: process_buffer() may reshape buf_ while this read is pending.
    socket_.async_read_some(
        asio::buffer(chunk_),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(boost::system::error_code ec, std::size_t n) {
    reading_ = false;
    if (closed_) return;
    buf_.append(chunk_.data(), n);
    if (ec) {
      if (ec == asio::error::eof) {
        // The client may have half-closed and still wait for its replies: answer, then close.
        draining_ = true;
        finish_if_drained();
      } else {
        close();
      }
      return;
    }
    last_activity_ = Clock::now();
    process_buffer();
    maybe_read();
  }

  void process_buffer() {
    // After stop() (possibly from another thread, before its dispatch runs) nothing more is submitted.
    while (!closed_ && !draining_ && !over_limit() && !shared_->stopped) {
      using Scan = JsonObjectScanner::Result;
      const Scan r = scanner_.scan(buf_);
      if (r == Scan::kNeedMore) break;
      if (r == Scan::kTooBig) {
        close();
        return;
      }
      if (r == Scan::kGarbage) {
        // Not the start of an object: the stream cannot be resynchronised. Answer once, then close.
        enqueue_ready("null", "invalid character " + describe_char(buf_[scanner_.pos()]) +
                                  " looking for beginning of object");
        draining_ = true;
        break;
      }
      const std::size_t start = scanner_.object_start();
      handle_object(std::string_view(buf_).substr(start, scanner_.pos() - start));
      scanner_.mark_consumed();
    }
    if (closed_) return;
    // Drop what has been handled; the scanner's offsets move with the data.
    buf_.erase(0, scanner_.take_consumed());
    if (draining_) finish_if_drained();
  }

  void handle_object(std::string_view text) {
    SubmitRequest req = parse_submit_request(text, scanner_.max_depth());
    if (!req.tx) {
      enqueue_ready(std::move(req.id), req.error);
      return;
    }
    submit(std::move(req.id), std::move(*req.tx));
  }

  // ---- replies ----

  std::uint64_t enqueue(std::string id) {
    pending_bytes_ += id.size();
    slots_.push_back(Slot{std::move(id), {}, false});
    return next_seq_++;
  }

  void enqueue_ready(std::string id, std::string_view error) {
    complete(enqueue(std::move(id)), false, std::string(error));
  }

  void submit(std::string id, Bytes tx) {
    const std::uint64_t seq = enqueue(std::move(id));
    auto once = std::make_shared<std::atomic<bool>>(false);
    std::weak_ptr<Connection> weak = weak_from_this();
    auto ex = socket_.get_executor();
    std::function<void(bool, std::string)> done = [once, weak, seq, ex](bool ok, std::string text) {
      if (once->exchange(true)) return;  // exactly once, whatever the caller does
      asio::post(ex, [weak, seq, ok, text = std::move(text)]() mutable {
        if (auto self = weak.lock()) self->complete(seq, ok, std::move(text));
      });
    };
    try {
      shared_->submit(std::move(tx), done);
    } catch (const std::exception& e) {
      done(false, std::string("submit failed: ") + e.what());
    } catch (...) {
      done(false, "submit failed");
    }
  }

  void complete(std::uint64_t seq, bool ok, std::string text) {
    if (closed_ || seq < first_seq_ || seq - first_seq_ >= slots_.size()) return;
    Slot& s = slots_[seq - first_seq_];
    if (s.ready) return;
    s.reply = ok ? reply_ok(s.id) : reply_error(s.id, text);
    s.ready = true;
    pending_bytes_ += s.reply.size();
    flush();
  }

  // Writes the ready replies at the front of the queue (all of them, in one write).
  void flush() {
    if (closed_ || writing_ > 0) return;
    std::size_t n = 0;
    write_buf_.clear();
    while (n < slots_.size() && slots_[n].ready) write_buf_ += slots_[n++].reply;
    if (n == 0) return;
    writing_ = n;
    asio::async_write(
        socket_, asio::buffer(write_buf_),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(boost::system::error_code ec) {
    const std::size_t n = writing_;
    writing_ = 0;
    if (closed_) return;
    if (ec) {
      close();
      return;
    }
    last_activity_ = Clock::now();
    for (std::size_t i = 0; i < n; ++i) {
      pending_bytes_ -= slots_.front().id.size() + slots_.front().reply.size();
      slots_.pop_front();
      ++first_seq_;
    }
    flush();
    if (draining_) {
      finish_if_drained();
    } else {
      process_buffer();  // objects left in the buffer while reading was paused
      maybe_read();
    }
  }

  void finish_if_drained() {
    if (!closed_ && slots_.empty() && writing_ == 0) close();
  }

  // ---- idle timeout ----

  void arm_timer(Clock::duration after) {
    timer_.expires_after(after);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) { self->on_timer(ec); });
  }

  void on_timer(boost::system::error_code ec) {
    if (ec || closed_) return;
    const auto timeout = std::chrono::duration_cast<Clock::duration>(shared_->options.idle_timeout);
    const auto idle = Clock::now() - last_activity_;
    if (idle < timeout) {
      arm_timer(timeout - idle);
      return;
    }
    // Waiting for submit() to answer is the server's delay, not the client's idleness.
    const bool awaiting_submit = writing_ == 0 && !slots_.empty() && !slots_.front().ready;
    if (awaiting_submit) {
      arm_timer(timeout);
      return;
    }
    close();
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::shared_ptr<Shared> shared_;
  std::function<void(Connection*)> on_close_;
  Clock::time_point last_activity_{};
  bool closed_ = false;
  bool reading_ = false;
  bool draining_ = false;  // no more reading: close once every queued reply is written

  // Input: the chunk being read, the bytes not yet handled, and the scanner's state over them.
  std::array<char, kReadChunk> chunk_{};
  std::string buf_;
  JsonObjectScanner scanner_;

  // Replies in request order; slots_[i] has sequence number first_seq_ + i.
  std::deque<Slot> slots_;
  std::uint64_t first_seq_ = 0;
  std::uint64_t next_seq_ = 0;
  std::size_t pending_bytes_ = 0;
  std::string write_buf_;
  std::size_t writing_ = 0;  // slots covered by the write in flight
};

struct SubmitServer::Impl : std::enable_shared_from_this<SubmitServer::Impl> {
  Impl(asio::io_context& io, std::shared_ptr<Shared> s)
      : io_(io), acceptor_(io), retry_(io), shared_(std::move(s)) {}

  void bind() {
    const auto& o = shared_->options;
    boost::system::error_code ec;
    tcp::endpoint ep;
    const auto addr = asio::ip::make_address(o.host, ec);
    if (!ec) {
      ep = tcp::endpoint(addr, o.port);
    } else {
      tcp::resolver resolver(io_);
      auto results = resolver.resolve(o.host, std::to_string(o.port), ec);
      if (ec || results.empty())
        throw std::runtime_error("SubmitTx server: cannot resolve listen host '" + o.host +
                                 "': " + (ec ? ec.message() : std::string("no address")));
      ep = results.begin()->endpoint();
    }
    const std::string where = o.host + ":" + std::to_string(o.port);
    if (acceptor_.open(ep.protocol(), ec))
      throw std::runtime_error("SubmitTx server: cannot open a socket for " + where + ": " + ec.message());
    acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (acceptor_.bind(ep, ec))
      throw std::runtime_error("SubmitTx server: cannot listen on " + where + ": " + ec.message());
    if (acceptor_.listen(asio::socket_base::max_listen_connections, ec))
      throw std::runtime_error("SubmitTx server: cannot listen on " + where + ": " + ec.message());
    port_ = acceptor_.local_endpoint(ec).port();
  }

  void accept() {
    if (shared_->stopped) return;
    acceptor_.async_accept([self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
      self->on_accept(ec, std::move(socket));
    });
  }

  void on_accept(boost::system::error_code ec, tcp::socket socket) {
    if (shared_->stopped || !acceptor_.is_open()) return;
    if (ec) {
      // For example too many open files: wait a little instead of spinning on the error.
      retry_.expires_after(kAcceptRetry);
      retry_.async_wait([self = shared_from_this()](boost::system::error_code e) {
        if (!e) self->accept();
      });
      return;
    }
    if (connections_.size() >= shared_->options.max_connections) {
      boost::system::error_code ignored;
      socket.close(ignored);  // over the limit: closed at once
    } else {
      std::weak_ptr<Impl> weak = weak_from_this();
      auto conn = std::make_shared<Connection>(std::move(socket), shared_, [weak](Connection* c) {
        if (auto self = weak.lock()) self->connections_.erase(c);
      });
      connections_.emplace(conn.get(), conn);
      conn->start();
    }
    accept();
  }

  void stop_now() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    retry_.cancel();
    auto all = std::move(connections_);
    connections_.clear();
    for (auto& [ptr, conn] : all) conn->close();
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  std::shared_ptr<Shared> shared_;
  std::uint16_t port_ = 0;
  bool started_ = false;
  // Owned here so that a connection lives while it is open; each removes itself when it closes.
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections_;
};

SubmitServer::SubmitServer(asio::io_context& io, Options options, SubmitFn submit) {
  if (!submit) throw std::invalid_argument("SubmitServer: a submit function is required");
  auto shared = std::make_shared<Shared>();
  shared->options = std::move(options);
  shared->submit = std::move(submit);
  impl_ = std::make_shared<Impl>(io, std::move(shared));
  impl_->bind();
}

SubmitServer::~SubmitServer() { stop(); }

void SubmitServer::start() {
  asio::dispatch(impl_->io_, [impl = impl_] {
    if (impl->started_ || impl->shared_->stopped) return;
    impl->started_ = true;
    impl->accept();
  });
}

void SubmitServer::stop() {
  if (impl_->shared_->stopped.exchange(true)) return;
  asio::dispatch(impl_->io_, [impl = impl_] { impl->stop_now(); });
}

std::uint16_t SubmitServer::port() const { return impl_->port_; }

}  // namespace chatter
