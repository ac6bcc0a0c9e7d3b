#!/usr/bin/env bash
# Installs what is missing, builds, and starts the Ward agent (wardd) in the
# foreground on its built-in defaults. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
if [ "$(id -u)" -ne 0 ]; then
  echo "run: wardd needs root" >&2
  exit 1
fi
exec ./build/bin/wardd "$@"
