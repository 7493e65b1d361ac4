// `chatter replay` (spec/replay.md): the worked examples through replay() in process, in batch and
// incremental mode; strict input parsing; insertion refusals named by event; and the `chatter`
// executable's contract (spec/cli.md: exit 0 / 2, one line on stderr, --help) as a subprocess.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cmd/replay.h"
#include "engine/frame.h"
#include "engine/hashgraph.h"

using chatter::ReplayError;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

std::string data_dir() {
  const char* dir = std::getenv("CHATTER_TEST_DATA");
  return dir != nullptr ? dir : "tests/data";
}

json load_example(const std::string& file) {
  const std::string path = data_dir() + "/" + file;
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  return json::parse(in);
}

const std::vector<std::string> kExamples = {"example-3-creators.json", "example-peer-set-change.json"};

// The replay's value at `key` as plain json (ordered_json and json do not compare directly).
json plain(const ordered_json& j) { return json::parse(j.dump()); }

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// spec/examples/README.md: a block's events are the event_groups flattened, any order inside a group.
void check_block_events(const ordered_json& got, const json& groups) {
  const auto events = got.get<std::vector<std::string>>();
  std::size_t pos = 0;
  for (const json& group : groups) {
    const auto want = sorted(group.get<std::vector<std::string>>());
    REQUIRE(pos + want.size() <= events.size());
    std::vector<std::string> slice(events.begin() + static_cast<long>(pos),
                                   events.begin() + static_cast<long>(pos + want.size()));
    CHECK(sorted(slice) == want);
    pos += want.size();
  }
  CHECK(pos == events.size());
}

// Compares a replay result with an example's `expected`. In incremental mode a witness may stay
// undecided where batch mode decides it not famous (spec/replay.md, --incremental).
void check_against_expected(const ordered_json& got, const json& ex, bool incremental) {
  CHECK(got.at("last_round") == ex.at("last_round").get<std::int64_t>());
  CHECK(plain(got.at("pending_rounds")) == ex.at("pending_rounds"));
  CHECK(plain(got.at("decided_rounds")) == ex.at("decided_rounds"));

  CHECK(got.at("events").size() == ex.at("events").size());
  for (const auto& [name, want] : ex.at("events").items()) {
    INFO("event " << name);
    REQUIRE(got.at("events").contains(name));
    const json e = plain(got.at("events").at(name));
    CHECK(e.at("round") == want.at("round"));
    CHECK(e.at("lamport") == want.at("lamport"));
    CHECK(e.at("witness") == want.at("witness"));
    if (incremental && want.at("famous") == false && e.at("famous").is_null()) {
      CHECK(want.at("witness") == true);
    } else {
      CHECK(e.at("famous") == want.at("famous"));
    }
    CHECK(e.at("round_received") == want.at("round_received"));
  }

  const auto& blocks = got.at("blocks");
  REQUIRE(blocks.size() == ex.at("blocks").size());
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    INFO("block " << i);
    const json& want = ex.at("blocks")[i];
    CHECK(blocks[i].at("index") == want.at("index").get<std::uint64_t>());
    CHECK(blocks[i].at("round_received") == want.at("round_received").get<std::int64_t>());
    CHECK(sorted(blocks[i].at("transactions").get<std::vector<std::string>>()) ==
          want.at("transactions").get<std::vector<std::string>>());
    check_block_events(blocks[i].at("events"), want.at("event_groups"));
  }
}

// Internal consistency of one output document (spec/replay.md, "Output").
void check_shape(const ordered_json& got, const json& input) {
  std::map<std::string, std::string> creator_of;
  std::map<std::string, std::string> self_parent_of;
  for (const json& e : input.at("events")) {
    creator_of[e.at("name")] = e.at("creator");
    if (e.contains("self_parent") && !e["self_parent"].is_null())
      self_parent_of[e.at("name")] = e["self_parent"];
  }
  const auto& events = got.at("events");
  const std::int64_t last_round = got.at("last_round");
  REQUIRE(got.at("rounds").size() == static_cast<std::size_t>(last_round + 1));

  // rounds[r].witnesses are exactly the witnesses of round r; received lists match round_received.
  std::vector<std::string> processed_order;
  std::set<std::int64_t> pending(got.at("pending_rounds").begin(), got.at("pending_rounds").end());
  for (std::int64_t r = 0; r <= last_round; ++r) {
    const auto& round = got.at("rounds").at(std::to_string(r));
    std::set<std::string> witnesses;
    for (const auto& [name, e] : events.items())
      if (e.at("witness") == true && e.at("round") == r) witnesses.insert(name);
    const auto listed = round.at("witnesses").get<std::vector<std::string>>();
    CHECK(std::set<std::string>(listed.begin(), listed.end()) == witnesses);
    for (const auto& name : round.at("received").get<std::vector<std::string>>()) {
      CHECK(events.at(name).at("round_received") == r);
      processed_order.push_back(name);
    }
    if (round.at("decided") == false) CHECK(pending.count(r) == 1);
  }
  // consensus_events is the concatenation of the processed rounds' received events.
  CHECK(got.at("consensus_events").get<std::vector<std::string>>() == processed_order);

  // Blocks: consecutive indexes; events are a round's received events; roots are self-chains.
  std::uint64_t index = 0;
  for (const auto& b : got.at("blocks")) {
    CHECK(b.at("index") == index++);
    const auto& round = got.at("rounds").at(std::to_string(b.at("round_received").get<std::int64_t>()));
    CHECK(b.at("events") == round.at("received"));
    for (const auto& [creator, root] : b.at("frame_roots").items()) {
      const auto names = root.get<std::vector<std::string>>();
      CHECK(names.size() <= chatter::kRootDepth + 1);
      for (std::size_t i = 0; i < names.size(); ++i) {
        CHECK(creator_of.at(names[i]) == creator);
        if (i > 0) CHECK(self_parent_of[names[i]] == names[i - 1]);
      }
    }
  }
}

// A small valid input: the first 12 events of the 3-creator example (indexes given).
json small_input() {
  json in = load_example("example-3-creators.json").at("input");
  json events = json::array();
  for (std::size_t i = 0; i < 12; ++i) events.push_back(in["events"][i]);
  in["events"] = events;
  return in;
}

std::size_t position_of(const json& in, const std::string& name) {
  for (std::size_t i = 0; i < in["events"].size(); ++i)
    if (in["events"][i]["name"] == name) return i;
  FAIL("no event " << name);
  return 0;
}

// Replays `in` expecting a ReplayError; returns its message (one line, never empty).
std::string replay_error(const json& in) {
  std::string message;
  try {
    chatter::replay(in);
  } catch (const ReplayError& e) {
    message = e.what();
  }
  CHECK_MESSAGE(!message.empty(), "no ReplayError for " << in.dump().substr(0, 300));
  CHECK(message.find('\n') == std::string::npos);
  return message;
}

}  // namespace

TEST_CASE("replay.md: the worked examples give the values of spec/examples (batch mode)") {
  for (const auto& file : kExamples) {
    INFO(file);
    const json doc = load_example(file);
    const ordered_json got = chatter::replay(doc.at("input"), false);
    check_against_expected(got, doc.at("expected"), false);
    check_shape(got, doc.at("input"));
  }
}

TEST_CASE("replay.md --incremental: same values, except late witnesses may stay undecided") {
  for (const auto& file : kExamples) {
    INFO(file);
    const json doc = load_example(file);
    const ordered_json got = chatter::replay(doc.at("input"), true);
    check_against_expected(got, doc.at("expected"), true);
    check_shape(got, doc.at("input"));
  }
}

TEST_CASE("examples/graphs holds exactly the inputs of the worked examples") {
  const char* root = std::getenv("CHATTER_SOURCE_ROOT");
  const std::string dir = std::string(root != nullptr ? root : ".") + "/examples/graphs/";
  for (const auto& file : kExamples) {
    INFO(file);
    std::ifstream in(dir + file);
    REQUIRE_MESSAGE(in.good(), "cannot open " << dir + file);
    CHECK(json::parse(in) == load_example(file).at("input"));
  }
}

TEST_CASE("replay is deterministic: the same input gives the same document, byte for byte") {
  const json in = load_example("example-peer-set-change.json").at("input");
  CHECK(chatter::replay(in).dump() == chatter::replay(in).dump());
  CHECK(chatter::replay(in, true).dump() == chatter::replay(in, true).dump());
}

TEST_CASE("replay.md: optional fields take their documented defaults") {
  json in = small_input();
  const std::string with_everything = chatter::replay(in).dump();
  // `index` given and matching is the same as `index` absent.
  for (auto& e : in["events"]) e.erase("index");
  CHECK(chatter::replay(in).dump() == with_everything);
  // Default peer_sets is {"0": participants}.
  in.erase("peer_sets");
  CHECK(chatter::replay(in).dump() == with_everything);
  // Null parents are absent parents; an explicit timestamp equal to the position changes nothing.
  in["events"][0]["self_parent"] = nullptr;
  in["events"][0]["timestamp"] = 0;
  CHECK(chatter::replay(in).dump() == with_everything);
  // The default coin is "signature": it still replays (this graph decides nothing by coin).
  in.erase("coin");
  CHECK_NOTHROW(chatter::replay(in));
  // No events: an empty graph.
  in["events"] = json::array();
  const auto empty = chatter::replay(in);
  CHECK(empty.at("last_round") == -1);
  CHECK(empty.at("events").empty());
  CHECK(empty.at("blocks").empty());
}

TEST_CASE("replay.md: a different timestamp changes the event hash, not the consensus values") {
  json in = small_input();
  const auto base = chatter::replay(in);
  for (std::size_t i = 0; i < in["events"].size(); ++i) in["events"][i]["timestamp"] = 1000 + i;
  const auto shifted = chatter::replay(in);
  for (const auto& [name, e] : base.at("events").items()) {
    CHECK(shifted.at("events").at(name).at("round") == e.at("round"));
    CHECK(shifted.at("events").at(name).at("lamport") == e.at("lamport"));
  }
}

TEST_CASE("replay input parsing is strict: every malformed input is a ReplayError, never a crash") {
  const json good = small_input();
  // clang-format off
  std::vector<std::pair<std::string, std::function<void(json&)>>> cases = {
      {"not an object", [](json& in) { in = json::array(); }},
      {"a number", [](json& in) { in = 42; }},
      {"unknown top-level field", [](json& in) { in["colour"] = "red"; }},
      {"missing participants", [](json& in) { in.erase("participants"); }},
      {"participants not a list", [](json& in) { in["participants"] = "A"; }},
      {"participants empty", [](json& in) { in["participants"] = json::array(); }},
      {"participant not a string", [](json& in) { in["participants"][1] = 7; }},
      {"participant empty name", [](json& in) { in["participants"][1] = ""; }},
      {"participants duplicated", [](json& in) { in["participants"] = {"A", "B", "C", "A"}; }},
      {"peer_sets not an object", [](json& in) { in["peer_sets"] = json::array({json::array({"A"})}); }},
      {"peer_sets empty", [](json& in) { in["peer_sets"] = json::object(); }},
      {"peer_sets key not an integer", [](json& in) { in["peer_sets"]["x"] = {"A", "B", "C"}; }},
      {"peer_sets key negative", [](json& in) { in["peer_sets"]["-1"] = {"A", "B", "C"}; }},
      {"peer_sets key fractional", [](json& in) { in["peer_sets"]["1.5"] = {"A", "B", "C"}; }},
      {"peer_sets key empty", [](json& in) { in["peer_sets"][""] = {"A", "B", "C"}; }},
      {"peer_sets key huge", [](json& in) { in["peer_sets"]["99999999999999999999999"] = {"A"}; }},
      {"peer_sets same round twice", [](json& in) { in["peer_sets"]["00"] = {"A", "B", "C"}; }},
      {"peer_sets unknown member", [](json& in) { in["peer_sets"]["0"] = {"A", "B", "Z"}; }},
      {"peer_sets duplicate member", [](json& in) { in["peer_sets"]["0"] = {"A", "B", "B"}; }},
      {"peer_sets member not a string", [](json& in) { in["peer_sets"]["0"] = {"A", 2}; }},
      {"peer_sets value not a list", [](json& in) { in["peer_sets"]["0"] = "A"; }},
      {"peer_sets value empty", [](json& in) { in["peer_sets"]["0"] = json::array(); }},
      {"coin unknown word", [](json& in) { in["coin"] = "maybe"; }},
      {"coin a boolean", [](json& in) { in["coin"] = true; }},
      {"coin a number", [](json& in) { in["coin"] = 1; }},
      {"missing events", [](json& in) { in.erase("events"); }},
      {"events not a list", [](json& in) { in["events"] = json::object(); }},
      {"event not an object", [](json& in) { in["events"][2] = "c0"; }},
      {"event without name", [](json& in) { in["events"][2].erase("name"); }},
      {"event name not a string", [](json& in) { in["events"][2]["name"] = 3; }},
      {"event name empty", [](json& in) { in["events"][2]["name"] = ""; }},
      {"duplicate event name", [](json& in) { in["events"][2]["name"] = "a0"; }},
      {"unknown event field", [](json& in) { in["events"][2]["parent"] = "a0"; }},
      {"event without creator", [](json& in) { in["events"][2].erase("creator"); }},
      {"creator not a string", [](json& in) { in["events"][2]["creator"] = json::array({"C"}); }},
      {"unknown participant as creator", [](json& in) { in["events"][2]["creator"] = "Z"; }},
      {"self_parent not defined", [](json& in) { in["events"][3]["self_parent"] = "nope"; }},
      {"self_parent defined later", [](json& in) { in["events"][3]["self_parent"] = "a1"; }},
      {"self_parent is itself", [](json& in) { in["events"][3]["self_parent"] = "b1"; }},
      {"other_parent not defined", [](json& in) { in["events"][3]["other_parent"] = "zz"; }},
      {"other_parent not a string", [](json& in) { in["events"][3]["other_parent"] = 0; }},
      {"index negative", [](json& in) { in["events"][3]["index"] = -1; }},
      {"index a string", [](json& in) { in["events"][3]["index"] = "1"; }},
      {"index fractional", [](json& in) { in["events"][3]["index"] = 1.0; }},
      {"timestamp a string", [](json& in) { in["events"][3]["timestamp"] = "now"; }},
      {"timestamp too large", [](json& in) { in["events"][3]["timestamp"] = 18446744073709551615ULL; }},
      {"txs not a list", [](json& in) { in["events"][3]["txs"] = "hello"; }},
      {"txs element not a string", [](json& in) { in["events"][3]["txs"] = json::array({"a", 1}); }},
  };
  // clang-format on
  for (const auto& [what, mutate] : cases) {
    INFO(what);
    json in = good;
    mutate(in);
    replay_error(in);
  }
  // The good input itself replays.
  CHECK_NOTHROW(chatter::replay(good));
}

TEST_CASE("replay_text: invalid JSON and odd bytes are ReplayErrors with one line") {
  for (const std::string text : {"", "{", "[1,", "{\"participants\": [\"A\"]\n,}", "\xff\xfe", "nul"}) {
    std::string message;
    try {
      chatter::replay_text(text, {});
    } catch (const ReplayError& e) {
      message = e.what();
    }
    CHECK(!message.empty());
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("replay_text: deeply nested values in any field are refused without recursion") {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  for (const std::string& text :
       {R"({"participants": ["A"], "events": [{"name": "x", "creator": "A", "txs": [)" + deep + "]}]}",
        R"({"participants": ["A"], "events": [{"name": "x", "creator": "A", "self_parent": )" + deep + "}]}",
        R"({"participants": ["A"], "coin": )" + deep + R"(, "events": []})"}) {
    CHECK_THROWS_AS(chatter::replay_text(text, {}), ReplayError);
  }
}

TEST_CASE("replay.md: events the hashgraph refuses are ReplayErrors naming the event and the reason") {
  const json good = small_input();

  SUBCASE("hashgraph.h kBadIndex: a given index that does not match") {
    json in = good;
    in["events"][position_of(in, "b1")]["index"] = 5;
    const auto m = replay_error(in);
    INFO(m);
    CHECK(m.find("event b1: ") == 0);
    CHECK(m.find(chatter::to_string(chatter::InsertError::kBadIndex)) != std::string::npos);
  }
  SUBCASE("hashgraph.h kBadIndex: a first event with index 1") {
    json in = good;
    in["events"][position_of(in, "c0")]["index"] = 1;
    const auto m = replay_error(in);
    INFO(m);
    CHECK(m.find("event c0: ") == 0);
    CHECK(m.find(chatter::to_string(chatter::InsertError::kBadIndex)) != std::string::npos);
  }
  SUBCASE("hashgraph.h kSelfParentNotLast: a fork (self-parent is not the creator's last event)") {
    json in = good;
    const auto b1 = position_of(in, "b1");
    in["events"].insert(in["events"].begin() + static_cast<long>(b1) + 1,
                        json{{"name", "b1x"}, {"creator", "B"}, {"self_parent", "b0"}, {"txs", {"fork"}}});
    const auto m = replay_error(in);
    INFO(m);
    CHECK(m.find("event b1x: ") == 0);
    CHECK(m.find(chatter::to_string(chatter::InsertError::kSelfParentNotLast)) != std::string::npos);
  }
  SUBCASE("hashgraph.h kSelfParentNotLast: a second parentless event of a creator") {
    json in = good;
    in["events"].push_back(json{{"name", "a0x"}, {"creator", "A"}, {"txs", {"again"}}});
    const auto m = replay_error(in);
    INFO(m);
    CHECK(m.find("event a0x: ") == 0);
  }
  SUBCASE("a self-parent created by someone else is refused") {
    json in = good;
    in["events"].push_back(json{{"name", "x"}, {"creator", "A"}, {"self_parent", "b1"}});
    CHECK(replay_error(in).find("event x: ") == 0);
  }
  SUBCASE("hashgraph.h kUnknownCreator: a participant in no peer set") {
    json in = good;
    in["participants"].push_back("D");
    in["peer_sets"] = {{"0", {"A", "B", "C"}}};
    in["events"].push_back(json{{"name", "d0"}, {"creator", "D"}, {"other_parent", "a0"}});
    const auto m = replay_error(in);
    INFO(m);
    CHECK(m.find("event d0: ") == 0);
    CHECK(m.find(chatter::to_string(chatter::InsertError::kUnknownCreator)) != std::string::npos);
  }
  SUBCASE("an event identical to an earlier one (same body and signature) is refused") {
    json in = good;
    in["events"].push_back(json{{"name", "a0again"}, {"creator", "A"}, {"index", 0}, {"timestamp", 0}});
    CHECK(replay_error(in).find("event a0again: ") == 0);
  }
  SUBCASE("--incremental reports the same refusal") {
    json in = good;
    in["events"][position_of(in, "b1")]["index"] = 5;
    std::string message;
    try {
      chatter::replay(in, true);
    } catch (const ReplayError& e) {
      message = e.what();
    }
    CHECK(message.find("event b1: ") == 0);
  }
}

TEST_CASE("explain: a readable summary of rounds, fame and blocks") {
  const auto got = chatter::replay(load_example("example-3-creators.json").at("input"));
  const std::string text = chatter::explain(got);
  CHECK(text.find("round 0  decided") != std::string::npos);
  CHECK(text.find("a0+") != std::string::npos);  // a0 is a famous witness of round 0
  CHECK(text.find("block 0  round received 1") != std::string::npos);
  CHECK(text.find("\"b0\"") != std::string::npos);  // block 0's first transaction
}

// ---------------------------------------------------------------------------------------------------
// The executable (spec/cli.md): exit statuses, one line on stderr, JSON on stdout.

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "chatter-test-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    const auto p = path / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
};

struct RunResult {
  int status = -1;  // exit status, or -1 when the process did not exit normally (crash)
  std::string out;
  std::string err;
};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs the chatter executable with `args` (already quoted), stdin from `stdin_file` or /dev/null.
RunResult run_chatter(const TempDir& dir, const std::string& args, const std::string& stdin_file = "") {
  const char* exe = std::getenv("CHATTER_EXE");
  REQUIRE_MESSAGE(exe != nullptr, "CHATTER_EXE must name the built chatter executable (meson test sets it)");
  const auto out = dir.path / "stdout";
  const auto err = dir.path / "stderr";
  const std::string command = shell_quote(exe) + " " + args + " <" +
                              shell_quote(stdin_file.empty() ? "/dev/null" : stdin_file) + " >" +
                              shell_quote(out.string()) + " 2>" + shell_quote(err.string());
  const int raw = std::system(command.c_str());
  RunResult r;
  r.status = (raw != -1 && WIFEXITED(raw)) ? WEXITSTATUS(raw) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

std::size_t line_count(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

TEST_CASE("cli.md: `chatter replay FILE` prints one JSON document and exits 0") {
  TempDir dir;
  const json doc = load_example("example-3-creators.json");
  const std::string file = dir.write("input.json", doc.at("input").dump(1));

  const auto r = run_chatter(dir, "replay " + shell_quote(file));
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  json out;
  REQUIRE_NOTHROW(out = json::parse(r.out));
  CHECK(out == plain(chatter::replay(doc.at("input"))));

  const auto inc = run_chatter(dir, "replay --incremental " + shell_quote(file));
  CHECK(inc.status == 0);
  REQUIRE_NOTHROW(out = json::parse(inc.out));
  CHECK(out == plain(chatter::replay(doc.at("input"), true)));

  const auto stdin_run = run_chatter(dir, "replay -", file);
  CHECK(stdin_run.status == 0);
  CHECK(stdin_run.out == r.out);

  const auto explain = run_chatter(dir, "replay --explain " + shell_quote(file));
  CHECK(explain.status == 0);
  CHECK(explain.out.find("block 0") != std::string::npos);
}

TEST_CASE("cli.md: bad input gives exit 2, exactly one line on stderr and nothing on stdout") {
  TempDir dir;
  json bad_index = small_input();
  bad_index["events"][3]["index"] = 9;
  const std::vector<std::pair<std::string, std::string>> inputs = {
      {"not JSON", "{\"participants\": "},
      {"malformed", R"({"participants": ["A", "A"], "events": []})"},
      {"refused event", bad_index.dump()},
  };
  for (const auto& [what, text] : inputs) {
    INFO(what);
    const auto r = run_chatter(dir, "replay " + shell_quote(dir.write("bad.json", text)));
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(line_count(r.err) == 1);
    CHECK(r.err.back() == '\n');
  }
  const auto missing = run_chatter(dir, "replay " + shell_quote((dir.path / "missing.json").string()));
  CHECK(missing.status == 2);
  CHECK(missing.out.empty());
  CHECK(line_count(missing.err) == 1);

  const auto refused = run_chatter(dir, "replay -", dir.write("bad.json", bad_index.dump()));
  CHECK(refused.status == 2);
  CHECK(refused.err.find("event b1: ") != std::string::npos);
}

TEST_CASE("cli.md: every subcommand answers --help; a bad option is exit 2 with one line") {
  TempDir dir;
  for (const std::string args : {"--help", "replay --help", "version --help"}) {
    INFO(args);
    const auto r = run_chatter(dir, args);
    CHECK(r.status == 0);
    CHECK(r.out.find("Usage") != std::string::npos);
  }
  for (const std::string args :
       {"--bogus", "replay --bogus x.json", "replay", "nosuchcommand", "", "version extra"}) {
    INFO(args);
    const auto r = run_chatter(dir, args);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(line_count(r.err) == 1);
  }
  const auto version = run_chatter(dir, "version");
  CHECK(version.status == 0);
  CHECK(version.out.rfind("chatter ", 0) == 0);
}
