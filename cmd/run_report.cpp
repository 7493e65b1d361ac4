#include "cmd/run_report.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

namespace chatter::cmd {
namespace {

template <typename T>
nlohmann::ordered_json optional_json(const std::optional<T>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json stats_json(const NodeStats& s) {
  nlohmann::ordered_json j;
  j["id"] = s.id;
  j["moniker"] = s.moniker;
  j["state"] = to_string(s.state);
  j["last_consensus_round"] = optional_json(s.last_consensus_round);
  j["last_block_index"] = optional_json(s.last_block_index);
  j["anchor_block"] = optional_json(s.anchor_block);
  j["consensus_events"] = s.consensus_events;
  j["undetermined_events"] = s.undetermined_events;
  j["events"] = s.events;
  j["transactions"] = s.transactions;
  j["transaction_pool"] = s.transaction_pool;
  j["num_peers"] = s.num_peers;
  j["sync_requests"] = s.sync_requests;
  j["sync_errors"] = s.sync_errors;
  j["events_created"] = s.events_created;
  j["refused_events"] = s.refused_events;
  j["app_errors"] = s.app_errors;
  j["state_hash"] = to_hex(s.state_hash);
  j["snapshot_anchor"] = optional_json(s.snapshot_anchor);
  j["fast_forwards"] = s.fast_forwards;
  j["fast_forward_refusals"] = s.fast_forward_refusals;
  j["fast_forwards_served"] = s.fast_forwards_served;
  j["fast_forward_block"] = optional_json(s.fast_forward_block);
  j["last_fast_forward_error"] = s.last_fast_forward_error;
  j["catch_up_status"] = s.catch_up_status;
  j["catch_up_target_block"] = optional_json(s.catch_up_target_block);
  j["catch_up_chunks_done"] = s.catch_up_chunks_done;
  j["catch_up_chunks_total"] = s.catch_up_chunks_total;
  j["catch_up_snapshot_bytes_done"] = s.catch_up_snapshot_bytes_done;
  j["catch_up_snapshot_bytes_total"] = s.catch_up_snapshot_bytes_total;
  j["catch_up_retargets"] = s.catch_up_retargets;
  j["chunks_served"] = s.chunks_served;
  j["membership_status"] = s.membership_status;
  j["join_accepted_round"] = optional_json(s.join_accepted_round);
  j["join_requests_sent"] = s.join_requests_sent;
  j["join_latency_s"] = optional_json(s.join_latency_s());
  j["peer_set_changes"] = s.peer_set_changes;
  return j;
}

// Writes `text` to `path` atomically: PATH.tmp.PID, then rename.
bool write_atomically(const std::string& path, const std::string& text, std::string& error) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot write " + tmp + ": " + std::strerror(errno);
    return false;
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = "cannot write " + tmp + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot replace " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace

RunReport::RunReport(std::string path, const Store& store, const ProbeApp& probe)
    : path_(std::move(path)), store_(store), probe_(probe) {}

void RunReport::set_schedule(const PeerSchedule& schedule) {
  history_.clear();
  for (const auto& [round, set] : schedule.entries()) {
    std::vector<std::string> keys;
    for (const Peer& p : set.peers()) keys.push_back(p.pub_key_hex());
    history_.emplace_back(round, std::move(keys));
  }
}

void RunReport::read_new_blocks(const NodeStats& stats) {
  if (!stats.last_block_index) return;
  std::uint64_t next = blocks_.empty() ? 0 : blocks_.back().index + 1;
  for (; next <= *stats.last_block_index; ++next) {
    const auto b = store_.get_block(next);
    if (!b) continue;  // not stored (should not happen for committed blocks): skip, never guess
    blocks_.push_back(BlockEntry{b->index(), to_hex(b->hash()), to_hex(b->body().state_hash),
                                 b->body().transactions.size()});
  }
}

bool RunReport::write(const NodeStats& stats, bool exited, std::string& error) {
  read_new_blocks(stats);
  nlohmann::ordered_json j;
  j["id"] = stats.id;
  j["moniker"] = stats.moniker;
  j["state"] = to_string(stats.state);
  j["last_block_index"] = optional_json(stats.last_block_index);
  j["transactions"] = stats.transactions;
  nlohmann::ordered_json blocks = nlohmann::ordered_json::array();
  for (const auto& b : blocks_)
    blocks.push_back({{"index", b.index}, {"hash", b.hash}, {"state_hash", b.state_hash}, {"txs", b.txs}});
  j["blocks"] = std::move(blocks);
  nlohmann::ordered_json hist = nlohmann::ordered_json::array();
  for (const auto& [ms, count] : probe_.latency_histogram()) hist.push_back({ms, count});
  j["latency_ms_histogram"] = std::move(hist);
  j["probe_committed_transactions"] = probe_.committed_transactions();
  j["stats"] = stats_json(stats);
  j["bytes_received"] = bytes_received_;
  j["bytes_sent"] = bytes_sent_;
  j["exited"] = exited;
  nlohmann::ordered_json history = nlohmann::ordered_json::object();
  for (const auto& [round, keys] : history_) history[std::to_string(round)] = keys;
  j["history"] = std::move(history);
  j["written_unix_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  return write_atomically(path_, j.dump() + "\n", error);
}

}  // namespace chatter::cmd
