// The embedding facade: run one chatter node inside an application's own process, with no Boost,
// Asio, LMDB or JSON header in sight. This header and the engine headers it includes are the public
// API that `meson install` puts under include/chatter/ (pkg-config: `chatter`).
//
//   chatter::EmbeddedNode::Options o;
//   o.node.key = ...;                       // this validator's key (or load_datadir())
//   o.node.genesis = chatter::PeerSet(peers);  // every validator, this one included
//   MyApp app;                              // implements chatter::AppProxy (engine/app_proxy.h)
//   chatter::EmbeddedNode node(std::move(o), app);
//   node.start();                           // gossip on a thread of its own
//   node.submit(chatter::Bytes{...});       // the app sees it again in commit_block, in consensus order
//   node.stop();
//
// Contract:
// - The node calls the AppProxy on its own thread (one thread, so the app needs no locking against
//   the engine; it needs its own lock only for readers on other threads). commit_block is called
//   once per block, in index order (engine/app_proxy.h).
// - Every public method is safe from any thread; submit, stats and the accessors also from inside
//   the AppProxy's handlers (start, stop and the destructor are not: they throw std::logic_error
//   or, for the destructor, must not run there).
// - The peers' addresses are the NetAddr of each genesis peer; this node listens on `listen` (default:
//   its own NetAddr). The transport is the one `chatter run` uses (net/runtime.h).
// - Environment failures (port in use, data directory locked or damaged) throw std::runtime_error
//   (StoreError is one) with one sentence, from the constructor or start(); bad options throw
//   std::invalid_argument.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/app_proxy.h"
#include "engine/node.h"
#include "engine/peer.h"
#include "net/runtime.h"

namespace chatter {

// What a data directory made by `chatter keygen` and `chatter testnet` holds (spec/cli.md,
// `chatter run`): DIR/priv_key, DIR/peers.json and optionally DIR/peers.genesis.json.
struct DataDir {
  KeyPair key;
  std::vector<Peer> peers;    // peers.json
  std::vector<Peer> genesis;  // peers.genesis.json when present, else peers.json
  // This node's entry in `genesis` (nullptr when its key is not in it).
  const Peer* self() const;
};

// Reads and checks a data directory with the same strict rules as `chatter run` (cmd/keyfile.h,
// cmd/peers_file.h). Throws std::runtime_error with one sentence naming the file on any problem.
DataDir load_datadir(const std::string& dir);

class EmbeddedNode {
 public:
  struct Options {
    // Key, genesis peer set (must contain the key), moniker and tuning (engine/node.h). An empty
    // moniker becomes this node's Moniker in the genesis set. seed 0 becomes a time-based seed.
    NodeConfig node;
    // host:port to listen on for gossip; empty: this node's NetAddr in node.genesis. Port 0 binds
    // any free port (listen_port() says which).
    std::string listen;
    // Empty: the graph is kept in memory. Otherwise a data directory: the graph persists to LMDB in
    // DIR/store (locked for this process; an existing store is moved aside unless node.bootstrap,
    // which resumes from it), as `chatter run --store [--bootstrap]` does.
    std::string store_datadir;
    std::size_t cache_size = 50000;  // events kept decoded in memory by the LMDB store
    // One-line log messages (transport errors, store decisions), called on the node's thread.
    std::function<void(const std::string&)> log;
  };

  // Checks the options, opens the store and binds the listening socket (connections are refused
  // until start()). `app` must outlive this object.
  EmbeddedNode(Options options, AppProxy& app);
  // stop()s, then releases the socket and the store.
  ~EmbeddedNode();
  EmbeddedNode(const EmbeddedNode&) = delete;
  EmbeddedNode& operator=(const EmbeddedNode&) = delete;

  // Starts gossiping on a thread of its own. Returns at once. Once only: a second call, or a call
  // after stop(), throws std::logic_error.
  void start();
  // Stops gossiping (state Shutdown) and joins the node's thread. Idempotent. Before start() it
  // only marks the node stopped. From the node's own thread: std::logic_error.
  void stop();

  // Queues a transaction (any bytes) for this node's next event. True once queued; false when the
  // pool is full, the node is not Babbling, or it is stopped. Blocks until the node's thread has
  // answered (immediate when called from that thread, e.g. inside commit_block).
  bool submit(Bytes tx);

  // The node's counters and state (engine/node.h, NodeStats): a consistent copy, taken on the node's
  // thread while it runs.
  NodeStats stats() const;
  TransportStats transport_stats() const;
  std::uint16_t listen_port() const;  // the bound gossip port
  std::uint32_t id() const;           // this node's peer id

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chatter
