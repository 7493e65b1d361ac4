// `chatter version`: the version (from meson's project(), passed as CHATTER_VERSION) and build facts
// that need no git: build type, compiler, and the versions of the libraries linked in.
#include <sodium.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cmd/commands.h"

#ifndef CHATTER_VERSION
#define CHATTER_VERSION "unknown"
#endif
#ifndef CHATTER_BUILDTYPE
#define CHATTER_BUILDTYPE "unknown"
#endif

namespace chatter::cmd {
namespace {

std::string compiler() {
#if defined(__clang__)
  return "clang " + std::to_string(__clang_major__) + "." + std::to_string(__clang_minor__) + "." +
         std::to_string(__clang_patchlevel__);
#elif defined(__GNUC__)
  return "gcc " + std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
         std::to_string(__GNUC_PATCHLEVEL__);
#else
  return "unknown compiler";
#endif
}

int run_version(bool json) {
  const std::string nlohmann_version = std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                                       std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                                       std::to_string(NLOHMANN_JSON_VERSION_PATCH);
  if (json) {
    nlohmann::ordered_json out;
    out["version"] = CHATTER_VERSION;
    out["buildtype"] = CHATTER_BUILDTYPE;
    out["compiler"] = compiler();
    out["cpp_standard"] = static_cast<long>(__cplusplus);
    out["libsodium"] = sodium_version_string();
    out["nlohmann_json"] = nlohmann_version;
    out["cli11"] = CLI11_VERSION;
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << "chatter " << CHATTER_VERSION << "\n"
            << "build: " << CHATTER_BUILDTYPE << ", " << compiler() << ", C++ " << __cplusplus << "\n"
            << "libraries: libsodium " << sodium_version_string() << ", nlohmann_json " << nlohmann_version
            << ", CLI11 " << CLI11_VERSION << "\n";
  return 0;
}

}  // namespace

Command add_version_command(CLI::App& root) {
  auto json = std::make_shared<bool>(false);
  CLI::App* app = root.add_subcommand("version", "Print the version and build information.");
  app->add_flag("--json", *json, "Print the same facts as one JSON document");
  return Command{app, [json] { return run_version(*json); }};
}

}  // namespace chatter::cmd
