#include "store/store_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <system_error>

namespace chatter {

namespace fs = std::filesystem;

namespace {

StoreError system_error(int err, const std::string& what) {
  using Kind = StoreError::Kind;
  const Kind kind = (err == EACCES || err == EPERM || err == EROFS) ? Kind::kReadOnly
                    : err == ENOSPC                                 ? Kind::kDiskFull
                                                                    : Kind::kOther;
  return StoreError(kind, "cannot " + what + ": " + std::strerror(err));
}

std::string utc_stamp(std::chrono::system_clock::time_point now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return buf;
}

std::string read_pid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string s = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.empty() ? "unknown" : s;
}

}  // namespace

StoreDir::StoreDir(StoreDir&& o) noexcept
    : lock_fd_(o.lock_fd_),
      store_path_(std::move(o.store_path_)),
      moved_to_(std::move(o.moved_to_)),
      bootstrapping_(o.bootstrapping_),
      message_(std::move(o.message_)) {
  o.lock_fd_ = -1;
}

StoreDir& StoreDir::operator=(StoreDir&& o) noexcept {
  if (this != &o) {
    if (lock_fd_ >= 0) ::close(lock_fd_);
    lock_fd_ = o.lock_fd_;
    o.lock_fd_ = -1;
    store_path_ = std::move(o.store_path_);
    moved_to_ = std::move(o.moved_to_);
    bootstrapping_ = o.bootstrapping_;
    message_ = std::move(o.message_);
  }
  return *this;
}

StoreDir::~StoreDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

StoreDir open_store_dir(const fs::path& datadir, bool bootstrap, std::chrono::system_clock::time_point now) {
  std::error_code ec;
  fs::create_directories(datadir, ec);
  if (ec) throw system_error(ec.value(), "create the data directory " + datadir.string());

  StoreDir d;
  const fs::path lock_path = datadir / "store.lock";
  d.lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (d.lock_fd_ < 0) throw system_error(errno, "open the lock file " + lock_path.string());
  if (::flock(d.lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK)
      throw StoreError(StoreError::Kind::kInUse, "the data directory " + datadir.string() +
                                                     " is in use by another chatter process (pid " +
                                                     read_pid(d.lock_fd_) + ")");
    throw system_error(err, "lock the data directory " + datadir.string());
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(d.lock_fd_, 0) != 0 ||
      ::pwrite(d.lock_fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
    throw system_error(errno, "write the lock file " + lock_path.string());

  d.store_path_ = datadir / "store";
  const bool exists = fs::exists(d.store_path_ / "data.mdb", ec);
  if (bootstrap && exists) {
    d.bootstrapping_ = true;
    d.message_ = "bootstrapping from the store in " + d.store_path_.string();
  } else if (bootstrap) {
    d.message_ = "no store to bootstrap from in " + d.store_path_.string() + "; starting an empty one";
  } else if (exists) {
    const std::string base = d.store_path_.string() + "." + utc_stamp(now);
    fs::path target = base;
    for (int i = 1; fs::exists(target, ec) || fs::is_symlink(target, ec); ++i)
      target = base + "-" + std::to_string(i);
    fs::rename(d.store_path_, target, ec);
    if (ec) throw system_error(ec.value(), "move the previous store " + d.store_path_.string() + " aside");
    d.moved_to_ = target;
    d.message_ = "moved the previous store to " + target.string() +
                 " (not bootstrapping); starting an empty store in " + d.store_path_.string();
  } else {
    d.message_ = "starting an empty store in " + d.store_path_.string();
  }
  return d;
}

}  // namespace chatter
