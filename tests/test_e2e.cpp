// End-to-end (spec/cli.md, `chatter run` and `chatter testnet`): the real executable (CHATTER_EXE) runs
// a 3-node loopback network under load and the nodes agree (blocks_equal, state_hashes_equal, committed
// transactions); `chatter run` refuses bad input with exit 2 and one line; cmd/peers_file.h parses
// peers.json strictly.
#include <doctest/doctest.h>
#include <thread>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/process_helpers.h"
#include "cmd/duration.h"
#include "cmd/keyfile.h"
#include "cmd/testnet_nodes.h"
#include "cmd/peers_file.h"
#include "cmd/probe_app.h"
#include "engine/crypto.h"

namespace fs = std::filesystem;
using namespace chatter;
using namespace chatter::cmd;

namespace {

using chatter::testing::lines;
using chatter::testing::quote;
using chatter::testing::read_text;
using chatter::testing::Run;
using chatter::testing::write_text;

struct ScratchDir : chatter::testing::ScratchDir {
  ScratchDir() : chatter::testing::ScratchDir("chatter-e2e") {}
};

Run run_exe(const ScratchDir& scratch, const std::string& args) { return chatter::testing::run_chatter(scratch, args); }

std::string peer_json(const std::string& addr, const std::string& key, const std::string& moniker) {
  return "{\"NetAddr\": \"" + addr + "\", \"PubKeyHex\": \"" + key + "\", \"Moniker\": \"" + moniker + "\"}";
}

}  // namespace

TEST_CASE("cli.md testnet: 3 nodes under load agree on blocks and state and commit transactions") {
  ScratchDir scratch;
  const fs::path dir = scratch.path / "net";
  const fs::path summary_file = scratch.path / "summary.json";
  const Run r = run_exe(scratch, "testnet --nodes 3 --duration 4 --tx-rate 400 --summary " +
                                     quote(summary_file.string()) + " --dir " + quote(dir.string()));
  INFO("stderr: " << r.err);
  CHECK(r.status == 0);
  const auto summary = nlohmann::json::parse(read_text(summary_file));
  CHECK(nlohmann::json::parse(r.out) == summary);  // the same document on standard output
  CHECK(summary.at("nodes") == 3);
  CHECK(summary.at("blocks_equal") == true);
  CHECK(summary.at("state_hashes_equal") == true);
  const auto committed = summary.at("tx_committed").get<std::uint64_t>();
  CHECK(committed > 0);
  CHECK(committed <= summary.at("tx_submitted").get<std::uint64_t>());
  REQUIRE(summary.at("last_block_index").size() == 3);
  for (const auto& last : summary.at("last_block_index")) CHECK(last.get<std::int64_t>() >= 1);
  CHECK(summary.at("latency_ms").at("p50").get<double>() <= summary.at("latency_ms").at("p99").get<double>());
  CHECK(summary.at("tx_per_s").get<double>() > 0);
  // Each node had its own HTTP service, announced on standard error and listed in the summary.
  REQUIRE(summary.at("services").size() == 3);
  for (const auto& url : summary.at("services")) {
    CHECK(url.get<std::string>().rfind("http://127.0.0.1:", 0) == 0);
    CHECK(r.err.find(url.get<std::string>() + "/stats") != std::string::npos);
  }
  // Each node kept its own data directory, report and log.
  for (int i = 0; i < 3; ++i) {
    const fs::path node = dir / ("node" + std::to_string(i));
    CHECK(fs::exists(node / "peers.json"));
    const auto report = nlohmann::json::parse(read_text(node / "report.json"));
    CHECK(report.at("exited") == true);
    CHECK(report.at("moniker") == "node" + std::to_string(i));
  }
}

TEST_CASE("cli.md testnet --late 1 (FastSync): the late validator fast-forwards, then holds the same blocks") {
  ScratchDir scratch;
  const fs::path dir = scratch.path / "net";
  const Run r = run_exe(scratch, "testnet --nodes 4 --late 1 --duration 8 --tx-rate 1000 --dir " + quote(dir.string()));
  INFO("stderr: " << r.err);
  CHECK(r.status == 0);
  const auto summary = nlohmann::json::parse(r.out);
  CHECK(summary.at("nodes") == 5);
  CHECK(summary.at("blocks_equal") == true);
  CHECK(summary.at("state_hashes_equal") == true);
  REQUIRE(summary.at("late_nodes").size() == 1);
  const auto& late = summary.at("late_nodes").at(0);
  CHECK(late.at("id") == 4);
  CHECK(late.at("caught_up") == true);
  CHECK(late.at("fast_forwards") == 1);
  CHECK(late.at("fast_forward_block").get<std::int64_t>() > 0);
  CHECK(late.at("catch_up_s").get<double>() > 0);
  CHECK(late.at("bytes_received").get<std::uint64_t>() > 0);
  // It committed blocks of its own after the fast-forward, equal to the others' (blocks_equal).
  const auto report = nlohmann::json::parse(read_text(dir / "node4" / "report.json"));
  CHECK(report.at("last_block_index").get<std::int64_t>() > late.at("fast_forward_block").get<std::int64_t>());
  CHECK(read_text(dir / "node4" / "node.log").find("msg=fast-forwarded") != std::string::npos);
}

TEST_CASE("cli.md testnet --crash 10 (Restart): kill -9 under load, restart with --bootstrap, nothing lost") {
  ScratchDir scratch;
  const fs::path dir = scratch.path / "net";
  const Run r = run_exe(scratch, "testnet --nodes 4 --crash 10 --duration 24 --tx-rate 1000 --dir " + quote(dir.string()));
  INFO("stderr: " << r.err);
  CHECK(r.status == 0);
  const auto summary = nlohmann::json::parse(r.out);
  CHECK(summary.at("blocks_equal") == true);
  CHECK(summary.at("state_hashes_equal") == true);
  REQUIRE(summary.at("crashes").size() == 10);
  for (const auto& c : summary.at("crashes")) {
    CHECK(c.at("recovered") == true);
    CHECK(c.at("recovery_s").get<double>() > 0);
  }
  // Every node ends at the same last block: the restarted ones lost no block and skipped none.
  const auto& last = summary.at("last_block_index");
  for (const auto& l : last) CHECK(l == last.at(0));
  for (int i = 0; i < 4; ++i) CHECK(fs::exists(dir / ("node" + std::to_string(i)) / "store" / "data.mdb"));
}

TEST_CASE("cli.md run --store: a data directory in use by another process is refused with one sentence") {
  ScratchDir scratch;
  const fs::path dir = scratch.path / "net";
  // A short testnet leaves data directories with keys and peers; start one node twice on its store.
  const Run t = run_exe(scratch, "testnet --nodes 1 --duration 1 --tx-rate 10 --store --dir " + quote(dir.string()));
  REQUIRE(t.status == 0);
  const fs::path node = dir / "node0";
  const pid_t first = spawn_process(std::getenv("CHATTER_EXE"),
                                    {"run", "--datadir", node.string(), "--store", "--bootstrap", "--no-service",
                                     "--proxy-listen", "127.0.0.1:0"},
                                    (scratch.path / "first.log").string());
  // Wait for the first one to hold the lock (its log says where the store is).
  for (int i = 0; i < 100 && read_text(scratch.path / "first.log").find("msg=started") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const Run second = run_exe(scratch, "run --datadir " + quote(node.string()) + " --store --no-service --proxy-listen 127.0.0.1:0");
  CHECK(second.status != 0);
  CHECK(lines(second.err) == 1);
  CHECK(second.err.find("in use by another chatter process") != std::string::npos);
  const std::string first_log = read_text(scratch.path / "first.log");
  ::kill(first, SIGTERM);
  int status = 0;
  ::waitpid(first, &status, 0);
  CHECK(first_log.find("msg=store") != std::string::npos);
  CHECK(first_log.find("msg=started") != std::string::npos);
}

TEST_CASE("cli.md testnet --join 2 --leave 1 (membership): two nodes join, one validator leaves, every node ends with the same schedule") {
  ScratchDir scratch;
  const fs::path dir = scratch.path / "net";
  const Run r = run_exe(scratch, "testnet --nodes 4 --join 2 --leave 1 --duration 12 --tx-rate 500 --dir " + quote(dir.string()));
  INFO("stderr: " << r.err);
  CHECK(r.status == 0);
  const auto summary = nlohmann::json::parse(r.out);
  CHECK(summary.at("nodes") == 6);
  CHECK(summary.at("blocks_equal") == true);
  CHECK(summary.at("state_hashes_equal") == true);
  const auto& m = summary.at("membership");
  CHECK(m.at("joined") == 2);
  CHECK(m.at("left") == 1);
  CHECK(m.at("validator_sets_equal") == true);
  CHECK(m.at("validators") == 5);  // 4 + 2 - 1
  REQUIRE(m.at("joins").size() == 2);
  for (const auto& j : m.at("joins")) {
    CHECK(j.at("joined") == true);
    CHECK(j.at("join_latency_s").get<double>() > 0);
  }
  REQUIRE(m.at("leaves").size() == 1);
  CHECK(m.at("leaves").at(0).at("node") == 3);
  CHECK(m.at("leaves").at(0).at("exit") == "exit status 0");
  // Every node that ran until the end holds the schedule genesis, +node4, +node5, -node3 (in the
  // order the joins and the leave happened); the joiners' keys are in the final set, the leaver's not.
  const auto r0 = nlohmann::json::parse(read_text(dir / "node0" / "report.json"));
  CHECK(r0.at("history").size() == 4);
  const auto key_of = [&](int i) {
    std::string k = read_text(dir / ("node" + std::to_string(i)) / "key.pub");
    while (!k.empty() && (k.back() == '\n' || k.back() == '\r')) k.pop_back();
    return k;
  };
  nlohmann::json final_set;
  for (const auto& [round, keys] : r0.at("history").items()) final_set = keys;
  const auto has = [&](const std::string& k) { return std::find(final_set.begin(), final_set.end(), k) != final_set.end(); };
  CHECK(has(key_of(4)));
  CHECK(has(key_of(5)));
  CHECK_FALSE(has(key_of(3)));
  for (int i : {1, 2, 4, 5})
    CHECK(nlohmann::json::parse(read_text(dir / ("node" + std::to_string(i)) / "report.json")).at("history") == r0.at("history"));
  CHECK(read_text(dir / "node3" / "node.log").find("msg=left") != std::string::npos);
}

TEST_CASE("cli.md testnet: impossible membership options are refused with exit 2 and one line") {
  ScratchDir scratch;
  for (const std::string opt : {"--nodes 2 --leave 2", "--join 17"}) {
    const Run r = run_exe(scratch, "testnet " + opt + " --dir " + quote((scratch.path / "t").string()));
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
  }
}

TEST_CASE("cli.md run: bad input gets exit 2 and exactly one line on standard error") {
  ScratchDir scratch;
  const fs::path node = scratch.path / "node";
  const KeyPair key = KeyPair::generate();
  std::string error;
  REQUIRE(write_key_files(node.string(), key, error));
  const std::string self = peer_json("127.0.0.1:1", pubkey_hex(key.public_key()), "me");
  const std::string other = peer_json("127.0.0.1:2", pubkey_hex(KeyPair::generate().public_key()), "other");
  const std::string datadir = " --datadir " + quote(node.string());

  SUBCASE("no --datadir") {
    const Run r = run_exe(scratch, "run");
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
  }
  SUBCASE("missing data directory") {
    const Run r = run_exe(scratch, "run --datadir " + quote((scratch.path / "absent").string()));
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
  }
  SUBCASE("missing peers.json") {
    const Run r = run_exe(scratch, "run" + datadir);
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find("peers.json") != std::string::npos);
  }
  SUBCASE("malformed peers.json") {
    write_text(node / "peers.json", "[" + self + ",");
    const Run r = run_exe(scratch, "run" + datadir);
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find("not valid JSON") != std::string::npos);
  }
  SUBCASE("a node in no peer file needs --listen to join") {
    write_text(node / "peers.json", "[" + other + "]");
    const Run r = run_exe(scratch, "run" + datadir);
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find("is in neither peers.json nor the genesis peers") != std::string::npos);
    CHECK(r.err.find("--listen") != std::string::npos);
  }
  SUBCASE("bad membership options") {
    write_text(node / "peers.json", "[" + self + "," + other + "]");
    for (const std::string opt : {"--join-timeout 0s", "--join-timeout soon", "--suspend-limit -3", "--leave-timeout -1s",
                                  "--advertise nope"}) {
      CAPTURE(opt);
      const Run r = run_exe(scratch, "run" + datadir + " " + opt);
      CHECK(r.status == 2);
      CHECK(lines(r.err) == 1);
    }
  }
  SUBCASE("bad durations and log level") {
    write_text(node / "peers.json", "[" + self + "," + other + "]");
    for (const std::string opt :
         {"--heartbeat 10xs", "--timeout -1s", "--log verbose", "--proxy-listen nope", "--client-connect nope"}) {
      const Run r = run_exe(scratch, "run" + datadir + " " + opt);
      CHECK(r.status == 2);
      CHECK(lines(r.err) == 1);
    }
  }
}

TEST_CASE("peers_file: strict parsing of peers.json with one-sentence errors") {
  const std::string k1 = pubkey_hex(KeyPair::from_name("a").public_key());
  const std::string k2 = pubkey_hex(KeyPair::from_name("b").public_key());
  std::string error;

  const auto ok = parse_peers("[" + peer_json("127.0.0.1:1337", k1, "a") + "," + peer_json("host:9", k2, "b") + "]",
                              "peers.json", error);
  REQUIRE_MESSAGE(ok.has_value(), error);
  REQUIRE(ok->size() == 2);
  CHECK((*ok)[0].net_addr == "127.0.0.1:1337");
  CHECK((*ok)[0].moniker == "a");
  CHECK((*ok)[1].pub_key == KeyPair::from_name("b").public_key());

  auto refuses = [&](const std::string& text, const std::string& needle) {
    std::string e;
    CHECK_FALSE(parse_peers(text, "peers.json", e).has_value());
    CHECK(e.find(needle) != std::string::npos);
    CHECK(e.find('\n') == std::string::npos);
    CHECK(e.find("peers.json") != std::string::npos);
  };
  refuses("[" + peer_json("127.0.0.1:1", k1, "a"), "not valid JSON");
  // Regression (fuzz/fuzz_peers.cpp): a number overflowing every JSON number type threw out_of_range
  // from the parser, which escaped parse_peers and terminated `chatter run`.
  refuses("[87E41257]", "not valid JSON");
  refuses("[{\"NetAddr\": 1e999}]", "not valid JSON");
  refuses("{}", "JSON array");
  refuses("[]", "no peers");
  refuses("[1]", "not a JSON object");
  refuses("[" + peer_json("127.0.0.1:1", "0XZZ", "a") + "]", "invalid PubKeyHex");
  refuses("[" + peer_json("127.0.0.1:1", k1.substr(0, 20), "a") + "]", "invalid PubKeyHex");
  refuses("[" + peer_json("127.0.0.1:1", k1, "a") + "," + peer_json("127.0.0.1:2", k1, "b") + "]", "repeats the key");
  refuses("[" + peer_json("127.0.0.1", k1, "a") + "]", "host:port");
  refuses("[" + peer_json("127.0.0.1:0", k1, "a") + "]", "port number");
  refuses("[" + peer_json("127.0.0.1:70000", k1, "a") + "]", "port number");
  refuses("[" + peer_json(":80", k1, "a") + "]", "empty host");
  refuses("[{\"NetAddr\": \"127.0.0.1:1\", \"Moniker\": \"a\"}]", "lacks the field PubKeyHex");
  refuses("[{\"NetAddr\": 5, \"PubKeyHex\": \"" + k1 + "\"}]", "must be a string");
  refuses("[{\"NetAddr\": \"h:1\", \"PubKeyHex\": \"" + k1 + "\", \"Extra\": \"x\"}]", "unknown field");

  const auto v6 = parse_host_port("[::1]:8080", error);
  REQUIRE(v6.has_value());
  CHECK(v6->host == "::1");
  CHECK(v6->port == 8080);
}

TEST_CASE("cli.md durations: Go-style units and plain milliseconds") {
  CHECK(parse_duration_ns("10ms") == 10'000'000);
  CHECK(parse_duration_ns("1s") == 1'000'000'000);
  CHECK(parse_duration_ns("500us") == 500'000);
  CHECK(parse_duration_ns("2m") == 120'000'000'000);
  CHECK(parse_duration_ns("1m30s") == 90'000'000'000);
  CHECK(parse_duration_ns("1.5s") == 1'500'000'000);
  CHECK(parse_duration_ns("250") == 250'000'000);
  CHECK_FALSE(parse_duration_ns("").has_value());
  CHECK(parse_duration_ns("10") == 10'000'000);
  CHECK_FALSE(parse_duration_ns("-1s").has_value());
  CHECK_FALSE(parse_duration_ns("1x").has_value());
  CHECK_FALSE(parse_duration_ns("s").has_value());
}

TEST_CASE("probe: commit latency of own testnet transactions only, 1 ms buckets") {
  const std::string own = "SET node1.7 1000000000 xxxx";
  CHECK(ProbeApp::submit_time_ns(Bytes(own.begin(), own.end()), "node1.") == 1'000'000'000);
  const std::string other = "SET node10.7 1000000000 xxxx";
  CHECK_FALSE(ProbeApp::submit_time_ns(Bytes(other.begin(), other.end()), "node1.").has_value());
  const std::string bad = "SET node1.7 12ab";
  CHECK_FALSE(ProbeApp::submit_time_ns(Bytes(bad.begin(), bad.end()), "node1.").has_value());
}

TEST_CASE(
    "cli.md sim: --faults all prints the summary with a trace hash per run; a seed reproduces alone; "
    "bad options get exit 2 and one line") {
  ScratchDir scratch;
  const Run range =
      run_exe(scratch, "sim --seeds 1..2 --faults all --duration 4 --fault-until 1.2 --compact");
  INFO(range.err);
  REQUIRE(range.status == 0);
  const auto j = nlohmann::json::parse(range.out);
  CHECK(j["runs"] == 2);
  CHECK(j["safety_violations"] == 0);
  CHECK(j["liveness_failures"] == 0);
  CHECK(j["failures"].is_array());
  REQUIRE(j["results"].size() == 2);
  CHECK(j["results"][0]["trace_hash"] != j["results"][1]["trace_hash"]);
  CHECK(j["results"][1]["faults"]["honest_refused_events"].get<std::uint64_t>() > 0);
  const fs::path log = scratch.path / "events.log";
  const Run alone =
      run_exe(scratch, "sim --seeds 2..2 --faults all --duration 4 --fault-until 1.2 --compact --log-file " +
                           quote(log.string()));
  REQUIRE(alone.status == 0);
  CHECK(nlohmann::json::parse(alone.out)["results"][0]["trace_hash"] == j["results"][1]["trace_hash"]);
  CHECK(read_text(log).find(" deliver ") != std::string::npos);
  for (const std::string bad :
       {"--faults bogus", "--faults silence --nodes 3", "--faults all --byzantine 2", "--seeds 3..1"}) {
    CAPTURE(bad);
    const Run r = run_exe(scratch, "sim " + bad);
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
  }
}
