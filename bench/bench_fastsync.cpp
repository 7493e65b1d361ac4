// chatter-bench fastsync: what a late validator pays to catch up by fast-forward, against a history
// of --events events and an application snapshot of --snapshot-mb MB, and (with --gossip-compare)
// what catching up by plain gossip from genesis costs on the same history.
//
// The history is a seeded gossip graph among --participants creators, run through consensus on a
// "server" graph whose genesis set also holds the late validator (with no event in the history).
// Its last block gets the key-value app's snapshot hash and state hash and the signatures of every
// creator of the history (more than TrustCount). The late node is a real
// engine Node (fast_sync, the KvStore app, an InmemStore): it is driven through CatchingUp with the
// real messages, each encoded to canonical bytes and decoded again as the transport would (the bytes
// are counted), until it is Babbling: positions, the block with its Frame and the snapshot's
// manifest (or the snapshot inline when it fits one chunk), then the chunks (--chunk-kib, at most
// --in-flight outstanding, spread over the history creators, each answered at once); then it pulls the events
// after the Frame with SyncRequests answered from the server graph until it holds the server's head. Timings
// are wall clock and this thread's CPU on one core; network latency is not modelled (loopback adds ~1 ms per
// round trip and ~10 ms per 10 MB).
#include <time.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "app_proxy/kvstore.h"
#include "bench/bench_util.h"
#include "engine/crypto.h"
#include "engine/hashgraph.h"
#include "engine/messages.h"
#include "engine/node.h"
#include "sim/gossip_graph.h"
#include "store/inmem_store.h"

namespace chatter::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Timer {
  Clock::time_point wall = Clock::now();
  double cpu = thread_cpu_s();
  double wall_s() const { return std::chrono::duration<double>(Clock::now() - wall).count(); }
  double cpu_s() const { return thread_cpu_s() - cpu; }
};

// What the transport does: canonical bytes out, decoded back in. Counts the bytes.
Message carry(const Message& m, std::uint64_t& bytes) {
  Writer w;
  encode_payload(m, w);
  const Bytes b = w.take();
  bytes += b.size() + 5;  // + the wire frame header (u32 length, u8 type)
  return decode_payload(static_cast<std::uint8_t>(type_of(m)), b.data(), b.size());
}

std::size_t encoded_size(const auto& x) {
  Writer w;
  x.encode(w);
  return w.data().size();
}

struct Options {
  std::size_t participants = 4;
  std::size_t events = 100'000;
  double snapshot_mb = 10;
  std::uint64_t seed = 1;
  bool gossip_compare = false;
  std::size_t chunk_kib = 1024;  // NodeConfig::snapshot_chunk_size, in KiB
  std::size_t in_flight = 8;     // NodeConfig::chunks_in_flight
};

nlohmann::ordered_json run(const Options& o) {
  crypto_init();
  std::fprintf(stderr, "fastsync: generating %zu signed events among %zu creators\n", o.events,
               o.participants);
  GossipGraphOptions go;
  go.participants = o.participants;
  go.events = o.events;
  go.seed = o.seed;
  go.sign_threads = 2;
  const GossipGraph gg = make_gossip_graph(go);

  std::fprintf(stderr, "fastsync: running the server graph through consensus\n");
  // The late validator is in the genesis set but has no event in the history.
  const KeyPair late_key = KeyPair::from_name("late");
  std::vector<Peer> members = gg.peers.peers();
  members.push_back(Peer{late_key.public_key(), "late:1", "late"});
  const PeerSet genesis(members);
  InmemStore server_store;
  Hashgraph server(PeerSchedule(genesis), server_store);
  for (const EventPtr& e : gg.events) server.insert(e, true);
  server.run_consensus();
  const auto last = server_store.last_block_index();
  if (!last) throw std::runtime_error("the history produced no block; use more events");

  // The application state: a key-value map of about snapshot_mb MB.
  KvStore::Map map;
  std::size_t bytes = 0;
  for (std::size_t i = 0; bytes < static_cast<std::size_t>(o.snapshot_mb * 1e6); ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "key%010zu", i);
    std::string value(100, static_cast<char>('a' + i % 26));
    bytes += std::strlen(key) + value.size() + 8;
    map.emplace(key, std::move(value));
  }
  const Bytes snapshot = KvStore::encode_snapshot(map);
  const Bytes state_hash = KvStore::compute_state_hash(map);

  BlockBody body = server_store.get_block(*last)->body();
  body.state_hash = state_hash;
  // snapshot_hash by the network's rule (engine/snapshot.h): above the chunk size, the manifest's hash.
  const std::uint32_t chunk_size = static_cast<std::uint32_t>(o.chunk_kib * 1024);
  const bool chunked = !snapshot_inline(snapshot.size(), chunk_size);
  const SnapshotManifest manifest = make_manifest(snapshot, chunk_size);
  body.snapshot_hash = snapshot_commitment(snapshot, chunk_size);
  Block anchor(body);
  for (const KeyPair& k : gg.keys) anchor.sign(k);
  const Frame frame = *server_store.get_frame(body.round_received);

  // The late node, starting with fast-sync.
  NodeConfig cfg;
  cfg.key = late_key;
  cfg.genesis = genesis;
  cfg.moniker = "late";
  cfg.fast_sync = true;
  cfg.seed = 7;
  cfg.snapshot_chunk_size = chunk_size;
  cfg.chunks_in_flight = o.in_flight;
  InmemStore late_store;
  KvStore app;
  Node late(cfg, late_store, app);
  std::vector<std::uint32_t> peers;
  for (const auto& p : gg.peers.peers()) peers.push_back(p.id());

  std::fprintf(stderr, "fastsync: fast-forwarding the late node (snapshot %zu bytes)\n", snapshot.size());
  std::uint64_t received = 0, sent = 0;
  std::int64_t now = 1'000'000'000;
  const Timer t_ff;
  // Every history creator answers as a serving node would: its position (the anchor and its
  // snapshot hash), the anchor block with its Frame and the snapshot inline or its manifest, and
  // the chunks it is asked for (from the same snapshot: every creator holds it).
  std::map<std::uint32_t, std::uint64_t> chunks_by_peer;
  std::vector<Envelope> queue = late.tick(now);
  for (int steps = 0; late.state() != NodeState::kBabbling; ++steps) {
    if (steps > 1'000'000) throw std::runtime_error("the late node did not finish catching up");
    if (queue.empty()) {
      now += 1'000'000;
      queue = late.tick(now);
      continue;
    }
    const Envelope e = std::move(queue.front());
    queue.erase(queue.begin());
    const Message req = carry(e.message, sent);
    std::optional<Message> answer;
    if (std::holds_alternative<PositionRequest>(req)) {
      answer = PositionResponse{e.to, anchor.index(), body.round_received, body.snapshot_hash};
    } else if (std::holds_alternative<FastForwardRequest>(req)) {
      FastForwardResponse ff{e.to, true, anchor, frame, {}, {}, {}};
      if (chunked)
        ff.manifest = manifest;
      else
        ff.snapshot = snapshot;
      answer = std::move(ff);
    } else if (const auto* c = std::get_if<SnapshotChunkRequest>(&req)) {
      SnapshotChunkResponse r{
          e.to, c->block_index, c->snapshot_hash, c->chunk_index, ChunkStatus::kUnavailable, {}};
      if (c->snapshot_hash == body.snapshot_hash && c->chunk_index < manifest.chunk_count()) {
        const auto off = static_cast<std::ptrdiff_t>(manifest.chunk_offset(c->chunk_index));
        const auto len = static_cast<std::ptrdiff_t>(manifest.chunk_length(c->chunk_index));
        r.status = ChunkStatus::kOk;
        r.bytes.assign(snapshot.begin() + off, snapshot.begin() + off + len);
        ++chunks_by_peer[e.to];
      }
      answer = std::move(r);
    }
    if (!answer) continue;
    for (Envelope& more : late.receive(e.to, carry(*answer, received), now)) queue.push_back(std::move(more));
  }
  const double ff_wall = t_ff.wall_s(), ff_cpu = t_ff.cpu_s();
  if (late.state() != NodeState::kBabbling)
    throw std::runtime_error("the late node is not Babbling after the fast-forward: " +
                             late.stats().last_fast_forward_error);
  const std::uint64_t received_to_babbling = received;

  // Then gossip: pull the events after the Frame from the server graph until the late node holds
  // every event the server has (its own new events aside).
  const Timer t_tail;
  std::uint64_t tail_events = 0;
  const auto& creators = server.known_creators();
  auto at_head = [&] {
    const auto theirs = server.known_indexes();
    for (std::size_t s = 0; s < creators.size(); ++s) {
      const auto mine_s = late.graph().last_event_of(creators[s]);
      const std::int64_t have = mine_s ? static_cast<std::int64_t>(late.graph().info(*mine_s)->index) : -1;
      if (have < theirs[s]) return false;
    }
    return true;
  };
  for (int i = 0; i < 1'000'000 && !at_head(); ++i) {
    now += 20'000'000;
    for (const Envelope& e : late.tick(now)) {
      const auto* r = std::get_if<SyncRequest>(&e.message);
      if (!r) continue;
      const SyncRequest req = std::get<SyncRequest>(carry(*r, sent));
      std::vector<std::int64_t> known(creators.size(), -1);
      for (const auto& [id, index] : req.known)
        for (std::size_t s = 0; s < creators.size(); ++s)
          if (peer_id_of(creators[s]) == id) known[s] = static_cast<std::int64_t>(index);
      SyncResponse resp;
      resp.from_id = e.to;
      for (const EventPtr& ev : server.events_beyond(known, cfg.sync_limit, &resp.more))
        resp.events.push_back(*server.to_wire(ev->hash()));
      tail_events += resp.events.size();
      late.receive(e.to, carry(resp, received), now);  // its push back (its own events) is not needed here
    }
  }
  const double tail_wall = t_tail.wall_s(), tail_cpu = t_tail.cpu_s();

  std::optional<double> gossip_wall, gossip_cpu;
  if (o.gossip_compare) {
    // Catching up by gossip from genesis: every event of history verified, inserted and run through
    // consensus (in batches of a sync's size), as a node without fast-forward would.
    std::fprintf(stderr, "fastsync: catching up by gossip from genesis (%zu events)\n", gg.events.size());
    InmemStore g_store;
    Hashgraph g(PeerSchedule(genesis), g_store);
    const Timer t;
    std::size_t k = 0;
    for (const EventPtr& e : gg.events) {
      g.insert(e);
      if (++k % cfg.sync_limit == 0) g.run_consensus();
    }
    g.run_consensus();
    gossip_wall = t.wall_s();
    gossip_cpu = t.cpu_s();
  }

  nlohmann::ordered_json j;
  j["benchmark"] = "fastsync";
  j["participants"] = o.participants;
  j["events"] = o.events;
  j["history_rounds"] = server.last_round();
  j["anchor_block"] = anchor.index();
  j["frame_events"] = frame.events.size();
  std::size_t root_events = 0;
  for (const Root& r : frame.roots) root_events += r.events.size();
  j["root_events"] = root_events;
  j["snapshot_bytes"] = snapshot.size();
  j["chunk_bytes"] = chunk_size;
  j["chunked"] = chunked;
  j["chunks"] = chunked ? manifest.chunk_count() : 0;
  j["chunks_in_flight"] = o.in_flight;
  j["chunk_sources"] = chunks_by_peer.size();
  const std::size_t frame_bytes = encoded_size(frame), block_bytes = encoded_size(anchor);
  j["manifest_bytes"] = chunked ? encoded_size(manifest) : 0;
  j["frame_bytes"] = frame_bytes;
  j["block_bytes"] = block_bytes;
  const double payload = static_cast<double>(snapshot.size() + frame_bytes + block_bytes);
  j["bytes_received_to_babbling"] = received_to_babbling;
  j["bytes_ratio"] = rounded(static_cast<double>(received_to_babbling) / payload, 4);
  j["bytes_sent_to_babbling"] = sent;
  j["time_to_babbling_s"] = rounded(ff_wall, 4);
  j["time_to_babbling_cpu_s"] = rounded(ff_cpu, 4);
  j["tail_events"] = tail_events;
  j["tail_s"] = rounded(tail_wall, 4);
  j["tail_cpu_s"] = rounded(tail_cpu, 4);
  j["catch_up_s"] = rounded(ff_wall + tail_wall, 4);
  j["bytes_received_total"] = received;
  if (gossip_wall) {
    j["gossip_from_genesis_s"] = rounded(*gossip_wall, 3);
    j["gossip_from_genesis_cpu_s"] = rounded(*gossip_cpu, 3);
    j["gossip_over_fastforward"] = rounded(*gossip_wall / (ff_wall + tail_wall), 1);
  }
  return j;
}

}  // namespace

int fastsync_main(int argc, char** argv) {
  CLI::App cli("chatter-bench fastsync: catch-up cost by fast-forward (and by gossip from genesis)");
  Options o;
  cli.add_option("--participants", o.participants, "Creators in the history")->check(CLI::Range(2, 64));
  cli.add_option("--events", o.events, "Events of history")->check(CLI::Range(1000, 5'000'000));
  cli.add_option("--snapshot-mb", o.snapshot_mb, "Application snapshot size in MB")
      ->check(CLI::Range(0.0, 200.0));
  cli.add_option("--seed", o.seed, "Seed of the gossip graph");
  cli.add_option("--chunk-kib", o.chunk_kib, "Snapshot chunk size in KiB (the network parameter)")
      ->check(CLI::Range(1, 16 * 1024));
  cli.add_option("--in-flight", o.in_flight, "Chunk requests outstanding at once")->check(CLI::Range(1, 256));
  cli.add_flag("--gossip-compare", o.gossip_compare, "Also time catching up by gossip from genesis");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 2;
  }
  try {
    std::printf("%s\n", run(o).dump(2).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chatter-bench fastsync: %s\n", e.what());
    return 1;
  }
}

}  // namespace chatter::bench
