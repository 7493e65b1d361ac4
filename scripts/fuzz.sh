#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang++-14, -fsanitize=fuzzer with AddressSanitizer and
# UndefinedBehaviorSanitizer) in build-fuzz/, then runs each for FUZZ_SECONDS (default 30) on a copy of
# its seed corpus (fuzz/corpus/<target>/; the copy grows, the repository's corpus does not). Prints one
# line per target and, last, `N passed, N failed`: a target that fails to build, crashes, leaks, times
# out or trips a check counts as failed, and its reproducer is kept under build-fuzz/crashes/.
# Installs clang-14 and libclang-rt-14-dev when missing. JOBS overrides the build parallelism.
# Reproduce a crash: build-fuzz/fuzz/fuzz-<target> build-fuzz/crashes/<target>/crash-...
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${FUZZ_SECONDS:-30}
dir=build-fuzz
targets=(wire_frames message_payload event block frame submit_request app_reply replay peers)

bash scripts/deps.sh
missing=()
for p in clang-14 libclang-rt-14-dev; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
  echo "fuzz: installing ${missing[*]}" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=300 >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o DPkg::Lock::Timeout=300 "${missing[@]}" >&2
fi

options=(--wrap-mode=nodownload --buildtype=debugoptimized -Dfuzz=true -Db_sanitize=address,undefined
         -Db_lundef=false "-Dcpp_args=-fno-omit-frame-pointer -fno-sanitize-recover=all")
mkdir -p "$dir"
if [[ -f $dir/meson-private/coredata.dat ]]; then
  setup=(meson setup --reconfigure "$dir" "${options[@]}")
else
  setup=(env CXX=clang++-14 meson setup "$dir" "${options[@]}")
fi
if ! "${setup[@]}" >"$dir/configure.log" 2>&1; then
  tail -20 "$dir/configure.log"
  echo "fuzz: configuring $dir failed"
  echo "0 passed, ${#targets[@]} failed"
  exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0
failed=0
results=()
for t in "${targets[@]}"; do
  exe=fuzz-${t//_/-}
  if ! ninja -C "$dir" -j"${JOBS:-2}" "fuzz/$exe" >"$dir/build-$t.log" 2>&1; then
    tail -30 "$dir/build-$t.log"
    results+=("$exe: failed (does not build, see $dir/build-$t.log)")
    failed=$((failed + 1))
    continue
  fi
  work=$dir/corpus/$t
  crashes=$dir/crashes/$t
  rm -rf "$work"
  mkdir -p "$work" "$crashes"
  cp -r fuzz/corpus/"$t"/. "$work"/
  log=$dir/fuzz-$t.log
  set +e
  # -timeout: one input taking longer than 10 s is a failure (a hang); the outer timeout bounds the run.
  timeout $((seconds + 120)) "$dir/fuzz/$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "$work" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
  if [[ $rc -eq 0 ]]; then
    results+=("$exe: passed (${runs:-?} runs in ${seconds} s, coverage ${cov:-?}, corpus $(ls "$work" | wc -l) inputs)")
    passed=$((passed + 1))
  else
    grep -E 'ERROR|SUMMARY|fuzz check failed|Test unit written' "$log" | head -5 || true
    results+=("$exe: failed (exit $rc, see $log; reproducer in $crashes/)")
    failed=$((failed + 1))
  fi
done

echo
printf '%s\n' "${results[@]}"
echo "$passed passed, $failed failed"
((failed == 0))
