#include "cmd/testnet_membership.h"

#include <sys/wait.h>

#include <algorithm>
#include <iostream>

namespace chatter::cmd {
namespace {

// The newest validator set of a report's schedule, or nullptr.
const std::vector<std::string>* newest_set(const NodeReport& r) {
  return r.history.empty() ? nullptr : &r.history.rbegin()->second;
}
bool in_set(const std::vector<std::string>* set, const std::string& key) {
  return set && std::find(set->begin(), set->end(), key) != set->end();
}
nlohmann::ordered_json optional_json(const std::optional<double>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

}  // namespace

MembershipScenario::MembershipScenario(std::size_t nodes, std::size_t late, std::size_t join, std::size_t leave,
                                       double duration_s, std::vector<std::string> keys)
    : nodes_(nodes), leave_(leave), keys_(std::move(keys)) {
  for (std::size_t k = 0; k < join; ++k) {
    Join j;
    j.at_s = duration_s * (0.2 + 0.3 * static_cast<double>(k) / static_cast<double>(join));
    j.node = nodes + late + k;
    joins_.push_back(j);
  }
  for (std::size_t k = 0; k < leave; ++k) {
    Leave l;
    l.at_s = duration_s * (0.55 + 0.2 * static_cast<double>(k) / static_cast<double>(leave));
    l.node = nodes - 1 - k;  // is_leaver()
    leaves_.push_back(l);
  }
}

void MembershipScenario::act(double elapsed, const std::function<void(std::size_t)>& start_joiner,
                             const std::function<void(std::size_t)>& ask_to_leave) {
  for (auto& j : joins_) {
    if (j.started || elapsed < j.at_s) continue;
    start_joiner(j.node);
    j.started = true;
    j.started_at = Clock::now();
    std::cerr << "testnet: started node" << j.node << " outside the validator set: it asks to join\n";
  }
  for (auto& l : leaves_) {
    if (l.asked || elapsed < l.at_s) continue;
    ask_to_leave(l.node);
    l.asked = true;
    l.asked_at = Clock::now();
    std::cerr << "testnet: asked node" << l.node << " to leave the validator set (SIGTERM)\n";
  }
}

void MembershipScenario::track(const std::vector<std::optional<NodeReport>>& reports, std::vector<NodeProcess>& nodes) {
  for (auto& j : joins_) {
    const auto& r = reports[j.node];
    if (!j.started || j.joined_s || !r || r->state != "Babbling" || !in_set(newest_set(*r), keys_[j.node])) continue;
    j.joined_s = std::chrono::duration<double>(Clock::now() - j.started_at).count();
    std::cerr << "testnet: node" << j.node << " joined: Babbling as a validator " << *j.joined_s
              << " s after it started";
    if (r->join_latency_s) std::cerr << " (" << *r->join_latency_s << " s after its join request)";
    std::cerr << "\n";
  }
  for (auto& l : leaves_) {
    if (!l.asked || l.exited_s) continue;
    reap_if_exited(nodes[l.node]);  // or reaped already (check_deaths)
    if (nodes[l.node].running) continue;
    l.exited_s = std::chrono::duration<double>(Clock::now() - l.asked_at).count();
    std::cerr << "testnet: node" << l.node << " left and stopped " << *l.exited_s << " s after it was asked ("
              << describe_status(nodes[l.node].status) << ")\n";
  }
}

MembershipScenario::Outcome MembershipScenario::outcome(const std::vector<NodeReport>& reports,
                                                        const std::vector<NodeProcess>& nodes,
                                                        const std::vector<bool>& until_end) const {
  Outcome o;
  // Membership: from node0's final schedule (every node that ran until the end must hold the same).
  const std::vector<std::string>* final_set = newest_set(reports.front());
  o.sets_equal = same_schedules(reports, until_end);
  nlohmann::ordered_json join_list = nlohmann::ordered_json::array(), leave_list = nlohmann::ordered_json::array();
  nlohmann::ordered_json join_latency = nlohmann::ordered_json::array();
  for (const auto& j : joins_) {
    const NodeReport& r = reports[j.node];
    const bool ok = j.joined_s.has_value() && in_set(final_set, keys_[j.node]);
    o.joined += ok ? 1 : 0;
    if (r.join_latency_s) join_latency.push_back(*r.join_latency_s);
    join_list.push_back({{"node", j.node},
                         {"joined", ok},
                         {"state", r.state},
                         {"babbling_after_start_s", optional_json(j.joined_s)},
                         {"join_latency_s", optional_json(r.join_latency_s)},
                         {"fast_forwards", r.fast_forwards},
                         {"status", r.membership_status}});
  }
  for (const auto& l : leaves_) {
    const NodeProcess& n = nodes[l.node];
    const bool exited_zero = l.exited_s.has_value() && WIFEXITED(n.status) && WEXITSTATUS(n.status) == 0;
    const bool ok = exited_zero && final_set && !in_set(final_set, keys_[l.node]);
    o.left += ok ? 1 : 0;
    leave_list.push_back({{"node", l.node},
                          {"left", ok},
                          {"stopped_s", optional_json(l.exited_s)},
                          {"exit", describe_status(n.status)},
                          {"status", reports[l.node].membership_status}});
  }
  o.json = {{"joined", o.joined},
            {"left", o.left},
            {"validator_sets_equal", o.sets_equal},
            {"validators", final_set ? final_set->size() : 0},
            {"join_latency_s", join_latency},
            {"joins", join_list},
            {"leaves", leave_list}};
  return o;
}

}  // namespace chatter::cmd
