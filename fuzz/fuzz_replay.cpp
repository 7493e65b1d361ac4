// libFuzzer target: `chatter replay` input (cmd/replay.h, spec/replay.md): any text goes through
// replay_text, in the default and the incremental mode, and a result through explain().
//
// replay.h's contract: bad input raises ReplayError with a one-line message and nothing else; any
// other exception escaping is a failure (libFuzzer reports the uncaught exception as a crash). When
// both modes succeed they agree on the consensus order and the blocks (spec/replay.md, --incremental).
#include <string>

#include "cmd/replay.h"
#include "fuzz/fuzz_util.h"

using namespace chatter;

namespace {

bool run(const std::string& text, bool incremental, nlohmann::ordered_json& out) {
  try {
    out = replay_text(text, ReplayOptions{incremental});
  } catch (const ReplayError& e) {
    const std::string what = e.what();
    FUZZ_CHECK(!what.empty() && what.find('\n') == std::string::npos);
    return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::ordered_json batch, incremental;
  const bool ok = run(text, false, batch);
  const bool ok_incremental = run(text, true, incremental);
  FUZZ_CHECK(ok == ok_incremental);
  if (!ok) return 0;
  FUZZ_CHECK(batch.at("consensus_events") == incremental.at("consensus_events"));
  FUZZ_CHECK(batch.at("blocks") == incremental.at("blocks"));
  (void)explain(batch);
  return 0;
}
