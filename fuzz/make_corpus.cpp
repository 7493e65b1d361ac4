// Writes the binary seed corpora of the fuzz targets (fuzz/README.md) into DIR (fuzz/corpus):
// real encodings of every gossip message type, wire frames, events, blocks, frames and peer sets,
// built with the engine's own types and keys derived from names, so the output is the same every run.
// Usage: fuzz-make-corpus DIR. The text corpora (JSON-RPC, replay, peers) are written by hand.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/block.h"
#include "engine/crypto.h"
#include "engine/event.h"
#include "engine/frame.h"
#include "engine/messages.h"
#include "net/wire.h"

using namespace chatter;
namespace fs = std::filesystem;

namespace {

fs::path out_dir;

void write(const std::string& target, const std::string& name, std::uint8_t first, const Bytes& rest) {
  const fs::path dir = out_dir / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.put(static_cast<char>(first));
  out.write(reinterpret_cast<const char*>(rest.data()), static_cast<std::streamsize>(rest.size()));
}

template <class T>
Bytes encoded(const T& v) {
  Writer w;
  v.encode(w);
  return w.take();
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

EventPtr event(const KeyPair& k, std::uint64_t index, std::optional<Hash> self_parent,
               std::optional<Hash> other_parent) {
  EventBody b;
  b.creator = k.public_key();
  b.index = index;
  b.self_parent = self_parent;
  b.other_parent = other_parent;
  b.timestamp = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(index);
  b.transactions = {text("SET k" + std::to_string(index) + " v")};
  return std::make_shared<const Event>(Event::create(b, k));
}

InternalTransaction peer_add(const char* name) {
  const KeyPair k = KeyPair::from_name(name);
  InternalTransaction itx;
  itx.peer = Peer{k.public_key(), "127.0.0.1:1337", name};
  itx.sign(k);
  return itx;
}

PeerSet peers_of(std::initializer_list<const char*> names) {
  std::vector<Peer> ps;
  for (const char* n : names) ps.push_back(Peer{KeyPair::from_name(n).public_key(), "127.0.0.1:9000", n});
  return PeerSet(std::move(ps));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz-make-corpus DIR\n");
    return 2;
  }
  out_dir = argv[1];
  const KeyPair a = KeyPair::from_name("A"), b = KeyPair::from_name("B");
  const PeerSet set = peers_of({"A", "B"});

  // Events, and an event with every optional part.
  const EventPtr a0 = event(a, 0, std::nullopt, std::nullopt);
  const EventPtr b0 = event(b, 0, std::nullopt, std::nullopt);
  const EventPtr a1 = event(a, 1, a0->hash(), b0->hash());
  EventBody full = a1->body();
  full.index = 2;
  full.self_parent = a1->hash();
  full.internal_transactions = {peer_add("C")};
  full.block_signatures = {BlockSignature{a.public_key(), 0, a.sign(a1->hash())}};
  const Event a2 = Event::create(full, a);

  WireEvent w0;
  w0.creator_id = set.peers()[0].id();
  w0.index = 1;
  w0.self_parent_index = 0;
  w0.other_parent_creator_id = set.peers()[1].id();
  w0.other_parent_index = 0;
  w0.timestamp = 42;
  w0.transactions = {text("tx")};
  w0.signature = a1->signature();
  WireEvent w1 = w0;
  w1.index = 0;
  w1.self_parent_index.reset();
  w1.other_parent_creator_id.reset();
  w1.other_parent_index.reset();
  w1.internal_transactions = {peer_add("D")};
  w1.block_signatures = full.block_signatures;

  write("event", "event-root", 0, a0->encoded());
  write("event", "event-parents", 0, a1->encoded());
  write("event", "event-full", 0, a2.encoded());
  write("event", "wire-event", 1, encoded(w0));
  write("event", "wire-event-itx", 1, encoded(w1));
  write("event", "internal-tx", 2, encoded(peer_add("E")));

  // Blocks.
  BlockBody body;
  body.index = 7;
  body.round_received = 9;
  body.timestamp = 1'700'000'000'000'000'000;
  body.state_hash = Bytes(32, 0xab);
  body.frame_hash.data.fill(1);
  body.peers_hash = set.hash();
  body.transactions = {text("SET a 1"), text("SET b 2")};
  body.internal_transactions = {peer_add("C")};
  body.internal_transaction_receipts = {InternalTransactionReceipt{peer_add("C"), true}};
  Block block(body);
  block.sign(a);
  block.sign(b);
  write("block", "block-signed", 0, encoded(block));
  write("block", "block-unsigned", 0, encoded(Block(BlockBody{})));
  write("block", "block-body", 1, encoded(body));
  write("block", "receipt", 2, encoded(InternalTransactionReceipt{peer_add("D"), false}));

  // A frame with events and roots.
  Frame frame;
  frame.round = 3;
  frame.peers = set;
  frame.events = {FrameEvent{a1, 3, 2, true}, FrameEvent{std::make_shared<const Event>(a2), 3, 3, false}};
  frame.schedule = PeerSchedule(set);
  frame.schedule.add(10, peers_of({"A", "B", "C"}));
  frame.roots = {Root{a.public_key(), {FrameEvent{a0, 2, 0, true}}},
                 Root{b.public_key(), {FrameEvent{b0, 2, 0, true}}}};
  if (frame.roots[1].creator < frame.roots[0].creator) std::swap(frame.roots[0], frame.roots[1]);
  frame.timestamp = 1'700'000'000'000'000'000;
  write("frame", "frame", 0, encoded(frame));
  write("frame", "peer-set", 1, encoded(set));
  write("frame", "peer-schedule", 2, encoded(frame.schedule));

  // Every gossip message type: payloads, then the same as wire frames.
  KnownIndexes known = {{std::min(set.peers()[0].id(), set.peers()[1].id()), 4},
                        {std::max(set.peers()[0].id(), set.peers()[1].id()), 2}};
  FastForwardResponse ff;
  ff.from_id = 2;
  ff.ok = true;
  ff.block = block;
  ff.frame = frame;
  ff.snapshot = text("{\"a\":\"1\"}");
  // A signed PEER_ADD of a new node, and the set that includes it.
  const KeyPair joiner = KeyPair::from_name("joiner");
  InternalTransaction join_tx;
  join_tx.type = InternalTransactionType::kPeerAdd;
  join_tx.peer = Peer{joiner.public_key(), "127.0.0.1:9000", "joiner"};
  join_tx.sign(joiner);
  std::vector<Peer> with_joiner = ff.frame.peers.peers();
  with_joiner.push_back(join_tx.peer);
  const PeerSet join_peers(with_joiner);
  const std::vector<std::pair<std::string, Message>> messages = {
      {"sync-request", SyncRequest{1, known}},
      {"sync-response", SyncResponse{2, {w0, w1}, known, true}},
      {"eager-sync-request", EagerSyncRequest{1, {w0}}},
      {"eager-sync-response", EagerSyncResponse{2, true}},
      {"position-request", PositionRequest{1}},
      {"position-response", PositionResponse{2, 7, 9, {}}},
      {"fast-forward-request", FastForwardRequest{1, 5}},
      {"fast-forward-response", ff},
      {"fast-forward-refused", FastForwardResponse{2, false, {}, {}, {}, {}, {}}},
      {"join-request", JoinRequest{3, join_tx}},
      {"join-response", JoinResponse{1, true, 12, join_peers, ""}},
      {"join-refused", JoinResponse{1, false, -1, {}, "refused by the application"}},
  };
  Bytes stream;
  for (const auto& [name, m] : messages) {
    Writer w;
    encode_payload(m, w);
    write("message_payload", name, static_cast<std::uint8_t>(type_of(m)), w.data());
    const Bytes f = encode_frame(m);
    // mode 0x3f: 64-byte reads, 1 MiB cap.
    write("wire_frames", name, 0x3f, f);
    if (name.rfind("fast-forward-response", 0) != 0) stream.insert(stream.end(), f.begin(), f.end());
  }
  write("wire_frames", "stream-1-byte-reads", 0x00, stream);
  write("wire_frames", "stream-small-cap", 0x87, stream);  // 8-byte reads, 64-byte cap: refused
  return 0;
}
