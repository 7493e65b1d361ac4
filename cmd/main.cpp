// The `chatter` executable: CLI11 dispatch to the subcommands of cmd/commands.h (spec/cli.md).
#include <iostream>
#include <string>
#include <vector>

#include "cmd/commands.h"

namespace {

// A parse error as one sentence on one line (CLI11's default message takes two lines).
int usage_error(const CLI::ParseError& e, const std::vector<chatter::cmd::Command>& commands, int argc,
                char** argv) {
  std::string where = "chatter";
  for (const auto& command : commands)
    if (command.app->parsed()) where += " " + command.app->get_name();
  std::string what = e.what();
  if (where == "chatter" && argc > 1 && argv[1][0] != '-') {
    what = "unknown subcommand '" + std::string(argv[1]) + "'; the subcommands are";
    for (const auto& command : commands) what += " " + command.app->get_name();
  }
  for (char& c : what)
    if (c == '\n' || c == '\r') c = ' ';
  std::cerr << where << ": " << what << " (run '" << where << " --help' for usage)\n";
  return chatter::cmd::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chatter: a hashgraph BFT consensus engine. Run 'chatter SUBCOMMAND --help' for details."};
  app.name("chatter");
  app.require_subcommand(1);
  const std::vector<chatter::cmd::Command> commands{chatter::cmd::add_keygen_command(app),
                                                    chatter::cmd::add_run_command(app),
                                                    chatter::cmd::add_testnet_command(app),
                                                    chatter::cmd::add_replay_command(app),
                                                    chatter::cmd::add_sim_command(app),
                                                    chatter::cmd::add_version_command(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --help-all
    return usage_error(e, commands, argc, argv);
  }
  for (const auto& command : commands)
    if (command.app->parsed()) return command.run();
  return chatter::cmd::kExitUsage;
}
