#!/usr/bin/env bash
# Fetches Debian's cloud kernel (linux-image-6.1.0-N-cloud-amd64-unsigned, the
# newest ABI the archive offers) with `apt-get download` and unpacks it into a
# cache directory; prints the path of its vmlinuz. Idempotent: an unpacked
# kernel is reused.
#   usage: fetch_kernel.sh [CACHE_DIR]     (default: /var/cache/ward-vm)
set -euo pipefail
cache="${1:-${WARD_VM_CACHE:-/var/cache/ward-vm}}"
mkdir -p "$cache"

# The ABI number is part of the package name and changes with point
# releases: take the newest that apt knows.
pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' |
  awk '{print $1}' | sort -V | tail -n1)
if [ -z "$pkg" ]; then
  # A fresh machine may not have its package lists yet.
  apt-get update -qq >/dev/null 2>&1 || true
  pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' |
    awk '{print $1}' | sort -V | tail -n1)
fi
if [ -z "$pkg" ]; then
  echo "fetch_kernel: no linux-image-6.1.0-*-cloud-amd64-unsigned package in apt's lists" >&2
  exit 1
fi
release=${pkg#linux-image-}
release=${release%-unsigned}
dir="$cache/$pkg"
vmlinuz="$dir/boot/vmlinuz-$release"
if [ ! -s "$vmlinuz" ]; then
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download -qq "$pkg" >&2)
  dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/root"
  rm -rf "$dir"
  mv "$tmp/root" "$dir"
fi
echo "$vmlinuz"
