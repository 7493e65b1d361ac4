#include "net/address.h"

namespace chatter {

std::optional<HostPort> parse_host_port(const std::string& text, std::string& error, bool allow_port_zero) {
  std::string host, port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "address '" + text + "' is not of the form [host]:port";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) {
      error = "address '" + text + "' is not of the form host:port";
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      error = "address '" + text + "' has more than one ':' (write an IPv6 host as [host]:port)";
      return std::nullopt;
    }
  }
  if (host.empty()) {
    error = "address '" + text + "' has an empty host";
    return std::nullopt;
  }
  if (host.find_first_of(" \t\r\n/") != std::string::npos) {
    error = "address '" + text + "' has an invalid host";
    return std::nullopt;
  }
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      (std::stoul(port) == 0 && !allow_port_zero) || std::stoul(port) > 65535) {
    error = "address '" + text + "' does not end with a port number in " + (allow_port_zero ? "0" : "1") +
            "..65535";
    return std::nullopt;
  }
  return HostPort{host, static_cast<std::uint16_t>(std::stoul(port))};
}

}  // namespace chatter
