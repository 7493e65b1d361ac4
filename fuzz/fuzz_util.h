// Shared by the libFuzzer targets of fuzz/: an assertion that stays on in every build (a failed one
// aborts, which libFuzzer reports as a crash and saves the input), and the canonical round-trip check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "engine/bytes.h"

#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

namespace chatter::fuzz {

// Canonical encodings (DESIGN.md, Encoding): what decoded from [p, p+n) re-encodes to exactly those bytes.
inline bool same_bytes(const Bytes& encoded, const std::uint8_t* p, std::size_t n) {
  return encoded.size() == n && (n == 0 || std::memcmp(encoded.data(), p, n) == 0);
}

}  // namespace chatter::fuzz
