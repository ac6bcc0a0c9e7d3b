#!/usr/bin/env bash
# Runs every Ward test on a fresh Debian 12 machine: installs what is missing,
# builds, then runs the unit tests (no root needed) and the end-to-end tests
# (root, real kernel). Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh

# End-to-end tests load BPF programs and run `ward log`; they clean up after
# themselves, and this makes sure of it even when one is killed.
cleanup() {
  pkill -INT -x ward 2>/dev/null || true
  pkill -INT -x wardd 2>/dev/null || true
  sleep 0.5
  pkill -KILL -x ward 2>/dev/null || true
  pkill -KILL -x wardd 2>/dev/null || true
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
  echo "test: not root: running the unit tests only" >&2
  ctest --test-dir build --output-on-failure -L unit
else
  ctest --test-dir build --output-on-failure -L unit -j2
  ctest --test-dir build --output-on-failure -L e2e --timeout 900
fi
