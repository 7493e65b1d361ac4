#!/usr/bin/env bash
# Installs the Debian 12 packages chatter builds and tests with (shared/TOOLCHAIN.md), non-interactively.
# When every package is already installed it does not touch apt at all: fast, and works offline.
# Never libboost-dev / libboost-all-dev: they bring Boost 1.74, which conflicts with libboost1.81-dev and
# breaks Asio under C++20.
set -euo pipefail

packages=(meson ninja-build pkg-config cmake g++ libsodium-dev libboost1.81-dev liblmdb-dev libcereal-dev
          doctest-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev python3)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "deps: dpkg-query not found; install by hand: ${packages[*]}" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "deps: all ${#packages[@]} packages already installed" >&2
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
echo "deps: installing ${missing[*]}" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=300 >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  -o DPkg::Lock::Timeout=300 "${missing[@]}" >&2
