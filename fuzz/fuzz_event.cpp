// libFuzzer target: the event decoders of engine/event.h: Event (full form, as stored and inside
// Frames), WireEvent (the compact gossip form) and InternalTransaction.
//
// Input: byte 0 picks the decoder, the rest is the encoding. A refusal must be DecodeError; what
// decodes re-encodes to exactly the input (canonical), and an Event's hash is the hash of its body.
#include "engine/crypto.h"
#include "engine/event.h"
#include "fuzz/fuzz_util.h"

using namespace chatter;

namespace {

template <class T>
void round_trip(const std::uint8_t* p, std::size_t n) {
  Reader r(p, n);
  T value;
  try {
    value = T::decode(r);
    r.expect_done();
  } catch (const DecodeError&) {
    return;
  }
  Writer w;
  value.encode(w);
  FUZZ_CHECK(fuzz::same_bytes(w.data(), p, n));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t* p = data + 1;
  const std::size_t n = size - 1;
  switch (data[0] % 3) {
    case 0: {
      Event e;
      try {
        e = Event::decode(Bytes(p, p + n));
      } catch (const DecodeError&) {
        return 0;
      }
      FUZZ_CHECK(fuzz::same_bytes(e.encoded(), p, n));
      FUZZ_CHECK(e.hash() == blake2b(e.body().encoded()));
      break;
    }
    case 1:
      round_trip<WireEvent>(p, n);
      break;
    default:
      round_trip<InternalTransaction>(p, n);
      break;
  }
  return 0;
}
