// The HTTP service's API (spec/cli.md, "HTTP service"), without any sockets: which request a target
// names (parse_request, on the service's thread, so that bad input never reaches the node) and the
// JSON body that answers it (answer, on the node's thread, where Node and Store may be read).
// net/http_service.h carries these over HTTP/1.1.
//
// Endpoints (every body is JSON; errors are {"error": "one sentence"}):
//  GET /stats            NodeStats: id, moniker, state (Babbling, CatchingUp, Joining, Leaving,
//                        Suspended, Shutdown), last_consensus_round, last_block_index, anchor_block
//                        (null while absent: nothing processed or committed yet), consensus_events,
//                        undetermined_events, events, transactions (committed), transaction_pool,
//                        num_peers, sync_requests, sync_errors, events_created, refused_events,
//                        app_errors, state_hash (hex; null before the first commit), app_reachable
//                        (from the host's extra-stats hook; null when the host does not say);
//                        fast-forward: catch_up_status (what CatchingUp is doing, human text),
//                        catch_up_bytes, catch_up_target_block, catch_up_chunks_done/_total,
//                        catch_up_snapshot_bytes_done/_total (a chunked transfer), snapshot_anchor,
//                        fast_forwards, fast_forward_block,
//                        fast_forward_refusals, last_fast_forward_error ("peer N: reason"),
//                        fast_forwards_served; restart: bootstrapped, recommitted_blocks,
//                        app_nondeterminism, last_app_error; plus whatever else the hook adds.
//  GET /block/N          one block (block_json below); 404 when the store has no block N.
//  GET /blocks/N?count=K blocks N, N+1, ... up to K of them (default and maximum 50: a larger K is
//                        clamped, as "up to K" reads), fewer at the end; [] when N is past the last
//                        block (a poller asking "anything from N on?"). K must be at least 1.
//  GET /peers            the validators at the newest round of the graph (round 0 when empty):
//                        [{"NetAddr", "PubKeyHex", "Moniker"}] as in peers.json.
//  GET /genesispeers     the validators at round 0.
//  GET /validators[/R]   the validators at round R (default: the last consensus round, 0 before
//                        any), i.e. PS(R) of the peer-set schedule.
//  GET /history          the schedule: {"ROUND": [peers...]} for each round a set takes effect.
//  GET /graph?limit=L    the last L events inserted (default 500, clamped to 2000) in insertion
//                        (topological) order, each {hash, creator, creator_id, index, self_parent,
//                        other_parent, round, lamport, witness, famous (null while undecided or
//                        not a witness), round_received (null while undetermined), transactions
//                        (count), timestamp}; plus creators [{id, PubKeyHex, Moniker}],
//                        last_round, last_consensus_round, event_count. Fields the graph does not
//                        know for an event (it may be only in the store) are null.
//                        Each event also has block: the index of the block that committed it
//                        (null while uncommitted or not among the node's recent blocks).
//  GET /metrics          the counters in the Prometheus text format (net/metrics.h), not JSON.
//  GET /                 the page that draws the graph live (net/page_assets.h), text/html.
//  GET /api              {"endpoints": [...]}: this list.
// Numbers in paths and queries are decimal without sign; anything else is 400. Unknown paths are
// 404. Hashes and signatures are lower-case hex; public keys are PubKeyHex ("0X" + upper hex).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "engine/block.h"
#include "engine/node.h"
#include "engine/store.h"
#include "net/metrics.h"

namespace chatter {

inline constexpr std::string_view kJsonContentType = "application/json";

// What to answer with: status code, body and its Content-Type (JSON unless said otherwise).
struct HttpAnswer {
  unsigned status = 200;
  std::string body;
  std::string content_type = std::string(kJsonContentType);
};

// A well-formed request for node data.
struct ApiQuery {
  enum class Kind { kStats, kBlock, kBlocks, kPeers, kGenesisPeers, kValidators, kHistory, kGraph, kMetrics };
  Kind kind = Kind::kStats;
  std::uint64_t number = 0;  // block index (kBlock, kBlocks) or round (kValidators)
  bool has_number = false;   // kValidators: R given
  std::size_t count = 0;     // kBlocks: blocks wanted (1..kMaxBlocks); kGraph: events
};

inline constexpr std::size_t kMaxBlocks = 50;
inline constexpr std::size_t kDefaultGraphEvents = 500;
inline constexpr std::size_t kMaxGraphEvents = 2000;

// Adds host fields to /stats (app_reachable, transport counters); runs on the node's thread.
using ExtraStatsFn = std::function<void(nlohmann::ordered_json& stats)>;

// Parses a request target ("/blocks/3?count=10"). A query, or the error answer (400, 404) to send
// without asking the node.
std::variant<ApiQuery, HttpAnswer> parse_request(std::string_view target);

// Answers a query from the node and its store. Bounded work (at most kMaxBlocks blocks or
// kMaxGraphEvents events). Never throws: an internal failure becomes a 500 answer. `extra_metrics`
// adds the host's families to /metrics.
HttpAnswer answer(const ApiQuery& q, const Node& node, const Store& store, const ExtraStatsFn& extra,
                  const ExtraMetricsFn& extra_metrics = {});

// {"error": text} with the given status.
HttpAnswer error_answer(unsigned status, const std::string& text);

// The JSON of one block: index, round_received, timestamp, state_hash, frame_hash, peers_hash,
// prev_block_hash, hash, transactions (base64), internal_transactions [{type (PEER_ADD,
// PEER_REMOVE), peer, signature}], receipts [{transaction, accepted}], signatures {PubKeyHex:
// signature hex}.
nlohmann::ordered_json block_json(const Block& b);
nlohmann::ordered_json stats_json(const NodeStats& s);

}  // namespace chatter
