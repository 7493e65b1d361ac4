// The engine side of the socket app proxy that accepts transactions (spec/socket-proxy.md):
// JSON-RPC in the dialect of Go's net/rpc/jsonrpc on TCP, serving `Babble.SubmitTx` (param: the
// transaction, base64; result: true once queued). Objects follow one another on the stream with only
// whitespace between them.
//
// Robustness: a request larger than `max_request_bytes` closes the connection; malformed JSON gets
// an error reply when the object boundary can be found, otherwise the connection is closed; unknown
// methods and wrong parameter types get a JSON-RPC error reply {"id", "result": null, "error":
// "text"}; at most `max_connections` at once (more are closed on accept); an idle connection is
// closed after `idle_timeout`. The node keeps running whatever a client sends.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "app_proxy/base64.h"  // base64_encode/decode used to be declared here
#include "engine/bytes.h"

namespace boost::asio {
class io_context;
}

namespace chatter {

class SubmitServer {
 public:
  // Called on the io_context's thread for each transaction; call `done(ok, error_text)` (from any
  // thread, exactly once) when it is queued or refused (for example a full pool).
  using SubmitFn = std::function<void(Bytes tx, std::function<void(bool, std::string)> done)>;

  struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::size_t max_request_bytes = 4u * 1024 * 1024;
    std::size_t max_connections = 256;
    std::chrono::milliseconds idle_timeout{60000};
  };

  // Binds now; throws std::runtime_error with a clear sentence when the address is unusable.
  SubmitServer(boost::asio::io_context& io, Options options, SubmitFn submit);
  ~SubmitServer();
  SubmitServer(const SubmitServer&) = delete;
  SubmitServer& operator=(const SubmitServer&) = delete;

  void start();
  void stop();
  std::uint16_t port() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace chatter
