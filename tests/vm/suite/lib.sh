# Helpers of Ward's self-protection and policy suites (POSIX sh: busybox ash in
# the VM, dash on the host). Results are lines on stdout:
#   WARD-VM-RESULT <name> PASS|FAIL <detail>
# Needs: WARD_BIN (wardd, ward, ward_probe), WORK (a test-owned directory).

PROBE="$WARD_BIN/ward_probe"
: "${WARD_START_TIMEOUT:=120}"   # seconds; TCG emulation is slow
TOKEN="vm-test-unlock-token-$$"
TOKEN_SHA=$(printf %s "$TOKEN" | sha256sum | cut -c1-64)
OUT="$WORK/wardd.out"
ERR="$WORK/wardd.err"
WARDD_PID=""

result() { # name PASS|FAIL detail...
  name=$1
  verdict=$2
  shift 2
  echo "WARD-VM-RESULT $name $verdict $*"
}

# expect NAME WANT COMMAND...: the probe's answer ("OK", "ERR EPERM") is WANT.
expect() {
  name=$1
  want=$2
  shift 2
  got=$("$@" 2>&1 | tail -n1)
  if [ "$got" = "$want" ]; then result "$name" PASS "$got"; else result "$name" FAIL "want '$want', got '$got'"; fi
}

# wait_for FILE PATTERN SECONDS: true once grep -E finds PATTERN in FILE.
wait_for() {
  i=0
  while [ "$i" -lt $(($3 * 10)) ]; do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}

# check NAME FILE PATTERN [SECONDS]: a PASS when PATTERN shows up in FILE.
check() {
  if wait_for "$2" "$3" "${4:-10}"; then
    result "$1" PASS "found $3"
  else
    result "$1" FAIL "no line matching $3 in $(basename "$2")"
  fi
}

# Running, and not a zombie (kill -0 succeeds on a zombie).
alive() {
  [ -n "$WARDD_PID" ] && [ -r "/proc/$WARDD_PID/stat" ] || return 1
  state=$(sed 's/.*) //' "/proc/$WARDD_PID/stat" 2>/dev/null | cut -c1)
  [ -n "$state" ] && [ "$state" != Z ]
}

# wardd_start ARGS...: wardd with a test-owned unlock socket and tamper journal.
wardd_start() {
  : >"$OUT"
  : >"$ERR"
  "$WARD_BIN/wardd" --format "${WARDD_FORMAT:-json}" --no-store --no-metrics --control-socket none \
    --unlock-sha256 "$TOKEN_SHA" --unlock-socket "$WORK/unlock.sock" --bpf-pin-dir "${PIN_DIR:-}" \
    "$@" >"$OUT" 2>"$ERR" &
  WARDD_PID=$!
  if wait_for "$ERR" "wardd: running" "$WARD_START_TIMEOUT" && wait_for "$ERR" "self-protection: unlock" 10; then
    return 0
  fi
  result wardd-start FAIL "$(tr '\n' '|' <"$ERR" | cut -c1-600)"
  return 1
}

# wardd_stop: unlock with the token, then SIGTERM; a PASS when it exits.
wardd_stop() {
  alive || return 0
  "$WARD_BIN/ward" unlock --socket "$WORK/unlock.sock" "$TOKEN" >/dev/null 2>&1
  kill -TERM "$WARDD_PID" 2>/dev/null
  i=0
  while alive && [ "$i" -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  if alive; then
    kill -KILL "$WARDD_PID" 2>/dev/null
    result wardd-stop FAIL "wardd did not stop after unlock + SIGTERM"
  fi
  wait "$WARDD_PID" 2>/dev/null
  WARDD_PID=""
}
