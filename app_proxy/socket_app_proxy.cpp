// SocketAppProxy (socket_app_proxy.h): the node's thread only reads and writes the tables of outcomes
// under mu_ and queues calls; one coroutine (worker) on the adapter's own io_context thread sends
// the queued calls one at a time and files their outcomes.
//
// Timeouts: every socket operation runs under a deadline timer that closes the socket when it fires
// (the operation then fails); a generation counter makes a late firing of an old deadline harmless.
// Stopping closes the socket and cancels the timers, so the worker returns and io_context::run()
// ends by itself: no coroutine frame is left behind.
#include "app_proxy/socket_app_proxy.h"

#include <algorithm>
#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "app_proxy/base64.h"
#include "app_proxy/json_stream.h"
#include "app_proxy/socket_json.h"
#include "engine/crypto.h"

namespace chatter {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

const char* to_string(AppHealth h) {
  switch (h) {
    case AppHealth::kUnknown:
      return "unknown";
    case AppHealth::kOk:
      return "ok";
    case AppHealth::kUnreachable:
      return "unreachable";
    case AppHealth::kFailing:
      return "failing";
  }
  return "?";
}

namespace {

constexpr std::size_t kReadChunk = 64u * 1024;
constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};
constexpr std::size_t kMaxErrorText = 300;
constexpr std::size_t kMaxKeptSnapshots = 8;

enum class Kind { kCommit, kSnapshot, kRestore, kState };

struct Call {
  Kind kind = Kind::kState;
  std::shared_ptr<const Block> block;  // kCommit
  std::uint64_t index = 0;             // kCommit, kSnapshot
  Bytes snapshot;                      // kRestore
  Hash snapshot_key;                   // kRestore
  int state = 0;                       // kState
};

// The outcome of one call, filed where the node looks for it.
struct Outcome {
  bool finished = false;
  bool failed = false;
  std::string error;
  CommitResponse commit;
  Bytes bytes;  // snapshot, or the state hash after restore
};

const char* method_of(Kind k) {
  switch (k) {
    case Kind::kCommit:
      return "State.CommitBlock";
    case Kind::kSnapshot:
      return "State.GetSnapshot";
    case Kind::kRestore:
      return "State.Restore";
    case Kind::kState:
      return "State.OnStateChanged";
  }
  return "";
}

std::string clip(std::string s) {
  if (s.size() > kMaxErrorText) s.resize(kMaxErrorText);
  return s;
}

// A failed try: whether it reached the app (for health) and why.
struct TryFailure {
  bool reached = false;
  std::string reason;
};

}  // namespace

struct SocketAppProxy::Impl {
  explicit Impl(Options o)
      : opt(std::move(o)), socket(io), deadline(io), wake(io), pause(io), scanner(opt.max_reply_bytes) {}

  // ---- shared with the node's thread (under mu) ----------------------------------------------

  mutable std::mutex mu;
  std::condition_variable idle_cv;
  std::map<std::uint64_t, Outcome> commits, snapshots;
  std::map<Hash, Outcome> restores;
  std::deque<Call> queue;
  bool busy = false;  // the worker is sending a call
  bool stopped = false;
  SocketAppStats stats;

  Options opt;

  // Queues a call (mu held) and wakes the worker.
  void enqueue(Call c) {
    queue.push_back(std::move(c));
    ++stats.calls;
    asio::post(io, [this] { wake.cancel(); });
  }

  // Files the outcome of `c` (on the I/O thread) and tells the host.
  void file(const Call& c, Outcome o) {
    bool ready = false;
    {
      std::lock_guard lock(mu);
      if (o.failed) {
        ++stats.errors;
        stats.last_error = o.error;
      }
      o.finished = true;
      switch (c.kind) {
        case Kind::kCommit:
          if (auto it = commits.find(c.index); it != commits.end()) it->second = std::move(o), ready = true;
          break;
        case Kind::kSnapshot:
          if (auto it = snapshots.find(c.index); it != snapshots.end())
            it->second = std::move(o), ready = true;
          break;
        case Kind::kRestore:
          if (auto it = restores.find(c.snapshot_key); it != restores.end())
            it->second = std::move(o), ready = true;
          break;
        case Kind::kState:
          break;
      }
    }
    if (ready && opt.on_ready) opt.on_ready();
  }

  void set_health(AppHealth h, const std::string& reason) {
    bool changed = false;
    {
      std::lock_guard lock(mu);
      if (h != AppHealth::kOk) stats.last_error = reason;
      changed = stats.health != h;
      stats.health = h;
    }
    if (changed && opt.on_health) opt.on_health(h, reason);
  }

  template <typename Map, typename Key>
  static Outcome take_or_start(Map& map, const Key& key, bool& start, const std::string& what) {
    auto it = map.find(key);
    if (it == map.end()) {
      map.emplace(key, Outcome{});
      start = true;
      return {};
    }
    if (!it->second.finished) throw AppBusy(what + " is in progress");
    Outcome o = std::move(it->second);
    map.erase(it);
    if (o.failed) throw AppError(what + " failed: " + o.error);
    return o;
  }

  // ---- the I/O thread ----------------------------------------------------------------------

  asio::io_context io;
  tcp::socket socket;
  asio::steady_timer deadline, wake, pause;
  std::uint64_t deadline_gen = 0;
  bool timed_out = false;
  std::chrono::milliseconds backoff{0};
  JsonObjectScanner scanner;
  std::string rbuf;
  std::array<char, kReadChunk> chunk{};
  std::uint64_t next_id = 0;
  std::thread thread;

  void arm_deadline(std::chrono::milliseconds after) {
    timed_out = false;
    const std::uint64_t gen = ++deadline_gen;
    deadline.expires_after(after);
    deadline.async_wait([this, gen](error_code ec) {
      if (ec || gen != deadline_gen) return;
      timed_out = true;
      error_code ignored;
      socket.close(ignored);
    });
  }
  void disarm_deadline() {
    ++deadline_gen;
    deadline.cancel();
  }

  void close_connection() {
    error_code ignored;
    socket.close(ignored);
    rbuf.clear();
    scanner.reset();
  }

  bool is_stopped() {
    std::lock_guard lock(mu);
    return stopped;
  }

  asio::awaitable<void> worker() {
    for (;;) {
      std::optional<Call> call;
      {
        std::lock_guard lock(mu);
        if (stopped) co_return;
        if (!queue.empty()) {
          call = std::move(queue.front());
          queue.pop_front();
          busy = true;
        }
      }
      if (!call) {
        idle_cv.notify_all();
        error_code ec;
        wake.expires_at(Clock::time_point::max());
        co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      Outcome o = co_await run_call(*call);
      if (is_stopped()) co_return;
      file(*call, std::move(o));
      std::lock_guard lock(mu);
      busy = false;
    }
  }

  // The request text of call `c` with id `id`.
  static std::string request(const Call& c, std::uint64_t id) {
    std::string param;
    switch (c.kind) {
      case Kind::kCommit:
        param = block_to_json(*c.block);
        break;
      case Kind::kSnapshot:
        param = std::to_string(c.index);
        break;
      case Kind::kRestore:
        param = "\"" + base64_encode(c.snapshot) + "\"";
        break;
      case Kind::kState:
        param = std::to_string(c.state);
        break;
    }
    return std::string("{\"method\":\"") + method_of(c.kind) + "\",\"params\":[" + param +
           "],\"id\":" + std::to_string(id) + "}\n";
  }

  asio::awaitable<Outcome> run_call(const Call& c) {
    TryFailure last;
    for (int attempt = 1; attempt <= kMaxTries; ++attempt) {
      if (is_stopped()) co_return Outcome{};
      if (attempt > 1) {
        std::lock_guard lock(mu);
        ++stats.retries;
      }
      const std::uint64_t id = next_id++;
      std::optional<Json> reply;
      if (!socket.is_open()) {
        if (backoff.count() > 0) {
          error_code ec;
          pause.expires_after(backoff);
          co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          if (is_stopped()) co_return Outcome{};
        }
        backoff = std::clamp(backoff * 2, kFirstBackoff, kMaxBackoff);
        if (auto f = co_await connect()) {
          last = *f;
          set_health(AppHealth::kUnreachable, last.reason);
          continue;
        }
      }
      const auto encode_start = Clock::now();
      std::string text = request(c, id);
      const auto started = Clock::now();
      TryFailure failure;
      reply = co_await exchange(std::move(text), id, failure);
      {
        std::lock_guard lock(mu);
        stats.encode_ns += static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(started - encode_start).count());
        stats.wait_ns += static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - started).count());
      }
      if (!reply) {
        close_connection();
        last = failure;
        set_health(failure.reached ? AppHealth::kFailing : AppHealth::kUnreachable, failure.reason);
        continue;
      }
      backoff = std::chrono::milliseconds(0);
      co_return interpret(c, *reply);
    }
    Outcome o;
    o.failed = true;
    o.error =
        std::string(method_of(c.kind)) + " failed " + std::to_string(kMaxTries) + " tries: " + last.reason;
    co_return o;
  }

  // Connects a fresh socket; the failure, if any.
  asio::awaitable<std::optional<TryFailure>> connect() {
    close_connection();
    const std::string where = opt.host + ":" + std::to_string(opt.port);
    error_code ec;
    tcp::resolver resolver(io);
    // Resolving is synchronous (only this thread waits; loopback and literal addresses are instant).
    auto endpoints = resolver.resolve(opt.host, std::to_string(opt.port), ec);
    if (ec) co_return TryFailure{false, "cannot resolve the app address " + where + ": " + ec.message()};
    socket = tcp::socket(io);
    arm_deadline(opt.timeout);
    co_await asio::async_connect(socket, endpoints, asio::redirect_error(asio::use_awaitable, ec));
    disarm_deadline();
    if (ec || timed_out) {
      close_connection();
      co_return TryFailure{false, "cannot connect to the app at " + where + ": " +
                                      (timed_out ? std::string("timed out") : ec.message())};
    }
    socket.set_option(tcp::no_delay(true), ec);
    std::lock_guard lock(mu);
    ++stats.connects;
    co_return std::nullopt;
  }

  // Sends one request and reads the reply object with the same id (a JSON object with "id",
  // "result" and "error"); nullopt with `failure` set when the try failed.
  asio::awaitable<std::optional<Json>> exchange(std::string text, std::uint64_t id, TryFailure& failure) {
    error_code ec;
    arm_deadline(opt.timeout);
    co_await asio::async_write(socket, asio::buffer(text), asio::redirect_error(asio::use_awaitable, ec));
    if (ec || timed_out) {
      disarm_deadline();
      failure = {false,
                 timed_out ? "timed out writing to the app" : "write to the app failed: " + ec.message()};
      co_return std::nullopt;
    }
    // One deadline for the whole reply, from the end of the request.
    arm_deadline(opt.timeout);
    for (;;) {
      using Scan = JsonObjectScanner::Result;
      const Scan r = scanner.scan(rbuf);
      if (r == Scan::kGarbage) {
        disarm_deadline();
        failure = {true, "the app sent bytes that do not start a JSON object"};
        co_return std::nullopt;
      }
      if (r == Scan::kTooBig) {
        disarm_deadline();
        failure = {true, "the app's reply is larger than " + std::to_string(opt.max_reply_bytes) + " bytes"};
        co_return std::nullopt;
      }
      if (r == Scan::kObject) {
        disarm_deadline();
        const std::size_t start = scanner.object_start(), end = scanner.pos();
        std::string error;
        auto reply =
            parse_reply(std::string_view(rbuf).substr(start, end - start), scanner.max_depth(), id, error);
        scanner.mark_consumed();
        rbuf.erase(0, scanner.take_consumed());
        if (!reply) {
          failure = {true, std::move(error)};
          co_return std::nullopt;
        }
        co_return std::move(*reply);
      }
      const std::size_t n =
          co_await socket.async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
      rbuf.append(chunk.data(), n);
      if (ec || timed_out) {
        disarm_deadline();
        failure = {false, timed_out                ? "no reply from the app within the timeout"
                          : ec == asio::error::eof ? "the app closed the connection"
                                                   : "read from the app failed: " + ec.message()};
        co_return std::nullopt;
      }
    }
  }

  // The outcome of a well-formed JSON-RPC reply: the app's error, or the result checked for its shape.
  Outcome interpret(const Call& c, const Json& reply) {
    Outcome o;
    std::string error;
    if (std::string text = reply_error_text(reply); !text.empty()) {
      error = "the app answered an error: " + text;
    } else {
      static const Json kNull;
      const Json* found = find_field(reply, "result");
      const Json& result = found ? *found : kNull;
      switch (c.kind) {
        case Kind::kCommit:
          if (auto r = parse_commit_response(result, *c.block, error)) o.commit = std::move(*r);
          break;
        case Kind::kSnapshot:
          if (auto b = parse_base64_result(result, "the GetSnapshot result", error)) o.bytes = std::move(*b);
          break;
        case Kind::kRestore:
          if (auto b = parse_base64_result(result, "the Restore result", error)) o.bytes = std::move(*b);
          break;
        case Kind::kState:
          break;  // any result is fine ({} by the spec)
      }
    }
    if (!error.empty()) {
      o.failed = true;
      o.error = clip(error);
      set_health(AppHealth::kFailing, o.error);
    } else {
      set_health(AppHealth::kOk, "");
    }
    return o;
  }

  void shutdown_io() {
    close_connection();
    disarm_deadline();
    wake.cancel();
    pause.cancel();
  }
};

SocketAppProxy::SocketAppProxy(Options options) : impl_(std::make_shared<Impl>(std::move(options))) {
  Impl* m = impl_.get();
  asio::co_spawn(m->io, m->worker(), asio::detached);
  m->thread = std::thread([m] { m->io.run(); });
}

SocketAppProxy::~SocketAppProxy() { stop(); }

void SocketAppProxy::stop(std::chrono::milliseconds grace) {
  Impl& m = *impl_;
  {
    std::unique_lock lock(m.mu);
    if (m.stopped) return;
    m.idle_cv.wait_for(lock, grace, [&m] { return m.queue.empty() && !m.busy; });
    m.stopped = true;
  }
  asio::post(m.io, [&m] { m.shutdown_io(); });
  if (m.thread.joinable()) m.thread.join();
}

CommitResponse SocketAppProxy::commit_block(const Block& block) {
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  if (m.stopped) throw AppError("the socket app proxy is stopped");
  // Answers below this index will never be asked for (the node commits in order): drop them.
  m.commits.erase(m.commits.begin(), m.commits.lower_bound(block.index()));
  bool start = false;
  Outcome o =
      Impl::take_or_start(m.commits, block.index(), start, "CommitBlock " + std::to_string(block.index()));
  if (!start) return std::move(o.commit);
  Call c;
  c.kind = Kind::kCommit;
  c.block = std::make_shared<const Block>(block);
  c.index = block.index();
  m.enqueue(std::move(c));
  throw AppBusy("CommitBlock " + std::to_string(block.index()) + " sent to the app");
}

Bytes SocketAppProxy::get_snapshot(std::uint64_t block_index) {
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  if (m.stopped) throw AppError("the socket app proxy is stopped");
  bool start = false;
  Outcome o =
      Impl::take_or_start(m.snapshots, block_index, start, "GetSnapshot " + std::to_string(block_index));
  if (!start) return std::move(o.bytes);
  while (m.snapshots.size() > kMaxKeptSnapshots) m.snapshots.erase(m.snapshots.begin());
  Call c;
  c.kind = Kind::kSnapshot;
  c.index = block_index;
  m.enqueue(std::move(c));
  throw AppBusy("GetSnapshot " + std::to_string(block_index) + " sent to the app");
}

Bytes SocketAppProxy::restore(const Bytes& snapshot) {
  Impl& m = *impl_;
  const Hash key = blake2b(snapshot);
  std::lock_guard lock(m.mu);
  if (m.stopped) throw AppError("the socket app proxy is stopped");
  bool start = false;
  Outcome o = Impl::take_or_start(m.restores, key, start, "Restore");
  if (!start) return std::move(o.bytes);
  // Only the latest snapshot matters: forget the outcomes of others.
  for (auto it = m.restores.begin(); it != m.restores.end();)
    it = it->first == key ? std::next(it) : m.restores.erase(it);
  Call c;
  c.kind = Kind::kRestore;
  c.snapshot = snapshot;
  c.snapshot_key = key;
  m.enqueue(std::move(c));
  throw AppBusy("Restore sent to the app");
}

void SocketAppProxy::on_state_changed(NodeState state) {
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  if (m.stopped) return;
  Call c;
  c.kind = Kind::kState;
  c.state = static_cast<int>(state);
  m.enqueue(std::move(c));
}

bool SocketAppProxy::app_reachable() const {
  const AppHealth h = health();
  return h == AppHealth::kOk || h == AppHealth::kFailing;
}

AppHealth SocketAppProxy::health() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats.health;
}

std::string SocketAppProxy::last_error() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats.last_error;
}

SocketAppStats SocketAppProxy::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace chatter
