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
namespace {

std::string short_hex(const Bytes& b) { return to_hex(b).substr(0, 16); }
std::string short_hex(const Hash& h) { return to_hex(h).substr(0, 16); }

// The differences between two Frames of the same round, as "field (a vs b)" items.
void diff_frames(const Frame& a, const Frame& b, std::vector<std::string>& out) {
  if (a.round != b.round) out.push_back("frame round (" + std::to_string(a.round) + " vs " + std::to_string(b.round) + ")");
  if (!(a.peers == b.peers)) out.push_back("frame peer set");
  if (!(a.schedule == b.schedule)) out.push_back("frame schedule");
  if (a.timestamp != b.timestamp)
    out.push_back("frame timestamp (" + std::to_string(a.timestamp) + " vs " + std::to_string(b.timestamp) + ")");
  if (a.events.size() != b.events.size()) {
    out.push_back("frame events (" + std::to_string(a.events.size()) + " vs " + std::to_string(b.events.size()) + ")");
  } else {
    for (std::size_t i = 0; i < a.events.size(); ++i) {
      const FrameEvent& x = a.events[i];
      const FrameEvent& y = b.events[i];
      if (x.event->hash() != y.event->hash() || x.round != y.round || x.lamport != y.lamport || x.witness != y.witness) {
        std::ostringstream s;
        s << "frame event " << i << " (" << short_hex(x.event->hash()) << " round " << x.round << " lamport "
          << x.lamport << " witness " << x.witness << " vs " << short_hex(y.event->hash()) << " round " << y.round
          << " lamport " << y.lamport << " witness " << y.witness << ")";
        out.push_back(s.str());
        break;
      }
    }
  }
  if (a.roots.size() != b.roots.size()) {
    out.push_back("frame roots (" + std::to_string(a.roots.size()) + " vs " + std::to_string(b.roots.size()) + ")");
    return;
  }
  for (std::size_t i = 0; i < a.roots.size(); ++i) {
    const Root& x = a.roots[i];
    const Root& y = b.roots[i];
    bool same = x.creator == y.creator && x.events.size() == y.events.size();
    for (std::size_t k = 0; same && k < x.events.size(); ++k)
      same = x.events[k].event->hash() == y.events[k].event->hash() && x.events[k].round == y.events[k].round &&
             x.events[k].lamport == y.events[k].lamport && x.events[k].witness == y.events[k].witness;
    if (same) continue;
    std::ostringstream s;
    s << "root of " << pubkey_hex(x.creator).substr(0, 10) << " (" << x.events.size() << " events";
    if (!x.events.empty())
      s << ", last " << short_hex(x.events.back().event->hash()) << " index " << x.events.back().event->index()
        << " round " << x.events.back().round;
    s << " vs " << y.events.size() << " events";
    if (!y.events.empty())
      s << ", last " << short_hex(y.events.back().event->hash()) << " index " << y.events.back().event->index()
        << " round " << y.events.back().round;
    s << ")";
    out.push_back(s.str());
  }
}

}  // namespace

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
    std::vector<std::string> out;
    if (x.round_received != y.round_received)
      out.push_back("round_received (" + std::to_string(x.round_received) + " vs " + std::to_string(y.round_received) + ")");
    if (x.timestamp != y.timestamp)
      out.push_back("timestamp (" + std::to_string(x.timestamp) + " vs " + std::to_string(y.timestamp) + ")");
    if (x.state_hash != y.state_hash) out.push_back("state_hash (" + short_hex(x.state_hash) + " vs " + short_hex(y.state_hash) + ")");
    if (x.frame_hash != y.frame_hash) out.push_back("frame_hash (" + short_hex(x.frame_hash) + " vs " + short_hex(y.frame_hash) + ")");
    if (x.peers_hash != y.peers_hash) out.push_back("peers_hash");
    if (x.prev_block_hash != y.prev_block_hash)
      out.push_back("prev_block_hash (" + short_hex(x.prev_block_hash) + " vs " + short_hex(y.prev_block_hash) + ")");
    if (x.snapshot_hash != y.snapshot_hash)
      out.push_back("snapshot_hash (" + short_hex(x.snapshot_hash) + " vs " + short_hex(y.snapshot_hash) + ")");
    if (x.transactions != y.transactions) {
      std::size_t first = 0;
      while (first < std::min(x.transactions.size(), y.transactions.size()) && x.transactions[first] == y.transactions[first]) ++first;
      out.push_back("transactions (" + std::to_string(x.transactions.size()) + " vs " + std::to_string(y.transactions.size()) +
                    ", first difference at " + std::to_string(first) + ")");
    }
    if (x.internal_transactions != y.internal_transactions) out.push_back("internal_transactions");
    if (x.internal_transaction_receipts != y.internal_transaction_receipts) out.push_back("receipts");
    if (x.round_received == y.round_received) {
      const auto fa = sa.get_frame(x.round_received);
      const auto fb = sb.get_frame(y.round_received);
      if (fa && fb) diff_frames(*fa, *fb, out);
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
