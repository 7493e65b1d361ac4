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

python3 scripts/summarize_tests.py build "$meson_status"
