// libFuzzer target: the frame decoders of engine/frame.h and engine/peer.h: Frame (the slice of the
// graph a fast-forward resets from), PeerSet and PeerSchedule.
//
// Input: byte 0 picks the decoder, the rest is the encoding. A refusal must be DecodeError; what
// decodes re-encodes to exactly the input (canonical) and can be hashed.
#include "engine/frame.h"
#include "engine/peer.h"
#include "fuzz/fuzz_util.h"

using namespace chatter;

namespace {

template <class T>
bool decode_all(const std::uint8_t* p, std::size_t n, T& out) {
  Reader r(p, n);
  try {
    out = T::decode(r);
    r.expect_done();
  } catch (const DecodeError&) {
    return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t* p = data + 1;
  const std::size_t n = size - 1;
  Writer w;
  switch (data[0] % 3) {
    case 0: {
      Frame f;
      if (!decode_all(p, n, f)) return 0;
      f.encode(w);
      FUZZ_CHECK(fuzz::same_bytes(w.data(), p, n));
      (void)f.hash();
      for (const auto& root : f.roots) FUZZ_CHECK(f.root_of(root.creator) != nullptr);
      break;
    }
    case 1: {
      PeerSet s;
      if (!decode_all(p, n, s)) return 0;
      s.encode(w);
      FUZZ_CHECK(fuzz::same_bytes(w.data(), p, n));
      break;
    }
    default: {
      PeerSchedule s;
      if (!decode_all(p, n, s)) return 0;
      s.encode(w);
      FUZZ_CHECK(fuzz::same_bytes(w.data(), p, n));
      break;
    }
  }
  return 0;
}
