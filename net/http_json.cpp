// The HTTP API (net/http_json.h): target parsing on the service's thread, JSON bodies on the node's.
#include "net/http_json.h"

#include <algorithm>
#include <charconv>
#include <exception>
#include <nlohmann/json.hpp>
#include <vector>

#include "app_proxy/submit_server.h"  // base64_encode
#include "net/page_assets.h"

namespace chatter {

namespace {

using Json = nlohmann::ordered_json;

// dump() must not throw on a moniker or address that is not UTF-8 (they come from files and peers).
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

template <typename T>
Json opt(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Json peer_json(const Peer& p) {
  return Json{{"NetAddr", p.net_addr}, {"PubKeyHex", p.pub_key_hex()}, {"Moniker", p.moniker}};
}

Json peers_json(const PeerSet& set) {
  Json out = Json::array();
  for (const Peer& p : set.peers()) out.push_back(peer_json(p));
  return out;
}

Json internal_tx_json(const InternalTransaction& t) {
  return Json{{"type", t.type == InternalTransactionType::kPeerAdd ? "PEER_ADD" : "PEER_REMOVE"},
              {"peer", peer_json(t.peer)},
              {"signature", to_hex(t.signature)}};
}

// Decimal digits only (no sign, no spaces), at most what fits in u64. nullopt otherwise.
std::optional<std::uint64_t> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9') return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// The value of `name` in a query string "a=1&b=2" (the last one wins; nullopt when absent).
std::optional<std::string_view> query_param(std::string_view query, std::string_view name) {
  std::optional<std::string_view> found;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      found = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return found;
}

HttpAnswer bad_number(std::string_view what, std::string_view text) {
  return error_answer(400, std::string(what) + " must be a decimal number without sign (got '" +
                               std::string(text.substr(0, 40)) + "')");
}

Json graph_json(const Node& node, const Store& store, std::size_t limit) {
  const Hashgraph& g = node.graph();
  const PeerSchedule& schedule = g.schedule();
  const std::uint64_t total = store.event_count();
  const std::uint64_t from = total > limit ? total - limit : 0;
  Json events = Json::array();
  for (const EventPtr& e : store.events_from(from, limit)) {
    if (!e) continue;
    const auto info = g.info(e->hash());
    const EventBody& b = e->body();
    Json j{{"hash", to_hex(e->hash())},
           {"creator", pubkey_hex(b.creator)},
           {"creator_id", peer_id_of(b.creator)},
           {"index", b.index},
           {"self_parent", b.self_parent ? Json(to_hex(*b.self_parent)) : Json(nullptr)},
           {"other_parent", b.other_parent ? Json(to_hex(*b.other_parent)) : Json(nullptr)},
           {"round", info ? Json(info->round) : Json(nullptr)},
           {"lamport", info ? Json(info->lamport) : Json(nullptr)},
           {"witness", info ? Json(info->witness) : Json(nullptr)},
           {"famous", info ? opt(info->famous) : Json(nullptr)},
           {"round_received", info ? opt(info->round_received) : Json(nullptr)},
           {"transactions", b.transactions.size()},
           {"timestamp", b.timestamp},
           {"block", Json(nullptr)}};
    if (info && info->round_received)
      if (const auto block = node.block_of_round(*info->round_received)) j["block"] = *block;
    events.push_back(std::move(j));
  }
  Json creators = Json::array();
  for (const PublicKey& k : g.known_creators()) {
    std::string moniker;
    for (const auto& [round, set] : schedule.entries())
      for (const Peer& p : set.peers())
        if (p.pub_key == k) moniker = p.moniker;  // the latest name wins
    creators.push_back(Json{{"id", peer_id_of(k)}, {"PubKeyHex", pubkey_hex(k)}, {"Moniker", moniker}});
  }
  return Json{{"last_round", g.last_round()},
              {"last_consensus_round", opt(g.last_consensus_round())},
              {"event_count", total},
              {"creators", std::move(creators)},
              {"events", std::move(events)}};
}

HttpAnswer answer_unchecked(const ApiQuery& q, const Node& node, const Store& store, const ExtraStatsFn& extra,
                            const ExtraMetricsFn& extra_metrics) {
  using Kind = ApiQuery::Kind;
  switch (q.kind) {
    case Kind::kStats: {
      Json j = stats_json(node.stats());
      j["app_reachable"] = nullptr;  // unknown unless the host says
      if (extra) extra(j);
      return HttpAnswer{200, dump(j)};
    }
    case Kind::kBlock: {
      const auto b = store.get_block(q.number);
      if (!b) {
        const auto last = store.last_block_index();
        return error_answer(404, "no block " + std::to_string(q.number) + " (last block: " +
                                     (last ? std::to_string(*last) : std::string("none yet")) + ")");
      }
      return HttpAnswer{200, dump(block_json(*b))};
    }
    case Kind::kBlocks: {
      Json out = Json::array();
      const auto last = store.last_block_index();
      for (std::uint64_t i = q.number; last && i <= *last && out.size() < q.count; ++i) {
        const auto b = store.get_block(i);
        if (!b) break;
        out.push_back(block_json(*b));
        if (i == UINT64_MAX) break;
      }
      return HttpAnswer{200, dump(out)};
    }
    case Kind::kPeers: {
      const Hashgraph& g = node.graph();
      return HttpAnswer{200, dump(peers_json(g.schedule().at(std::max<std::int64_t>(0, g.last_round()))))};
    }
    case Kind::kGenesisPeers:
      return HttpAnswer{200, dump(peers_json(node.graph().schedule().at(0)))};
    case Kind::kValidators: {
      const Hashgraph& g = node.graph();
      std::int64_t round = g.last_consensus_round().value_or(0);
      if (q.has_number) round = static_cast<std::int64_t>(q.number);  // <= INT64_MAX (parse_request)
      return HttpAnswer{200, dump(peers_json(g.schedule().at(round)))};
    }
    case Kind::kHistory: {
      Json out = Json::object();
      for (const auto& [round, set] : node.graph().schedule().entries())
        out[std::to_string(round)] = peers_json(set);
      return HttpAnswer{200, dump(out)};
    }
    case Kind::kGraph:
      return HttpAnswer{200, dump(graph_json(node, store, q.count))};
    case Kind::kMetrics: {
      MetricsWriter w;
      write_node_metrics(w, node.stats());
      if (extra_metrics) extra_metrics(w);
      return HttpAnswer{200, w.text(), std::string(kMetricsContentType)};
    }
  }
  return error_answer(500, "unknown query");
}

}  // namespace

HttpAnswer error_answer(unsigned status, const std::string& text) {
  return HttpAnswer{status, dump(Json{{"error", text}})};
}

Json stats_json(const NodeStats& s) {
  return Json{{"id", s.id},
              {"moniker", s.moniker},
              {"state", to_string(s.state)},
              {"last_consensus_round", opt(s.last_consensus_round)},
              {"last_block_index", opt(s.last_block_index)},
              {"anchor_block", opt(s.anchor_block)},
              {"consensus_events", s.consensus_events},
              {"undetermined_events", s.undetermined_events},
              {"events", s.events},
              {"transactions", s.transactions},
              {"transaction_pool", s.transaction_pool},
              {"num_peers", s.num_peers},
              {"sync_requests", s.sync_requests},
              {"sync_errors", s.sync_errors},
              {"events_created", s.events_created},
              {"refused_events", s.refused_events},
              // Events at the graph's base (docs/protocol.md, "Events at the graph's base").
              {"events_below_frame", s.events_below_frame},
              {"parent_below_frame", s.parent_below_frame},
              {"graph_deepened", s.graph_deepened},
              {"below_frame_resyncs", s.below_frame_resyncs},
              {"app_errors", s.app_errors},
              {"state_hash", s.state_hash.empty() ? Json(nullptr) : Json(to_hex(s.state_hash))},
              // Fast-forward (CatchingUp): what it is doing, what it did, what it refused and why.
              {"catch_up_status", s.catch_up_status},
              {"catch_up_bytes", s.catch_up_bytes},
              {"catch_up_target_block", opt(s.catch_up_target_block)},
              {"catch_up_chunks_done", s.catch_up_chunks_done},
              {"catch_up_chunks_total", s.catch_up_chunks_total},
              {"catch_up_snapshot_bytes_done", s.catch_up_snapshot_bytes_done},
              {"catch_up_snapshot_bytes_total", s.catch_up_snapshot_bytes_total},
              {"snapshot_anchor", opt(s.snapshot_anchor)},
              {"fast_forwards", s.fast_forwards},
              {"fast_forward_block", opt(s.fast_forward_block)},
              {"fast_forward_refusals", s.fast_forward_refusals},
              {"last_fast_forward_error", s.last_fast_forward_error},
              {"fast_forwards_served", s.fast_forwards_served},
              // Restart from the store.
              {"bootstrapped", s.bootstrapped},
              {"recommitted_blocks", s.recommitted_blocks},
              {"bootstrap_replayed_rounds", s.bootstrap_replayed_rounds},
              {"bootstrap_warning", s.bootstrap_warning},
              {"app_nondeterminism", s.app_nondeterminism},
              {"last_app_error", s.last_app_error},
              // Membership (Joining, Leaving, Suspended).
              {"membership_status", s.membership_status},
              {"join_accepted_round", opt(s.join_accepted_round)},
              {"join_requests_sent", s.join_requests_sent},
              {"join_latency_s", opt(s.join_latency_s())},
              {"peer_set_changes", s.peer_set_changes},
              {"suspended_by_limit", s.suspended_by_limit}};
}

Json block_json(const Block& b) {
  const BlockBody& body = b.body();
  Json txs = Json::array();
  for (const Bytes& t : body.transactions) txs.push_back(base64_encode(t));
  Json itxs = Json::array();
  for (const auto& t : body.internal_transactions) itxs.push_back(internal_tx_json(t));
  Json receipts = Json::array();
  for (const auto& r : body.internal_transaction_receipts)
    receipts.push_back(Json{{"transaction", internal_tx_json(r.transaction)}, {"accepted", r.accepted}});
  Json sigs = Json::object();
  for (const auto& [key, sig] : b.signatures()) sigs[pubkey_hex(key)] = to_hex(sig);
  return Json{{"index", body.index},
              {"round_received", body.round_received},
              {"timestamp", body.timestamp},
              {"state_hash", to_hex(body.state_hash)},
              {"snapshot_hash", body.snapshot_hash.is_zero() ? Json(nullptr) : Json(to_hex(body.snapshot_hash))},
              {"frame_hash", to_hex(body.frame_hash)},
              {"peers_hash", to_hex(body.peers_hash)},
              {"prev_block_hash", to_hex(body.prev_block_hash)},
              {"hash", to_hex(b.hash())},
              {"transactions", std::move(txs)},
              {"internal_transactions", std::move(itxs)},
              {"receipts", std::move(receipts)},
              {"signatures", std::move(sigs)}};
}

std::variant<ApiQuery, HttpAnswer> parse_request(std::string_view target) {
  using Kind = ApiQuery::Kind;
  const auto qmark = target.find('?');
  std::string_view path = target.substr(0, qmark);
  const std::string_view query =
      qmark == std::string_view::npos ? std::string_view() : target.substr(qmark + 1);
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);

  // "/name" or "/name/arg"
  if (path.empty() || path.front() != '/') return error_answer(400, "the request target must be a path");
  path.remove_prefix(1);
  const auto slash = path.find('/');
  const std::string_view name = path.substr(0, slash);
  const std::optional<std::string_view> arg = slash == std::string_view::npos
                                                  ? std::nullopt
                                                  : std::optional<std::string_view>(path.substr(slash + 1));
  auto unknown = [&] { return error_answer(404, "no such endpoint: " + std::string(target.substr(0, 200))); };

  ApiQuery q;
  if ((name.empty() || name == "index.html") && !arg)
    return HttpAnswer{200, std::string(graph_page_html()), std::string(kGraphPageContentType)};
  if (name == "api" && !arg) {
    return HttpAnswer{200, dump(Json{{"endpoints",
                                      {"/", "/stats", "/block/N", "/blocks/N?count=K", "/peers", "/genesispeers",
                                       "/validators/R", "/history", "/graph?limit=L", "/metrics"}}})};
  }
  if (name == "metrics" && !arg) {
    q.kind = Kind::kMetrics;
    return q;
  }
  if (name == "stats" || name == "peers" || name == "genesispeers" || name == "history" || name == "graph") {
    if (arg) return unknown();
    q.kind = name == "stats"          ? Kind::kStats
             : name == "peers"        ? Kind::kPeers
             : name == "genesispeers" ? Kind::kGenesisPeers
             : name == "history"      ? Kind::kHistory
                                      : Kind::kGraph;
    if (q.kind == Kind::kGraph) {
      q.count = kDefaultGraphEvents;
      if (const auto l = query_param(query, "limit")) {
        const auto n = parse_number(*l);
        if (!n || *n == 0) return bad_number("limit", *l);
        q.count = static_cast<std::size_t>(std::min<std::uint64_t>(*n, kMaxGraphEvents));
      }
    }
    return q;
  }
  if (name == "block" || name == "blocks") {
    if (!arg || arg->find('/') != std::string_view::npos) return unknown();
    const auto n = parse_number(*arg);
    if (!n) return bad_number("the block index", *arg);
    q.kind = name == "block" ? Kind::kBlock : Kind::kBlocks;
    q.number = *n;
    q.count = 1;
    if (q.kind == Kind::kBlocks) {
      q.count = kMaxBlocks;
      if (const auto c = query_param(query, "count")) {
        const auto k = parse_number(*c);
        if (!k || *k == 0) return bad_number("count (at least 1)", *c);
        q.count = static_cast<std::size_t>(std::min<std::uint64_t>(*k, kMaxBlocks));
      }
    }
    return q;
  }
  if (name == "validators") {
    q.kind = Kind::kValidators;
    if (arg) {
      if (arg->find('/') != std::string_view::npos) return unknown();
      const auto n = parse_number(*arg);
      if (!n || *n > static_cast<std::uint64_t>(INT64_MAX)) return bad_number("the round", *arg);
      q.number = *n;
      q.has_number = true;
    }
    return q;
  }
  return unknown();
}

HttpAnswer answer(const ApiQuery& q, const Node& node, const Store& store, const ExtraStatsFn& extra,
                  const ExtraMetricsFn& extra_metrics) {
  try {
    return answer_unchecked(q, node, store, extra, extra_metrics);
  } catch (const std::exception& e) {
    return error_answer(500, std::string("internal error: ") + e.what());
  } catch (...) {
    return error_answer(500, "internal error");
  }
}

}  // namespace chatter
