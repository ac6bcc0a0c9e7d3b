#!/usr/bin/env bash
# Builds an uncompressed initramfs (newc cpio) for Ward's VM tests: static
# busybox as the userland, the given binaries (debug info stripped) under
# /ward/bin with every shared library ldd finds at its own path, and extra
# files. Uncompressed because the kernel unpacks it under TCG emulation,
# where decompression is slow.
#
#   build_initramfs.sh OUT.cpio INIT [--bin PATH]... [--file SRC=DST]... [--dir SRC=DST]...
set -euo pipefail

out=$1
init=$2
shift 2
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || busybox=/bin/busybox
if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
  echo "build_initramfs: need a static busybox (Debian package busybox-static)" >&2
  exit 1
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/ward-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,run,etc,ward/bin,lib64,usr/bin}
cp "$busybox" "$stage/bin/busybox"
# Applet links, made here so that the init script can run before anything.
for applet in $("$busybox" --list); do
  [ -e "$stage/bin/$applet" ] || ln -s busybox "$stage/bin/$applet"
done
cp "$init" "$stage/init"
chmod 755 "$stage/init"
echo "root:x:0:0:root:/:/bin/sh" >"$stage/etc/passwd"
echo "root:x:0:" >"$stage/etc/group"

copy_libs() {
  # Every resolved library, and the dynamic loader, at its absolute path.
  ldd "$1" 2>/dev/null | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}' | while read -r lib; do
    [ -e "$stage$lib" ] && continue
    mkdir -p "$stage$(dirname "$lib")"
    cp -L "$lib" "$stage$lib"
  done
}

while [ $# -gt 0 ]; do
  case "$1" in
    --bin)
      dst="$stage/ward/bin/$(basename "$2")"
      strip --strip-debug -o "$dst" "$2" 2>/dev/null || cp "$2" "$dst"
      chmod 755 "$dst"
      copy_libs "$2"
      shift 2
      ;;
    --file)
      src=${2%%=*}
      dst=$stage/${2#*=}
      mkdir -p "$(dirname "$dst")"
      cp -L "$src" "$dst"
      shift 2
      ;;
    --dir)
      src=${2%%=*}
      dst=$stage/${2#*=}
      mkdir -p "$dst"
      cp -rL "$src"/. "$dst"/
      shift 2
      ;;
    *)
      echo "build_initramfs: unknown argument $1" >&2
      exit 2
      ;;
  esac
done

(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
