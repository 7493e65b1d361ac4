// CLI glue for `chatter replay` (spec/replay.md): read the file or standard input, replay, print.
// Nothing reaches standard output unless the replay succeeded, so a failure leaves exactly one line
// on standard error and an empty standard output.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include "cmd/file_util.h"
#include "cmd/commands.h"
#include "cmd/replay.h"

namespace chatter::cmd {
namespace {

struct ReplayArgs {
  std::string file;
  bool incremental = false;
  bool explain = false;
  bool compact = false;
};

// Reads the whole input; throws ReplayError with the reason when it cannot.
std::string read_input(const std::string& file) {
  if (file == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    if (std::cin.bad()) throw ReplayError("cannot read standard input");
    return ss.str();
  }
  std::string error;
  auto text = read_whole_file(file, error);
  if (!text) throw ReplayError(error);
  return std::move(*text);
}

int run_replay(const ReplayArgs& args) {
  std::string output;
  try {
    const auto result = replay_text(read_input(args.file), ReplayOptions{args.incremental});
    output = args.explain ? explain(result) : result.dump(args.compact ? -1 : 2) + "\n";
  } catch (const ReplayError& e) {
    std::cerr << "chatter replay: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "chatter replay: internal error: " << e.what() << "\n";
    return 1;
  }
  std::cout << output << std::flush;
  return std::cout ? 0 : 1;
}

}  // namespace

Command add_replay_command(CLI::App& root) {
  auto args = std::make_shared<ReplayArgs>();
  CLI::App* app = root.add_subcommand(
      "replay",
      "Build the graph described in FILE with the real engine (real keys, signatures, insertion checks and "
      "consensus), run consensus and print the result as one JSON document (spec/replay.md).");
  app->add_option("FILE", args->file, "Replay input (JSON), or - for standard input")->required();
  app->add_flag("--incremental", args->incremental,
                "Run consensus after every insertion instead of once at the end");
  app->add_flag("--explain", args->explain,
                "Print a compact human-readable summary (rounds, witness fame, blocks) instead of JSON");
  app->add_flag("--compact", args->compact, "Print the JSON on one line");
  return Command{app, [args] { return run_replay(*args); }};
}

}  // namespace chatter::cmd
