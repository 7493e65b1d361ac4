// The process side of `chatter testnet`: loopback ports, node processes and their logs. POSIX only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace chatter::cmd {

// `n` distinct free loopback TCP ports: each is bound to port 0 (all at once, so the kernel hands out
// distinct ones), read, then closed. Throws std::runtime_error when sockets cannot be made.
std::vector<std::uint16_t> pick_free_ports(std::size_t n);

// True when something accepts TCP connections at 127.0.0.1:port right now.
bool port_accepts(std::uint16_t port);

// One node process.
struct NodeProcess {
  std::size_t index = 0;
  std::string dir;          // DIR/node<i>
  std::uint16_t gossip_port = 0, proxy_port = 0, service_port = 0;  // service: the HTTP service
  pid_t pid = -1;
  bool running = false;
  int status = 0;           // waitpid status once it exited
  bool stopped_by_us = false;  // exited after we sent SIGTERM/SIGKILL
};

// The path of the running executable (/proc/self/exe resolved).
std::string self_executable();

// Starts `exe args...` with stdin from /dev/null and stdout + stderr appended to `log_path`.
// Returns the pid; throws std::runtime_error with a sentence when it cannot start.
pid_t spawn_process(const std::string& exe, const std::vector<std::string>& args, const std::string& log_path);

// Non-blocking: if the process exited, records its status, clears `running` and returns true.
bool reap_if_exited(NodeProcess& p);

// Sends SIGTERM to every running node, waits up to `grace`, then SIGKILLs those still running and
// reaps them.
void stop_nodes(std::vector<NodeProcess>& nodes, std::chrono::milliseconds grace);

// "exit status N" / "killed by signal N".
std::string describe_status(int status);

// The last `lines` lines of a text file ("" when unreadable).
std::string tail_file(const std::string& path, std::size_t lines);

}  // namespace chatter::cmd
