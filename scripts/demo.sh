#!/usr/bin/env bash
# Builds chatter, then replays a hand-written 3-creator graph with the real engine and shows the result:
# first the readable summary (--explain), then the blocks of the JSON document.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/build.sh

graph=examples/graphs/example-3-creators.json
echo
echo "=== chatter replay --explain $graph"
echo
build/cmd/chatter replay --explain "$graph"
echo
echo "=== the blocks of 'chatter replay $graph' (JSON; one field a line)"
echo
build/cmd/chatter replay "$graph" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
for block in doc["blocks"]:
    print("{")
    fields = list(block.items())
    for i, (key, value) in enumerate(fields):
        comma = "," if i + 1 < len(fields) else ""
        print("  %s: %s%s" % (json.dumps(key), json.dumps(value), comma))
    print("}")
'
