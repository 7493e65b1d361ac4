#include "net/wire.h"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

namespace chatter {
namespace {

// Broken internal invariant: abort naming the function, in every build type (DESIGN.md, Error policy).
[[noreturn]] void invariant_failed(const char* function, const char* what) {
  std::fprintf(stderr, "chatter: invariant failed in %s: %s\n", function, what);
  std::abort();
}

std::uint32_t load_u32_le(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

bool known_type(std::uint8_t t) {
  return t >= static_cast<std::uint8_t>(MessageType::kSyncRequest) &&
         t <= kLastMessageType;
}

}  // namespace

Bytes encode_frame(const Message& m) {
  Writer w;
  w.u32(0);  // length, patched below once the payload size is known
  w.u8(static_cast<std::uint8_t>(type_of(m)));
  encode_payload(m, w);
  Bytes frame = w.take();
  const std::size_t length = frame.size() - 4;
  if (length > std::numeric_limits<std::uint32_t>::max())
    invariant_failed(__func__, "message larger than a u32 length can describe");
  for (int i = 0; i < 4; ++i)
    frame[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(length >> (8 * i));
  return frame;
}

FrameDecoder::FrameDecoder(std::size_t max_frame) : max_frame_(max_frame) {
  if (max_frame_ == 0) invariant_failed(__func__, "max_frame must be at least 1");
}

std::size_t FrameDecoder::room() const {
  if (failed()) return 0;
  return max_frame_ + kFrameHeaderSize - buffered();
}

void FrameDecoder::feed(const std::uint8_t* data, std::size_t n) {
  if (failed() || n == 0) return;
  if (n > room()) {
    // Remember the reason; next() reports it. The bytes are not kept.
    error_ = "input of " + std::to_string(n) + " bytes exceeds the decoder's free space of " +
             std::to_string(room()) + " bytes (drain next() before feeding more)";
    buffer_.clear();
    buffer_.shrink_to_fit();
    head_ = 0;
    return;
  }
  // Drop consumed bytes first so the buffer holds only unconsumed input (the documented bound).
  if (head_ > 0) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  buffer_.insert(buffer_.end(), data, data + n);
}

FrameDecoder::Status FrameDecoder::fail(std::string reason, std::string& error) {
  error_ = std::move(reason);
  buffer_.clear();
  buffer_.shrink_to_fit();
  head_ = 0;
  error = error_;
  return Status::kError;
}

FrameDecoder::Status FrameDecoder::next(Message& out, std::string& error) {
  if (failed()) {
    error = error_;
    return Status::kError;
  }
  const std::size_t available = buffered();
  if (available < 4) return Status::kNeedMore;
  const std::uint8_t* p = buffer_.data() + head_;
  // The length is checked before anything of the body is read or allocated.
  const std::uint32_t length = load_u32_le(p);
  if (length == 0) return fail("zero-length frame (a frame holds at least its message type byte)", error);
  if (length > max_frame_)
    return fail("frame length " + std::to_string(length) + " exceeds the maximum of " +
                    std::to_string(max_frame_) + " bytes",
                error);
  if (available < kFrameHeaderSize) return Status::kNeedMore;
  const std::uint8_t type = p[4];
  if (!known_type(type)) return fail("unknown message type " + std::to_string(type), error);
  if (available < 4 + std::size_t{length}) return Status::kNeedMore;

  try {
    out = decode_payload(type, p + kFrameHeaderSize, std::size_t{length} - 1);
  } catch (const DecodeError& e) {
    return fail(
        std::string("malformed ") + to_string(static_cast<MessageType>(type)) + " payload: " + e.what(),
        error);
  }
  head_ += 4 + std::size_t{length};
  if (head_ == buffer_.size()) {
    // Everything consumed: start over without moving bytes. Keep the capacity unless it is large,
    // so a burst of big frames does not pin memory on an idle connection.
    buffer_.clear();
    head_ = 0;
    if (buffer_.capacity() > 64 * 1024) buffer_.shrink_to_fit();
  }
  return Status::kFrame;
}

}  // namespace chatter
