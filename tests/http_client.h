// Test helper: a minimal HTTP/1.1 client over a plain POSIX socket to 127.0.0.1 (independent of the
// Beast code under test). Reads replies framed by Content-Length (the service always sends it).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <map>
#include <optional>
#include <chrono>
#include <string>
#include <thread>

namespace chatter::testing {

// Polls `cond` every `poll` until it holds or `limit` passes; the last answer of cond.
template <class C>
bool eventually(C cond, std::chrono::milliseconds poll = std::chrono::milliseconds(20),
                std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(poll);
  }
  return cond();
}

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpConn {
 public:
  // Connects (blocking); connected() says whether it worked. `timeout_s` bounds every receive.
  explicit HttpConn(std::uint16_t port, int timeout_s = 30) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    timeval tv{};
    tv.tv_sec = timeout_s;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
  }
  ~HttpConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  HttpConn(const HttpConn&) = delete;
  HttpConn& operator=(const HttpConn&) = delete;

  bool connected() const { return connected_; }

  // Best effort (the server may have closed already; no SIGPIPE). True when everything was sent.
  bool send_raw(const std::string& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }

  bool send_request(const std::string& method, const std::string& target,
                    const std::string& extra_headers = "") {
    return send_raw(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n");
  }

  // One reply; nullopt when the connection closed, timed out or the reply is malformed. `head`: the
  // reply has no body whatever its Content-Length says.
  std::optional<HttpReply> read_reply(bool head = false) {
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return std::nullopt;
    HttpReply r;
    const std::string head_text = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    std::size_t pos = head_text.find("\r\n");
    const std::string status_line = head_text.substr(0, pos);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) return std::nullopt;
    r.status = std::stoi(status_line.substr(9, 3));
    while (pos != std::string::npos) {
      const std::size_t next = head_text.find("\r\n", pos + 2);
      const std::string line =
          head_text.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        r.headers[name] = value;
      }
      pos = next;
    }
    std::size_t length = 0;
    if (!head && !r.header("content-length").empty()) length = std::stoul(r.header("content-length"));
    while (buf_.size() < length)
      if (!fill()) return std::nullopt;
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }

  std::optional<HttpReply> request(const std::string& method, const std::string& target,
                                   const std::string& extra_headers = "") {
    if (!send_request(method, target, extra_headers)) return std::nullopt;
    return read_reply(method == "HEAD");
  }

  // True when the server closed the connection (EOF or reset) before the receive timeout; what
  // it sent before is dropped.
  bool closed_by_peer() {
    char b[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, b, sizeof b, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET || errno == EPIPE;
    }
  }

  int fd() const { return fd_; }

 private:
  bool fill() {
    char b[16384];
    const ssize_t n = ::recv(fd_, b, sizeof b, 0);
    if (n <= 0) return false;
    buf_.append(b, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

// One request on a fresh connection (Connection: close).
inline std::optional<HttpReply> http_request(std::uint16_t port, const std::string& method,
                                             const std::string& target) {
  HttpConn c(port);
  if (!c.connected()) return std::nullopt;
  return c.request(method, target, "Connection: close\r\n");
}

inline std::optional<HttpReply> http_get(std::uint16_t port, const std::string& target) {
  return http_request(port, "GET", target);
}

}  // namespace chatter::testing
