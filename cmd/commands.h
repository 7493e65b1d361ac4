// The subcommands of the `chatter` executable (spec/cli.md). main.cpp builds the CLI11 app, lets each
// subcommand register itself, parses, and runs the one that was selected.
//
// Contract shared by every subcommand: it answers --help; a bad option or input prints one sentence
// on standard error and gives exit status 2; machine-readable output is one JSON document on
// standard output.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace chatter::cmd {

// Exit status for a bad option or bad input (spec/cli.md).
inline constexpr int kExitUsage = 2;

// A registered subcommand: its CLI11 node, and what to run once the command line parsed and this
// subcommand was selected (returns the exit status). `run` reads the options bound at registration.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// `chatter keygen --datadir DIR` (spec/cli.md): a new key pair in DIR/priv_key and DIR/key.pub
// (cmd/keyfile.h); prints the public key. Exit 2 when DIR is unusable or already holds a key.
Command add_keygen_command(CLI::App& root);
// `chatter replay FILE|- [--incremental] [--explain] [--compact]` (spec/replay.md).
Command add_replay_command(CLI::App& root);
// `chatter sim [--seeds A..B] [--nodes N] [--faults LIST] [--steps K] [--duration S] [--slow K] [--log]`
// (spec/cli.md): deterministic simulations, one JSON summary; exit 0 only when every run passed.
Command add_sim_command(CLI::App& root);
// `chatter run --datadir DIR [options]` (spec/cli.md): one node over TCP with the kvstore app, a
// Babble.SubmitTx server and an optional --report FILE (cmd/run_report.h). Exit 2 on bad input.
Command add_run_command(CLI::App& root);
// `chatter testnet [options]` (spec/cli.md): N `chatter run` processes on loopback under load, then
// one JSON summary; exit 0 only when every node agreed and transactions were committed.
Command add_testnet_command(CLI::App& root);
// `chatter version`: the version and build information.
Command add_version_command(CLI::App& root);

}  // namespace chatter::cmd
