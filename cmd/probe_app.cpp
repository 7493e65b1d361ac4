#include "cmd/probe_app.h"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace chatter::cmd {

ProbeApp::ProbeApp(AppProxy& inner, std::string moniker, std::function<std::int64_t()> now_ns)
    : inner_(inner), prefix_(std::move(moniker) + "."), now_ns_(std::move(now_ns)),
      histogram_(kMaxLatencyMs + 1, 0) {}

std::optional<std::int64_t> ProbeApp::submit_time_ns(const Bytes& tx, const std::string& prefix) {
  const std::string_view s(reinterpret_cast<const char*>(tx.data()), tx.size());
  constexpr std::string_view kSet = "SET ";
  if (s.substr(0, kSet.size()) != kSet) return std::nullopt;
  const std::string_view rest = s.substr(kSet.size());
  if (rest.substr(0, prefix.size()) != prefix) return std::nullopt;
  const auto key_end = rest.find(' ');
  if (key_end == std::string_view::npos) return std::nullopt;
  const std::string_view value = rest.substr(key_end + 1);
  std::int64_t t = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), t);
  if (ec != std::errc() || (end != value.data() + value.size() && *end != ' ')) return std::nullopt;
  return t;
}

CommitResponse ProbeApp::commit_block(const Block& block) {
  CommitResponse r = inner_.commit_block(block);  // throws AppError: nothing counted then
  const std::int64_t now = now_ns_();
  std::lock_guard lock(mu_);
  committed_ += block.body().transactions.size();
  for (const auto& tx : block.body().transactions) {
    const auto t = submit_time_ns(tx, prefix_);
    if (!t) continue;
    const std::int64_t ms = (now - *t) / 1'000'000;
    const std::size_t bucket =
        ms <= 0 ? 0 : static_cast<std::size_t>(std::min<std::int64_t>(ms, kMaxLatencyMs));
    ++histogram_[bucket];
    ++measured_;
  }
  return r;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> ProbeApp::latency_histogram() const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  for (std::size_t i = 0; i < histogram_.size(); ++i)
    if (histogram_[i] != 0) out.emplace_back(i, histogram_[i]);
  return out;
}

std::uint64_t ProbeApp::committed_transactions() const {
  std::lock_guard lock(mu_);
  return committed_;
}

std::uint64_t ProbeApp::measured_transactions() const {
  std::lock_guard lock(mu_);
  return measured_;
}

}  // namespace chatter::cmd
