// libFuzzer target: peers.json / peers.genesis.json (cmd/peers_file.h) and the host:port parser.
//
// Checks: parse_peers never throws; a refusal is one sentence naming the file; an accepted list is
// non-empty with distinct keys and valid addresses, and survives being written out and parsed again
// unchanged (write_peers_file's JSON, built the same way here without touching the disk).
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "cmd/peers_file.h"
#include "fuzz/fuzz_util.h"

using namespace chatter;
using namespace chatter::cmd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  std::string error;
  const auto host_port = parse_host_port(text, error, (size & 1) != 0);
  if (!host_port) FUZZ_CHECK(!error.empty());

  error.clear();
  const auto peers = parse_peers(text, "peers.json", error);
  if (!peers) {
    FUZZ_CHECK(!error.empty() && error.find("peers.json") != std::string::npos);
    return 0;
  }
  FUZZ_CHECK(!peers->empty());
  std::set<PublicKey> keys;
  nlohmann::json doc = nlohmann::json::array();
  for (const Peer& p : *peers) {
    FUZZ_CHECK(keys.insert(p.pub_key).second);
    std::string e;
    FUZZ_CHECK(parse_host_port(p.net_addr, e).has_value());
    doc.push_back({{"NetAddr", p.net_addr}, {"PubKeyHex", p.pub_key_hex()}, {"Moniker", p.moniker}});
  }
  error.clear();
  const auto again = parse_peers(doc.dump(2), "peers.json", error);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->size() == peers->size());
  for (std::size_t i = 0; i < peers->size(); ++i) {
    FUZZ_CHECK((*again)[i].pub_key == (*peers)[i].pub_key);
    FUZZ_CHECK((*again)[i].net_addr == (*peers)[i].net_addr);
    FUZZ_CHECK((*again)[i].moniker == (*peers)[i].moniker);
  }
  return 0;
}
