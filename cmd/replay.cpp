#include "cmd/replay.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/crypto.h"
#include "engine/event.h"
#include "engine/hashgraph.h"
#include "engine/peer.h"
#include "store/inmem_store.h"

namespace chatter {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// Error messages must stay on one line: names and values from the input may hold anything.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

[[noreturn]] void fail(const std::string& message) { throw ReplayError(one_line(message)); }

// A value from the input, shown in a message: scalars as JSON text (quoted strings, escaped), cut
// when long; lists and objects only by kind, since dumping them recurses (deep nesting would overflow
// the stack) and a message should stay short anyway.
std::string shown(const json& j) {
  if (j.is_array()) return j.empty() ? "an empty list" : "a list";
  if (j.is_object()) return j.empty() ? "an empty object" : "an object";
  std::string s = j.dump(-1, ' ', true, json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

std::string quote(const std::string& s) { return shown(json(s)); }

// One event of the input, checked and resolved to positions in the event list.
struct EventSpec {
  std::string name;
  std::size_t creator = 0;  // position in participants
  std::optional<std::size_t> self_parent;
  std::optional<std::size_t> other_parent;
  std::optional<std::uint64_t> index;
  std::optional<std::int64_t> timestamp;
  std::vector<std::string> txs;
};

struct ReplayInput {
  std::vector<std::string> participants;
  std::map<std::string, std::size_t> participant_pos;
  std::vector<std::pair<std::int64_t, std::vector<std::size_t>>> peer_sets;  // round -> members
  CoinMode coin = CoinMode::kSignature;
  std::vector<EventSpec> events;
};

void check_keys(const json& obj, std::initializer_list<const char*> allowed, const std::string& where) {
  for (const auto& item : obj.items()) {
    bool known = false;
    for (const char* k : allowed) known = known || item.key() == k;
    if (!known) fail(where + ": unknown field " + quote(item.key()));
  }
}

std::vector<std::string> parse_participants(const json& in) {
  if (!in.contains("participants")) fail("input: missing field \"participants\"");
  const json& p = in["participants"];
  if (!p.is_array() || p.empty()) fail("participants: expected a non-empty list of names, got " + shown(p));
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (!p[i].is_string() || p[i].get_ref<const std::string&>().empty())
      fail("participants[" + std::to_string(i) + "]: expected a non-empty string, got " + shown(p[i]));
    const auto& name = p[i].get_ref<const std::string&>();
    if (!seen.insert(name).second) fail("participants: " + quote(name) + " appears twice");
    out.push_back(name);
  }
  return out;
}

// A peer_sets key: a round number written as a plain non-negative decimal integer.
std::int64_t parse_round_key(const std::string& key) {
  const bool digits = !key.empty() && key.size() <= 18 &&
                      std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) fail("peer_sets: key " + quote(key) + " is not a round number (a non-negative integer)");
  return std::stoll(key);
}

void parse_peer_sets(const json& in, ReplayInput& r) {
  if (!in.contains("peer_sets") || in["peer_sets"].is_null()) {
    std::vector<std::size_t> all(r.participants.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    r.peer_sets.emplace_back(0, std::move(all));
    return;
  }
  const json& ps = in["peer_sets"];
  if (!ps.is_object() || ps.empty())
    fail("peer_sets: expected a non-empty object {round: [names]}, got " + shown(ps));
  std::set<std::int64_t> rounds;
  for (const auto& item : ps.items()) {
    const std::int64_t round = parse_round_key(item.key());
    if (!rounds.insert(round).second) fail("peer_sets: round " + std::to_string(round) + " appears twice");
    const std::string where = "peer_sets[" + quote(item.key()) + "]";
    const json& members = item.value();
    if (!members.is_array() || members.empty())
      fail(where + ": expected a non-empty list of participant names, got " + shown(members));
    std::vector<std::size_t> positions;
    std::set<std::size_t> seen;
    for (const json& m : members) {
      if (!m.is_string()) fail(where + ": expected participant names, got " + shown(m));
      auto it = r.participant_pos.find(m.get<std::string>());
      if (it == r.participant_pos.end()) fail(where + ": unknown participant " + shown(m));
      if (!seen.insert(it->second).second) fail(where + ": " + shown(m) + " appears twice");
      positions.push_back(it->second);
    }
    r.peer_sets.emplace_back(round, std::move(positions));
  }
}

CoinMode parse_coin(const json& in) {
  if (!in.contains("coin") || in["coin"].is_null()) return CoinMode::kSignature;
  const json& c = in["coin"];
  if (c == "signature") return CoinMode::kSignature;
  if (c == "true") return CoinMode::kTrue;
  if (c == "false") return CoinMode::kFalse;
  fail("coin: expected \"signature\", \"true\" or \"false\", got " + shown(c));
}

std::optional<std::size_t> parse_parent(const json& ev, const char* field, const std::string& where,
                                        const std::map<std::string, std::size_t>& defined) {
  if (!ev.contains(field) || ev[field].is_null()) return std::nullopt;
  const json& p = ev[field];
  if (!p.is_string()) fail(where + ": " + field + " must be an event name or null, got " + shown(p));
  auto it = defined.find(p.get<std::string>());
  if (it == defined.end()) fail(where + ": " + field + " " + shown(p) + " is not an event defined earlier");
  return it->second;
}

EventSpec parse_event(const json& ev, std::size_t pos, const ReplayInput& r,
                      const std::map<std::string, std::size_t>& defined) {
  const std::string at = "events[" + std::to_string(pos) + "]";
  if (!ev.is_object()) fail(at + ": expected an object, got " + shown(ev));
  if (!ev.contains("name")) fail(at + ": missing field \"name\"");
  if (!ev["name"].is_string() || ev["name"].get_ref<const std::string&>().empty())
    fail(at + ": name must be a non-empty string, got " + shown(ev["name"]));
  EventSpec e;
  e.name = ev["name"].get<std::string>();
  const std::string where = "event " + e.name;
  if (defined.count(e.name) != 0) fail(where + ": duplicate event name (" + at + ")");
  check_keys(ev, {"name", "creator", "self_parent", "other_parent", "index", "timestamp", "txs"}, where);

  if (!ev.contains("creator")) fail(where + ": missing field \"creator\"");
  const json& c = ev["creator"];
  if (!c.is_string()) fail(where + ": creator must be a participant name, got " + shown(c));
  auto it = r.participant_pos.find(c.get<std::string>());
  if (it == r.participant_pos.end()) fail(where + ": creator " + shown(c) + " is not a participant");
  e.creator = it->second;

  e.self_parent = parse_parent(ev, "self_parent", where, defined);
  e.other_parent = parse_parent(ev, "other_parent", where, defined);

  if (ev.contains("index") && !ev["index"].is_null()) {
    const json& i = ev["index"];
    // Parsed JSON stores non-negative integers as unsigned; a json built in code may hold them signed.
    if (!i.is_number_integer() || (!i.is_number_unsigned() && i.get<std::int64_t>() < 0))
      fail(where + ": index must be a non-negative integer, got " + shown(i));
    e.index = i.get<std::uint64_t>();
  }
  if (ev.contains("timestamp") && !ev["timestamp"].is_null()) {
    const json& t = ev["timestamp"];
    const bool fits =
        t.is_number_integer() &&
        (!t.is_number_unsigned() ||
         t.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
    if (!fits) fail(where + ": timestamp must be a 64-bit integer, got " + shown(t));
    e.timestamp = t.get<std::int64_t>();
  }
  if (ev.contains("txs") && !ev["txs"].is_null()) {
    const json& txs = ev["txs"];
    if (!txs.is_array()) fail(where + ": txs must be a list of strings, got " + shown(txs));
    for (const json& tx : txs) {
      if (!tx.is_string()) fail(where + ": txs must be a list of strings, got an element " + shown(tx));
      e.txs.push_back(tx.get<std::string>());
    }
  }
  return e;
}

ReplayInput parse_input(const json& in) {
  if (!in.is_object()) fail("input: expected a JSON object, got " + std::string(in.type_name()));
  check_keys(in, {"participants", "peer_sets", "coin", "events"}, "input");
  ReplayInput r;
  r.participants = parse_participants(in);
  for (std::size_t i = 0; i < r.participants.size(); ++i) r.participant_pos[r.participants[i]] = i;
  parse_peer_sets(in, r);
  r.coin = parse_coin(in);

  if (!in.contains("events")) fail("input: missing field \"events\"");
  const json& evs = in["events"];
  if (!evs.is_array()) fail("events: expected a list of events, got " + shown(evs));
  std::map<std::string, std::size_t> defined;
  for (std::size_t i = 0; i < evs.size(); ++i) {
    r.events.push_back(parse_event(evs[i], i, r, defined));
    defined.emplace(r.events.back().name, i);
  }
  return r;
}

PeerSchedule build_schedule(const ReplayInput& r, const std::vector<KeyPair>& keys) {
  PeerSchedule schedule;
  for (const auto& [round, members] : r.peer_sets) {
    std::vector<Peer> peers;
    for (std::size_t m : members) peers.push_back(Peer{keys[m].public_key(), "", r.participants[m]});
    try {
      schedule.add(round, PeerSet(std::move(peers)));
    } catch (const std::exception& e) {
      fail("peer_sets[\"" + std::to_string(round) + "\"]: " + e.what());
    }
  }
  return schedule;
}

// Everything the output needs to turn hashes back into names.
class Names {
 public:
  void add(const Hash& h, const std::string& name) { names_.emplace(h, name); }
  std::string operator()(const Hash& h) const {
    auto it = names_.find(h);
    if (it == names_.end()) fail("engine invariant: unknown event hash " + to_hex(h));
    return it->second;
  }
  ordered_json list(const std::vector<Hash>& hs) const {
    ordered_json out = ordered_json::array();
    for (const Hash& h : hs) out.push_back((*this)(h));
    return out;
  }

 private:
  std::unordered_map<Hash, std::string, DigestHasher> names_;
};

ordered_json describe(const ReplayInput& r, const std::vector<KeyPair>& keys, const std::vector<Hash>& hashes,
                      const Names& names, const Hashgraph& hg, const Store& store,
                      const std::vector<Block>& blocks) {
  ordered_json out = ordered_json::object();
  const std::int64_t last_round = hg.last_round();
  out["last_round"] = last_round;

  ordered_json events = ordered_json::object();
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    const auto info = hg.info(hashes[i]);
    if (!info) fail("engine invariant: no info for inserted event " + r.events[i].name);
    ordered_json e = ordered_json::object();
    e["round"] = info->round;
    e["lamport"] = info->lamport;
    e["witness"] = info->witness;
    e["famous"] = info->famous ? ordered_json(*info->famous) : ordered_json(nullptr);
    e["round_received"] = info->round_received ? ordered_json(*info->round_received) : ordered_json(nullptr);
    events[r.events[i].name] = std::move(e);
  }
  out["events"] = std::move(events);

  ordered_json rounds = ordered_json::object();
  ordered_json decided = ordered_json::array();
  for (std::int64_t round = 0; round <= last_round; ++round) {
    ordered_json e = ordered_json::object();
    e["witnesses"] = names.list(hg.round_witnesses(round));
    e["decided"] = hg.round_decided(round);
    e["received"] = names.list(hg.round_received_events(round));
    rounds[std::to_string(round)] = std::move(e);
    if (hg.round_decided(round)) decided.push_back(round);
  }
  out["rounds"] = std::move(rounds);
  out["pending_rounds"] = hg.pending_rounds();
  out["decided_rounds"] = std::move(decided);
  out["consensus_events"] = names.list(hg.consensus_events());

  ordered_json out_blocks = ordered_json::array();
  for (const Block& b : blocks) {
    const std::int64_t rr = b.body().round_received;
    const auto frame = store.get_frame(rr);
    if (!frame)
      fail("engine invariant: block " + std::to_string(b.index()) + " has no frame for round " +
           std::to_string(rr));
    ordered_json ob = ordered_json::object();
    ob["index"] = b.index();
    ob["round_received"] = rr;
    ordered_json evs = ordered_json::array();
    for (const FrameEvent& fe : frame->events) evs.push_back(names(fe.event->hash()));
    ob["events"] = std::move(evs);
    ordered_json txs = ordered_json::array();
    for (const Bytes& tx : b.body().transactions) txs.push_back(to_string(tx));
    ob["transactions"] = std::move(txs);
    // Roots keyed by creator name, in participant order (the frame orders them by key bytes).
    ordered_json roots = ordered_json::object();
    std::size_t named = 0;
    for (std::size_t p = 0; p < r.participants.size(); ++p) {
      const Root* root = frame->root_of(keys[p].public_key());
      if (root == nullptr) continue;
      ++named;
      ordered_json list = ordered_json::array();
      for (const FrameEvent& fe : root->events) list.push_back(names(fe.event->hash()));
      roots[r.participants[p]] = std::move(list);
    }
    if (named != frame->roots.size()) fail("engine invariant: a frame root belongs to no participant");
    ob["frame_roots"] = std::move(roots);
    out_blocks.push_back(std::move(ob));
  }
  out["blocks"] = std::move(out_blocks);
  return out;
}

// Space-separated words; "-" for none. (Appending piecewise also avoids a GCC 12 -Wrestrict false
// positive on `"literal" + std::string&&` at -O2.)
std::string words(const ordered_json& list, bool quote_strings) {
  std::string s;
  for (const auto& x : list) {
    if (!s.empty()) s += ' ';
    s += (x.is_string() && !quote_strings) ? x.get<std::string>() : x.dump();
  }
  return s.empty() ? std::string("-") : s;
}

}  // namespace

ordered_json replay(const json& input, const ReplayOptions& options) {
  crypto_init();
  const ReplayInput r = parse_input(input);

  std::vector<KeyPair> keys;
  keys.reserve(r.participants.size());
  for (const auto& name : r.participants) keys.push_back(KeyPair::from_name(name));

  InmemStore store;
  Hashgraph hg(build_schedule(r, keys), store, Hashgraph::Options{r.coin});

  std::vector<Hash> hashes;
  std::vector<std::uint64_t> indexes;
  Names names;
  std::vector<Block> blocks;
  auto collect_blocks = [&] {
    auto fresh = hg.take_new_blocks();
    blocks.insert(blocks.end(), std::make_move_iterator(fresh.begin()), std::make_move_iterator(fresh.end()));
  };

  for (std::size_t i = 0; i < r.events.size(); ++i) {
    const EventSpec& spec = r.events[i];
    EventBody body;
    for (const auto& tx : spec.txs) body.transactions.push_back(to_bytes(tx));
    if (spec.self_parent) body.self_parent = hashes[*spec.self_parent];
    if (spec.other_parent) body.other_parent = hashes[*spec.other_parent];
    body.creator = keys[spec.creator].public_key();
    // The default index follows the named self-parent; a wrong one is left for insertion to refuse.
    body.index = spec.index ? *spec.index : (spec.self_parent ? indexes[*spec.self_parent] + 1 : 0);
    body.timestamp = spec.timestamp ? *spec.timestamp : static_cast<std::int64_t>(i);

    auto event = std::make_shared<const Event>(Event::create(std::move(body), keys[spec.creator]));
    const InsertResult res = hg.insert(event);
    if (!res.ok()) {
      std::string message = "event " + spec.name + ": " + to_string(res.error);
      if (!res.detail.empty()) message += ": " + res.detail;
      fail(message);
    }
    hashes.push_back(event->hash());
    indexes.push_back(event->index());
    names.add(event->hash(), spec.name);
    if (options.incremental) {
      hg.run_consensus();
      collect_blocks();
    }
  }
  if (!options.incremental) {
    hg.run_consensus();
    collect_blocks();
  }
  return describe(r, keys, hashes, names, hg, store, blocks);
}

ordered_json replay_text(const std::string& text, const ReplayOptions& options) {
  json input;
  try {
    input = json::parse(text);
  } catch (const json::exception& e) {
    fail(std::string("input is not valid JSON: ") + e.what());
  }
  return replay(input, options);
}

std::string explain(const ordered_json& result) {
  std::ostringstream out;
  const auto& events = result.at("events");
  const auto joined = [](const ordered_json& list) { return words(list, true); };
  const auto plain = [](const ordered_json& list) { return words(list, false); };

  out << events.size() << " events, last round " << result.at("last_round").get<std::int64_t>() << ", "
      << result.at("consensus_events").size() << " in consensus order, " << result.at("blocks").size()
      << " blocks\n";
  out << "decided rounds: " << plain(result.at("decided_rounds"))
      << "   pending rounds: " << plain(result.at("pending_rounds")) << "\n\n";

  out << "Rounds (witness fame: + famous, - not famous, ? undecided)\n";
  for (const auto& [round, info] : result.at("rounds").items()) {
    std::string witnesses;
    for (const auto& w : info.at("witnesses")) {
      const auto& famous = events.at(w.get<std::string>()).at("famous");
      const char* mark = famous.is_null() ? "?" : (famous.get<bool>() ? "+" : "-");
      if (!witnesses.empty()) witnesses += ' ';
      witnesses += w.get<std::string>();
      witnesses += mark;
    }
    out << "  round " << round << (info.at("decided").get<bool>() ? "  decided    " : "  undecided  ")
        << "witnesses: " << (witnesses.empty() ? "-" : witnesses)
        << "   received: " << info.at("received").size() << " events\n";
  }

  out << "\nBlocks\n";
  if (result.at("blocks").empty()) out << "  (none yet)\n";
  for (const auto& b : result.at("blocks")) {
    out << "  block " << b.at("index").get<std::uint64_t>() << "  round received "
        << b.at("round_received").get<std::int64_t>() << "\n"
        << "    events:       " << plain(b.at("events")) << "\n"
        << "    transactions: " << joined(b.at("transactions")) << "\n";
  }
  return out.str();
}

}  // namespace chatter
