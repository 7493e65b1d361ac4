// Reading a whole file for the command line, with one clear sentence when it cannot.
#pragma once

#include <optional>
#include <string>

namespace chatter::cmd {

// The file's bytes, or nullopt with `error` set to "cannot read PATH: reason" (missing file,
// directory, permission, read error).
std::optional<std::string> read_whole_file(const std::string& path, std::string& error);

}  // namespace chatter::cmd
