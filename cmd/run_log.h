// What `chatter run` logs about its node (cmd/log.h format), from what the node's stats and the
// transport's counters say (the engine itself never logs): each fact once, never a line per
// transaction or event at info.
//   node     info  msg=state (state or catch-up status changed), msg=progress (every 5 s)
//            debug msg=block (each block committed: index, transactions)
//   fastsync info  msg=fast-forwarded; warn msg=fast-forward-refused (reason label and text)
//   gossip   warn  msg=syncs-unanswered, msg=events-refused (counts since the last check, each second)
//   app      warn  msg=app-error (commit, snapshot or restore failed; the last error)
#pragma once

#include "cmd/log.h"
#include "engine/node.h"
#include "net/runtime.h"

namespace chatter::cmd {

class NodeLog {
 public:
  NodeLog(const Log& log, const NodeStats& initial) : log_(log), last_(initial) {}

  // Called every second: logs what changed since the last call.
  void changes(const NodeStats& s, const TransportStats& t);
  // One progress line (node, info).
  void progress(const NodeStats& s, const TransportStats& t) const;
  // After every node call (Runtime::Options::on_progress), on the node's thread: with node=debug,
  // one line per newly committed block; costs nothing otherwise.
  void blocks(const Node& n);

 private:
  const Log& log_;
  NodeStats last_;
  std::optional<std::uint64_t> last_block_;
};

}  // namespace chatter::cmd
