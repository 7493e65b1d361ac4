// `chatter replay` as a library (spec/replay.md): builds a hand-written graph with the real engine
// (real keys, real signatures, the real insertion checks and the real consensus code), runs
// consensus, and describes the result as one JSON document. Tests call it in process; the CLI glue
// in cmd_replay.cpp only reads the file and prints.
//
// Contract:
// - replay() never crashes on bad input: anything malformed (wrong type, missing or unknown field,
//   unknown participant, duplicate name, parent not defined earlier, bad peer_sets key or member,
//   bad coin) and every event the hashgraph refuses raises ReplayError with a one-line message.
//   Messages about an event start with "event <name>: ".
// - Deterministic: keys come from KeyPair::from_name(participant), timestamps from the input (or
//   the event's position in the list), so the same input always gives the same output.
#pragma once

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace chatter {

// Malformed replay input or a refused event. what() is one line (no newline).
struct ReplayError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ReplayOptions {
  bool incremental = false;  // run consensus after every insertion instead of once at the end
};

// Replays `input` (the replay.md input document) and returns the replay.md output document:
// last_round, events, rounds, pending_rounds, decided_rounds (extra: sorted decided rounds),
// consensus_events, blocks. Keys keep a stable order. Throws ReplayError.
nlohmann::ordered_json replay(const nlohmann::json& input, const ReplayOptions& options);
inline nlohmann::ordered_json replay(const nlohmann::json& input, bool incremental = false) {
  return replay(input, ReplayOptions{incremental});
}

// Parses `text` as JSON and replays it. A JSON syntax error is a ReplayError too.
nlohmann::ordered_json replay_text(const std::string& text, const ReplayOptions& options);

// A compact human-readable summary of a replay() result (the `--explain` output): one line per
// round with its witnesses and their fame, then each block with its events and transactions.
std::string explain(const nlohmann::ordered_json& result);

}  // namespace chatter
