#!/usr/bin/env bash
# Builds chatter, then shows it working:
#   1. a local testnet: 4 `chatter run` processes on loopback gossiping over TCP, each hosting the
#      key-value example app, under a paced load, plus a 5th validator that starts only at half the
#      duration with --fast-sync: it fast-forwards (verified block, frame and app snapshot from the
#      peer furthest ahead) instead of replaying history, then commits the same blocks as the others.
#      Live progress on stderr, then the JSON summary (blocks and state hashes equal on every node,
#      throughput, commit latency, the late node's catch-up time and bytes);
#   2. consensus on a hand-written graph: `chatter replay --explain` on a 3-creator example.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/build.sh

echo
echo "=== chatter testnet --nodes 4 --late 1 --duration 10 --tx-rate 5000 --tx-size 100"
echo
build/cmd/chatter testnet --nodes 4 --late 1 --duration 10 --tx-rate 5000 --tx-size 100

graph=examples/graphs/example-3-creators.json
echo
echo "=== chatter replay --explain $graph"
echo
build/cmd/chatter replay --explain "$graph"
