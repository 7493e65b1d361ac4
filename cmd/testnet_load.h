// The load of `chatter testnet`: one TCP connection per node to its Babble.SubmitTx server
// (spec/socket-proxy.md), pipelined JSON-RPC requests one per line, on a thread of its own.
//
// Transactions are kvstore commands "SET <moniker>.<seq> <unix_ns> <padding>" padded with 'x' to exactly
// `tx_size` bytes (longer only when the fixed part alone exceeds it); keys are unique per run. With a
// rate the requests are paced at `rate` per second; with rate 0 at most `window` requests are
// outstanding, and an error reply (pool full) pauses sending for a moment.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace chatter::cmd {

class LoadGenerator {
 public:
  struct Options {
    std::string moniker;         // key prefix: <moniker>.<seq>
    std::uint16_t port = 0;      // 127.0.0.1:port
    double rate = 0;             // requests per second; 0 = as fast as they are accepted
    std::size_t tx_size = 100;
    std::size_t window = 2000;   // max outstanding requests
  };

  explicit LoadGenerator(Options options);
  ~LoadGenerator();  // stops and joins
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  void start();
  // Stops sending new requests, waits up to `drain_ms` for replies to outstanding ones, joins.
  void finish(int drain_ms);

  std::uint64_t sent() const { return sent_.load(); }
  std::uint64_t accepted() const { return accepted_.load(); }  // replies "result": true
  std::uint64_t refused() const { return refused_.load(); }    // error replies
  std::string error() const;                                   // connection failure, if any

  // The transaction text for (moniker, seq, unix_ns), padded to `size` bytes.
  static std::string make_transaction(const std::string& moniker, std::uint64_t seq, std::int64_t unix_ns,
                                      std::size_t size);

 private:
  void run();
  void set_error(const std::string& e);

  Options options_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> drained_stop_{false};
  std::atomic<int> drain_ms_{0};
  std::atomic<std::uint64_t> sent_{0}, accepted_{0}, refused_{0};
  mutable std::atomic<bool> has_error_{false};
  std::string error_;  // written once before has_error_ is set
};

}  // namespace chatter::cmd
