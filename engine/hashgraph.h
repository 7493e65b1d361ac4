// The hashgraph: insertion with typed refusals, coordinates, rounds, witnesses, Lamport timestamps,
// fame (virtual voting), round received, consensus order, Frames and Blocks, exactly as in
// spec/consensus.md.
//
// Cost model: per inserted event the work is O(n) amortised for coordinates plus O(W*n) for the
// round (W = witnesses of the parent round), independent of history length. Consensus passes run
// only when something they depend on changed (a new witness, a newly decided round), and touch
// only pending rounds and undetermined events.
//
// Determinism: results depend only on the graph and the peer-set schedule (and, where the spec says
// hash-dependent, on hashes and signatures). Inserting the same events in any valid topological
// order and running consensus once gives identical results; running it after every insertion gives
// identical results except that a witness inserted after its round was decided stays undecided.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/block.h"
#include "engine/event.h"
#include "engine/frame.h"
#include "engine/peer.h"
#include "engine/store.h"

namespace chatter {

enum class InsertError {
  kNone = 0,
  kBadSignature,        // signature does not verify against the creator key and the body hash
  kUnknownCreator,      // creator in no peer set of the schedule
  kSelfParentNotLast,   // self-parent missing, unknown, or not the creator's last event (forks)
  kBadIndex,            // index is not self-parent's index + 1 (or not 0 without self-parent)
  kUnknownOtherParent,  // other-parent hash not in the graph
  kDuplicate,           // already inserted
  kMalformed,           // structurally invalid (for example a wire event naming an unknown peer id)
  // After a reset (or compaction) from the Frame of round F: the event's parents have a round below
  // F - 1, so its round cannot be computed from what the graph holds (the witnesses of those rounds
  // were received before F and are not in the Frame). Not an error of the sender: like a parent
  // below the base, the node fetches the ancestry (an older stored Frame) or re-synchronises.
  kParentRoundBelowBase,
};
const char* to_string(InsertError e);

struct InsertResult {
  InsertError error = InsertError::kNone;
  std::string detail;  // human-readable reason, for logs and replay's error line
  std::int64_t parent_round = -1;  // with kParentRoundBelowBase: the round of the event's parents
  bool ok() const { return error == InsertError::kNone; }
};

// How coin rounds flip (spec: hash-dependent middle bit of the voter's signature; replay may force).
enum class CoinMode { kSignature, kTrue, kFalse };

// The coin of a voter's signature: the middle bit of the 512-bit signature, i.e. bit 256 counting
// from the most significant bit of byte 0 (the most significant bit of byte 32).
bool signature_middle_bit(const Signature& s);

// What consensus knows about one event.
struct EventInfo {
  std::int64_t round = 0;
  std::int64_t lamport = 0;
  bool witness = false;
  std::optional<bool> famous;                 // witnesses only; nullopt while undecided
  std::optional<std::int64_t> round_received; // nullopt while undetermined
  std::uint64_t index = 0;
  PublicKey creator;
};

class Hashgraph {
 public:
  struct Options {
    CoinMode coin = CoinMode::kSignature;
    // Frames of the last processed rounds kept in memory as possible bases of compact() (1: the
    // last processed round's only; compact(keep_rounds) needs keep_rounds + 1).
    std::size_t kept_frames = 1;
    // Optional signature check of inserted events, used in place of Event::verify() when set. It must
    // return exactly what Event::verify() returns (a host running many nodes in one process, the
    // simulator, passes a cache shared by its nodes so that each event is verified once, not once per
    // node). Frames (from_frame) are still checked with Event::verify().
    std::function<bool(const Event&)> verify_event = nullptr;
  };

  // `schedule` must not be empty. `store` must outlive the hashgraph; every accepted event, frame,
  // block and the consensus order are written to it.
  Hashgraph(PeerSchedule schedule, Store& store, Options options);
  Hashgraph(PeerSchedule schedule, Store& store) : Hashgraph(std::move(schedule), store, Options{}) {}
  ~Hashgraph();

  // A graph reset from a Frame (spec, "Frames and roots"), for fast-forward and restart: it holds
  // the Frame's events and its Roots with the round, Lamport timestamp and witness flag the Frame
  // carries, treats every round up to frame.round as decided and processed, and accepts new events
  // whose parents are among them (an event whose parent lies below them is refused with
  // kSelfParentNotLast / kUnknownOtherParent like any unknown parent; standing() tells it apart, and
  // the node handles it: node_below_frame.cpp; one whose parents are of a round below
  // frame.round - 1 is refused with kParentRoundBelowBase unless its promotion is certain, since
  // its round depends on witnesses received before the Frame). The next Block created gets
  // `next_block_index`. The Frame's schedule becomes the graph's. Returns nullptr with a reason in
  // *error when the Frame is inconsistent (unknown creators, broken self-chains, bad signatures,
  // values contradicting the parents). The Frame's events are not written to the store (the caller
  // persists them when it switches over); events inserted later are, as always.
  static std::unique_ptr<Hashgraph> from_frame(const Frame& frame, std::uint64_t next_block_index, Store& store,
                                               Options options, std::string* error);
  Hashgraph(const Hashgraph&) = delete;
  Hashgraph& operator=(const Hashgraph&) = delete;

  // Checks and inserts one event, computing its coordinates, round, witness flag and Lamport
  // timestamp. With `preverified` the signature check is skipped (the caller checked it). A refused
  // event changes nothing.
  InsertResult insert(EventPtr e, bool preverified = false);
  InsertResult insert(const Event& e, bool preverified = false) {
    return insert(std::make_shared<const Event>(e), preverified);
  }

  // For restart: inserts an event read back from the store at `position` of its insertion order
  // (Store::events_from), without writing it again and without checking its signature (it was
  // checked when first inserted). Refusals as insert().
  InsertResult insert_stored(EventPtr e, std::uint64_t position);
  // The store metadata key under which processing round r records (u64 LE) the position of the
  // store's insertion order from which a restart from r's Frame must re-insert events: every event
  // received after r, or not yet, is at or after it.
  static std::string resume_key(std::int64_t round);

  // Compaction (bounded memory for long histories). Rebuilds this graph from the kept Frame of round
  // b = (last processed round - keep_rounds) (or the newest kept Frame below it) as a reset from
  // that Frame would (from_frame), then replays into it, in their insertion order and keeping their
  // store positions, every event of this graph not received by round b; nothing is written to the
  // store again (blocks, Frames and consensus events of the rounds after b that were processed
  // already are rebuilt in memory only). Consensus passes are re-run at the points where this
  // graph decided rounds, so a witness that arrived after its round was decided stays undecided and
  // the results (round received, order, Frames, Blocks) continue exactly as without compaction.
  //
  // What is gone afterwards: every event received in round b or before that is neither in b's
  // Frame nor in its Roots. Queries about them answer as for unknown events (contains() false,
  // info() nullopt, event_at() nullopt); events_beyond() serves older events a peer lacks from the store
  // (Store::position_of), so a peer far behind can still catch up by gossip; consensus_events()
  // restarts with b's Frame (consensus_event_count() keeps counting all); event_count() counts the
  // held events. A new event whose parent is gone is refused like an event with an unknown parent
  // (as after a reset from a Frame). Events not yet taken with take_new_blocks() stay.
  //
  // Returns false and changes nothing when there is nothing to drop, when no Frame is kept for a
  // round <= b that is above the current base, or when an event to replay has a parent below the
  // new base (the reason in *why when given); compaction can then be tried again later.
  bool compact(std::int64_t keep_rounds = 0, std::string* why = nullptr);

  // For a restart from a Frame older than the last processed round (Node bootstrap, when a stored
  // event above the newest Frame has a parent below it): the rounds up to `round` were processed
  // before, and the store holds their Frames, Blocks and consensus order. Processing them again
  // rebuilds the in-memory state only (nothing is written, no Block is returned, the block index
  // advances as before), and each rebuilt Frame is compared with the stored one: replay_mismatch()
  // names the first round whose Frame differs (or is not stored). Call before inserting. Until
  // finish_replay(), run_consensus() processes no round after `round` (so a trial writes nothing).
  void replay_stored_rounds(std::int64_t round);
  void finish_replay();
  std::optional<std::int64_t> replay_mismatch() const;
  // The index the next Block created will get.
  std::uint64_t next_block_index() const;

  // Peer-set changes (spec "Peer sets"; issue 7). A Block whose events carry internal transactions
  // may change the schedule from round_received + 6, and which changes are accepted is the
  // application's answer (its receipts), so after processing such a round the graph processes no
  // later round (fame is still decided) until apply_receipts() is given that Block as committed,
  // receipts filled in. When the receipts change the set (apply_peer_changes), the schedule gets
  // the new entry (also written to the store) and the graph is rebuilt from the Frame of that
  // round, replaying every event not yet received (compact()'s replay), so every round above it has
  // the rounds, witnesses and fame that the new schedule gives, whether this node held events of
  // round_received + 6 or later before it processed the round or not. Also valid right after a
  // reset from that round's Frame (fast-forward, restart), to apply the Block the Frame belongs to.
  // False (nothing changes, reason in *why) when `committed` is not the round waited for / the
  // last processed one.
  bool apply_receipts(const Block& committed, std::string* why = nullptr);
  // The round whose receipts processing waits for (nullopt: none).
  std::optional<std::int64_t> awaiting_receipts() const;

  // Decides fame, round received, and processes decided rounds in order (appending to the consensus
  // order, building Frames and Blocks). Cheap when nothing changed.
  void run_consensus();

  // Blocks created by run_consensus() since the last call, in index order. Their state hash,
  // previous-block hash and receipts are empty: the node fills them at commit.
  std::vector<Block> take_new_blocks();

  // Rebuilds the full body of a wire event from this graph. Refuses with kMalformed (unknown peer
  // id), kSelfParentNotLast (unknown self-parent) or kUnknownOtherParent.
  InsertResult resolve_wire(const WireEvent& w, Event& out) const;

  // Where a wire event that resolve_wire() refused for an unknown parent stands against this
  // graph's base (after a reset or compact(), the graph holds each creator's events from some index
  // on): kBelowBase when the event itself is older than every held event of its creator (it was
  // received by the base's round: not needed, not an error of the sender); kParentBelowBase when it
  // is newer but its other-parent is older than every held event of that parent's creator (a
  // parent below the base: spec "Frames and roots", fetched or re-synchronised by the node); else
  // kUnknown (a parent the graph has never seen, or an unknown creator).
  enum class Standing { kUnknown, kBelowBase, kParentBelowBase };
  Standing standing(const WireEvent& w) const;

  // The compact wire form of an event of this graph (nullopt when unknown).
  std::optional<WireEvent> to_wire(const Hash& h) const;
  // The compact wire form of `e`, an event of this graph or below its base in its store (nullopt
  // when its other-parent is in neither).
  std::optional<WireEvent> to_wire(const Event& e) const;

  // ---- queries ----
  bool contains(const Hash& h) const;
  // ancestor(x, y): x sees y (spec, "Coordinates"). False when either is unknown.
  bool sees(const Hash& x, const Hash& y) const;
  // stronglySee(x, y, PS(ps_round)). False when either is unknown.
  bool strongly_sees(const Hash& x, const Hash& y, std::int64_t ps_round) const;
  EventPtr event(const Hash& h) const;                    // nullptr when unknown
  std::optional<EventInfo> info(const Hash& h) const;
  // The creator's last event hash (nullopt when it has none).
  std::optional<Hash> last_event_of(const PublicKey& creator) const;
  // For each creator slot (order of known_creators()), its highest index, or -1.
  std::vector<std::int64_t> known_indexes() const;
  const std::vector<PublicKey>& known_creators() const;
  // Event of `creator` with `index`, when in the graph.
  std::optional<Hash> event_at(const PublicKey& creator, std::uint64_t index) const;

  std::int64_t last_round() const;                        // -1 when empty
  // The round of the Frame this graph was reset (or compacted) from, -1 for a graph from genesis:
  // it places events whose parents are of round base_round() - 1 or later (kParentRoundBelowBase).
  std::int64_t base_round() const;
  std::vector<Hash> round_witnesses(std::int64_t r) const; // insertion order
  bool round_decided(std::int64_t r) const;
  std::vector<Hash> round_received_events(std::int64_t r) const;  // consensus order once processed
  // Rounds that exist but are not processed yet (undecided, or decided behind an undecided one).
  std::vector<std::int64_t> pending_rounds() const;
  std::optional<std::int64_t> last_consensus_round() const;  // last processed round
  // The consensus order held in memory: since the graph's base (construction, reset or compact()).
  const std::vector<Hash>& consensus_events() const;
  // Consensus events processed since construction or since the Frame of the reset (both included).
  std::uint64_t consensus_event_count() const;
  std::uint64_t event_count() const;  // events held (after compact(): since its base)
  // Round records held in memory: from the base round on, plus the few rounds below it that hold
  // Root events. After compact() or a reset it does not grow with the length of history.
  std::size_t rounds_held() const;
  std::uint64_t undetermined_count() const;
  // Events of `creator` not yet received (after its last consensus event): NodeConfig::suspend_limit.
  std::uint64_t undetermined_of(const PublicKey& creator) const;
  // Undetermined events that carry transactions or internal transactions (blocks still to come).
  std::uint64_t undetermined_payload_count() const;
  // The events this graph holds beyond `known` (for each creator slot of known_creators(), the
  // highest index the other side holds, -1 for none), in insertion order, which is topological:
  // at most `limit` of them; `*more` (when given) says whether some were left out. When the other
  // side lacks events below this graph's base (after compact() or a reset) and the store knows
  // where they are (Store::position_of), they come from the store, in its order, which is
  // topological too: the cost of one call stays O(limit), a scan bounded by 8 * limit + 4096.
  std::vector<EventPtr> events_beyond(const std::vector<std::int64_t>& known, std::size_t limit,
                                      bool* more) const;
  const PeerSchedule& schedule() const;

 private:
  std::vector<EventPtr> events_beyond_from_store(const std::vector<std::int64_t>& known, std::uint64_t start,
                                                 std::size_t limit, bool* more) const;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chatter
