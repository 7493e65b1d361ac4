#!/usr/bin/env bash
# Embedding (issue 9, "Embedding" and examples/embed/): installs the already-built tree into a temporary
# prefix (meson install --no-rebuild --destdir), then checks what an application outside this repository
# gets from it:
#   1. chatter.pc: Cflags -I${includedir}/chatter, the static libraries and libsodium, lmdb in Requires;
#   2. every installed header compiles alone with only the installed include/chatter on the path;
#   3. examples/embed builds against it through pkg-config (its own meson project);
#   4. a 3-node network of that example (keys from `chatter keygen`, peers.json written here, loopback
#      ports) commits every node's transfers: all three print the same state hash and balances, the
#      engine's state hash equals the ledger's, and the total of the balances is conserved;
#   5. a parent meson project with chatter as a subproject gets it from dependency('chatter').
# Needs CHATTER_EXE, CHATTER_SOURCE_ROOT and CHATTER_BUILD_ROOT (meson test sets them). Bounded: each
# node gives up after 60 s; every process it started is killed on exit.
set -euo pipefail

: "${CHATTER_EXE:?}" "${CHATTER_SOURCE_ROOT:?}" "${CHATTER_BUILD_ROOT:?}"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/chatter-embed-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
start=$(date +%s.%N)
elapsed() { date +%s.%N | awk -v s="$start" '{printf "%.1f", $1 - s}'; }

# 1. Install and point the generated chatter.pc at the temporary prefix.
meson install -C "$CHATTER_BUILD_ROOT" --no-rebuild --destdir "$scratch/dest" --quiet >"$scratch/install.log" 2>&1 ||
  { cat "$scratch/install.log" >&2; fail "meson install"; }
pc=$(find "$scratch/dest" -name chatter.pc)
[[ -n "$pc" ]] || fail "no chatter.pc installed"
prefix=$(sed -n 's/^prefix=//p' "$pc")
sed -i "s|^prefix=.*|prefix=$scratch/dest$prefix|" "$pc"
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
includedir=$scratch/dest$prefix/include/chatter
[[ -f "$includedir/embed/embed.h" ]] || fail "embed/embed.h is not installed under include/chatter"
cflags=$(pkg-config --cflags chatter)
libs=$(pkg-config --libs chatter)
[[ " $cflags " == *" -I$includedir "* ]] || fail "Cflags '$cflags' lack -I$includedir"
for l in -lchatter_embed -lchatter_net -lchatter_app_proxy -lchatter_store -lchatter_engine -lsodium -llmdb; do
  [[ " $libs " == *" $l "* ]] || fail "Libs '$libs' lack $l"
done
for lib in embed net app_proxy store engine; do
  a=$(find "$scratch/dest" -name "libchatter_$lib.a")
  [[ -n "$a" ]] || fail "libchatter_$lib.a is not installed"
  [[ $(head -c 7 "$a") == '!<arch>' ]] || fail "$a is a thin archive (its members stay in the build tree)"
done

# 2. Each installed header alone, with only include/chatter (no source tree, no Boost flags).
find "$includedir" -name '*.h' | sort >"$scratch/headers"
count=$(wc -l <"$scratch/headers")
# shellcheck disable=SC2016 # expanded by the inner bash
(cd "$scratch" && xargs -P2 -I{} bash -c 'rel=${1#"$2/"}
  echo "#include \"$rel\"" | c++ -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror $3 -x c++ - ||
  { echo "installed header $rel does not compile alone" >&2; exit 255; }' _ {} "$includedir" "$cflags" <"$scratch/headers") ||
  fail "an installed header does not compile alone"
((count >= 10)) || fail "only $count headers installed"
echo "headers: $count compile alone against $includedir ($(elapsed) s)" >&2

# 3. The example, as its own meson project.
meson setup "$scratch/example" "$CHATTER_SOURCE_ROOT/examples/embed" >"$scratch/setup.log" 2>&1 ||
  { cat "$scratch/setup.log" >&2; fail "meson setup examples/embed"; }
ninja -C "$scratch/example" -j2 >"$scratch/build.log" 2>&1 || { cat "$scratch/build.log" >&2; fail "building examples/embed"; }
bank=$scratch/example/bank-node
echo "example built ($(elapsed) s)" >&2

# 4. Three validators on free loopback ports.
read -r -a ports < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')
entries=()
for i in 0 1 2; do
  "$CHATTER_EXE" keygen --datadir "$scratch/n$i" >/dev/null
  entries+=("{\"NetAddr\": \"127.0.0.1:${ports[$i]}\", \"PubKeyHex\": \"$(cat "$scratch/n$i/key.pub")\", \"Moniker\": \"bank$i\"}")
done
peers="[${entries[0]}, ${entries[1]}, ${entries[2]}]"
transfers=40
for i in 0 1 2; do
  echo "$peers" >"$scratch/n$i/peers.json"
  "$bank" --datadir "$scratch/n$i" --transfers $transfers --seed $((i + 1)) --expect $((3 * transfers)) \
    --timeout-s 60 --linger-s 3 >"$scratch/n$i/out.json" 2>"$scratch/n$i/log" &
  pids+=($!)
done
for i in 0 1 2; do
  wait "${pids[$i]}" || { cat "$scratch/n$i/log" >&2; fail "bank-node $i exited with status $?"; }
done
pids=()
echo "network done ($(elapsed) s)" >&2

python3 - "$scratch" $((3 * transfers)) <<'PY' || fail "the three ledgers disagree"
import json, sys
scratch, expected = sys.argv[1], int(sys.argv[2])
outs = [json.load(open(f"{scratch}/n{i}/out.json")) for i in range(3)]
for o in outs:
    print(json.dumps(o), file=sys.stderr)
    assert o["applied"] + o["rejected"] == expected, o
    assert o["applied"] > 0, o
    assert o["total"] == 4 * 1000 == sum(o["balances"].values()), o
    assert o["node_state_hash"] == o["state_hash"], o
    assert o["restored_hash"] == o["state_hash"], o  # snapshot -> restore reproduces the state
    assert o["last_block"] >= 0, o
for key in ("state_hash", "balances", "last_block", "applied", "rejected"):
    assert len({json.dumps(o[key], sort_keys=True) for o in outs}) == 1, key
PY
# 5. A parent meson project with chatter as a subproject finds it through override_dependency (configure
#    only: building chatter a second time is what the rest of this test avoids).
mkdir -p "$scratch/parent/subprojects"
ln -s "$CHATTER_SOURCE_ROOT" "$scratch/parent/subprojects/chatter"
printf '%s\n' "project('parent', 'cpp', default_options : ['cpp_std=c++20'])" \
  "executable('app', 'app.cpp', dependencies : dependency('chatter', fallback : ['chatter']))" >"$scratch/parent/meson.build"
printf '%s\n' '#include "embed/embed.h"' 'int main() { return 0; }' >"$scratch/parent/app.cpp"
env -u PKG_CONFIG_PATH meson setup "$scratch/parent/build" "$scratch/parent" --wrap-mode=nodownload \
  --force-fallback-for=chatter >"$scratch/parent.log" 2>&1 ||
  { cat "$scratch/parent.log" >&2; fail "a parent project cannot use chatter as a subproject"; }
grep -q "Dependency chatter found: YES .* (overridden)" "$scratch/parent.log" ||
  { cat "$scratch/parent.log" >&2; fail "dependency('chatter') did not come from the subproject"; }

echo "embed: 3 bank-node processes agree; total $(elapsed) s" >&2
echo "OK"
