#include "cmd/testnet_load.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "app_proxy/submit_server.h"

namespace chatter::cmd {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Finds the end of the first complete JSON object in buf[from..] (brace depth outside strings).
// Returns the index one past its closing brace, or npos. `from` is the object's opening brace.
std::size_t object_end(const std::string& buf, std::size_t from) {
  int depth = 0;
  bool in_string = false, escape = false;
  for (std::size_t i = from; i < buf.size(); ++i) {
    const char c = buf[i];
    if (in_string) {
      if (escape) escape = false;
      else if (c == '\\') escape = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{') ++depth;
    else if (c == '}' && --depth == 0) return i + 1;
  }
  return std::string::npos;
}

}  // namespace

LoadGenerator::LoadGenerator(Options options) : options_(std::move(options)) {}

LoadGenerator::~LoadGenerator() { finish(0); }

void LoadGenerator::start() { thread_ = std::thread([this] { run(); }); }

void LoadGenerator::finish(int drain_ms) {
  drain_ms_ = drain_ms;
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::string LoadGenerator::error() const { return has_error_.load() ? error_ : std::string(); }

void LoadGenerator::set_error(const std::string& e) {
  if (has_error_.load()) return;
  error_ = e;
  has_error_ = true;
}

std::string LoadGenerator::make_transaction(const std::string& moniker, std::uint64_t seq, std::int64_t unix_ns,
                                            std::size_t size) {
  std::string tx = "SET " + moniker + "." + std::to_string(seq) + " " + std::to_string(unix_ns) + " ";
  if (tx.size() < size) tx.append(size - tx.size(), 'x');
  return tx;
}

void LoadGenerator::run() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return set_error(std::string("cannot create a socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(options_.port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    set_error("cannot connect to 127.0.0.1:" + std::to_string(options_.port) + ": " + std::strerror(errno));
    ::close(fd);
    return;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

  std::string out, in;
  std::uint64_t outstanding = 0, seq = 0;
  const auto t0 = Clock::now();
  Clock::time_point paused_until = t0, stop_deadline{};
  bool stopping = false;
  for (;;) {
    const auto now = Clock::now();
    if (stop_.load() && !stopping) {
      stopping = true;
      stop_deadline = now + std::chrono::milliseconds(drain_ms_.load());
    }
    if (stopping && (outstanding == 0 || now >= stop_deadline)) break;

    int wait_ms = 50;
    if (!stopping && now >= paused_until && out.size() < (1u << 20)) {
      std::uint64_t room = options_.window > outstanding ? options_.window - outstanding : 0;
      if (options_.rate > 0) {
        const double elapsed = std::chrono::duration<double>(now - t0).count();
        const auto due = static_cast<std::uint64_t>(elapsed * options_.rate) + 1;
        room = std::min<std::uint64_t>(room, due > seq ? due - seq : 0);
        wait_ms = std::max(1, static_cast<int>(1000.0 / options_.rate));
      } else {
        wait_ms = 5;
      }
      room = std::min<std::uint64_t>(room, 512);
      for (std::uint64_t k = 0; k < room; ++k) {
        const std::string tx = make_transaction(options_.moniker, seq, unix_ns(), options_.tx_size);
        out += "{\"method\":\"Babble.SubmitTx\",\"params\":[\"" + base64_encode(Bytes(tx.begin(), tx.end())) +
               "\"],\"id\":" + std::to_string(seq) + "}\n";
        ++seq;
        ++outstanding;
        ++sent_;
      }
    } else if (!stopping && now < paused_until) {
      wait_ms = std::max<int>(1, static_cast<int>(
                                     std::chrono::duration_cast<std::chrono::milliseconds>(paused_until - now).count()));
    }

    pollfd p{fd, static_cast<short>(POLLIN | (out.empty() ? 0 : POLLOUT)), 0};
    if (!out.empty()) wait_ms = std::min(wait_ms, 50);
    const int r = ::poll(&p, 1, wait_ms);
    if (r < 0 && errno != EINTR) {
      set_error(std::string("poll failed: ") + std::strerror(errno));
      break;
    }
    if (r <= 0) continue;
    if (p.revents & POLLOUT) {
      const ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (n > 0) out.erase(0, static_cast<std::size_t>(n));
      else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        set_error(std::string("connection to the proxy failed: ") + std::strerror(errno));
        break;
      }
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[65536];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        set_error("the proxy closed the connection");
        break;
      }
      if (n > 0) in.append(buf, static_cast<std::size_t>(n));
      std::size_t start = 0;
      for (;;) {
        const std::size_t open = in.find('{', start);
        if (open == std::string::npos) {
          start = in.size();
          break;
        }
        const std::size_t end = object_end(in, open);
        if (end == std::string::npos) {
          start = open;
          break;
        }
        bool ok = false;
        try {
          const auto reply = nlohmann::json::parse(in.begin() + static_cast<std::ptrdiff_t>(open),
                                                   in.begin() + static_cast<std::ptrdiff_t>(end));
          ok = reply.contains("result") && reply["result"] == true &&
               (!reply.contains("error") || reply["error"].is_null());
        } catch (const nlohmann::json::exception&) {
          ok = false;
        }
        if (outstanding > 0) --outstanding;
        if (ok) {
          ++accepted_;
        } else {
          ++refused_;
          paused_until = Clock::now() + std::chrono::milliseconds(20);
        }
        start = end;
      }
      in.erase(0, start);
    }
  }
  ::close(fd);
}

}  // namespace chatter::cmd
