#include "engine/messages.h"

namespace chatter {
namespace {

void encode_known(const KnownIndexes& k, Writer& w) {
  w.u32(static_cast<std::uint32_t>(k.size()));
  for (const auto& [id, index] : k) {
    w.u32(id);
    w.u64(index);
  }
}

KnownIndexes decode_known(Reader& r) {
  const std::uint32_t n = r.count(12);
  KnownIndexes k;
  k.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t id = r.u32();
    const std::uint64_t index = r.u64();
    // Canonical: strictly ascending ids (also rules out duplicates).
    if (!k.empty() && id <= k.back().first) throw DecodeError("known indexes not in ascending id order");
    k.emplace_back(id, index);
  }
  return k;
}

void encode_events(const std::vector<WireEvent>& evs, Writer& w) { encode_seq(w, evs); }

std::vector<WireEvent> decode_events(Reader& r) {
  // A wire event is at least: 3 counts, 2 flags, creator id, index, timestamp, signature.
  return decode_seq<WireEvent>(r, 3 * 4 + 2 + 4 + 8 + 8 + 64);
}

}  // namespace

MessageType type_of(const Message& m) {
  return static_cast<MessageType>(m.index() + 1);
}

const char* to_string(MessageType t) {
  switch (t) {
    case MessageType::kSyncRequest: return "SyncRequest";
    case MessageType::kSyncResponse: return "SyncResponse";
    case MessageType::kEagerSyncRequest: return "EagerSyncRequest";
    case MessageType::kEagerSyncResponse: return "EagerSyncResponse";
    case MessageType::kPositionRequest: return "PositionRequest";
    case MessageType::kPositionResponse: return "PositionResponse";
    case MessageType::kFastForwardRequest: return "FastForwardRequest";
    case MessageType::kFastForwardResponse: return "FastForwardResponse";
    case MessageType::kSnapshotChunkRequest: return "SnapshotChunkRequest";
    case MessageType::kSnapshotChunkResponse: return "SnapshotChunkResponse";
    case MessageType::kJoinRequest: return "JoinRequest";
    case MessageType::kJoinResponse: return "JoinResponse";
  }
  return "unknown";
}

void encode_payload(const Message& m, Writer& w) {
  std::visit(
      [&w](const auto& msg) {
        using T = std::decay_t<decltype(msg)>;
        w.u32(msg.from_id);
        if constexpr (std::is_same_v<T, SyncRequest>) {
          encode_known(msg.known, w);
        } else if constexpr (std::is_same_v<T, SyncResponse>) {
          encode_events(msg.events, w);
          encode_known(msg.known, w);
          w.boolean(msg.more);
        } else if constexpr (std::is_same_v<T, EagerSyncRequest>) {
          encode_events(msg.events, w);
        } else if constexpr (std::is_same_v<T, EagerSyncResponse>) {
          w.boolean(msg.success);
        } else if constexpr (std::is_same_v<T, PositionRequest>) {
        } else if constexpr (std::is_same_v<T, PositionResponse>) {
          w.boolean(msg.anchor_index.has_value());
          if (msg.anchor_index) w.u64(*msg.anchor_index);
          w.i64(msg.last_consensus_round);
          w.fixed(msg.snapshot_hash);
        } else if constexpr (std::is_same_v<T, FastForwardRequest>) {
          w.u64(msg.min_index);
        } else if constexpr (std::is_same_v<T, FastForwardResponse>) {
          w.boolean(msg.ok);
          if (msg.ok) {
            msg.block.encode(w);
            msg.frame.encode(w);
            // u8 form: 0 inline snapshot bytes, 1 a manifest (the chunks travel separately).
            w.u8(msg.manifest ? 1 : 0);
            if (msg.manifest)
              msg.manifest->encode(w);
            else
              w.bytes(msg.snapshot);
            encode_seq(w, msg.peer_set_proof);
          }
        } else if constexpr (std::is_same_v<T, SnapshotChunkRequest>) {
          w.u64(msg.block_index);
          w.fixed(msg.snapshot_hash);
          w.u64(msg.chunk_index);
        } else if constexpr (std::is_same_v<T, JoinRequest>) {
          msg.tx.encode(w);
        } else if constexpr (std::is_same_v<T, JoinResponse>) {
          w.boolean(msg.accepted);
          w.i64(msg.accepted_round);
          msg.peers.encode(w);
          w.str(msg.reason);
        } else {
          static_assert(std::is_same_v<T, SnapshotChunkResponse>);
          w.u64(msg.block_index);
          w.fixed(msg.snapshot_hash);
          w.u64(msg.chunk_index);
          w.u8(static_cast<std::uint8_t>(msg.status));
          if (msg.status == ChunkStatus::kOk) w.bytes(msg.bytes);
        }
      },
      m);
}

Message decode_payload(MessageType type, Reader& r) {
  const std::uint32_t from = r.u32();
  switch (type) {
    case MessageType::kSyncRequest: {
      SyncRequest m{from, decode_known(r)};
      return m;
    }
    case MessageType::kSyncResponse: {
      SyncResponse m;
      m.from_id = from;
      m.events = decode_events(r);
      m.known = decode_known(r);
      m.more = r.boolean();
      return m;
    }
    case MessageType::kEagerSyncRequest: {
      EagerSyncRequest m{from, decode_events(r)};
      return m;
    }
    case MessageType::kEagerSyncResponse: {
      EagerSyncResponse m{from, r.boolean()};
      return m;
    }
    case MessageType::kPositionRequest: return PositionRequest{from};
    case MessageType::kPositionResponse: {
      PositionResponse m;
      m.from_id = from;
      if (r.boolean()) m.anchor_index = r.u64();
      m.last_consensus_round = r.i64();
      m.snapshot_hash = r.fixed<32>();
      return m;
    }
    case MessageType::kFastForwardRequest: {
      FastForwardRequest m{from, r.u64()};
      return m;
    }
    case MessageType::kFastForwardResponse: {
      FastForwardResponse m;
      m.from_id = from;
      m.ok = r.boolean();
      if (m.ok) {
        m.block = Block::decode(r);
        m.frame = Frame::decode(r);
        const std::uint8_t form = r.u8();
        if (form == 0)
          m.snapshot = r.bytes();
        else if (form == 1)
          m.manifest = SnapshotManifest::decode(r);
        else
          throw DecodeError("FastForwardResponse: unknown snapshot form");
        // A block is at least its body's fixed fields and three counts, and a signature count.
        m.peer_set_proof = decode_seq<Block>(r, 8 + 8 + 8 + 4 + 4 * 32 + 3 * 4 + 4);
        for (std::size_t i = 1; i < m.peer_set_proof.size(); ++i)
          if (m.peer_set_proof[i].index() <= m.peer_set_proof[i - 1].index())
            throw DecodeError("FastForwardResponse: peer-set proof blocks not in increasing index order");
      }
      return m;
    }
    case MessageType::kSnapshotChunkRequest: {
      SnapshotChunkRequest m;
      m.from_id = from;
      m.block_index = r.u64();
      m.snapshot_hash = r.fixed<32>();
      m.chunk_index = r.u64();
      return m;
    }
    case MessageType::kSnapshotChunkResponse: {
      SnapshotChunkResponse m;
      m.from_id = from;
      m.block_index = r.u64();
      m.snapshot_hash = r.fixed<32>();
      m.chunk_index = r.u64();
      const std::uint8_t st = r.u8();
      if (st > 2) throw DecodeError("SnapshotChunkResponse: unknown status");
      m.status = static_cast<ChunkStatus>(st);
      if (m.status == ChunkStatus::kOk) m.bytes = r.bytes();
      return m;
    }
    case MessageType::kJoinRequest: {
      JoinRequest m;
      m.from_id = from;
      m.tx = InternalTransaction::decode(r);
      return m;
    }
    case MessageType::kJoinResponse: {
      JoinResponse m;
      m.from_id = from;
      m.accepted = r.boolean();
      m.accepted_round = r.i64();
      m.peers = PeerSet::decode(r);
      m.reason = r.str();
      return m;
    }
  }
  throw DecodeError("unknown message type");
}

Message decode_payload(std::uint8_t type, const std::uint8_t* p, std::size_t n) {
  if (type < 1 || type > kLastMessageType) throw DecodeError("unknown message type " + std::to_string(type));
  Reader r(p, n);
  Message m = decode_payload(static_cast<MessageType>(type), r);
  r.expect_done();
  return m;
}

}  // namespace chatter
