// Canonical encoding primitives (codec.h, DESIGN.md "Encoding").
#include <doctest/doctest.h>

#include <chrono>

#include "engine/codec.h"

using namespace chatter;

namespace {

Bytes hx(std::string_view s) {
  auto b = from_hex(s);
  REQUIRE(b.has_value());
  return *b;
}

}  // namespace

TEST_CASE("Encoding: fixed-width integers are little-endian") {
  Writer w;
  w.u8(0xab);
  w.u32(0x01020304);
  w.u64(0x0102030405060708ULL);
  w.i64(-2);
  w.boolean(true);
  w.boolean(false);
  CHECK(to_hex(w.data()) ==
        "ab"
        "04030201"
        "0807060504030201"
        "feffffffffffffff"
        "01"
        "00");

  Reader r(w.data());
  CHECK(r.u8() == 0xab);
  CHECK(r.u32() == 0x01020304u);
  CHECK(r.u64() == 0x0102030405060708ULL);
  CHECK(r.i64() == -2);
  CHECK(r.boolean());
  CHECK_FALSE(r.boolean());
  CHECK(r.done());
  CHECK_NOTHROW(r.expect_done());
}

TEST_CASE("Encoding: extreme integer values round trip") {
  Writer w;
  w.u32(0xffffffffu);
  w.u64(~0ULL);
  w.i64(INT64_MIN);
  w.i64(INT64_MAX);
  Reader r(w.data());
  CHECK(r.u32() == 0xffffffffu);
  CHECK(r.u64() == ~0ULL);
  CHECK(r.i64() == INT64_MIN);
  CHECK(r.i64() == INT64_MAX);
  r.expect_done();
}

TEST_CASE("Encoding: byte strings are u32 length + bytes; fixed arrays are raw; optionals are flag + value") {
  Writer w;
  w.bytes(Bytes{0xaa, 0xbb});
  w.str("hi");
  w.str("");
  FixedBytes<3> f;
  f.data = {1, 2, 3};
  w.fixed(f);
  w.opt_fixed(std::optional<FixedBytes<3>>{});
  w.opt_fixed(std::optional<FixedBytes<3>>{f});
  CHECK(to_hex(w.data()) ==
        "02000000aabb"
        "020000006869"
        "00000000"
        "010203"
        "00"
        "01010203");

  Reader r(w.data());
  CHECK(r.bytes() == Bytes{0xaa, 0xbb});
  CHECK(r.str() == "hi");
  CHECK(r.str() == "");
  CHECK(r.fixed<3>() == f);
  CHECK_FALSE(r.opt_fixed<3>().has_value());
  CHECK(r.opt_fixed<3>() == f);
  r.expect_done();
}

TEST_CASE("Encoding: truncated input throws DecodeError for every primitive") {
  const Bytes empty;
  const Bytes three = hx("010203");
  const Bytes seven = hx("01020304050607");
  const Bytes len_only = hx("05000000aabb");  // length 5, 2 bytes present
  {
    Reader r(empty);
    CHECK_THROWS_AS(r.u8(), DecodeError);
  }
  {
    Reader r(empty);
    CHECK_THROWS_AS(r.boolean(), DecodeError);
  }
  {
    Reader r(three);
    CHECK_THROWS_AS(r.u32(), DecodeError);
  }
  {
    Reader r(seven);
    CHECK_THROWS_AS(r.u64(), DecodeError);
  }
  {
    Reader r(seven);
    CHECK_THROWS_AS(r.i64(), DecodeError);
  }
  {
    Reader r(three);
    CHECK_THROWS_AS(r.bytes(), DecodeError);  // length prefix itself truncated
  }
  {
    Reader r(len_only);
    CHECK_THROWS_AS(r.bytes(), DecodeError);
  }
  {
    Reader r(len_only);
    CHECK_THROWS_AS(r.str(), DecodeError);
  }
  {
    Reader r(seven);
    CHECK_THROWS_AS(r.fixed<8>(), DecodeError);
  }
  {
    const Bytes flag_only = hx("01aabb");
    Reader r(flag_only);
    CHECK_THROWS_AS(r.opt_fixed<3>(), DecodeError);
  }
  {
    Reader r(three);
    CHECK_THROWS_AS(r.count(1), DecodeError);
  }
}

TEST_CASE("Reader: a failed read does not advance the position") {
  const Bytes b = hx("0102");
  Reader r(b);
  CHECK_THROWS_AS(r.u32(), DecodeError);
  CHECK(r.remaining() == 2);
  CHECK(r.u8() == 1);
}

TEST_CASE("Encoding: a hostile length or count (0xFFFFFFFF) on a short buffer throws before allocating") {
  const Bytes b = hx("ffffffff00010203");
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) {
    Reader r1(b);
    CHECK_THROWS_AS(r1.bytes(), DecodeError);
    Reader r2(b);
    CHECK_THROWS_AS(r2.str(), DecodeError);
    Reader r3(b);
    CHECK_THROWS_AS(r3.count(1), DecodeError);
  }
  // Allocating and filling 4 GiB even once would take far longer than this (or fail outright).
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("Encoding: count checks count * minimum element size against the remaining bytes") {
  const Bytes b =
      hx("02000000"
         "aabbccdd");  // count 2, 4 bytes left
  {
    Reader r(b);
    CHECK(r.count(2) == 2);  // 2*2 <= 4
  }
  {
    Reader r(b);
    CHECK_THROWS_AS(r.count(3), DecodeError);  // 2*3 > 4
  }
  {
    // count * size overflows size_t if multiplied naively.
    Reader r(b);
    CHECK_THROWS_AS(r.count(SIZE_MAX / 2 + 1), DecodeError);
  }
  {
    const Bytes zero = hx("00000000");
    Reader r(zero);
    CHECK(r.count(1000) == 0);
    CHECK(r.done());
  }
}

TEST_CASE("Encoding: only 0 and 1 are canonical booleans") {
  for (int v = 2; v < 256; v += 37) {
    const Bytes b{static_cast<std::uint8_t>(v)};
    Reader r(b);
    CHECK_THROWS_AS(r.boolean(), DecodeError);
  }
  const Bytes b{0xff};
  Reader r(b);
  CHECK_THROWS_AS(r.boolean(), DecodeError);
  const Bytes o{0x02, 0xaa, 0xbb, 0xcc};
  Reader r2(o);
  CHECK_THROWS_AS(r2.opt_fixed<3>(), DecodeError);
}

TEST_CASE("Encoding: canonical encodings have no trailing bytes (expect_done throws on leftovers)") {
  const Bytes b = hx("0100");
  Reader r(b);
  CHECK(r.u8() == 1);
  CHECK_FALSE(r.done());
  CHECK(r.remaining() == 1);
  CHECK_THROWS_AS(r.expect_done(), DecodeError);
  r.u8();
  CHECK_NOTHROW(r.expect_done());
}
