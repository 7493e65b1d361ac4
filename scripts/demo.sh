#!/usr/bin/env bash
# Builds chatter, then shows it working:
#   1. a local testnet: 4 `chatter run` processes on loopback gossiping over TCP, each hosting the
#      key-value example app, under a paced load; live progress on stderr, then the JSON summary
#      (blocks and state hashes equal on every node, throughput, commit latency);
#   2. consensus on a hand-written graph: `chatter replay --explain` on a 3-creator example.
# (The late node that fast-forwards joins this demo with the FastSync issue.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/build.sh

echo
echo "=== chatter testnet --nodes 4 --duration 10 --tx-rate 5000 --tx-size 100"
echo
build/cmd/chatter testnet --nodes 4 --duration 10 --tx-rate 5000 --tx-size 100

graph=examples/graphs/example-3-creators.json
echo
echo "=== chatter replay --explain $graph"
echo
build/cmd/chatter replay --explain "$graph"
