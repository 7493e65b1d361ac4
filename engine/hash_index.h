// HashIndex: an open-addressing map from a digest to a dense uint32 id, for the hot path of event
// insertion. Each slot holds the digest's first 8 bytes (a uniform tag) and the id; a tag match is
// confirmed by the caller-supplied key_of(id), so the table stays 16 bytes a slot and one cache
// line a lookup. Linear probing, load factor at most 1/2, deletion by backward shift.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "engine/bytes.h"

namespace chatter {

class HashIndex {
 public:
  static constexpr std::uint32_t kEmpty = 0xffffffffu;

  // KeyOf: callable id -> const Hash& (the digest stored for that id).
  template <class KeyOf>
  std::optional<std::uint32_t> find(const Hash& h, const KeyOf& key_of) const {
    if (slots_.empty()) return std::nullopt;
    const std::uint64_t t = tag(h);
    for (std::size_t i = t & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id == kEmpty) return std::nullopt;
      if (s.tag == t && key_of(s.id) == h) return s.id;
    }
  }

  // Inserts h -> id; h must be absent.
  void insert(const Hash& h, std::uint32_t id) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    place(Slot{tag(h), id});
    ++size_;
  }

  // Removes h when present.
  template <class KeyOf>
  bool erase(const Hash& h, const KeyOf& key_of) {
    if (slots_.empty()) return false;
    const std::uint64_t t = tag(h);
    std::size_t i = t & mask_;
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].id == kEmpty) return false;
      if (slots_[i].tag == t && key_of(slots_[i].id) == h) break;
    }
    // Backward-shift deletion keeps every probe chain unbroken.
    std::size_t j = i;
    for (;;) {
      j = (j + 1) & mask_;
      if (slots_[j].id == kEmpty) break;
      const std::size_t home = slots_[j].tag & mask_;
      const bool between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (between) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i] = Slot{};
    --size_;
    return true;
  }

  std::size_t size() const { return size_; }
  void reserve(std::size_t n) {
    while (n * 2 > slots_.size()) grow();
  }

 private:
  struct Slot {
    std::uint64_t tag = 0;
    std::uint32_t id = kEmpty;
  };
  static std::uint64_t tag(const Hash& h) {
    std::uint64_t v;
    std::memcpy(&v, h.data.data(), sizeof v);
    return v;
  }
  void place(Slot s) {
    for (std::size_t i = s.tag & mask_;; i = (i + 1) & mask_)
      if (slots_[i].id == kEmpty) {
        slots_[i] = s;
        return;
      }
  }
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old)
      if (s.id != kEmpty) place(s);
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace chatter
