// The executable's logging (cmd/log.h, spec/cli.md `--log`): the --log parser (levels, component=level,
// one sentence for bad values, exit 2 from `chatter run`), the line format (UTC time, level,
// component, msg, key=value fields quoted when needed), per-component levels, and that a running
// node at the default level writes no line per transaction, event or block (debug does, for node).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cmd/keyfile.h"
#include "cmd/log.h"
#include "cmd/peers_file.h"
#include "cmd/testnet_load.h"
#include "cmd/testnet_nodes.h"
#include "engine/crypto.h"
#include "tests/http_client.h"
#include "tests/process_helpers.h"

namespace fs = std::filesystem;
using namespace chatter;
using namespace chatter::cmd;
using chatter::testing::read_text;
using chatter::testing::ScratchDir;

namespace {

LogConfig parsed(const std::string& spec) {
  std::string error;
  const auto c = parse_log_spec(spec, error);
  REQUIRE_MESSAGE(c.has_value(), spec << ": " << error);
  return *c;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// TIME level=L component=C msg=M [key=value...], values plain or quoted.
const std::regex& line_format() {
  static const std::regex r(
      R"re(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(trace|debug|info|warn|error) component=(node|gossip|fastsync|store|app|http|net) msg=([^ "=]+|"([^"\\]|\\.)*")( [a-z_]+=([^ "=]+|"([^"\\]|\\.)*"))*$)re");
  return r;
}

std::string addr(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

}  // namespace

TEST_CASE("log: --log takes a level for all components and component=level items; later items win") {
  CHECK(parsed("info").all == LogLevel::kInfo);
  CHECK(parsed("debug").level_of("gossip") == LogLevel::kDebug);
  const LogConfig c = parsed("warn, gossip=debug,http=off");
  CHECK(c.level_of("node") == LogLevel::kWarn);
  CHECK(c.level_of("gossip") == LogLevel::kDebug);
  CHECK(c.level_of("http") == LogLevel::kOff);
  CHECK(parsed("node=trace").all == LogLevel::kInfo);  // the others keep the default
  CHECK(parsed("node=trace").level_of("node") == LogLevel::kTrace);
  CHECK(parsed("node=debug,node=error").level_of("node") == LogLevel::kError);
  CHECK(parsed("node=debug,warn").level_of("node") == LogLevel::kWarn);  // a bare level resets
}

TEST_CASE("log: bad --log values are one sentence naming what is wrong") {
  for (const char* bad : {"", " ", "verbose", "node=loud", "disk=info", "info,,node=debug", "info,", "=info",
                          "node=", "node=debug=x"}) {
    INFO("'" << bad << "'");
    std::string error;
    CHECK_FALSE(parse_log_spec(bad, error).has_value());
    CHECK(error.find("--log") != std::string::npos);
    CHECK(error.find('\n') == std::string::npos);
  }
  std::string error;
  (void)parse_log_spec("disk=info", error);
  CHECK(error.find("node, gossip, fastsync, store, app, http, net") != std::string::npos);
  (void)parse_log_spec("verbose", error);
  CHECK(error.find("trace, debug, info, warn, error, off") != std::string::npos);

  ScratchDir scratch("chatter-log");
  for (const char* bad : {"verbose", "gossip=loud", "disk=debug"}) {
    const auto r = chatter::testing::run_chatter(
        scratch, std::string("run --datadir ") + chatter::testing::quote((scratch.path / "none").string()) +
                     " --log " + chatter::testing::quote(bad));
    CHECK(r.status == 2);
    CHECK(chatter::testing::lines(r.err) == 1);
    CHECK(r.err.find("--log") != std::string::npos);
  }
}

TEST_CASE("log: one line per write with key=value fields, quoted when needed; per-component levels") {
  std::ostringstream out;
  {
    const Log log(parsed("info,gossip=debug,http=error"), &out);
    CHECK(log.enabled("gossip", LogLevel::kDebug));
    CHECK_FALSE(log.enabled("node", LogLevel::kDebug));
    CHECK_FALSE(log.enabled("http", LogLevel::kWarn));
    log.write("node", LogLevel::kInfo, "started", {{"id", "7"}, {"moniker", "a b"}, {"empty", ""}});
    log.write("node", LogLevel::kDebug, "block", {{"index", "1"}});  // below node's level
    log.write("gossip", LogLevel::kDebug, "sync", {{"peer", "3"}});
    log.write("http", LogLevel::kWarn, "hidden");
    log.write("net", LogLevel::kWarn, "cannot connect to node1: refused", {{"detail", "x=\"y\"\n{}"}});
    log.flush();
  }
  const auto l = lines_of(out.str());
  REQUIRE(l.size() == 3);
  for (const auto& line : l) CHECK_MESSAGE(std::regex_match(line, line_format()), line);
  CHECK(l[0].substr(25) == "level=info component=node msg=started id=7 moniker=\"a b\" empty=\"\"");
  CHECK(l[1].substr(25) == "level=debug component=gossip msg=sync peer=3");
  CHECK(l[2].substr(25) ==
        "level=warn component=net msg=\"cannot connect to node1: refused\" detail=\"x=\\\"y\\\"\\n{}\"");
  CHECK(log_value("plain") == "plain");
  CHECK(log_value("tab\there") == "\"tab\\there\"");
  CHECK(log_value(std::string("nul\0x", 5)) == "\"nul\\x00x\"");
}

TEST_CASE("log: a running node at the default level logs no line per transaction, event or block") {
  ScratchDir scratch("chatter-log");
  const char* exe = std::getenv("CHATTER_EXE");
  REQUIRE(exe != nullptr);
  for (const std::string level : {"", "info,node=debug"}) {
    INFO("--log " << (level.empty() ? "(default)" : level));
    const fs::path dir = scratch.path / ("node" + std::to_string(level.size()));
    const auto ports = pick_free_ports(3);
    const KeyPair key = KeyPair::generate();
    std::string error;
    REQUIRE_MESSAGE(write_key_files(dir.string(), key, error), error);
    REQUIRE_MESSAGE(write_peers_file((dir / kPeersFile).string(),
                                     {Peer{key.public_key(), addr(ports[0]), "solo"}}, error),
                    error);
    const std::string log = (dir / "node.log").string();
    std::vector<std::string> args = {"run",          "--datadir",        dir.string(),   "--proxy-listen",
                                     addr(ports[1]), "--service-listen", addr(ports[2]), "--heartbeat",
                                     "5ms"};
    if (!level.empty()) args.insert(args.end(), {"--log", level});
    std::vector<NodeProcess> nodes(1);
    nodes[0].pid = spawn_process(exe, args, log);
    nodes[0].running = true;
    REQUIRE_MESSAGE(chatter::testing::eventually([&] {
                      const auto r = chatter::testing::http_get(ports[2], "/stats");
                      return r && r->status == 200;
                    }),
                    read_text(log));
    LoadGenerator::Options lo;
    lo.moniker = "solo";
    lo.port = ports[1];
    lo.rate = 400;
    LoadGenerator load(lo);
    load.start();
    // Until hundreds of transactions (and so many events and blocks) were committed.
    std::uint64_t committed = 0;
    CHECK(chatter::testing::eventually([&] {
      const auto r = chatter::testing::http_get(ports[2], "/metrics");
      if (!r) return false;
      const auto at = r->body.find("\nchatter_transactions_committed_total ");
      if (at == std::string::npos) return false;
      committed = std::stoull(r->body.substr(at + 38));
      return committed >= 500;
    }));
    load.finish(2000);
    stop_nodes(nodes, std::chrono::milliseconds(10000));
    CHECK(WIFEXITED(nodes[0].status));
    const auto lines = lines_of(read_text(log));
    std::size_t blocks = 0;
    for (const auto& line : lines) {
      CHECK_MESSAGE(std::regex_match(line, line_format()), line);
      if (line.find(" msg=block ") != std::string::npos) ++blocks;
    }
    CHECK(lines.size() >= 2);  // started ... stopped
    if (level.empty()) {
      CHECK(blocks == 0);
      CHECK(lines.size() * 20 < committed);  // nothing per transaction (nor per event or block)
    } else {
      CHECK(blocks > 10);  // node=debug: a line per committed block
    }
  }
}
