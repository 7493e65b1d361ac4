// The --join and --leave scenario of `chatter testnet` (spec/cli.md): when each new node starts and
// each leaving validator is asked to go, who joined and who left, and the summary's `membership`.
//  --join K: node<nodes+late+k> starts at 20%..50% of the duration, outside the genesis set; it has
//  joined once its report says Babbling with its key in its own newest validator set.
//  --leave K: the last K genesis validators (never node0) get SIGTERM at 55%..75% (their load stops
//  first) and must exit 0 on their own once their removal took effect.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cmd/testnet_nodes.h"
#include "cmd/testnet_summary.h"

namespace chatter::cmd {

class MembershipScenario {
 public:
  // `keys`: each node's public key (PubKeyHex), by node index.
  MembershipScenario(std::size_t nodes, std::size_t late, std::size_t join, std::size_t leave, double duration_s,
                     std::vector<std::string> keys);

  // The --leave validators: the last ones of the genesis set (never node0, whose blocks the summary
  // counts transactions from).
  bool is_leaver(std::size_t i) const { return i < nodes_ && i + leave_ >= nodes_; }
  // Starts the joiners and asks the leavers whose moment has come (`elapsed`: seconds of load).
  // `start_joiner(i)` starts node i; `ask_to_leave(i)` stops its load and sends it SIGTERM.
  void act(double elapsed, const std::function<void(std::size_t)>& start_joiner,
           const std::function<void(std::size_t)>& ask_to_leave);
  // Notes (and says on standard error) the joiners now Babbling as validators, and the leavers that
  // exited (reaped here or before).
  void track(const std::vector<std::optional<NodeReport>>& reports, std::vector<NodeProcess>& nodes);

  struct Outcome {
    std::size_t joined = 0, left = 0;
    bool sets_equal = true;
    nlohmann::ordered_json json;  // the summary's "membership"
  };
  // From the final reports: node0's newest set decides who is in; `until_end` as compare_reports.
  Outcome outcome(const std::vector<NodeReport>& reports, const std::vector<NodeProcess>& nodes,
                  const std::vector<bool>& until_end) const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Join {
    double at_s = 0;
    std::size_t node = 0;
    bool started = false;
    Clock::time_point started_at{};
    std::optional<double> joined_s;  // wall time from its start to Babbling as a validator
  };
  struct Leave {
    double at_s = 0;
    std::size_t node = 0;
    bool asked = false;
    Clock::time_point asked_at{};
    std::optional<double> exited_s;
  };
  std::size_t nodes_, leave_;
  std::vector<std::string> keys_;
  std::vector<Join> joins_;
  std::vector<Leave> leaves_;
};

}  // namespace chatter::cmd
