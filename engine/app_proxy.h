// The AppProxy port: how the engine talks to the application (Babble's AppProxy). Adapters live in
// app_proxy/ (in-process handlers; the JSON-RPC socket proxy comes with its issue).
//
// Contract: the engine calls commit_block once per block, in index order, never twice and never
// skipping one; the application applies the block's transactions deterministically and returns its
// state hash (equal on every honest node) and a receipt for each internal transaction (accept or
// refuse the peer-set change). get_snapshot(i) returns the application state right after block i;
// restore(snapshot) replaces the state and returns the resulting state hash.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "engine/block.h"

namespace chatter {

// Node states (DESIGN.md, Node states); the integer values are those of spec/socket-proxy.md.
enum class NodeState : int {
  kBabbling = 0,
  kCatchingUp = 1,
  kJoining = 2,
  kLeaving = 3,
  kShutdown = 4,
  kSuspended = 5,
};
const char* to_string(NodeState s);

struct CommitResponse {
  Bytes state_hash;
  std::vector<InternalTransactionReceipt> receipts;
};

// An application failure (unreachable, timed out, malformed reply): the engine keeps the block
// uncommitted and retries later; it never skips it.
struct AppError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Not a failure: an asynchronous adapter (the socket proxy) has the call in progress and will have
// the answer later. The engine keeps the block uncommitted, does not count an error, and calls
// again with the same block on a later tick; the adapter then returns the answer it received.
struct AppBusy : AppError {
  using AppError::AppError;
};

class AppProxy {
 public:
  virtual ~AppProxy() = default;
  virtual CommitResponse commit_block(const Block& block) = 0;  // throws AppError
  virtual Bytes get_snapshot(std::uint64_t block_index) = 0;    // throws AppError
  virtual Bytes restore(const Bytes& snapshot) = 0;             // throws AppError
  virtual void on_state_changed(NodeState state) = 0;
};

}  // namespace chatter
