// libFuzzer target: engine/messages.h decode_payload, the gossip messages (SyncRequest ...
// FastForwardResponse with its Block, Frame and snapshot) as a peer sends them inside a frame.
//
// Input: byte 0 is the message type, the rest the payload. A refusal must be DecodeError; a decoded
// message must have that type and re-encode to exactly the payload (canonical encoding).
#include "engine/messages.h"
#include "fuzz/fuzz_util.h"

using namespace chatter;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  Message m;
  try {
    m = decode_payload(data[0], data + 1, size - 1);
  } catch (const DecodeError&) {
    return 0;
  }
  FUZZ_CHECK(static_cast<std::uint8_t>(type_of(m)) == data[0]);
  Writer w;
  encode_payload(m, w);
  FUZZ_CHECK(fuzz::same_bytes(w.data(), data + 1, size - 1));
  return 0;
}
