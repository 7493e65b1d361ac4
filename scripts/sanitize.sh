#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer: builds build-asan/ (g++,
# -O1 -g, -fno-omit-frame-pointer, every UBSan finding fatal, asserts on), runs every test executable
# through `meson test` (the e2e tests start the sanitized `chatter` too), and prints the doctest totals
# like scripts/test.sh: the last line is always `N passed, N failed`. Exit status is non-zero when
# anything failed, the build failed, or no test ran. JOBS overrides the build parallelism (default 2).
# Arguments, when given, are meson test names (encoding consensus cmd sim net store http embed-api
# membership):
# only those run; without arguments all of these run. Not run here: `page` (drives Chromium against
# a testnet; the nodes it starts are the same `chatter run` the sanitized e2e tests of cmd and http
# start), `embed` and `docs` (they build a separate example program against the installed
# libraries, which would then need the sanitizer runtimes linked into that program too).
#
# A sanitizer report makes the process exit non-zero (ASan aborts at the first error; UBSan does too
# with -fno-sanitize-recover=all; LeakSanitizer fails the exit status at exit), so the test that ran it
# fails. No test case is skipped under the sanitizers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh

dir=build-asan
options=(--wrap-mode=nodownload -Ddebug=true -Doptimization=1 -Db_ndebug=false -Db_sanitize=address,undefined
         "-Dcpp_args=-fno-omit-frame-pointer -fno-sanitize-recover=all"
         "-Dcpp_link_args=-fno-sanitize-recover=all")
configure() {
  if [[ -f $dir/meson-private/coredata.dat ]]; then
    # --wipe: set up again from these options (asserts on, -O1 -g; no --buildtype, which would reset -O).
    meson setup --wipe "$dir" "${options[@]}"
  else
    meson setup "$dir" "${options[@]}"
  fi
}
# Only what the tests run (the test executables and `chatter`), not the benchmarks.
targets=(cmd/chatter tests/test-encoding tests/test-consensus tests/test-cmd tests/test-sim tests/test-net
         tests/test-store tests/test-http tests/test-embed-api tests/test-membership)
if [[ $# -eq 0 ]]; then set -- encoding consensus cmd sim net store http embed-api membership; fi
if ! configure || ! ninja -C "$dir" -j"${JOBS:-2}" "${targets[@]}"; then
  echo "sanitizer build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# abort_on_error gives a core-style exit (the test fails even where an exit code is ignored);
# detect_leaks stays on. halt_on_error is UBSan's default with -fno-sanitize-recover.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

rm -f "$dir/meson-logs/testlog.json"
set +e
# The sanitized code runs about 2-3 times slower: the per-test timeouts scale with it.
meson test -C "$dir" --no-rebuild --print-errorlogs --timeout-multiplier 3 "$@"
meson_status=$?
set -e

python3 scripts/summarize_tests.py "$dir" "$meson_status"
