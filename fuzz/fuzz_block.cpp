// libFuzzer target: the block decoders of engine/block.h: Block (body and signatures, as in a
// FastForwardResponse and in the store), BlockBody and InternalTransactionReceipt.
//
// Input: byte 0 picks the decoder, the rest is the encoding. A refusal must be DecodeError; what
// decodes re-encodes to exactly the input (canonical), and checking its signatures never throws.
#include "engine/block.h"
#include "fuzz/fuzz_util.h"

using namespace chatter;

namespace {

template <class T, class Check>
void round_trip(const std::uint8_t* p, std::size_t n, Check check) {
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
  check(value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t* p = data + 1;
  const std::size_t n = size - 1;
  switch (data[0] % 3) {
    case 0:
      round_trip<Block>(p, n, [](const Block& b) {
        // The signers as a peer set (as a fast-forwarding node checks a block against its validators).
        std::vector<Peer> signers;
        for (const auto& [key, sig] : b.signatures()) signers.push_back(Peer{key, "", ""});
        try {
          const PeerSet set(std::move(signers));
          FUZZ_CHECK(b.valid_signatures(set) <= static_cast<std::int64_t>(b.signatures().size()));
        } catch (const std::invalid_argument&) {
          // two signers whose peer ids collide: not a peer set, nothing to check
        }
      });
      break;
    case 1:
      round_trip<BlockBody>(p, n, [](const BlockBody&) {});
      break;
    default:
      round_trip<InternalTransactionReceipt>(p, n, [](const InternalTransactionReceipt&) {});
      break;
  }
  return 0;
}
