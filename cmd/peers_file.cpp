#include "cmd/peers_file.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cmd/file_util.h"
#include "engine/bytes.h"

namespace chatter::cmd {

std::optional<std::vector<Peer>> parse_peers(const std::string& text, const std::string& source,
                                             std::string& error) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    // Not only parse_error: a number too large for any type (1E400) is out_of_range, from parse too.
    std::string what = e.what();
    for (char& c : what)
      if (c == '\n' || c == '\r') c = ' ';
    error = source + " is not valid JSON (" + what + ")";
    return std::nullopt;
  }
  if (!doc.is_array()) {
    error = source + " must be a JSON array of {\"NetAddr\", \"PubKeyHex\", \"Moniker\"} objects";
    return std::nullopt;
  }
  std::vector<Peer> peers;
  std::set<PublicKey> seen;
  std::set<std::uint32_t> ids;
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const auto& e = doc[i];
    const std::string where = source + " entry " + std::to_string(i);
    if (!e.is_object()) {
      error = where + " is not a JSON object";
      return std::nullopt;
    }
    for (const auto& [name, value] : e.items()) {
      if (name != "NetAddr" && name != "PubKeyHex" && name != "Moniker") {
        error = where + " has an unknown field '" + name + "' (expected NetAddr, PubKeyHex, Moniker)";
        return std::nullopt;
      }
      if (!value.is_string()) {
        error = where + " field " + name + " must be a string";
        return std::nullopt;
      }
    }
    for (const char* field : {"NetAddr", "PubKeyHex"})
      if (!e.contains(field)) {
        error = where + " lacks the field " + field;
        return std::nullopt;
      }
    Peer p;
    const std::string key_text = e["PubKeyHex"].get<std::string>();
    const auto key = pubkey_from_hex(key_text);
    if (!key) {
      error = where + " has an invalid PubKeyHex '" + key_text + "' (expected 0X + 64 hex digits)";
      return std::nullopt;
    }
    p.pub_key = *key;
    p.net_addr = e["NetAddr"].get<std::string>();
    std::string addr_error;
    if (!parse_host_port(p.net_addr, addr_error)) {
      error = where + ": " + addr_error;
      return std::nullopt;
    }
    if (e.contains("Moniker")) p.moniker = e["Moniker"].get<std::string>();
    if (!seen.insert(p.pub_key).second) {
      error = where + " repeats the key " + pubkey_hex(p.pub_key) + " of an earlier entry";
      return std::nullopt;
    }
    if (!ids.insert(p.id()).second) {
      error = where + " has a key whose peer id collides with an earlier entry's";
      return std::nullopt;
    }
    peers.push_back(std::move(p));
  }
  if (peers.empty()) {
    error = source + " lists no peers";
    return std::nullopt;
  }
  return peers;
}

std::optional<std::vector<Peer>> read_peers_file(const std::string& path, std::string& error) {
  auto text = read_whole_file(path, error);
  if (!text) return std::nullopt;
  return parse_peers(*text, path, error);
}

bool write_peers_file(const std::string& path, const std::vector<Peer>& peers, std::string& error) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::array();
  for (const auto& p : peers)
    doc.push_back({{"NetAddr", p.net_addr}, {"PubKeyHex", p.pub_key_hex()}, {"Moniker", p.moniker}});
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << doc.dump(2) << "\n";
  out.close();
  if (!out) {
    error = "cannot write " + path;
    return false;
  }
  return true;
}

}  // namespace chatter::cmd
