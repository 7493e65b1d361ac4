// Test helpers for message encodings: the payload bytes of a message, and a decode of them.
#pragma once

#include <cstdint>

#include "engine/messages.h"

namespace chatter::testing {

inline Bytes encode(const Message& m) {
  Writer w;
  encode_payload(m, w);
  return w.take();
}

inline Message round_trip(const Message& m) {
  Bytes b = encode(m);
  return decode_payload(static_cast<std::uint8_t>(type_of(m)), b.data(), b.size());
}

}  // namespace chatter::testing
