// ProbeApp: an AppProxy decorator that measures what `chatter testnet` needs while forwarding every
// call to the application it wraps (the kvstore).
//
// Testnet transactions are kvstore commands "SET <moniker>.<seq> <submit_unix_ns> <padding>". When a
// committed block holds a transaction whose key starts with this node's own moniker + ".", the commit
// latency (now_ns() at commit - submit_unix_ns) goes into a histogram of 1 ms buckets (latencies of
// 60 s or more land in the last bucket, negative ones in bucket 0). It also counts every committed
// transaction. Thread-safe readers: the histogram and counters may be read from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/app_proxy.h"

namespace chatter::cmd {

class ProbeApp final : public AppProxy {
 public:
  static constexpr std::size_t kMaxLatencyMs = 60'000;

  // `inner` must outlive the probe. `now_ns` gives Unix time in nanoseconds.
  ProbeApp(AppProxy& inner, std::string moniker, std::function<std::int64_t()> now_ns);

  CommitResponse commit_block(const Block& block) override;
  Bytes get_snapshot(std::uint64_t block_index) override { return inner_.get_snapshot(block_index); }
  Bytes restore(const Bytes& snapshot) override { return inner_.restore(snapshot); }
  void on_state_changed(NodeState state) override { inner_.on_state_changed(state); }

  // Non-zero buckets as (ms, count), increasing ms.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> latency_histogram() const;
  std::uint64_t committed_transactions() const;  // every transaction of every committed block
  std::uint64_t measured_transactions() const;   // own testnet transactions with a latency

  // The submit time of a testnet transaction whose key starts with `prefix` (moniker + "."), if any.
  static std::optional<std::int64_t> submit_time_ns(const Bytes& tx, const std::string& prefix);

 private:
  AppProxy& inner_;
  const std::string prefix_;
  std::function<std::int64_t()> now_ns_;
  mutable std::mutex mu_;
  std::vector<std::uint64_t> histogram_;
  std::uint64_t committed_ = 0;
  std::uint64_t measured_ = 0;
};

}  // namespace chatter::cmd
