// The HTTP service of a node (spec/cli.md, "HTTP service"): a read-only HTTP/1.1 server of the JSON
// API in net/http_json.h. Boost.Beast stays in http_service.cpp (pimpl).
//
// It never blocks or stalls consensus: the service runs on its own io_context and thread (owned
// here). For node data it hands a small closure to the `query` hook, which must run it on the node's
// thread (cmd_run does it with Runtime::post); the closure builds the JSON body there (bounded
// work) and posts the string back to the service's thread. When the node does not answer within
// `query_timeout` the client gets 503 {"error": ...}. At most `max_pending_queries` closures wait
// for the node at once; beyond that requests get 503 at once (a stalled node is not buried).
//
// HTTP: GET and HEAD (same headers, no body) for the endpoints; OPTIONS answers 204 with the CORS
// preflight headers; any other method is 405 with `Allow`. Every reply carries
// `Content-Type: application/json` (except 204, /metrics: the Prometheus text format, and the page at
// /: text/html) and `Access-Control-Allow-Origin: *`. Keep-alive
// is supported (HTTP/1.1 default; `Connection: close` honoured). Requests are one at a time per
// connection (pipelined requests wait their turn).
//
// Robustness (DESIGN.md, Error policy 1): each request must arrive whole within `io_timeout` of
// the previous reply (or of the accept), and a reply must be written within `io_timeout`, otherwise
// the connection is closed (idle keep-alive connections included); request headers above
// `max_header_bytes` get 431 and a request with a body gets 413 (405 when the method is not
// GET, HEAD or OPTIONS): bodies are never read; the connection then closes;
// malformed HTTP gets 400 and the connection closes; beyond `max_connections` open connections a
// new one is closed at once. Nothing a client sends can crash the node or the service.
//
// Lifetime: the query hook and the extra-stats hook are called until stop() returns (or the
// destructor). Closures handed to the node may run after that: they then do nothing but drop
// their result, so the service may be destroyed while some are queued on the node's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "net/http_json.h"

namespace chatter {

struct HttpServiceStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_refused = 0;  // over max_connections
  std::uint64_t requests = 0;             // requests parsed (any status)
  std::uint64_t timeouts = 0;             // connections closed by io_timeout
  std::uint64_t bad_requests = 0;         // malformed, oversized, with a body
  std::uint64_t node_timeouts = 0;        // 503 because the node did not answer in time
};

class HttpService {
 public:
  // Runs `work` on the node's thread with the node and its store; from the service's thread.
  using NodeWork = std::function<void(const Node&, const Store&)>;
  using QueryFn = std::function<void(NodeWork work)>;

  struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8000;  // 0: any free port (see port())
    std::chrono::milliseconds io_timeout{10000};
    std::chrono::milliseconds query_timeout{5000};
    std::size_t max_connections = 256;
    std::size_t max_header_bytes = 8 * 1024;
    std::size_t max_pending_queries = 1024;
    ExtraStatsFn extra_stats;      // on the node's thread, for /stats
    ExtraMetricsFn extra_metrics;  // on the node's thread, for /metrics
    // One-line log messages (bind failure details, internal errors). Default: none.
    std::function<void(const std::string&)> log;
  };

  // Binds the listening socket now: throws std::runtime_error with one clear sentence when the
  // address does not resolve or the port is taken. Serves nothing before start().
  HttpService(QueryFn query, Options options);
  // stop(), then joins the service thread.
  ~HttpService();
  HttpService(const HttpService&) = delete;
  HttpService& operator=(const HttpService&) = delete;

  // Starts accepting on the service's own thread. Idempotent; no effect after stop().
  void start();
  // Closes the listener and every connection and joins the service thread. Call from any thread
  // but the service's own. Idempotent.
  void stop();

  std::uint16_t port() const;      // the bound port
  std::string host() const;        // as given in Options
  HttpServiceStats stats() const;  // any thread

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace chatter
