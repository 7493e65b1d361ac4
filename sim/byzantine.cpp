// A Byzantine validator's outgoing traffic. See byzantine.h for the behaviours.
#include "sim/byzantine.h"

#include "engine/crypto.h"
#include "sim/sim_lies.h"

namespace chatter::simdetail {
namespace {
constexpr std::size_t kReplayKept = 64;
}

Byzantine::Byzantine(std::size_t self, std::vector<std::uint32_t> ids, ByzantineBehaviours b, int lying_kind,
                     std::uint64_t seed)
    : self_(self), ids_(std::move(ids)), b_(b), lying_kind_(lying_kind), rng_(seed) {
  // Selective silence: each other peer with probability 1/2, at least one, and (with 4 nodes or
  // more) at least one peer still hears from it.
  const std::size_t n = ids_.size();
  silent_.assign(n, 0);
  if (n < 2) return;
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (i != self_ && rng_.below(2) == 0) {
      silent_[i] = 1;
      ++count;
    }
  if (count == 0) {
    std::size_t pick = static_cast<std::size_t>(rng_.below(n - 1));
    if (pick >= self_) ++pick;
    silent_[pick] = 1;
    ++count;
  }
  if (n >= 4 && count == n - 1) {
    std::size_t pick = static_cast<std::size_t>(rng_.below(n - 1));
    if (pick >= self_) ++pick;
    silent_[pick] = 0;
  }
}

void Byzantine::break_signatures(std::vector<WireEvent>& events, SimFaultCounters& c) {
  if (events.empty()) return;
  const std::size_t forced = static_cast<std::size_t>(rng_.below(events.size()));
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i != forced && rng_.below(2) == 0) continue;
    Signature& s = events[i].signature;
    s.data[static_cast<std::size_t>(rng_.below(s.data.size()))] ^=
        static_cast<std::uint8_t>(1 + rng_.below(255));
    ++c.bad_signatures_sent;
  }
}

void Byzantine::fake_parents(std::vector<WireEvent>& events, SimFaultCounters& c) {
  if (events.empty()) return;
  WireEvent& w = events[static_cast<std::size_t>(rng_.below(events.size()))];
  switch (rng_.below(6)) {
    case 0:  // an other-parent that was never created
      w.other_parent_creator_id = ids_[static_cast<std::size_t>(rng_.below(ids_.size()))];
      w.other_parent_index = w.other_parent_index.value_or(0) + 1'000'000 + rng_.below(1000);
      break;
    case 1:  // an other-parent creator no validator is
      w.other_parent_creator_id = 0xdeadbeefu;
      w.other_parent_index = w.other_parent_index.value_or(0);
      break;
    case 2:
      w.self_parent_index.reset();
      break;  // a missing self-parent
    case 3:   // an earlier self-parent (as a fork would)
      if (w.self_parent_index && *w.self_parent_index > 0) {
        --*w.self_parent_index;
      } else {
        w.self_parent_index = w.index + 5;
      }
      break;
    case 4:  // a missing other-parent
      w.other_parent_creator_id.reset();
      w.other_parent_index.reset();
      break;
    default: {  // a whole fabricated event, parents out of thin air
      WireEvent f;
      f.creator_id = ids_[self_];
      f.index = 1'000'000 + rng_.below(1000);
      f.self_parent_index = f.index - 1;
      f.other_parent_creator_id = ids_[static_cast<std::size_t>(rng_.below(ids_.size()))];
      f.other_parent_index = 2'000'000 + rng_.below(1000);
      f.timestamp = static_cast<std::int64_t>(rng_.below(1'000'000'000));
      for (auto& b : f.signature.data) b = static_cast<std::uint8_t>(rng_.next());
      events.push_back(std::move(f));
      break;
    }
  }
  ++c.fake_parents_sent;
}

// lying-fastforward: claims to be far ahead, then forges the answer (kinds as SimOptions::lying_kind).
void Byzantine::lie(Message& m) {
  if (auto* pos = std::get_if<PositionResponse>(&m)) {
    pos->anchor_index = pos->anchor_index.value_or(0) + 1000;
    return;
  }
  auto* ff = std::get_if<FastForwardResponse>(&m);
  if (!ff || !ff->ok) return;
  ++forged_;
  const int kind = lying_kind_ >= 0 ? lying_kind_ : static_cast<int>(rng_.below(7));
  switch (kind) {
    case 0: {  // too few signatures: only the liar's own
      Block b(ff->block.body());
      b.sign(KeyPair::from_name("node" + std::to_string(self_)));
      ff->block = std::move(b);
      break;
    }
    case 1: {  // signatures from keys nobody trusts
      Block b(ff->block.body());
      for (int k = 0; k < 5; ++k) b.sign(KeyPair::from_name("forger" + std::to_string(k)));
      ff->block = std::move(b);
      break;
    }
    case 2:
      ff->frame.timestamp += 1;
      break;  // a frame other than the signed one
    case 3:   // wrong snapshot bytes
      if (!ff->snapshot.empty()) ff->snapshot[ff->snapshot.size() / 2] ^= 0x01;
      break;
    case 4:
      ff->snapshot.resize(ff->snapshot.size() / 2);
      break;   // truncated
    case 5: {  // a peer-set change slipped into the frame's schedule
      std::vector<Peer> ps = ff->frame.peers.peers();
      ps.push_back(Peer{KeyPair::from_name("intruder").public_key(), "sim:x", "intruder"});
      ff->frame.schedule.add(ff->frame.round + 1, PeerSet(ps));
      break;
    }
    default: {  // a block whose peers hash was altered (its signatures no longer match)
      BlockBody body = ff->block.body();
      body.peers_hash.data[0] ^= 0x01;
      Block b(std::move(body));
      for (const auto& [key, sig] : ff->block.signatures())
        b.add_signature(BlockSignature{key, b.index(), sig});
      ff->block = std::move(b);
      break;
    }
  }
}

WireFrame Byzantine::malformed(const WireFrame& real, SimFaultCounters& c) {
  WireFrame f;
  const std::uint64_t kind = rng_.below(6);
  if (kind == 0) {  // a length prefix over the cap: the receiver refuses it before reading the body
    f.declared = 16u * 1024 * 1024 + 1 + rng_.below(48u * 1024 * 1024);
    f.bytes = {static_cast<std::uint8_t>(real.bytes.empty() ? 2 : real.bytes[0])};
    ++c.oversized_sent;
    return f;
  }
  ++c.malformed_sent;
  switch (kind) {
    case 1:  // an unknown type byte before a real payload
      f.bytes = real.bytes;
      if (!f.bytes.empty())
        f.bytes[0] = static_cast<std::uint8_t>(rng_.below(2) == 0 ? 0 : 9 + rng_.below(247));
      break;
    case 2:  // truncated
      f.bytes.assign(real.bytes.begin(),
                     real.bytes.begin() + static_cast<std::ptrdiff_t>(rng_.below(real.bytes.size() + 1)));
      break;
    case 3:  // trailing bytes
      f.bytes = real.bytes;
      for (std::uint64_t k = 1 + rng_.below(16); k > 0; --k)
        f.bytes.push_back(static_cast<std::uint8_t>(rng_.next()));
      break;
    case 4: {  // garbage after a valid type byte
      f.bytes.push_back(static_cast<std::uint8_t>(1 + rng_.below(kLastMessageType)));
      for (std::uint64_t k = rng_.below(200); k > 0; --k)
        f.bytes.push_back(static_cast<std::uint8_t>(rng_.next()));
      break;
    }
    default: {  // a SyncResponse announcing 2^32-1 events in a few bytes (must not allocate them)
      Writer w;
      w.u8(static_cast<std::uint8_t>(MessageType::kSyncResponse));
      w.u32(ids_[self_]);
      w.u32(0xffffffffu);
      for (int k = 0; k < 8; ++k) w.u64(rng_.next());
      f.bytes = w.take();
      break;
    }
  }
  f.declared = f.bytes.size();
  return f;
}

std::vector<WireFrame> Byzantine::outgoing(std::size_t to, Message m, SimFaultCounters& c) {
  std::vector<WireFrame> out;
  // Draws in a fixed order, whatever is on, so that one behaviour does not shift another's.
  const bool sig = rng_.below(3) == 0;
  const bool parents = rng_.below(3) == 0;
  const bool replay = rng_.below(4) == 0;
  const bool bad_frame = rng_.below(10) == 0;
  if (silent_toward(to)) {
    ++c.silenced;
    return out;
  }
  if (b_.lying_fastforward && !is_chunk_lie(lying_kind_)) lie(m);  // 7..9: the simulator's (sim_lies.h)
  std::vector<WireEvent>* events = nullptr;
  if (auto* r = std::get_if<SyncResponse>(&m)) events = &r->events;
  if (auto* p = std::get_if<EagerSyncRequest>(&m)) events = &p->events;
  if (events) {
    if (b_.bad_signature && sig) break_signatures(*events, c);
    if (b_.fake_parents && parents) fake_parents(*events, c);
  }
  out.push_back(encode_frame(m));
  if (b_.replay && replay && !sent_.empty()) {
    out.push_back(sent_[static_cast<std::size_t>(rng_.below(sent_.size()))]);
    ++c.replayed;
  }
  if (b_.oversized && bad_frame) out.push_back(malformed(out.front(), c));
  if (b_.replay) {
    sent_.push_back(out.front());
    if (sent_.size() > kReplayKept) sent_.pop_front();
  }
  return out;
}

}  // namespace chatter::simdetail
