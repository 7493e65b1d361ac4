#include "cmd/keyfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <vector>

namespace chatter::cmd {
namespace {

namespace fs = std::filesystem;

std::string errno_text(int e) { return std::strerror(e); }

// mkdir -p with mode 0700 for every directory it creates.
bool make_dirs(const fs::path& dir, std::string& error) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return true;
    error = dir.string() + " exists and is not a directory";
    return false;
  }
  // ENOTDIR: some ancestor is a file; the walk up names it.
  if (errno != ENOENT && errno != ENOTDIR) {
    error = "cannot access " + dir.string() + ": " + errno_text(errno);
    return false;
  }
  const fs::path parent = dir.parent_path();
  if (!parent.empty() && parent != dir && !make_dirs(parent, error)) return false;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    error = "cannot create directory " + dir.string() + ": " + errno_text(errno);
    return false;
  }
  return true;
}

// True when nothing (not even a dangling symlink) is at `p`.
bool absent(const fs::path& p, std::string& error) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) == 0) {
    error = p.string() +
            " already exists; refusing to overwrite a key (move it away or choose another --datadir)";
    return false;
  }
  if (errno != ENOENT) {
    error = "cannot access " + p.string() + ": " + errno_text(errno);
    return false;
  }
  return true;
}

bool write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Writes `text` to a new temporary file in `dir` with `mode`, fsynced. Returns its path, or empty.
fs::path write_temp(const fs::path& dir, const std::string& name, const std::string& text, mode_t mode,
                    std::string& error) {
  std::string templ = (dir / ("." + name + ".tmp-XXXXXX")).string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  const int fd = ::mkstemp(buf.data());  // created 0600, so the secret is never readable by others
  if (fd < 0) {
    error = "cannot write in " + dir.string() + ": " + errno_text(errno);
    return {};
  }
  const fs::path tmp(buf.data());
  bool ok = ::fchmod(fd, mode) == 0 && write_all(fd, text) && ::fsync(fd) == 0;
  const int saved = errno;
  if (::close(fd) != 0 && ok) ok = false;
  if (!ok) {
    error = "cannot write " + tmp.string() + ": " + errno_text(saved != 0 ? saved : errno);
    ::unlink(tmp.c_str());
    return {};
  }
  return tmp;
}

// Moves `tmp` to `final` unless something is already there. link() fails with EEXIST atomically;
// on file systems without hard links, a checked rename is the fallback.
bool place(const fs::path& tmp, const fs::path& final, std::string& error) {
  if (::link(tmp.c_str(), final.c_str()) == 0) {
    ::unlink(tmp.c_str());
    return true;
  }
  const int e = errno;
  if (e == EEXIST) {
    absent(final, error);
    return false;
  }
  if ((e == EPERM || e == EOPNOTSUPP || e == ENOSYS) && absent(final, error)) {
    if (::rename(tmp.c_str(), final.c_str()) == 0) return true;
    error = "cannot create " + final.string() + ": " + errno_text(errno);
    return false;
  }
  if (error.empty()) error = "cannot create " + final.string() + ": " + errno_text(e);
  return false;
}

void sync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the files themselves are already durable
  (void)::fsync(fd);
  ::close(fd);
}

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

bool write_key_files(const std::string& datadir, const KeyPair& key, std::string& error) {
  error.clear();
  if (datadir.empty()) {
    error = "the data directory must not be empty";
    return false;
  }
  const fs::path dir = fs::path(datadir).lexically_normal();
  const fs::path priv = dir / kPrivKeyFile;
  const fs::path pub = dir / kPubKeyFile;
  if (!make_dirs(dir, error) || !absent(priv, error) || !absent(pub, error)) return false;

  const fs::path priv_tmp = write_temp(dir, kPrivKeyFile, to_hex(key.secret_bytes()) + "\n", 0600, error);
  if (priv_tmp.empty()) return false;
  const fs::path pub_tmp = write_temp(dir, kPubKeyFile, pubkey_hex(key.public_key()) + "\n", 0644, error);
  if (pub_tmp.empty()) {
    ::unlink(priv_tmp.c_str());
    return false;
  }
  if (!place(priv_tmp, priv, error)) {
    ::unlink(priv_tmp.c_str());
    ::unlink(pub_tmp.c_str());
    return false;
  }
  if (!place(pub_tmp, pub, error)) {
    ::unlink(pub_tmp.c_str());
    ::unlink(priv.c_str());  // ours, placed a moment ago: leave no key without its public half
    return false;
  }
  sync_dir(dir);
  return true;
}

std::optional<KeyPair> load_key(const std::string& datadir, std::string& error) {
  error.clear();
  const fs::path path = fs::path(datadir) / kPrivKeyFile;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot read " + path.string() + ": " + errno_text(errno);
    return std::nullopt;
  }
  // A key file is 129 bytes; read a little more so that an oversized file is recognised, no more.
  std::string text(4096, '\0');
  std::size_t got = 0;
  for (;;) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "cannot read " + path.string() + ": " + errno_text(errno);
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0 || (got += static_cast<std::size_t>(n)) == text.size()) break;
  }
  ::close(fd);
  text.resize(got);
  const std::string_view hex = trim(text);
  if (hex.size() != 128) {
    error = path.string() +
            " is not a chatter private key: expected 128 hex characters (the 64-byte secret key) "
            "on one line, found " +
            std::to_string(hex.size()) + " characters";
    return std::nullopt;
  }
  const auto secret = from_hex(hex);
  if (!secret || secret->size() != 64) {
    error = path.string() + " is not a chatter private key: it holds characters that are not hex digits";
    return std::nullopt;
  }
  auto key = KeyPair::from_secret(*secret);
  if (!key) {
    error = path.string() + " is corrupt: its public half does not match its seed";
    return std::nullopt;
  }
  return key;
}

}  // namespace chatter::cmd
