// End-to-end (spec/socket-proxy.md, spec/cli.md `chatter run --client-connect`): three real `chatter run`
// processes, each with the Python example application (examples/socket_app/chat_app.py) as its socket
// app. Messages submitted with Babble.SubmitTx are committed by every app, every app records the same
// state hash at every block index, and each app sees every block index once, in order, from 0: also
// the app that is killed (SIGKILL) mid-run and restarted from its record while its node keeps running.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cmd/testnet_nodes.h"
#include "engine/crypto.h"
#include "tests/process_helpers.h"

namespace fs = std::filesystem;
using namespace chatter;
using namespace std::chrono_literals;
using Json = nlohmann::json;

namespace {

using chatter::testing::quote;
using chatter::testing::read_text;
using chatter::testing::write_text;

constexpr auto kDeadline = 90s;  // generous: the machine may be busy building

std::string python() {
  for (const char* p : {"/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"})
    if (::access(p, X_OK) == 0) return p;
  return "";
}

// Every process started here is killed and reaped at scope exit, whatever the test did.
struct Processes {
  std::vector<pid_t> pids;
  pid_t start(const std::string& exe, const std::vector<std::string>& args, const fs::path& log) {
    const pid_t pid = cmd::spawn_process(exe, args, log.string());
    pids.push_back(pid);
    return pid;
  }
  // Sends `sig` and waits (bounded) for the process to exit.
  void stop(pid_t pid, int sig) {
    ::kill(pid, sig);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
    std::erase(pids, pid);
  }
  ~Processes() {
    for (pid_t p : pids) {
      ::kill(p, SIGKILL);
      int status = 0;
      ::waitpid(p, &status, 0);
    }
  }
};

struct Record {
  std::vector<std::uint64_t> indexes;           // in the order the app applied them
  std::map<std::uint64_t, std::string> hashes;  // index -> state hash (hex)
  std::multiset<std::string> messages;          // base64 of every applied transaction
};

// The app's --data file: one JSON line per applied block (a torn last line is ignored, as the app does).
Record read_record(const fs::path& p) {
  Record r;
  std::istringstream in(read_text(p));
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline after it: torn
    const Json e = Json::parse(line, nullptr, false);
    if (e.is_discarded() || !e.contains("index")) continue;
    const auto i = e.at("index").get<std::uint64_t>();
    r.indexes.push_back(i);
    r.hashes[i] = e.at("state_hash").get<std::string>();
    for (const auto& t : e.at("txs")) r.messages.insert(t.get<std::string>());
  }
  return r;
}

bool wait_for(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return pred();
}

std::string b64_of(const std::string& s) {
  static constexpr char kA[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= s.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(s[i]) << 16) |
                       (static_cast<unsigned char>(s[i + 1]) << 8) | static_cast<unsigned char>(s[i + 2]);
    out += {kA[(v >> 18) & 63], kA[(v >> 12) & 63], kA[(v >> 6) & 63], kA[v & 63]};
  }
  if (s.size() - i == 1) {
    const unsigned v = static_cast<unsigned char>(s[i]) << 16;
    out += {kA[(v >> 18) & 63], kA[(v >> 12) & 63], '=', '='};
  } else if (s.size() - i == 2) {
    const unsigned v = (static_cast<unsigned char>(s[i]) << 16) | (static_cast<unsigned char>(s[i + 1]) << 8);
    out += {kA[(v >> 18) & 63], kA[(v >> 12) & 63], kA[(v >> 6) & 63], '='};
  }
  return out;
}

}  // namespace

TEST_CASE(
    "socket-proxy.md e2e: 3 nodes with the Python chat app agree; a killed app resumes with no block skipped "
    "or repeated") {
  const std::string py = python();
  if (py.empty()) {
    MESSAGE("python3 not found: skipped");
    return;
  }
  const char* exe_env = std::getenv("CHATTER_EXE");
  const char* root_env = std::getenv("CHATTER_SOURCE_ROOT");
  REQUIRE_MESSAGE(exe_env != nullptr, "CHATTER_EXE must be set (meson test sets it)");
  REQUIRE_MESSAGE(root_env != nullptr, "CHATTER_SOURCE_ROOT must be set (meson test sets it)");
  const std::string exe = exe_env;
  const std::string app_py = (fs::path(root_env) / "examples" / "socket_app" / "chat_app.py").string();
  REQUIRE(fs::exists(app_py));

  chatter::testing::ScratchDir scratch("chatter-e2e-sockapp");
  constexpr int kNodes = 3;
  const auto ports = cmd::pick_free_ports(3 * kNodes);  // gossip, proxy, app for each node
  auto gossip = [&](int i) { return ports[static_cast<std::size_t>(3 * i)]; };
  auto proxy = [&](int i) { return ports[static_cast<std::size_t>(3 * i + 1)]; };
  auto app = [&](int i) { return ports[static_cast<std::size_t>(3 * i + 2)]; };
  auto addr = [](std::uint16_t p) { return "127.0.0.1:" + std::to_string(p); };
  auto dir = [&](int i) { return scratch.path / ("node" + std::to_string(i)); };
  auto record = [&](int i) { return scratch.path / ("chat" + std::to_string(i) + ".jsonl"); };

  Json peers = Json::array();
  for (int i = 0; i < kNodes; ++i) {
    const auto r = chatter::testing::run_chatter(scratch, "keygen --datadir " + quote(dir(i).string()));
    REQUIRE_MESSAGE(r.status == 0, r.err);
    std::string key = read_text(dir(i) / "key.pub");
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
    peers.push_back(
        {{"NetAddr", addr(gossip(i))}, {"PubKeyHex", key}, {"Moniker", "node" + std::to_string(i)}});
  }
  for (int i = 0; i < kNodes; ++i) write_text(dir(i) / "peers.json", peers.dump());

  Processes procs;
  auto start_app = [&](int i) {
    return procs.start(py, {app_py, "serve", "--listen", addr(app(i)), "--data", record(i).string()},
                       scratch.path / ("app" + std::to_string(i) + ".log"));
  };
  std::vector<pid_t> apps;
  for (int i = 0; i < kNodes; ++i) apps.push_back(start_app(i));
  for (int i = 0; i < kNodes; ++i)
    procs.start(exe,
                {"run", "--datadir", dir(i).string(), "--client-connect", addr(app(i)), "--proxy-listen",
                 addr(proxy(i)), "--no-service", "--timeout", "2s", "--log", "warn"},
                scratch.path / ("node" + std::to_string(i) + ".log"));
  auto logs = [&] {
    std::string all;
    for (int i = 0; i < kNodes; ++i) {
      all += "--- node" + std::to_string(i) + "\n" +
             cmd::tail_file((scratch.path / ("node" + std::to_string(i) + ".log")).string(), 20);
      all += "--- app" + std::to_string(i) + "\n" +
             cmd::tail_file((scratch.path / ("app" + std::to_string(i) + ".log")).string(), 20);
    }
    return all;
  };
  INFO(logs());
  REQUIRE(wait_for([&] { return cmd::port_accepts(proxy(0)); }));

  std::vector<std::string> sent;
  auto submit = [&](int from, int to) {
    std::string cmd = quote(py) + " " + quote(app_py) + " submit --node " + addr(proxy(0));
    for (int k = from; k < to; ++k) {
      sent.push_back("message " + std::to_string(k));
      cmd += " " + quote(sent.back());
    }
    cmd += " >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
  };
  auto has_all = [&](int i) {
    const Record r = read_record(record(i));
    for (const auto& m : sent)
      if (r.messages.count(b64_of(m)) == 0) return false;
    return true;
  };

  submit(0, 20);
  for (int i = 0; i < kNodes; ++i)
    CHECK_MESSAGE(wait_for([&] { return has_all(i); }), "app ", i, " lacks messages");

  // Kill node 0's app mid-run; its node keeps gossiping and holds the blocks until the app is back.
  const std::size_t log_before_kill = read_text(scratch.path / "node0.log").size();
  procs.stop(apps[0], SIGKILL);
  const std::size_t blocks_before = read_record(record(0)).indexes.size();
  submit(20, 35);
  CHECK(wait_for([&] { return has_all(1) && has_all(2); }));
  apps[0] = start_app(0);
  CHECK(wait_for([&] { return has_all(0); }));

  // One more round after the restart, so that every app has committed past the gap.
  submit(35, 40);
  for (int i = 0; i < kNodes; ++i) CHECK(wait_for([&] { return has_all(i); }));

  // Node 0 noticed its app was gone and said so once (a warning), not once per retry. (Its start may
  // have logged the same before the Python app listened: only what follows the kill counts.)
  const std::string log0 = read_text(scratch.path / "node0.log").substr(log_before_kill);
  const auto unreachable = log0.find("health=unreachable");
  CHECK(unreachable != std::string::npos);
  CHECK(log0.find("health=unreachable", unreachable + 1) == std::string::npos);

  std::vector<Record> records;
  for (int i = 0; i < kNodes; ++i) records.push_back(read_record(record(i)));
  CHECK(records[0].indexes.size() > blocks_before);
  for (int i = 0; i < kNodes; ++i) {
    CAPTURE(i);
    const Record& r = records[static_cast<std::size_t>(i)];
    // Every index once, in order, from 0 (also across the restart of app 0).
    for (std::size_t k = 0; k < r.indexes.size(); ++k) CHECK(r.indexes[k] == k);
    // Every message committed exactly once.
    for (const auto& m : sent) CHECK(r.messages.count(b64_of(m)) == 1);
    CHECK(r.messages.size() == sent.size());
    // The same state hash as app 0 at every index both applied.
    for (const auto& [index, hash] : r.hashes) {
      const auto other = records[0].hashes.find(index);
      if (other != records[0].hashes.end()) CHECK(hash == other->second);
    }
  }
}
