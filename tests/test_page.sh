#!/usr/bin/env bash
# The graph page (GET /, net/page_assets.h) in a real browser: headless Chromium (Debian's `chromium`,
# installed here when missing) opens the page of a running 3-node `chatter testnet` and the test
# checks, from the DOM after the page's JS ran, that events were drawn (data-events > 0), that the
# page polls by itself (data-updates >= 2 within one load) and that a second load a few seconds
# later shows more events (data-event-count grew); then it saves a screenshot (the test artifact,
# argument 1, under build/). Exit 77 (meson: SKIP) with a reason when Chromium cannot be had.
# Usage: test_page.sh SCREENSHOT.png   (CHATTER_EXE names the chatter executable)
set -euo pipefail

shot=${1:?usage: test_page.sh SCREENSHOT.png}
exe=${CHATTER_EXE:?CHATTER_EXE must name the chatter executable}

fail() { echo "FAIL: $*" >&2; exit 1; }

browser=$(command -v chromium || true)
if [[ -z "$browser" ]]; then
  echo "page: chromium is missing: installing Debian's chromium package" >&2
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n); else sudo=(false); fi
  fi
  if "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=300 >&2 &&
     "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
       -o DPkg::Lock::Timeout=300 chromium >&2; then
    browser=$(command -v chromium || true)
  fi
  if [[ -z "$browser" ]]; then
    echo "SKIP: chromium is not installed and could not be installed (no network or no root?);" \
         "the graph page was NOT tested in a browser" >&2
    exit 77
  fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/chatter-page-XXXXXX")
testnet_pid=""
cleanup() {
  if [[ -n "$testnet_pid" ]] && kill -0 "$testnet_pid" 2>/dev/null; then
    kill -TERM -- "-$testnet_pid" 2>/dev/null || true  # its own process group (setsid below)
    sleep 1
    kill -KILL -- "-$testnet_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# A fresh profile per run; everything that would reach outside turned off.
chrome() {
  local profile
  profile=$(mktemp -d "$work/profile-XXXXXX")
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-extensions \
    --user-data-dir="$profile" --window-size=1400,900 --hide-scrollbars "$@" 2>>"$work/chromium.log"
}
attr() { grep -o "$1=\"[^\"]*\"" | head -1 | sed 's/.*="\(.*\)"/\1/'; }

setsid "$exe" testnet --nodes 3 --duration 40 --tx-rate 150 --dir "$work/net" >"$work/summary.json" \
  2>"$work/testnet.log" &
testnet_pid=$!

url=""
for _ in $(seq 1 120); do
  url=$(grep -o 'page http://127\.0\.0\.1:[0-9]*/' "$work/testnet.log" | head -1 | sed 's/^page //' || true)
  [[ -n "$url" ]] && grep -q "accept transactions" "$work/testnet.log" && break
  kill -0 "$testnet_pid" 2>/dev/null || fail "testnet ended early: $(cat "$work/testnet.log")"
  sleep 0.5
done
[[ -n "$url" ]] || fail "testnet printed no page address: $(cat "$work/testnet.log")"
echo "page: $url" >&2

# First load: events drawn (retry while the network warms up).
events=0
for _ in $(seq 1 10); do
  dom=$(chrome --virtual-time-budget=4000 --dump-dom "$url" || true)
  events=$(attr data-events <<<"$dom")
  [[ "${events:-0}" -gt 0 ]] && break
  sleep 1
done
[[ "${events:-0}" -gt 0 ]] || fail "no events drawn: $(grep -o '<body[^>]*>' <<<"$dom" || echo "$dom" | head -c 500)"
count1=$(attr data-event-count <<<"$dom")
updates=$(attr data-updates <<<"$dom")
echo "page: first load: $(grep -o '<body[^>]*>' <<<"$dom")" >&2
[[ "$(attr data-error <<<"$dom")" == "" ]] || fail "the page reports an error: $(attr data-error <<<"$dom")"
[[ "$updates" -ge 2 ]] || fail "the page did not poll again by itself (data-updates=$updates)"
[[ "$(attr data-state <<<"$dom")" == "Babbling" ]] || fail "state is not Babbling"
[[ "$(attr data-witnesses <<<"$dom")" -gt 0 ]] || fail "no witness marked"

# Second load a few seconds later: the graph moved on.
sleep 3
dom2=$(chrome --virtual-time-budget=4000 --dump-dom "$url" || true)
count2=$(attr data-event-count <<<"$dom2")
echo "page: second load: $(grep -o '<body[^>]*>' <<<"$dom2")" >&2
[[ "$(attr data-events <<<"$dom2")" -gt 0 ]] || fail "no events drawn on the second load"
[[ "${count2:-0}" -gt "${count1:-0}" ]] || fail "events did not update ($count1 then $count2)"
[[ "$(attr data-committed <<<"$dom2")" -gt 0 ]] || fail "no event coloured by a committed block"

# The artifact.
mkdir -p "$(dirname "$shot")"
rm -f "$shot"
chrome --virtual-time-budget=4000 --screenshot="$shot" "$url" >/dev/null || true
[[ -s "$shot" ]] || fail "no screenshot written to $shot"
[[ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" == "89504e470d0a1a0a" ]] || fail "$shot is not a PNG"
echo "page: screenshot $shot ($(stat -c %s "$shot") bytes)" >&2

# The testnet itself ends on its own and must have held.
set +e
wait "$testnet_pid"
status=$?
set -e
testnet_pid=""
[[ $status -eq 0 ]] || fail "testnet exited $status: $(tail -5 "$work/testnet.log")"
echo "PASS: the graph page draws events that update, in headless Chromium (screenshot: $shot)"
