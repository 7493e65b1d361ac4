// The --report FILE of `chatter run` (an extra beyond spec/cli.md, read by `chatter testnet`): one
// JSON document, replaced atomically (temporary file in the same directory, then rename):
//
//   {"id", "moniker", "state", "last_block_index" (null when none), "transactions",
//    "blocks": [{"index", "hash" (hex of Block::hash()), "state_hash" (hex), "txs"} ... every committed
//               block, in index order],
//    "latency_ms_histogram": [[ms, count] ... non-zero 1 ms buckets of the ProbeApp],
//    "stats": {every NodeStats field}, "exited": bool, "written_unix_ms": when it was written,
//    "history": {"<round>": ["0X<public key>", ...] ... the node's peer-set schedule}}
//
// Blocks are read from the store once each (committed blocks do not change), so writing the report
// every second costs O(new blocks) reads. Call from the thread that drives the node.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cmd/probe_app.h"
#include "engine/node.h"
#include "engine/store.h"

namespace chatter::cmd {

class RunReport {
 public:
  RunReport(std::string path, const Store& store, const ProbeApp& probe);

  // Writes the report for `stats`; false with a sentence in `error` on I/O failure.
  bool write(const NodeStats& stats, bool exited, std::string& error);
  // Gossip transport totals ("bytes_sent", "bytes_received"), written with the next report.
  void set_transport(std::uint64_t bytes_sent, std::uint64_t bytes_received) {
    bytes_sent_ = bytes_sent;
    bytes_received_ = bytes_received;
  }
  // The node's peer-set schedule ("history"), written with the next report.
  void set_schedule(const PeerSchedule& schedule);

 private:
  struct BlockEntry {
    std::uint64_t index = 0;
    std::string hash, state_hash;
    std::uint64_t txs = 0;
  };
  void read_new_blocks(const NodeStats& stats);
  std::uint64_t bytes_received_ = 0, bytes_sent_ = 0;
  std::vector<std::pair<std::int64_t, std::vector<std::string>>> history_;

  std::string path_;
  const Store& store_;
  const ProbeApp& probe_;
  std::vector<BlockEntry> blocks_;
};

}  // namespace chatter::cmd
