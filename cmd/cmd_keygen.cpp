// `chatter keygen --datadir DIR` (spec/cli.md): a fresh Ed25519 key pair written to DIR/priv_key and
// DIR/key.pub (formats in cmd/keyfile.h); the public key is printed on standard output.
#include <iostream>
#include <memory>
#include <string>

#include "cmd/commands.h"
#include "cmd/keyfile.h"
#include "engine/crypto.h"

namespace chatter::cmd {
namespace {

int run_keygen(const std::string& datadir) {
  try {
    const KeyPair key = KeyPair::generate();
    std::string error;
    if (!write_key_files(datadir, key, error)) {
      std::cerr << "chatter keygen: " << error << "\n";
      return kExitUsage;
    }
    std::cout << pubkey_hex(key.public_key()) << "\n" << std::flush;
    return std::cout ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "chatter keygen: internal error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

Command add_keygen_command(CLI::App& root) {
  auto datadir = std::make_shared<std::string>();
  CLI::App* app = root.add_subcommand(
      "keygen",
      "Create a new Ed25519 key pair in DIR and print the public key (\"0X\" + upper-case hex) on standard "
      "output. Writes DIR/priv_key (mode 0600; one line: the 64-byte secret key, seed then public key, as "
      "128 lower-case hex characters) and DIR/key.pub (one line: the public key as \"0X\" + 64 upper-case "
      "hex characters, the PubKeyHex of peers.json). Creates DIR (mode 0700) if missing. Refuses to "
      "overwrite an existing priv_key or key.pub. Files are written atomically: a crash leaves no half key.");
  app->add_option("--datadir", *datadir, "Data directory for the key files")->required();
  return Command{app, [datadir] { return run_keygen(*datadir); }};
}

}  // namespace chatter::cmd
