#include "app_proxy/inproc_app_proxy.h"

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

namespace chatter {

namespace {

// Runs f and turns whatever it throws into an AppError: the engine's commit loop catches only
// AppError, so any other exception would escape the node state machine (DESIGN.md, Error policy).
template <typename F>
auto guarded(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const AppError&) {
    throw;
  } catch (const std::exception& e) {
    throw AppError(e.what());
  } catch (...) {
    throw AppError(std::string(what) + " handler threw a non-standard exception");
  }
}

}  // namespace

InprocAppProxy::InprocAppProxy(InprocHandlers handlers) : handlers_(std::move(handlers)) {
  if (!handlers_.commit) throw std::invalid_argument("InprocAppProxy: a commit handler is required");
}

CommitResponse InprocAppProxy::commit_block(const Block& block) {
  return guarded("commit", [&] { return handlers_.commit(block); });
}

Bytes InprocAppProxy::get_snapshot(std::uint64_t block_index) {
  if (!handlers_.snapshot) throw AppError("get_snapshot not supported: no snapshot handler");
  return guarded("snapshot", [&] { return handlers_.snapshot(block_index); });
}

Bytes InprocAppProxy::restore(const Bytes& snapshot) {
  if (!handlers_.restore) throw AppError("restore not supported: no restore handler");
  return guarded("restore", [&] { return handlers_.restore(snapshot); });
}

void InprocAppProxy::on_state_changed(NodeState state) {
  if (!handlers_.state_changed) return;
  guarded("state change", [&] { handlers_.state_changed(state); });
}

}  // namespace chatter
