#include "cmd/block_diff.h"

#include <algorithm>
#include <exception>
#include <optional>
#include <sstream>
#include <vector>

#include "engine/block.h"
#include "engine/frame.h"
#include "store/lmdb_store.h"

namespace chatter::cmd {
std::string describe_block_difference(const std::string& store_a, const std::string& store_b, std::uint64_t index) {
  try {
    LmdbStore::Options o;
    o.cache_size = 0;
    LmdbStore sa(store_a, o);
    LmdbStore sb(store_b, o);
    const auto a = sa.get_block(index);
    const auto b = sb.get_block(index);
    if (!a || !b) return "block " + std::to_string(index) + " is missing from " + (!a ? store_a : store_b);
    const BlockBody& x = a->body();
    const BlockBody& y = b->body();
    std::vector<std::string> out = block_body_differences(x, y);
    if (x.round_received == y.round_received) {
      const auto fa = sa.get_frame(x.round_received);
      const auto fb = sb.get_frame(y.round_received);
      if (fa && fb) {
        const auto fd = frame_differences(*fa, *fb);
        out.insert(out.end(), fd.begin(), fd.end());
      }
      else out.push_back(std::string("(frame of round ") + std::to_string(x.round_received) + " not stored on " + (!fa ? "the first" : "the second") + ")");
    }
    if (out.empty()) return "block " + std::to_string(index) + ": the bodies are equal (the difference is elsewhere)";
    std::string s = "block " + std::to_string(index) + " differs in:";
    for (std::size_t i = 0; i < out.size(); ++i) s += (i ? "; " : " ") + out[i];
    return s;
  } catch (const std::exception& e) {
    return std::string("cannot compare the stores: ") + e.what();
  }
}

}  // namespace chatter::cmd
