#!/usr/bin/env bash
# Builds (scripts/build.sh), runs every test executable through `meson test`, and prints the doctest
# totals. The last line is always `N passed, N failed`: doctest test cases summed over the executables.
# A test executable that fails without a doctest summary (a crash, a timeout) counts as one failed case.
# A skipped test (exit 77, e.g. the browser test without chromium) counts neither way and is named as SKIPPED.
# Exit status is non-zero when anything failed, the build failed, or no test ran.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! bash scripts/build.sh; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

rm -f build/meson-logs/testlog.json
set +e
meson test -C build --print-errorlogs
meson_status=$?
set -e

python3 - "$meson_status" <<'PY'
import json, re, sys

meson_status = int(sys.argv[1])
summary = re.compile(r"\[doctest\] test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed\s*\|\s*(\d+) skipped")
passed = failed = 0
executables = 0
try:
    with open("build/meson-logs/testlog.json", encoding="utf-8", errors="replace") as log:
        lines = [line for line in log if line.strip()]
except OSError:
    lines = []
print()
for line in lines:
    test = json.loads(line)
    executables += 1
    name, result = test.get("name", "?"), test.get("result", "?")
    found = summary.findall(test.get("stdout") or "")
    if found:
        _, p, f, _ = (int(x) for x in found[-1])
        # A failure after the summary line (crash at exit, timeout) still counts.
        if result != "OK" and f == 0:
            f = 1
    elif result == "SKIP":
        p, f = 0, 0  # said so below and in meson's log (e.g. the browser test without chromium)
    else:
        p, f = (1, 0) if result == "OK" else (0, 1)
    passed += p
    failed += f
    print(f"{name}: {p} passed, {f} failed ({result})" + (": SKIPPED, see its log" if result == "SKIP" else ""))
if executables == 0 or (meson_status != 0 and failed == 0):
    failed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
