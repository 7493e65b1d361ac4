// The runtime: drives one Node state machine on an Asio io_context and carries its messages over
// TCP (wire frames of net/wire.h). Asio stays out of this header (pimpl) so that including it is
// cheap.
//
// Threading: every call on the Node happens on the io_context's thread (the caller runs the
// io_context on exactly one thread, which makes it the node's strand). post() is the only way other
// threads reach the node. stats() is safe from any thread.
//
// Transport contract: one outgoing connection per peer, reused for every message to that peer and
// re-established with exponential backoff (100 ms doubling to 5 s) when it fails; every connect,
// read and write has a timeout (`io_timeout`); the send queue of each peer is bounded in bytes
// (`max_queue_bytes`): beyond it new messages to that peer are dropped and counted (gossip retries
// by itself). Incoming connections are read-only: a node replies through its own outgoing
// connection. A destination not in Options::peers (a validator that joined later, or a node that
// asked to join) is looked up in Node::known_peers() and connected to the same way. A malformed or oversized frame closes that incoming connection with a logged reason
// and nothing else. The sender of a message is the `from_id` it carries (events are signed; the
// transport adds no authentication yet).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/node.h"

namespace boost::asio {
class io_context;
}

namespace chatter {

struct PeerAddress {
  std::uint32_t id = 0;
  std::string host;
  std::uint16_t port = 0;
};

struct TransportStats {
  std::uint64_t bytes_sent = 0, bytes_received = 0;
  std::uint64_t frames_sent = 0, frames_received = 0;
  std::uint64_t dropped_frames = 0;   // send queue full
  std::uint64_t bad_frames = 0;       // malformed or oversized input: connection closed
  std::uint64_t connect_failures = 0;
};

class Runtime {
 public:
  struct Options {
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 0;
    std::vector<PeerAddress> peers;  // the other validators
    std::size_t max_frame = 16u * 1024 * 1024;
    std::chrono::milliseconds io_timeout{5000};
    std::size_t max_queue_bytes = 64u * 1024 * 1024;
    // Called on the node's thread after every node call that may have changed what it reports.
    std::function<void(const Node&)> on_progress;
    // Log sink for one-line messages (connection errors, bad frames). Default: none.
    std::function<void(const std::string&)> log;
  };

  // Binds the listening socket now (throws std::runtime_error with a clear sentence when the
  // address is unusable or the port is taken). The node and io_context must outlive the runtime.
  // The socket is bound here but listens only from start(): until then connections to it are
  // refused (a peer that is "down" at the TCP level).
  Runtime(boost::asio::io_context& io, Node& node, Options options);
  // Calls stop(): destroy the runtime on the io_context's thread or once no thread runs it.
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Replaces Options::peers (e.g. once every runtime of a local network has bound its port).
  // Only before start(); throws std::logic_error after.
  void set_peers(std::vector<PeerAddress> peers);
  // Starts accepting, connecting and ticking. Returns at once; the caller runs the io_context.
  // Call it before the io_context runs, or on its thread. Idempotent; no effect after stop().
  void start();
  // Stops timers and closes every socket; pending handlers finish. Call on the io_context's thread
  // (or post it there).
  void stop();
  // Runs f on the node's thread (then on_progress, and the tick is re-armed). Also after stop(),
  // as long as the runtime exists; not once it has been destroyed.
  void post(std::function<void(Node&)> f);
  // The same for a node call that produces messages (Node::leave): they are sent.
  void post_call(std::function<std::vector<Envelope>(Node&)> f);
  // Ticks the node now (on its thread, sending what the tick produces), e.g. when an asynchronous app
  // adapter has an answer the node is waiting for. Safe from any thread; no effect after stop().
  void wake();
  std::uint16_t listen_port() const;  // the bound port (useful with port 0)
  TransportStats transport_stats() const;  // any thread

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Nanoseconds since the Unix epoch (the clock the runtime feeds the node).
std::int64_t unix_now_ns();

}  // namespace chatter
