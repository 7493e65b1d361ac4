// Internal state of Hashgraph (not a public header). Events get dense ids in insertion order and
// their consensus values live in flat arrays indexed by id, so the hot path does no hashing of keys
// beyond one lookup per parent.
#pragma once

#include <optional>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <limits>
#include <map>
#include <unordered_map>

#include "engine/hash_index.h"
#include "engine/invariant.h"
#include "engine/hashgraph.h"

namespace chatter {


struct Hashgraph::Impl {
  static constexpr std::int32_t kNone = -1;                 // no event / no ancestor
  static constexpr std::int32_t kNoDescendant = 0x7fffffff; // firstDescendants "none"
  static constexpr std::uint8_t kVoteNo = 0, kVoteYes = 1, kVoteUnset = 2;

  // A peer set seen through creator slots.
  struct PsView {
    const PeerSet* set = nullptr;
    std::vector<std::uint32_t> slots;  // slots of the members, in peer-set order
    std::vector<std::uint8_t> member;  // by slot
    std::int64_t sm = 0;               // SuperMajority(|set|)
    bool contiguous = false;           // slots are exactly 0..size-1 (the common case: a fast path)
  };

  struct RoundInfo {
    const PsView* ps = nullptr;
    std::vector<std::uint32_t> witnesses;  // insertion order
    std::vector<std::uint32_t> famous;     // set when decided, witness order
    std::size_t decided_witnesses = 0;
    bool decided = false;
    bool processed = false;
    std::uint64_t decided_at = 0;  // events in the graph when the pass that decided it ran (compact())
    std::vector<std::uint32_t> received;   // consensus order once processed
    // votes[y][i]: witness y's vote on witnesses[i] of this round (kVoteUnset when not computed,
    // which only happens for witnesses already decided when y was examined). Freed when decided.
    std::unordered_map<std::uint32_t, std::vector<std::uint8_t>> votes;
  };

  // `write_peer_sets`: record the schedule in the store (false when compact() rebuilds a graph).
  Impl(PeerSchedule s, Store& st, Options o, bool write_peer_sets = true);

  // ---- configuration ----
  Options options;
  Store& store;
  PeerSchedule schedule;
  std::map<std::int64_t, PsView> ps_views;  // mirrors schedule
  std::vector<PublicKey> creators;          // slot -> key
  std::unordered_map<PublicKey, std::uint32_t, DigestHasher> slot_of;
  std::unordered_map<std::uint32_t, std::uint32_t> slot_of_peer_id;
  std::size_t C = 0;  // number of creator slots (stride of la/fd)

  // ---- events, by id ----
  std::vector<EventPtr> ev;
  std::vector<std::uint32_t> slot;
  std::vector<std::int32_t> idx;      // creator index
  std::vector<std::int32_t> sp, op;   // parent ids or kNone
  std::vector<std::int32_t> round;
  std::vector<std::int32_t> lamport;
  std::vector<std::int32_t> rr;       // round received or kNone
  std::vector<std::uint8_t> witness;
  std::vector<std::int8_t> fame;      // -1 undecided, 0 not famous, 1 famous
  std::vector<std::int32_t> wpos;     // position in its round's witness list, or -1
  std::vector<std::uint64_t> spos;    // position in the store's insertion order (kNoPos: unknown)
  static constexpr std::uint64_t kNoPos = ~0ULL;
  std::vector<std::int32_t> la;       // lastAncestors, id*C + slot, kNone when none
  std::vector<std::int32_t> fd;       // firstDescendants, id*C + slot, kNoDescendant when none
  HashIndex id_index;
  std::optional<std::uint32_t> id_of(const Hash& h) const {
    return id_index.find(h, [this](std::uint32_t id) -> const Hash& { return ev[id]->hash(); });
  }
  std::vector<std::vector<std::uint32_t>> chain;  // slot -> (index - chain_base) -> id
  std::vector<std::int64_t> chain_base;           // slot -> index of chain[slot][0]

  // S(y) cache: witnesses of round(y)-1 strongly seen by witness y (computed once, when needed).
  std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> strongly_seen_prev;

  // ---- rounds ----
  // rounds[r - round_base] for r >= round_base. A graph built from genesis has round_base 0; one
  // reset from the Frame of round f (from_frame, compact()) starts at f, and the few rounds below f
  // that hold events of its Roots live in low_rounds (decided and processed). So a reset graph's
  // memory and rebuild cost do not grow with the length of history.
  std::deque<RoundInfo> rounds;
  std::int64_t round_base = 0;
  std::map<std::int64_t, RoundInfo> low_rounds;
  std::int64_t last_round = -1;
  std::int64_t floor_round = -1;  // after a reset: rounds <= this came decided and processed in a Frame
  std::int64_t fame_lo = 0;       // lowest round not decided
  std::int64_t next_process = 0;  // lowest round not processed
  bool fame_dirty = false;        // a witness arrived since the last fame pass
  bool rr_dirty = false;          // a round got decided since the last round-received pass

  // Undetermined events with, for each, the next round in which it could be received.
  std::uint64_t undetermined_payload = 0;
  std::vector<std::uint32_t> undetermined;
  std::vector<std::int64_t> undetermined_next;

  // ---- consensus output ----
  std::vector<Hash> consensus;
  std::vector<std::int32_t> last_consensus_of;  // slot -> id of last consensus event, or kNone
  std::vector<Block> new_blocks;
  std::uint64_t next_block_index = 0;
  std::uint64_t consensus_total = 0;  // consensus events ever processed (kept across compaction)

  // ---- compaction (hashgraph_compact.cpp) ----
  // The Frames of the last processed rounds (at most options.kept_frames), each with the index of
  // the next block after its round: the possible bases of compact().
  struct KeptFrame {
    Frame frame;
    std::uint64_t next_block = 0;
  };
  std::deque<KeptFrame> kept_frames;
  // While compact() replays the events of processed rounds: processing writes nothing (no store
  // writes, no new blocks), it only rebuilds the in-memory state up to this round.
  std::int64_t replay_until = -1;
  // A restart replaying stored rounds (Hashgraph::replay_stored_rounds): each rebuilt Frame is
  // compared with the stored one, and the first round that differs is kept here.
  bool replay_check_store = false;
  std::optional<std::int64_t> replay_mismatch;
  // Processing stops after this round while a restart tries an older Frame (finish_replay() lifts it).
  std::int64_t process_cap = std::numeric_limits<std::int64_t>::max();
  std::uint32_t base_events = 0;  // ids below this came with the Frame of a reset (or compact())
  // Peer-set changes (Hashgraph::apply_receipts): the round whose Block carries internal
  // transactions and waits for the application's receipts; no later round is processed until then.
  std::optional<std::int64_t> awaiting;

  // ---- helpers ----
  const PsView& ps_at(std::int64_t r) const;
  RoundInfo& round_info(std::int64_t r);  // creates rounds up to r
  // An existing round (r in [round_base, last created], or a low round): no creation.
  RoundInfo& rnd(std::int64_t r) {
    return r >= round_base ? rounds[static_cast<std::size_t>(r - round_base)] : low_rounds.at(r);
  }
  const RoundInfo& rnd(std::int64_t r) const { return const_cast<Impl*>(this)->rnd(r); }
  const RoundInfo* find_round(std::int64_t r) const;  // nullptr when the graph has no such round
  bool sees(std::uint32_t x, std::uint32_t y) const {  // x is a descendant of (or is) y
    return la[std::size_t(x) * C + slot[y]] >= idx[y];
  }
  bool strongly_sees(std::uint32_t x, std::uint32_t y, const PsView& ps) const;
  const std::vector<std::uint32_t>& strongly_seen_witnesses(std::uint32_t y);
  bool coin(std::uint32_t y) const;

  // hashgraph_insert.cpp
  InsertResult check(const Event& e, bool preverified, std::int32_t& sp_id, std::int32_t& op_id) const;
  bool promotion_certain(const Event& e, std::uint32_t s, std::int32_t sp_id, std::int32_t op_id, std::int32_t pr) const;
  // Gives the event its id and coordinates (lastAncestors, firstDescendants); returns the id.
  std::uint32_t push_event(EventPtr e, std::int32_t sp_id, std::int32_t op_id);
  // `position`: where the event is in the store's insertion order; kNoPos: write it to the store now.
  // `known_round`: the round this event has in a graph that could compute it (compacted(): the
  // graph being rebuilt, for an event whose parents are older than the new base allows).
  void add(EventPtr e, std::int32_t sp_id, std::int32_t op_id, std::uint64_t position = kNoPos,
           std::optional<std::int32_t> known_round = std::nullopt);
  // The store position from which a restart from the Frame of round r must re-insert events.
  std::uint64_t resume_position(std::int64_t r) const;

  // hashgraph_reset.cpp: the events of a Frame and its Roots, with the values the Frame carries.
  // `verify`: check the events' signatures (false for compact(), whose events were checked on insert).
  std::string reset_from(const Frame& f, std::uint64_t next_block, bool verify = true);

  // hashgraph_consensus.cpp
  void consensus_pass();  // the body of run_consensus()
  void decide_fame();
  void vote_on_round(RoundInfo& R, std::int64_t r, std::int64_t j, std::uint32_t y);
  void decide_round_received();
  void process_decided_rounds();

  // hashgraph_frames.cpp
  Frame build_frame(std::int64_t r) const;
  Root build_root(std::uint32_t creator_slot, std::int32_t head) const;
  void make_block(const Frame& f);
  static bool has_block_payload(const Frame& f);  // make_block makes a block of it
  void keep_frame(Frame f);                        // into kept_frames, trimmed to options.kept_frames

  // hashgraph_compact.cpp: the graph rebuilt from the kept Frame of round `base`, with every event
  // not received by `base` replayed into it; nullptr (and the reason) when some cannot be.
  // `schedule_override`: rebuild with this schedule instead of the current one (apply_receipts).
  std::unique_ptr<Impl> compacted(const KeptFrame& base, std::string* why,
                                  const PeerSchedule* schedule_override = nullptr) const;
};

}  // namespace chatter
