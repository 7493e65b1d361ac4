// Network faults and clock drift of the simulator. See faults.h for what each fault does.
#include "sim/faults.h"

#include <algorithm>

namespace chatter::simdetail {

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  Rng r(seed ^ (0x9e3779b97f4a7c15ULL * (stream + 1)));
  return r.next();
}

WireFrame encode_frame(const Message& m) {
  Writer w;
  w.u8(static_cast<std::uint8_t>(type_of(m)));
  encode_payload(m, w);
  WireFrame f;
  f.bytes = w.take();
  f.declared = f.bytes.size();
  return f;
}

NetworkFaults::NetworkFaults(const SimOptions& o, std::int64_t until, std::uint64_t seed)
    : f_(o.faults), n_(o.nodes), until_(until), rng_(seed) {
  // Intensities first, in a fixed order, whatever is on: the same seed gives the same links.
  Rng setup(derive_seed(seed, 1));
  links_.resize(n_ * n_);
  for (Link& l : links_) {
    l.drop = f_.drop ? 20 + setup.below(131) : 0;
    l.delay = f_.delay ? 100 + setup.below(301) : 0;
    l.duplicate = f_.duplicate ? 20 + setup.below(131) : 0;
    l.reorder = f_.reorder ? 100 + setup.below(201) : 0;
    l.corrupt = f_.corrupt ? 10 + setup.below(91) : 0;
  }
  if (!f_.partition || n_ < 2) return;
  Rng p(derive_seed(seed, 2));
  const std::int64_t duration = o.duration_ns;
  const std::uint64_t episodes = 1 + p.below(3);
  for (std::uint64_t k = 0; k < episodes; ++k) {
    Partition part;
    part.side.resize(n_);
    // A random split with both sides non-empty: node 0's side is fixed, another node is forced across.
    const std::size_t across = 1 + static_cast<std::size_t>(p.below(n_ - 1));
    for (std::size_t i = 1; i < n_; ++i)
      part.side[i] = i == across ? 1 : static_cast<std::uint8_t>(p.below(2));
    part.start = p.range(0, std::max<std::int64_t>(0, until_ - 300 * kMs));
    part.end = std::min(until_, part.start + p.range(300 * kMs, 2000 * kMs));
    if (part.end > part.start) partitions_.push_back(std::move(part));
  }
  Partition cut;
  cut.side.assign(n_, 0);
  cut.side[static_cast<std::size_t>(p.below(n_))] = 1;
  cut.start = p.range(duration / 20, duration / 5);
  cut.end = until_;
  cut.long_cut = true;
  if (cut.end > cut.start) partitions_.push_back(std::move(cut));
  std::sort(partitions_.begin(), partitions_.end(),
            [](const Partition& a, const Partition& b) { return a.start < b.start; });
}

bool NetworkFaults::cut(std::size_t a, std::size_t b, std::int64_t t) const {
  for (const Partition& p : partitions_)
    if (t >= p.start && t < p.end && p.side[a] != p.side[b]) return true;
  return false;
}

std::vector<std::int64_t> NetworkFaults::fate(std::size_t from, std::size_t to, std::int64_t now,
                                              SimFaultCounters& c) {
  std::vector<std::int64_t> copies;
  if (now < until_ && cut(from, to, now)) {
    ++c.partition_dropped;
    return copies;
  }
  copies.push_back(0);
  if (now >= until_ || !f_.network()) return copies;
  const Link& l = links_[from * n_ + to];
  // One draw per fault and message, whether the fault is on or not (per mille 0 never fires), so
  // that turning one fault on does not shift the others' decisions.
  const bool drop = rng_.below(1000) < l.drop;
  const bool dup = rng_.below(1000) < l.duplicate;
  const bool delay = rng_.below(1000) < l.delay;
  const bool reorder = rng_.below(1000) < l.reorder;
  const std::int64_t delay_ns = rng_.range(20 * kMs, 800 * kMs);
  const std::int64_t hold_ns = rng_.range(30 * kMs, 300 * kMs);
  if (drop) {
    ++c.dropped;
    copies.clear();
    return copies;
  }
  if (delay) {
    ++c.delayed;
    copies[0] += delay_ns;
  }
  if (reorder) {
    ++c.reordered;
    copies[0] += hold_ns;
  }
  if (dup) {
    ++c.duplicated;
    copies.push_back(0);
  }
  return copies;
}

bool NetworkFaults::maybe_corrupt(std::size_t from, std::size_t to, std::int64_t now, WireFrame& f,
                                  SimFaultCounters& c) {
  if (now >= until_ || !f_.corrupt || f.bytes.empty()) return false;
  if (rng_.below(1000) >= links_[from * n_ + to].corrupt) return false;
  const std::uint64_t bits = 1 + rng_.below(4);
  for (std::uint64_t k = 0; k < bits; ++k) {
    const std::size_t at = static_cast<std::size_t>(rng_.below(f.bytes.size()));
    f.bytes[at] = static_cast<std::uint8_t>(f.bytes[at] ^ (1u << rng_.below(8)));
  }
  ++c.corrupted;
  return true;
}

namespace {
constexpr std::int64_t kMillion = 1'000'000;
}

std::int64_t Clock::node_time(std::int64_t t) const {
  // t * ppm / 1e6 without overflow for any run length.
  return offset + t + (t / kMillion) * ppm + (t % kMillion) * ppm / kMillion;
}

std::int64_t Clock::real(std::int64_t node_t) const {
  const std::int64_t x = node_t - offset;
  if (x <= 0) return 0;
  const std::int64_t d = kMillion + ppm;
  std::int64_t t = (x / d) * kMillion + (x % d) * kMillion / d;
  while (node_time(t) < node_t) ++t;
  while (t > 0 && node_time(t - 1) >= node_t) --t;
  return t;
}

}  // namespace chatter::simdetail
