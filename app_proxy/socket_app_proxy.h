// SocketAppProxy: the AppProxy adapter for an application in another process, in any language
// (spec/socket-proxy.md). The engine connects to the application at host:port (`--client-connect`) and
// calls State.CommitBlock, State.GetSnapshot, State.Restore and State.OnStateChanged as JSON-RPC in
// the dialect of Go's net/rpc/jsonrpc (objects back to back on one TCP connection); the shapes are in
// socket_json.h (signature text: upper-case hex of the 64-byte Ed25519 signature).
//
// Never blocks the caller. The node calls the port synchronously on its own thread, so this adapter
// has its own I/O thread (and io_context) and answers from what has arrived:
//  - commit_block(b): returns the app's answer for b.index() if it has arrived; throws AppError with
//    the reason if that call failed (error reply, missing or malformed StateHash, too many receipts,
//    or 3 failed tries); throws AppBusy while the call is in progress, and starts it (then throws
//    AppBusy) when there is none. An answer is cached per index until the node takes it, so a block
//    the app has answered is never sent again. A failed call is forgotten once reported: the node's
//    next call for that index starts a new one.
//  - get_snapshot(i): the same, keyed by i. restore(s): the same, keyed by the snapshot bytes.
//  - on_state_changed(s): queued, fire and forget, in call order (failures are counted, not retried
//    beyond the 3 tries).
// Calls go to the app one at a time, in the order they were started.
//
// Tries: each reply is awaited `timeout`; a try fails on timeout, connection failure, a closed
// connection, malformed JSON, a reply whose id does not match, or a reply over its cap
// (Options::max_reply_bytes, by default kMaxReplyBytes = 64 MiB: snapshots travel in one reply); a failed try
// closes the connection and the next try uses a fresh one, after a backoff (100 ms doubling to 2 s, reset by
// a successful reply). After 3 failed tries the call fails with AppError. An error reply or a malformed
// result (valid JSON-RPC, wrong content) fails the call at once, keeps the connection, and is not
// retried by the adapter (the node retries on a later tick).
//
// Note for applications: a call that timed out may still have been applied by the app, so a
// CommitBlock for an index it already applied can arrive again after a failure; an app should then
// answer its recorded state hash for that index without applying the block twice (the example
// application in examples/socket_app does).
//
// Threading: every public member may be called from any thread; the AppProxy members are meant for
// the node's thread. Callbacks (`on_ready`, `on_health`) run on the I/O thread and must not call
// back into the adapter's AppProxy members synchronously (post instead).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/app_proxy.h"

namespace chatter {

// What the adapter reports about the application (for logs and the HTTP service).
enum class AppHealth {
  kUnknown,      // nothing tried yet
  kOk,           // the last call succeeded
  kUnreachable,  // the last try could not connect, timed out, or the connection broke
  kFailing,      // the app answers, but with errors or malformed results
};
const char* to_string(AppHealth h);

struct SocketAppStats {
  std::uint64_t calls = 0;     // calls started (each may take up to 3 tries)
  std::uint64_t errors = 0;    // calls that failed (AppError)
  std::uint64_t retries = 0;   // tries after the first, over all calls
  std::uint64_t connects = 0;  // successful connections
  // Time spent waiting for the app (from writing a request to reading its reply), in nanoseconds.
  std::uint64_t wait_ns = 0;
  // Time spent writing requests as JSON text on the adapter's thread, in nanoseconds.
  std::uint64_t encode_ns = 0;
  AppHealth health = AppHealth::kUnknown;
  std::string last_error;  // the reason of the last failed try or call ("" if none yet)
};

class SocketAppProxy final : public AppProxy {
 public:
  static constexpr std::size_t kMaxReplyBytes = 64u * 1024 * 1024;
  static constexpr int kMaxTries = 3;

  struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 1339;
    std::chrono::milliseconds timeout{1000};       // per reply (and per connection attempt)
    std::size_t max_reply_bytes = kMaxReplyBytes;  // a longer reply closes the connection (failed try)
    // Called on the I/O thread whenever an answer (or a failure) arrives that the node may want
    // to take: wake the node so it calls again now rather than on its next tick.
    std::function<void()> on_ready;
    // Called on the I/O thread when health() changes, with the new health and the reason.
    std::function<void(AppHealth, const std::string&)> on_health;
  };

  // Starts the I/O thread; connects lazily, on the first call.
  explicit SocketAppProxy(Options options);
  // stop().
  ~SocketAppProxy() override;
  SocketAppProxy(const SocketAppProxy&) = delete;
  SocketAppProxy& operator=(const SocketAppProxy&) = delete;

  CommitResponse commit_block(const Block& block) override;  // throws AppBusy / AppError
  Bytes get_snapshot(std::uint64_t block_index) override;    // throws AppBusy / AppError
  Bytes restore(const Bytes& snapshot) override;             // throws AppBusy / AppError
  void on_state_changed(NodeState state) override;           // never throws

  // Gives queued OnStateChanged calls up to `grace` to go out, then stops the I/O thread and closes
  // the connection. Calls after stop() throw AppError. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(0));

  bool app_reachable() const;  // health() is kOk or kFailing: the last try reached the app
  AppHealth health() const;
  std::string last_error() const;
  SocketAppStats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace chatter
