// Network addresses as peers.json, the command line and PEER_ADD transactions write them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace chatter {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

// "host:port" (a bracketed IPv6 host "[::1]:port" is accepted too). nullopt with a sentence in `error`.
// Port 0 (any free port) only when `allow_port_zero` (listening addresses, never peers).
std::optional<HostPort> parse_host_port(const std::string& text, std::string& error, bool allow_port_zero = false);

}  // namespace chatter
