// FastSync, chunked snapshot transfer (issue 6; engine/node.h "Snapshot transfer",
// engine/snapshot.h): a snapshot larger than the network's chunk size travels as a manifest plus
// chunks fetched from several peers, verified one by one, resumable after a crash, retargeted when
// the network moves on; forged answers and chunks are refused and the app never restores them.
#include <doctest/doctest.h>

#include <string>

#include "engine/crypto.h"
#include "engine/messages.h"
#include "sim/simulator.h"

using namespace chatter;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

// 5 validators, the last one late; a ~2 MB snapshot in 64 KiB chunks (33 chunks).
SimOptions chunked_options(std::uint64_t seed, std::int64_t late_start_ns = 6 * kSecond) {
  SimOptions o;
  o.nodes = 5;
  o.late_nodes = 1;
  o.seed = seed;
  o.duration_ns = 20 * kSecond;
  o.late_start_ns = late_start_ns;
  o.snapshot_padding = 2'000'000;
  o.snapshot_chunk_size = 64 * 1024;
  return o;
}

std::string describe(const SimResult& r) {
  std::string s = r.failure + "\n" + r.diagnostics;
  for (const auto& n : r.nodes)
    s += "blocks=" + std::to_string(n.blocks) + " ff=" + std::to_string(n.fast_forwards) +
         " refusals=" + std::to_string(n.fast_forward_refusals) +
         " ff_block=" + (n.fast_forward_block ? std::to_string(*n.fast_forward_block) : "none") +
         " chunks fetched=" + std::to_string(n.chunks_fetched) +
         " reused=" + std::to_string(n.chunks_reused) + " total=" + std::to_string(n.chunks_total) +
         " sources=" + std::to_string(n.chunk_sources) + " retargets=" + std::to_string(n.retargets) +
         " served=" + std::to_string(n.chunks_served) + " restores=" + std::to_string(n.app_restores) +
         " error=\"" + n.last_fast_forward_error + "\" status=\"" + n.catch_up_status + "\"\n";
  return s;
}

// The late node's blocks from its fast-forward on equal the first node's; so does its state hash.
void check_late_node_agrees(const SimResult& r) {
  const SimNodeSummary& late = r.nodes.back();
  const SimNodeSummary& ref = r.nodes.front();
  REQUIRE(late.fast_forward_block.has_value());
  const std::uint64_t first = *late.fast_forward_block;
  CHECK(first > 0);
  REQUIRE(late.block_hashes.size() == late.blocks - first);
  REQUIRE(late.blocks > first + 1);  // it committed blocks of its own after the fast-forward
  for (std::uint64_t i = first; i < late.blocks && i < ref.blocks; ++i) {
    CAPTURE(i);
    CHECK(late.block_hashes[i - first] == ref.block_hashes[i]);
  }
  if (late.blocks == ref.blocks) CHECK(late.state_hash == ref.state_hash);
}

}  // namespace

TEST_CASE("snapshot manifest: canonical encoding, golden bytes, round trip, snapshot_hash rule") {
  SnapshotManifest m;
  m.total_size = 0x0102;
  m.chunk_size = 0x100;
  m.chunk_hashes = {blake2b(to_bytes("a")), blake2b(to_bytes("b"))};
  Writer w;
  m.encode(w);
  // u64 total, u32 chunk size, u32 count, then the hashes.
  CHECK(to_hex(Bytes(w.data().begin(), w.data().begin() + 16)) ==
        "0201000000000000"
        "00010000"
        "02000000");
  CHECK(w.data().size() == 16 + 64);
  Reader r(w.data());
  CHECK(SnapshotManifest::decode(r) == m);
  CHECK(r.done());
  CHECK(m.hash() == blake2b(w.data()));
  CHECK(m.check(0x100, 1 << 20).empty());
  CHECK(m.chunk_length(0) == 0x100);
  CHECK(m.chunk_length(1) == 2);

  // The rule: inline (<= chunk size) hashes the bytes, larger hashes the manifest.
  const Bytes small(100, 7), large(1000, 9);
  CHECK(snapshot_commitment(small, 100) == blake2b(small));
  const SnapshotManifest lm = make_manifest(large, 300);
  CHECK(lm.chunk_count() == 4);
  CHECK(lm.chunk_length(3) == 100);
  CHECK(lm.chunk_hashes[3] == blake2b(Bytes(100, 9)));
  CHECK(snapshot_commitment(large, 300) == lm.hash());
  CHECK(snapshot_commitment(large, 300) != blake2b(large));
}

TEST_CASE("snapshot manifest: the decoder and the checks refuse malformed manifests") {
  SnapshotManifest m = make_manifest(Bytes(1000, 1), 300);
  Writer w;
  m.encode(w);
  const Bytes good = w.take();
  // Truncated anywhere: refused.
  for (std::size_t n = 0; n < good.size(); ++n) {
    Reader r(good.data(), n);
    CHECK_THROWS_AS(SnapshotManifest::decode(r), DecodeError);
  }
  // A hostile count (more hashes than bytes remain) is refused before anything is reserved.
  Bytes hostile = good;
  hostile[12] = 0xff;
  hostile[13] = 0xff;
  hostile[14] = 0xff;
  hostile[15] = 0x7f;
  Reader rh(hostile);
  CHECK_THROWS_AS(SnapshotManifest::decode(rh), DecodeError);
  // Zero chunk size.
  Bytes zero = good;
  for (int i = 8; i < 12; ++i) zero[static_cast<std::size_t>(i)] = 0;
  Reader rz(zero);
  CHECK_THROWS_AS(SnapshotManifest::decode(rz), DecodeError);
  // Well-formed but inconsistent: each refused with its reason.
  CHECK(m.check(301, 1 << 20).find("chunk size") != std::string::npos);
  CHECK(m.check(300, 999).find("exceeds") != std::string::npos);
  SnapshotManifest few = m;
  few.chunk_hashes.pop_back();
  CHECK(few.check(300, 1 << 20).find("chunks") != std::string::npos);
  SnapshotManifest tiny = m;
  tiny.total_size = 300;
  tiny.chunk_hashes.resize(1);
  CHECK(tiny.check(300, 1 << 20).find("inline") != std::string::npos);
}

TEST_CASE("chunk messages: round trip, golden bytes, unknown status and manifest form refused") {
  SnapshotChunkRequest q{1, 7, blake2b(to_bytes("s")), 3};
  Writer wq;
  encode_payload(q, wq);
  auto q2 = std::get<SnapshotChunkRequest>(decode_payload(9, wq.data().data(), wq.data().size()));
  CHECK(q2.block_index == 7);
  CHECK(q2.snapshot_hash == q.snapshot_hash);
  CHECK(q2.chunk_index == 3);
  SnapshotChunkResponse a{2, 7, Hash{}, 3, ChunkStatus::kOk, to_bytes("xy")};
  Writer wa;
  encode_payload(a, wa);
  // u32 from, u64 block, 32-byte hash, u64 chunk, u8 status, bytes.
  CHECK(to_hex(wa.data()) ==
        "02000000"
        "0700000000000000" +
            std::string(64, '0') +
            "0300000000000000"
            "00"
            "02000000"
            "7879");
  auto a2 = std::get<SnapshotChunkResponse>(decode_payload(10, wa.data().data(), wa.data().size()));
  CHECK(a2.status == ChunkStatus::kOk);
  CHECK(a2.bytes == a.bytes);
  Bytes bad = wa.data();
  bad[4 + 8 + 32 + 8] = 3;  // unknown status
  CHECK_THROWS_AS(decode_payload(10, bad.data(), bad.size()), DecodeError);
  SnapshotChunkResponse busy{2, 7, Hash{}, 3, ChunkStatus::kBusy, {}};
  Writer wb;
  encode_payload(busy, wb);
  CHECK(wb.data().size() == 4 + 8 + 32 + 8 + 1);  // no bytes unless kOk

  FastForwardResponse ff;
  ff.from_id = 3;
  ff.ok = true;
  ff.frame.peers = PeerSet({Peer{KeyPair::from_name("s").public_key(), "a:1", "s"}});
  ff.frame.schedule = PeerSchedule(ff.frame.peers);
  ff.manifest = make_manifest(Bytes(1000, 1), 300);
  Writer wf;
  encode_payload(ff, wf);
  auto ff2 = std::get<FastForwardResponse>(decode_payload(8, wf.data().data(), wf.data().size()));
  REQUIRE(ff2.manifest.has_value());
  CHECK(*ff2.manifest == *ff.manifest);
  CHECK(ff2.snapshot.empty());
  PositionResponse p{8, 42, 99, blake2b(to_bytes("m"))};
  Writer wp;
  encode_payload(p, wp);
  CHECK(std::get<PositionResponse>(decode_payload(6, wp.data().data(), wp.data().size())).snapshot_hash ==
        p.snapshot_hash);
}

TEST_CASE(
    "chunked FastSync (sim): a multi-chunk snapshot is fetched from several peers; later blocks and state "
    "equal") {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    CAPTURE(seed);
    const SimResult r = run_simulation(chunked_options(seed));
    INFO(describe(r));
    REQUIRE(r.safety_ok);
    REQUIRE(r.liveness_ok);
    const SimNodeSummary& late = r.nodes.back();
    CHECK(late.fast_forwards == 1);
    CHECK(late.fast_forward_refusals == 0);
    CHECK(late.chunks_total > 1);
    CHECK(late.chunks_fetched + late.chunks_reused >= late.chunks_total);
    CHECK(late.chunk_sources >= 2);  // spread over more than one peer
    CHECK(late.app_restores == 1);
    std::uint64_t served = 0, serving_peers = 0;
    for (const auto& n : r.nodes) {
      served += n.chunks_served;
      serving_peers += n.chunks_served > 0 ? 1 : 0;
    }
    CHECK(served >= late.chunks_total);
    CHECK(serving_peers >= 2);
    check_late_node_agrees(r);
  }
}

TEST_CASE("chunked FastSync (sim): a crash during the chunk transfer resumes from the stored chunks") {
  SimOptions o = chunked_options(7);
  o.serve_chunk_rate = 2;  // 4 peers x 2 chunks/s: the transfer takes seconds
  o.chunks_in_flight = 4;
  o.late_crash_ns = o.late_start_ns + 2 * kSecond;
  o.crash_downtime_ns = kSecond;
  o.retarget_after_blocks = 1000;  // this test is about resuming, not retargeting
  o.duration_ns = 40 * kSecond;
  const SimResult r = run_simulation(o);
  INFO(describe(r));
  REQUIRE(r.safety_ok);
  REQUIRE(r.liveness_ok);
  const SimNodeSummary& late = r.nodes.back();
  CHECK(late.crashes == 1);
  CHECK(late.fast_forwards == 1);
  REQUIRE(late.chunks_total > 1);
  CHECK(late.chunks_reused > 0);                   // found in the store after the restart
  CHECK(late.chunks_fetched < late.chunks_total);  // only the missing ones fetched again
  CHECK(late.app_restores == 1);
  check_late_node_agrees(r);
}

TEST_CASE(
    "chunked FastSync (sim): the network moving on during the transfer makes the node retarget to a newer "
    "anchor") {
  SimOptions o = chunked_options(9);
  o.serve_chunk_rate = 1;
  o.chunks_in_flight = 4;
  o.snapshot_interval = 2;
  o.retarget_after_blocks = 4;
  o.duration_ns = 40 * kSecond;
  const SimResult r = run_simulation(o);
  INFO(describe(r));
  REQUIRE(r.safety_ok);
  REQUIRE(r.liveness_ok);
  const SimNodeSummary& late = r.nodes.back();
  CHECK(late.retargets >= 1);
  CHECK(late.fast_forwards == 1);
  REQUIRE(late.first_target_block.has_value());
  REQUIRE(late.fast_forward_block.has_value());
  CHECK(*late.fast_forward_block > *late.first_target_block);  // a newer anchor, not the first
  CHECK(late.chunks_reused > 0);  // the chunks equal to the first target's were not fetched again
  check_late_node_agrees(r);
}

TEST_CASE(
    "chunked FastSync (sim): forged answers and chunks are refused with their reason, the app never restores "
    "them, an honest peer then serves") {
  // 7 an older block, 8 a truncated chunk, 9 a bad chunk.
  struct Case {
    int kind;
    const char* reason;
  };
  for (const Case c : {Case{7, "older than the anchor"}, Case{8, "bytes, the manifest says"},
                       Case{9, "does not hash to the manifest"}}) {
    CAPTURE(c.kind);
    SimOptions o = chunked_options(60 + static_cast<std::uint64_t>(c.kind));
    o.lying_fastforward = true;
    o.lying_kind = c.kind;
    const SimResult r = run_simulation(o);
    INFO(describe(r));
    REQUIRE(r.safety_ok);
    REQUIRE(r.liveness_ok);
    CHECK(r.forged_answers + r.forged_chunks >= 1);
    const SimNodeSummary& late = r.nodes.back();
    CHECK(late.fast_forward_refusals >= 1);
    CHECK(late.last_fast_forward_error.rfind("peer ", 0) == 0);
    CHECK(late.last_fast_forward_error.find(c.reason) != std::string::npos);
    CHECK(late.fast_forwards == 1);
    CHECK(late.app_restores == 1);  // only the verified snapshot reached the application
    if (c.kind != 7) {
      CHECK(late.bad_chunks == 1);                         // refused once...
      CHECK(r.chunk_requests_to_liar_after_forgery == 0);  // ...and never asked again
    }
    check_late_node_agrees(r);
  }
  // The earlier kinds (inline and manifest alike) still refused with a multi-chunk snapshot.
  for (int kind : {0, 2, 3}) {
    CAPTURE(kind);
    SimOptions o = chunked_options(70 + static_cast<std::uint64_t>(kind));
    o.lying_fastforward = true;
    o.lying_kind = kind;
    const SimResult r = run_simulation(o);
    INFO(describe(r));
    REQUIRE(r.safety_ok);
    const SimNodeSummary& late = r.nodes.back();
    CHECK(late.fast_forward_refusals >= 1);
    CHECK(late.fast_forwards == 1);
    CHECK(late.app_restores == 1);
  }
}

TEST_CASE(
    "chunked FastSync (sim): when every peer refuses to serve chunks the node falls back to gossip and says "
    "why") {
  SimOptions o = chunked_options(81);
  o.serve_chunk_rate = 0;  // nobody serves chunks
  const SimResult r = run_simulation(o);
  INFO(describe(r));
  REQUIRE(r.safety_ok);
  REQUIRE(r.liveness_ok);
  const SimNodeSummary& late = r.nodes.back();
  CHECK(late.fast_forwards == 0);
  CHECK(late.app_restores == 0);
  CHECK(late.retargets >= 1);
  CHECK(late.catch_up_status.find("catching up by gossip") != std::string::npos);
  CHECK(late.blocks == r.nodes.front().blocks);  // gossip caught it up
}
