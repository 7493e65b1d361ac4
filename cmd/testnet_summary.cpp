#include "cmd/testnet_summary.h"

#include "cmd/file_util.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace chatter::cmd {

std::optional<NodeReport> read_report(const std::string& path, std::string& error) {
  auto text = read_whole_file(path, error);
  if (!text) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(*text);
    NodeReport r;
    r.state = j.at("state").get<std::string>();
    if (!j.at("last_block_index").is_null()) r.last_block_index = j.at("last_block_index").get<std::uint64_t>();
    r.transactions = j.at("transactions").get<std::uint64_t>();
    for (const auto& b : j.at("blocks"))
      r.blocks[b.at("index").get<std::uint64_t>()] =
          NodeReport::BlockInfo{b.at("hash").get<std::string>(), b.at("state_hash").get<std::string>(),
                                b.at("txs").get<std::uint64_t>()};
    for (const auto& h : j.at("latency_ms_histogram"))
      r.histogram.emplace_back(h.at(0).get<std::uint64_t>(), h.at(1).get<std::uint64_t>());
    r.state_hash = j.at("stats").at("state_hash").get<std::string>();
    r.exited = j.at("exited").get<bool>();
    r.written_unix_ms = j.value("written_unix_ms", std::int64_t{0});
    const auto& st = j.at("stats");
    r.fast_forwards = st.value("fast_forwards", std::uint64_t{0});
    if (st.contains("fast_forward_block") && !st.at("fast_forward_block").is_null())
      r.fast_forward_block = st.at("fast_forward_block").get<std::uint64_t>();
    r.bytes_received = j.value("bytes_received", std::uint64_t{0});
    if (j.contains("history"))
      for (const auto& [round, keys] : j.at("history").items())
        r.history[std::stoll(round)] = keys.get<std::vector<std::string>>();
    r.membership_status = st.value("membership_status", std::string());
    if (st.contains("join_latency_s") && !st.at("join_latency_s").is_null())
      r.join_latency_s = st.at("join_latency_s").get<double>();
    return r;
  } catch (const nlohmann::json::exception& e) {
    error = path + " is not a valid report (" + e.what() + ")";
    return std::nullopt;
  } catch (const std::logic_error& e) {  // a history round that is not a number
    error = path + " is not a valid report (" + e.what() + ")";
    return std::nullopt;
  }
}

Agreement compare_reports(const std::vector<NodeReport>& reports, const std::vector<bool>* until_end) {
  Agreement a;
  auto counted = [&](std::size_t i) { return !until_end || i >= until_end->size() || (*until_end)[i]; };
  bool first = true, none = false;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    if (!counted(i)) continue;
    const auto& r = reports[i];
    if (!r.last_block_index) {
      none = true;
      continue;
    }
    if (first || *r.last_block_index < *a.min_last_block) a.min_last_block = r.last_block_index;
    first = false;
  }
  if (none) a.min_last_block.reset();

  for (std::size_t i = 0; i < reports.size(); ++i)
    for (std::size_t j = i + 1; j < reports.size(); ++j) {
      for (const auto& [index, bi] : reports[i].blocks) {
        const auto other = reports[j].blocks.find(index);
        if (other == reports[j].blocks.end()) continue;
        if (bi.hash != other->second.hash && a.blocks_equal) {
          a.blocks_equal = false;
          a.block_difference = Agreement::BlockDifference{i, j, index};
          a.first_difference = "node" + std::to_string(i) + " and node" + std::to_string(j) +
                               " hold different blocks at index " + std::to_string(index);
        }
        if (bi.state_hash != other->second.state_hash && a.state_hashes_equal) {
          a.state_hashes_equal = false;
          if (a.first_difference.empty())
            a.first_difference = "node" + std::to_string(i) + " and node" + std::to_string(j) +
                                 " have different state hashes after block " + std::to_string(index);
        }
      }
      if (reports[i].last_block_index && reports[i].last_block_index == reports[j].last_block_index &&
          reports[i].state_hash != reports[j].state_hash && a.state_hashes_equal) {
        a.state_hashes_equal = false;
        if (a.first_difference.empty())
          a.first_difference = "node" + std::to_string(i) + " and node" + std::to_string(j) +
                               " report different application state hashes at the same last block";
      }
    }
  if (a.min_last_block && !reports.empty())
    for (const auto& [index, bi] : reports.front().blocks)
      if (index <= *a.min_last_block) a.tx_committed += bi.txs;
  return a;
}

bool same_schedules(const std::vector<NodeReport>& reports, const std::vector<bool>& until_end) {
  const NodeReport* ref = nullptr;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    if (i < until_end.size() && !until_end[i]) continue;
    if (!ref) ref = &reports[i];
    else if (reports[i].history != ref->history) return false;
  }
  return true;
}

double histogram_percentile(const std::map<std::uint64_t, std::uint64_t>& histogram, double p) {
  std::uint64_t total = 0;
  for (const auto& [ms, count] : histogram) total += count;
  if (total == 0) return 0.0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(total)));
  std::uint64_t seen = 0;
  for (const auto& [ms, count] : histogram) {
    seen += count;
    if (seen >= rank) return static_cast<double>(ms);
  }
  return static_cast<double>(histogram.rbegin()->first);
}

}  // namespace chatter::cmd
