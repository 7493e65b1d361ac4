// Broken internal invariants abort with a message naming the function, in every build type
// (DESIGN.md, Error policy 2). Never for bad input: that is refused with a typed status.
#pragma once

#include <cstdio>
#include <cstdlib>

#define CHATTER_INVARIANT(cond)                                                       \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "chatter: invariant failed in %s: %s\n", __func__, #cond); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)
