// `chatter keygen --datadir DIR` (spec/cli.md) and the key files of cmd/keyfile.h: the real executable
// (CHATTER_EXE) writes priv_key (0600) and key.pub (0X + upper-case hex, the printed key), refuses to
// overwrite, answers --help and exit 2 on bad input; load_key round-trips and names corrupt files.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cmd/keyfile.h"
#include "tests/process_helpers.h"

namespace fs = std::filesystem;
using chatter::cmd::load_key;
using chatter::cmd::write_key_files;

namespace {

using chatter::testing::lines;
using chatter::testing::quote;
using chatter::testing::read_text;
using chatter::testing::Run;
using chatter::testing::write_text;

struct KeygenDir : chatter::testing::ScratchDir {
  KeygenDir() : ScratchDir("chatter-keygen") {}
};

Run run_keygen_exe(const KeygenDir& scratch, const std::string& args) {
  return chatter::testing::run_chatter(scratch, args);
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("cli.md keygen: writes priv_key (0600) and key.pub (0X + upper-case hex) and prints the key") {
  KeygenDir scratch;
  const fs::path datadir = scratch.path / "node" / "keys";  // missing, with a missing parent
  const Run r = run_keygen_exe(scratch, "keygen --datadir " + quote(datadir.string()));
  REQUIRE(r.status == 0);
  CHECK(lines(r.out) == 1);
  const std::string printed = r.out.substr(0, r.out.find('\n'));
  CHECK(std::regex_match(printed, std::regex("0X[0-9A-F]{64}")));

  // Only the two key files, no temporary left behind; DIR private to its owner.
  CHECK(entries(datadir) == std::vector<std::string>{"key.pub", "priv_key"});
  CHECK((mode_of(datadir) & 077) == 0);
  CHECK(mode_of(datadir / "priv_key") == 0600);
  CHECK(read_text(datadir / "key.pub") == printed + "\n");
  const std::string priv = read_text(datadir / "priv_key");
  CHECK(std::regex_match(priv, std::regex("[0-9a-f]{128}\n")));

  std::string error;
  const auto key = load_key(datadir.string(), error);
  REQUIRE_MESSAGE(key.has_value(), error);
  CHECK(error.empty());
  CHECK(chatter::pubkey_hex(key->public_key()) == printed);
  CHECK(chatter::to_hex(key->secret_bytes()) + "\n" == priv);

  // Two runs give two different keys.
  const Run other = run_keygen_exe(scratch, "keygen --datadir " + quote((scratch.path / "other").string()));
  REQUIRE(other.status == 0);
  CHECK(other.out != r.out);
}

TEST_CASE("cli.md keygen: refuses to overwrite an existing key (exit 2, one line, files unchanged)") {
  KeygenDir scratch;
  const fs::path datadir = scratch.path / "node";
  REQUIRE(run_keygen_exe(scratch, "keygen --datadir " + quote(datadir.string())).status == 0);
  const std::string priv = read_text(datadir / "priv_key");
  const std::string pub = read_text(datadir / "key.pub");

  const Run again = run_keygen_exe(scratch, "keygen --datadir " + quote(datadir.string()));
  CHECK(again.status == 2);
  CHECK(again.out.empty());
  CHECK(lines(again.err) == 1);
  CHECK(again.err.find("already exists") != std::string::npos);
  CHECK(read_text(datadir / "priv_key") == priv);
  CHECK(read_text(datadir / "key.pub") == pub);
  CHECK(entries(datadir) == std::vector<std::string>{"key.pub", "priv_key"});

  // key.pub alone is enough to refuse, and no priv_key appears.
  const fs::path pub_only = scratch.path / "pub-only";
  fs::create_directories(pub_only);
  write_text(pub_only / "key.pub", "0XAB\n");
  const Run refused = run_keygen_exe(scratch, "keygen --datadir " + quote(pub_only.string()));
  CHECK(refused.status == 2);
  CHECK(refused.err.find("key.pub already exists") != std::string::npos);
  CHECK(entries(pub_only) == std::vector<std::string>{"key.pub"});
}

TEST_CASE("cli.md keygen: --help exits 0 and documents the files; bad input exits 2 with one line") {
  KeygenDir scratch;
  const Run help = run_keygen_exe(scratch, "keygen --help");
  CHECK(help.status == 0);
  CHECK(help.out.find("priv_key") != std::string::npos);
  CHECK(help.out.find("128") != std::string::npos);
  CHECK(help.out.find("key.pub") != std::string::npos);

  const Run missing = run_keygen_exe(scratch, "keygen");
  CHECK(missing.status == 2);
  CHECK(missing.out.empty());
  CHECK(lines(missing.err) == 1);
  CHECK(missing.err.find("--datadir") != std::string::npos);

  // A data directory that cannot be created (its parent is a regular file).
  write_text(scratch.path / "file", "x");
  const Run blocked =
      run_keygen_exe(scratch, "keygen --datadir " + quote((scratch.path / "file" / "sub").string()));
  CHECK(blocked.status == 2);
  CHECK(blocked.out.empty());
  CHECK(lines(blocked.err) == 1);
  CHECK(blocked.err.find("not a directory") != std::string::npos);
}

TEST_CASE("keyfile.h: write_key_files + load_key round trip; corrupt or missing files are refused clearly") {
  KeygenDir scratch;
  const fs::path dir = scratch.path / "k";
  const auto key = chatter::KeyPair::from_name("keyfile-test");
  std::string error;
  REQUIRE_MESSAGE(write_key_files(dir.string(), key, error), error);
  auto loaded = load_key(dir.string(), error);
  REQUIRE_MESSAGE(loaded.has_value(), error);
  CHECK(loaded->public_key() == key.public_key());
  CHECK(loaded->secret_bytes() == key.secret_bytes());
  CHECK(read_text(dir / "key.pub") == chatter::pubkey_hex(key.public_key()) + "\n");
  CHECK_FALSE(write_key_files(dir.string(), key, error));
  CHECK(error.find("already exists") != std::string::npos);

  const std::string good = read_text(dir / "priv_key");
  const std::string hex = good.substr(0, 128);

  // The public half no longer matches the seed.
  std::string flipped = hex;
  flipped[127] = flipped[127] == '0' ? '1' : '0';
  write_text(dir / "priv_key", flipped + "\n");
  CHECK_FALSE(load_key(dir.string(), error).has_value());
  CHECK(error.find("corrupt") != std::string::npos);
  CHECK(error.find("priv_key") != std::string::npos);

  write_text(dir / "priv_key", hex.substr(0, 100) + "\n");
  CHECK_FALSE(load_key(dir.string(), error).has_value());
  CHECK(error.find("expected 128 hex characters") != std::string::npos);

  std::string not_hex = hex;
  not_hex[5] = 'g';
  write_text(dir / "priv_key", not_hex);
  CHECK_FALSE(load_key(dir.string(), error).has_value());
  CHECK(error.find("not hex digits") != std::string::npos);

  write_text(dir / "priv_key", hex + "\n" + hex + "\n");  // two lines
  CHECK_FALSE(load_key(dir.string(), error).has_value());

  write_text(dir / "priv_key", std::string(1 << 20, 'a'));  // large: read is capped
  CHECK_FALSE(load_key(dir.string(), error).has_value());

  // Surrounding whitespace (say, an editor's CRLF) is accepted.
  write_text(dir / "priv_key", "  " + hex + "\r\n");
  loaded = load_key(dir.string(), error);
  REQUIRE_MESSAGE(loaded.has_value(), error);
  CHECK(loaded->public_key() == key.public_key());

  fs::remove(dir / "priv_key");
  CHECK_FALSE(load_key(dir.string(), error).has_value());
  CHECK(error.find("cannot read") != std::string::npos);
}
