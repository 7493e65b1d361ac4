// The summary of `chatter testnet` (spec/cli.md), computed from the --report files of the nodes
// (cmd/run_report.h).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace chatter::cmd {

struct NodeReport {
  struct BlockInfo {
    std::string hash, state_hash;
    std::uint64_t txs = 0;
  };
  std::string state;
  std::optional<std::uint64_t> last_block_index;
  std::uint64_t transactions = 0;  // committed
  std::map<std::uint64_t, BlockInfo> blocks;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> histogram;  // (ms, count)
  std::string state_hash;          // after the last committed block
  bool exited = false;
  std::int64_t written_unix_ms = 0;
  std::uint64_t fast_forwards = 0;
  std::optional<std::uint64_t> fast_forward_block;
  std::uint64_t bytes_received = 0;  // gossip transport, since the node started
  // The peer-set schedule (round -> public keys in order), and the node's membership progress.
  std::map<std::int64_t, std::vector<std::string>> history;
  std::string membership_status;
  std::optional<double> join_latency_s;  // JoinRequest sent to Babbling as a validator
};

// Reads one report; nullopt with a sentence in `error` when missing or malformed.
std::optional<NodeReport> read_report(const std::string& path, std::string& error);

struct Agreement {
  bool blocks_equal = true;        // every pair: same block hash at every index both hold
  bool state_hashes_equal = true;  // same state hash at every index both hold, and at equal last blocks
  std::optional<std::uint64_t> min_last_block;  // none when some node committed nothing
  std::uint64_t tx_committed = 0;  // transactions in blocks 0..min_last_block
  std::string first_difference;    // a sentence naming where they differ, if they do
  // The first pair of nodes (indexes) and block index where the block hashes differ, if any.
  struct BlockDifference {
    std::size_t a = 0, b = 0;
    std::uint64_t index = 0;
  };
  std::optional<BlockDifference> block_difference;
};
// `until_end`: the nodes that ran until the end (absent: all); the others (validators that left)
// still count for blocks_equal and state_hashes_equal, not for min_last_block and tx_committed.
Agreement compare_reports(const std::vector<NodeReport>& reports, const std::vector<bool>* until_end = nullptr);

// Whether every node that ran until the end holds the same peer-set schedule.
bool same_schedules(const std::vector<NodeReport>& reports, const std::vector<bool>& until_end);

// Percentile (0 < p <= 1) of a (ms, count) histogram: the lower bound of the bucket holding it; 0
// when the histogram is empty.
double histogram_percentile(const std::map<std::uint64_t, std::uint64_t>& histogram, double p);

}  // namespace chatter::cmd
