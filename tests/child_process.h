// Test helper: run a piece of code in a forked child process, for crash and locking tests. The
// child reports "ready" through a pipe; the parent can then kill it with SIGKILL (a crash at exactly
// that point) or let it run to its end. No doctest assertions run in the child: it reports through
// its exit status and an optional message written to the pipe after the ready byte.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>

namespace chatter::testing {

class ChildProcess {
 public:
  // Body gets a `ready(message)` callback; exceptions end the child with status 3.
  using Body = std::function<void(const std::function<void(const std::string&)>& ready)>;

  explicit ChildProcess(const Body& body) {
    int p[2];
    if (::pipe(p) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(p[0]);
      const int fd = p[1];
      try {
        body([fd](const std::string& message) {
          const std::string out = "R" + message;
          [[maybe_unused]] const auto n = ::write(fd, out.data(), out.size());
          ::close(fd);
        });
      } catch (...) {
        ::_exit(3);
      }
      ::_exit(0);
    }
    ::close(p[1]);
    read_fd_ = p[0];
  }
  ~ChildProcess() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    if (read_fd_ >= 0) ::close(read_fd_);
  }

  pid_t pid() const { return pid_; }

  // Blocks until the child calls ready() (true, with its message) or exits without (false).
  bool wait_ready(std::string* message = nullptr) {
    std::string got;
    char buf[512];
    for (;;) {
      const ssize_t n = ::read(read_fd_, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    if (got.empty()) return false;
    if (message) *message = got.substr(1);
    return true;
  }

  void kill9() { ::kill(pid_, SIGKILL); }

  // The exit status, or -signal when killed.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int read_fd_ = -1;
  bool reaped_ = false;
};

}  // namespace chatter::testing
