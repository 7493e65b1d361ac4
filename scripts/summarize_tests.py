#!/usr/bin/env python3
"""Sums the doctest totals of one `meson test` run (scripts/test.sh, scripts/sanitize.sh).

Usage: summarize_tests.py BUILD_DIR MESON_STATUS

Reads BUILD_DIR/meson-logs/testlog.json (one JSON object per test executable), prints one line per
executable and, last, `N passed, N failed`: doctest test cases summed over the executables. An
executable that fails without a doctest summary (a crash, a timeout) counts as one failed case; so
does a failure after its summary line, or a failing meson run that counted no failure; a skipped
test (exit 77) counts as neither and is named as skipped. Exit status 1
when anything failed or no test ran.
"""
import json
import re
import sys

build_dir, meson_status = sys.argv[1], int(sys.argv[2])
summary = re.compile(r"\[doctest\] test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed\s*\|\s*(\d+) skipped")
passed = failed = 0
executables = 0
try:
    with open(f"{build_dir}/meson-logs/testlog.json", encoding="utf-8", errors="replace") as log:
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
