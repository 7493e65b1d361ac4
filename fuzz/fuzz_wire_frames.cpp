// libFuzzer target: net/wire.h FrameDecoder on an arbitrary inbound byte stream.
//
// Input: byte 0 chooses how the stream is split (chunk size 1..64), the frame cap (64 bytes or
// 1 MiB) and whether the feeder respects room(); the rest is the stream. Checks the decoder's
// contract: frames come out in order and re-encode to exactly the bytes they were read from (the
// codec is canonical), the buffer never exceeds max_frame + header, room() is never 0 while more
// input is needed, an error is sticky and has a reason, and nothing throws.
#include <algorithm>
#include <string>

#include "fuzz/fuzz_util.h"
#include "net/wire.h"

using namespace chatter;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  const std::size_t chunk = 1 + (mode & 0x3f);
  const bool respect_room = (mode & 0x40) == 0;
  const std::size_t max_frame = (mode & 0x80) ? 64 : std::size_t{1} << 20;
  const std::uint8_t* stream = data + 1;
  const std::size_t n = size - 1;

  FrameDecoder d(max_frame);
  std::size_t fed = 0, consumed = 0;
  for (;;) {
    Message m;
    std::string error;
    const auto status = d.next(m, error);
    if (status == FrameDecoder::Status::kFrame) {
      const Bytes again = encode_frame(m);
      FUZZ_CHECK(consumed + again.size() <= fed);
      FUZZ_CHECK(fuzz::same_bytes(again, stream + consumed, again.size()));
      consumed += again.size();
      FUZZ_CHECK(d.buffered() == fed - consumed);
      continue;
    }
    if (status == FrameDecoder::Status::kError) {
      FUZZ_CHECK(!error.empty());
      FUZZ_CHECK(d.failed());
      FUZZ_CHECK(d.room() == 0);
      std::string again;
      FUZZ_CHECK(d.next(m, again) == FrameDecoder::Status::kError && again == error);
      break;
    }
    if (fed == n) break;
    std::size_t k = std::min(chunk, n - fed);
    if (respect_room) {
      FUZZ_CHECK(d.room() > 0);
      k = std::min(k, d.room());
    }
    d.feed(stream + fed, k);
    fed += k;
    FUZZ_CHECK(d.buffered() <= max_frame + kFrameHeaderSize);
  }
  return 0;
}
