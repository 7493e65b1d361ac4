// InprocAppProxy: the AppProxy adapter for applications linked into the same process. The
// application supplies plain handlers (std::function); the proxy forwards each port call to them.
//
// Contract (engine/app_proxy.h is the port this implements):
// - `commit` is required: the constructor throws std::invalid_argument without it.
// - `snapshot` / `restore` are optional: without them get_snapshot / restore throw AppError
//   ("... not supported"), which the engine treats like any application failure (it does not
//   fast-forward from, or serve snapshots of, such an application). But a block whose index is a
//   multiple of NodeConfig::snapshot_interval (default 10, block 0 included) where a snapshot is due
//   (NodeConfig::snapshot_bytes_per_block spaces them for a large state) completes only once
//   get_snapshot succeeds: without `snapshot`, set snapshot_interval = 0.
// - `state_changed` is optional: without it on_state_changed does nothing.
// - The engine only catches AppError, so every exception a handler throws is converted: an AppError
//   passes through unchanged, any other std::exception becomes an AppError with the same what()
//   message, and anything else becomes an AppError saying a handler threw a non-standard exception.
//   This holds for all four handlers (on_state_changed included).
// - Calls are forwarded on the caller's thread; the proxy adds no locking.
#pragma once

#include <cstdint>
#include <functional>

#include "engine/app_proxy.h"

namespace chatter {

struct InprocHandlers {
  std::function<CommitResponse(const Block&)> commit;        // required
  std::function<Bytes(std::uint64_t block_index)> snapshot;  // optional
  std::function<Bytes(const Bytes& snapshot)> restore;       // optional: returns the state hash
  std::function<void(NodeState)> state_changed;              // optional
};

class InprocAppProxy : public AppProxy {
 public:
  // Throws std::invalid_argument when handlers.commit is empty.
  explicit InprocAppProxy(InprocHandlers handlers);

  CommitResponse commit_block(const Block& block) override;
  Bytes get_snapshot(std::uint64_t block_index) override;
  Bytes restore(const Bytes& snapshot) override;
  void on_state_changed(NodeState state) override;

 private:
  InprocHandlers handlers_;
};

}  // namespace chatter
