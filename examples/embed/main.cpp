// bank-node: one validator of a replicated bank ledger, with chatter embedded in process.
//
//   bank-node --datadir DIR [--listen HOST:PORT] [--transfers N] [--seed S] [--expect M]
//             [--timeout-s T] [--linger-s L]
//
// DIR is a data directory as `chatter keygen` and `chatter testnet` make them (priv_key, peers.json).
// The node starts, submits N pseudo-random transfers between the genesis accounts (seeded by S), and
// runs until its ledger has seen M transactions in committed blocks (default N), then keeps gossiping
// for L seconds so that its peers can finish too, stops, and prints one JSON document: its balances,
// their total, the state hash, the last block, and the state hash of a fresh ledger restored from its
// snapshot (restored_hash, equal to state_hash when snapshots are faithful). Exit 0 when M transactions were
// committed within T seconds, 1 otherwise, 2 on bad arguments.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include "bank.h"
#include "embed/embed.h"

namespace {

struct Args {
  std::string datadir, listen;
  std::uint64_t transfers = 20, seed = 1;
  std::int64_t expect = -1;
  double timeout_s = 60, linger_s = 2;
};

int usage(const std::string& why) {
  std::cerr << "bank-node: " << why << "\n";
  return 2;
}

std::string hex(const chatter::Bytes& b) { return chatter::to_hex(b); }

// A small deterministic generator (splitmix64), so that every run with the same seed submits the
// same transfers.
std::uint64_t next(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return usage("option " + flag + " needs a value");
    const std::string v = argv[++i];
    if (flag == "--datadir")
      a.datadir = v;
    else if (flag == "--listen")
      a.listen = v;
    else if (flag == "--transfers")
      a.transfers = std::strtoull(v.c_str(), nullptr, 10);
    else if (flag == "--seed")
      a.seed = std::strtoull(v.c_str(), nullptr, 10);
    else if (flag == "--expect")
      a.expect = std::strtoll(v.c_str(), nullptr, 10);
    else if (flag == "--timeout-s")
      a.timeout_s = std::strtod(v.c_str(), nullptr);
    else if (flag == "--linger-s")
      a.linger_s = std::strtod(v.c_str(), nullptr);
    else
      return usage("unknown option " + flag);
  }
  if (a.datadir.empty()) return usage("--datadir is required");
  const std::uint64_t expect = a.expect < 0 ? a.transfers : static_cast<std::uint64_t>(a.expect);

  bank::Bank ledger;
  try {
    const chatter::DataDir dir = chatter::load_datadir(a.datadir);
    chatter::EmbeddedNode::Options o;
    o.node.key = dir.key;
    o.node.genesis = chatter::PeerSet(dir.genesis);
    o.listen = a.listen;
    o.log = [](const std::string& line) { std::cerr << "bank-node: " << line << "\n"; };
    chatter::EmbeddedNode node(std::move(o), ledger);
    node.start();
    std::cerr << "bank-node: started id=" << node.id() << " listen port " << node.listen_port() << "\n";

    std::uint64_t rng = a.seed;
    constexpr std::size_t kAccounts = std::size(bank::kGenesis);
    for (std::uint64_t i = 0; i < a.transfers; ++i) {
      const std::size_t from = next(rng) % kAccounts;
      const std::size_t to = (from + 1 + next(rng) % (kAccounts - 1)) % kAccounts;
      const std::string tx = std::string("TRANSFER ") + bank::kGenesis[from] + " " + bank::kGenesis[to] +
                             " " + std::to_string(1 + next(rng) % 300);
      while (!node.submit(chatter::Bytes(tx.begin(), tx.end())))  // pool full: wait for a commit
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(a.timeout_s);
    while (ledger.applied() + ledger.rejected() < expect && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const bool done = ledger.applied() + ledger.rejected() >= expect;
    std::this_thread::sleep_for(std::chrono::duration<double>(a.linger_s));
    node.stop();
    const chatter::NodeStats s = node.stats();
    // The snapshot a fast-syncing peer would receive, restored into a fresh ledger: same state hash.
    bank::Bank copy;
    const chatter::Bytes restored_hash = copy.restore(ledger.get_snapshot(0));

    std::cout << "{\"moniker\": \"" << s.moniker << "\", \"state\": \"" << chatter::to_string(s.state)
              << "\", \"last_block\": " << ledger.last_block() << ", \"applied\": " << ledger.applied()
              << ", \"rejected\": " << ledger.rejected() << ", \"total\": " << ledger.total()
              << ", \"state_hash\": \"" << hex(ledger.state_hash()) << "\", \"node_state_hash\": \""
              << hex(s.state_hash) << "\", \"restored_hash\": \"" << hex(restored_hash)
              << "\", \"balances\": {";
    const char* sep = "";
    for (const auto& [name, balance] : ledger.balances()) {
      std::cout << sep << "\"" << name << "\": " << balance;
      sep = ", ";
    }
    std::cout << "}}\n";
    if (!done)
      std::cerr << "bank-node: only " << ledger.applied() + ledger.rejected() << " of " << expect
                << " transactions committed in " << a.timeout_s << " s\n";
    return done ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "bank-node: " << e.what() << "\n";
    return 1;
  }
}
