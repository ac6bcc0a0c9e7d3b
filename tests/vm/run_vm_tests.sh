#!/usr/bin/env bash
# Boots Debian's 6.1 cloud kernel with the BPF LSM active under QEMU (TCG: no
# nested KVM needed) with an initramfs of busybox and Ward's binaries, runs
# the suites in tests/vm/suite/ inside, and checks the results it reports
# on the serial console. Exits 0 only if every result is PASS and the run
# finished. Everything it creates goes when it exits, qemu included.
#
#   run_vm_tests.sh BUILD_DIR [SUITE...]     (default: policy_and_tamper.sh bench.sh)
#   env: WARD_VM_TIMEOUT (seconds, default 540), WARD_VM_CACHE, WARD_VM_LOG (keep the console log)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: run_vm_tests.sh BUILD_DIR [SUITE...]}" && pwd)
shift
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(policy_and_tamper.sh bench.sh)
timeout_s=${WARD_VM_TIMEOUT:-540}

for tool in qemu-system-x86_64 cpio setpriv; do
  command -v "$tool" >/dev/null || { echo "run_vm_tests: $tool is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
kernel=$("$here/fetch_kernel.sh")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ward-vm.XXXXXX")
qemu_pid=""
cleanup() {
  if [ -n "$qemu_pid" ]; then kill -KILL "$qemu_pid" 2>/dev/null || true; fi
  if [ -n "${WARD_VM_LOG:-}" ] && [ -f "$tmp/console.log" ]; then cp "$tmp/console.log" "$WARD_VM_LOG"; fi
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

printf '%s\n' "${suites[@]}" >"$tmp/suites"
"$here/build_initramfs.sh" "$tmp/initramfs.cpio" "$here/init.sh" \
  --bin "$build/bin/wardd" --bin "$build/bin/ward" --bin "$build/bin/ward_probe" \
  --dir "$here/suite=ward/suite" --file "$tmp/suites=ward/suites"

started=$(date +%s)
# pdeathsig at both levels: if this script is killed (ctest's timeout), the
# timer and qemu die with it.
setpriv --pdeathsig KILL timeout -k 5 "$timeout_s" \
  setpriv --pdeathsig KILL qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1G \
  -nographic -no-reboot -nic none -monitor none -serial stdio \
  -kernel "$kernel" -initrd "$tmp/initramfs.cpio" \
  -append "lsm=landlock,lockdown,yama,integrity,bpf console=ttyS0 panic=-1 quiet loglevel=1" \
  </dev/null >"$tmp/console.log" 2>&1 &
qemu_pid=$!
status=0
wait "$qemu_pid" || status=$?
qemu_pid=""
elapsed=$(($(date +%s) - started))

# The console may carry \r and terminal escapes around our lines.
tr -d '\r' <"$tmp/console.log" | grep -ao 'WARD-VM-[A-Z]*.*' >"$tmp/results" || true
cat "$tmp/results"
pass=$(grep -c '^WARD-VM-RESULT [^ ]* PASS' "$tmp/results" || true)
fail=$(grep -c '^WARD-VM-RESULT [^ ]* FAIL' "$tmp/results" || true)
echo "run_vm_tests: $pass passed, $fail failed, ${elapsed}s (qemu exit $status)"
if ! grep -q '^WARD-VM-DONE' "$tmp/results"; then
  echo "run_vm_tests: the VM did not finish (timeout ${timeout_s}s?); console tail:" >&2
  tail -n 40 "$tmp/console.log" >&2
  exit 1
fi
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
