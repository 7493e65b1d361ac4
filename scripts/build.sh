#!/usr/bin/env bash
# Installs missing packages, configures build/ (release, no downloads: the system packages are used and
# the subprojects/ wraps are only a fallback), and builds everything. JOBS overrides the parallelism.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh

if [[ -f build/meson-private/coredata.dat ]]; then
  meson setup --reconfigure build --wrap-mode=nodownload --buildtype=release
else
  meson setup build --wrap-mode=nodownload --buildtype=release
fi
ninja -C build -j"${JOBS:-2}"
