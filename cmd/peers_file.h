// peers.json and peers.genesis.json (spec/cli.md, `chatter run`): a JSON array of
// {"NetAddr": "host:port", "PubKeyHex": "0X...", "Moniker": "name"}, as Babble writes them.
//
// Parsing is strict: the document must be an array of objects, each with exactly those three string
// fields (other fields are refused so that a typo is not silently ignored); PubKeyHex must be a valid
// 32-byte key ("0X"/"0x" + 64 hex digits); NetAddr must be host:port with a non-empty host and a port
// in 1..65535; no key may appear twice. Every failure is one sentence in `error` naming the file and
// the entry. Used by `chatter run` (read) and `chatter testnet` (write).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/peer.h"

#include "net/address.h"

namespace chatter::cmd {

inline constexpr const char* kPeersFile = "peers.json";
inline constexpr const char* kGenesisPeersFile = "peers.genesis.json";

// Addresses: net/address.h.
using chatter::HostPort;
using chatter::parse_host_port;

// Parses the text of a peers file; `source` names it in error sentences.
std::optional<std::vector<Peer>> parse_peers(const std::string& text, const std::string& source,
                                             std::string& error);
// Reads and parses a peers file.
std::optional<std::vector<Peer>> read_peers_file(const std::string& path, std::string& error);
// Writes a peers file (pretty-printed JSON array). False with a sentence in `error` on I/O failure.
bool write_peers_file(const std::string& path, const std::vector<Peer>& peers, std::string& error);

}  // namespace chatter::cmd
