// Wire frames: how gossip messages (engine/messages.h) travel on a byte stream (DESIGN.md, net/).
//
// A frame is
//
//   u32 L (little-endian)  | u8 MessageType | payload (encode_payload, L - 1 bytes)
//
// so L counts the type byte and the payload: L = 1 + payload size. L is bounded by a hard maximum
// (`max_frame`, default kDefaultMaxFrame = 16 MiB) that the receiver checks on the length prefix,
// before it reads or allocates anything of the body.
//
// Pure code: no sockets, threads or Boost, so it can be unit-tested and fuzzed. The TCP transport
// reads bytes from a socket, feeds them to a FrameDecoder, and hands each complete Message to the node.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/bytes.h"
#include "engine/messages.h"

namespace chatter {

// Default cap on L (type byte + payload) of one frame.
inline constexpr std::size_t kDefaultMaxFrame = std::size_t{16} * 1024 * 1024;
// Bytes before the payload: the u32 length prefix and the type byte.
inline constexpr std::size_t kFrameHeaderSize = 5;

// The whole frame for `m`: length prefix, type byte, payload. Never fails; the sender is expected to
// keep messages under the receiver's max_frame (gossip responses are capped by sync-limit). Aborts
// if the payload cannot be described by a u32 length (a broken invariant, not input).
Bytes encode_frame(const Message& m);

// Incremental decoder for one connection's inbound byte stream.
//
// Usage: feed() what the socket delivered (at most room() bytes), then call next() until it returns
// kNeedMore (or kError). Frames come out one at a time, in order, however the input was split.
//
// Bounds: the decoder holds at most max_frame + kFrameHeaderSize unconsumed bytes. It never reserves
// memory from a length prefix: the buffer grows only with bytes actually fed. A length prefix above
// max_frame is refused as soon as its 4 bytes have arrived; an unknown type as soon as its byte has.
//
// Errors: an oversized length, a zero length, an unknown type, a malformed payload (including
// trailing bytes inside the frame), or feeding more than room() puts the decoder in the error
// state for good: next() returns kError with the same one-sentence reason every time, further input
// is discarded. The connection is to be closed; nothing in the stream after the error is trusted.
class FrameDecoder {
 public:
  enum class Status { kNeedMore, kFrame, kError };

  // `max_frame` caps L (type byte + payload); it must be at least 1.
  explicit FrameDecoder(std::size_t max_frame = kDefaultMaxFrame);

  // Appends input. Feeding more than room() bytes is an error (the bound above would be broken):
  // a transport reads at most room() bytes per read and drains next() before reading again.
  void feed(const std::uint8_t* data, std::size_t n);
  void feed(const Bytes& b) { feed(b.data(), b.size()); }

  // kFrame: `out` holds the next message and its bytes were consumed. kNeedMore: no complete frame
  // yet (`out` untouched). kError: `error` holds the reason (`out` untouched).
  Status next(Message& out, std::string& error);

  // Unconsumed bytes held, and how many more feed() accepts now.
  std::size_t buffered() const { return buffer_.size() - head_; }
  std::size_t room() const;
  std::size_t max_frame() const { return max_frame_; }
  bool failed() const { return !error_.empty(); }

 private:
  Status fail(std::string reason, std::string& error);

  std::size_t max_frame_;
  Bytes buffer_;          // input; bytes before head_ were consumed
  std::size_t head_ = 0;  // start of the first unconsumed frame
  std::string error_;     // non-empty once in the error state
};

}  // namespace chatter
