// Test helper: a scratch directory, small file I/O, and running the real `chatter` executable
// (CHATTER_EXE, set by meson test) with its exit status, standard output and standard error.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace chatter::testing {

namespace fs = std::filesystem;

// A fresh directory under the temp dir, removed with everything in it at scope exit.
struct ScratchDir {
  fs::path path;
  explicit ScratchDir(const std::string& prefix = "chatter-test") {
    std::string templ = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

inline std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

// Single-quotes s for /bin/sh.
inline std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Run {
  int status = -1;  // exit status, -1 when killed by a signal
  std::string out, err;
};

// Runs `chatter ARGS` (args already quoted as needed) with stdin from /dev/null; its output goes
// through files in `scratch`.
inline Run run_chatter(const ScratchDir& scratch, const std::string& args) {
  const char* exe = std::getenv("CHATTER_EXE");
  REQUIRE_MESSAGE(exe != nullptr, "CHATTER_EXE must name the built chatter executable (meson test sets it)");
  const fs::path out = scratch.path / "stdout";
  const fs::path err = scratch.path / "stderr";
  const std::string command =
      quote(exe) + " " + args + " </dev/null >" + quote(out.string()) + " 2>" + quote(err.string());
  const int raw = std::system(command.c_str());
  Run r;
  r.status = (raw != -1 && WIFEXITED(raw)) ? WEXITSTATUS(raw) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

inline std::size_t lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace chatter::testing
