#!/bin/sh
# The policy and self-protection cases both AUTH paths must pass: the BPF LSM
# (in the VM: WARD_PATH=lsm) and fanotify (on the host: WARD_PATH=fanotify,
# with the AUTH scope on WORK and the immutable attribute for unlink/rename).
#   env: WARD_BIN, WORK (a tmpfs the test owns), WARD_PATH, PIN_DIR (bpffs dir)
#        WARD_EXTRA_ARGS (extra wardd flags)
set -u
. "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/bin/sub" "$WORK/conf"
BLOCKED="$WORK/bin/blocked"
COPY="$WORK/bin/sub/copy"
ALLOWED="$WORK/bin/allowed"
# Bytes after an ELF's end change its hash, not what it does.
cp "$PROBE" "$BLOCKED" && printf 'blocked-by-sha256' >>"$BLOCKED" && cp "$BLOCKED" "$COPY"
cp "$PROBE" "$ALLOWED"
chmod 755 "$BLOCKED" "$COPY" "$ALLOWED"
SHA=$(sha256sum "$BLOCKED" | cut -c1-64)
POLICY="$WORK/conf/policy.yaml"
CONF="$WORK/conf/wardd.yaml"   # stands for Ward's config: protected, never written by the agent
echo "# ward config" >"$CONF"
cat >"$POLICY" <<POL
mode: lockdown
binary_rules:
  - {id: block-probe, sha256: $SHA, policy: block}
  - {id: allow-probe, path: $ALLOWED, policy: allow}
POL

if [ "$WARD_PATH" = lsm ]; then
  DECIDER=lsm
  AUTH_ARGS=""       # the kernel decides every exec, no AUTH scope needed
else
  DECIDER=client
  AUTH_ARGS="--auth-scope $WORK --immutable"
fi

# shellcheck disable=SC2086
wardd_start --policy "$POLICY" --protect "$CONF" $AUTH_ARGS ${WARD_EXTRA_ARGS:-} || exit 0
if [ "$WARD_PATH" = lsm ]; then
  check active-path-lsm "$ERR" "self-protection: files: bpf-lsm" 1
else
  check active-path-fanotify "$ERR" "self-protection: no BPF LSM .*the fanotify path is active" 1
fi

# --- binary authorization by sha256 ---
expect exec-blocked-sha256 "ERR EPERM" "$PROBE" exec "$BLOCKED" read /dev/null
expect exec-copy-blocked "ERR EPERM" "$PROBE" exec "$COPY" read /dev/null
expect exec-allowed "OK" "$PROBE" exec "$ALLOWED" read /dev/null
check deny-event-by-"$DECIDER" "$OUT" "\"target\":\"$BLOCKED\",\"result\":\"deny\",\"decided_by\":\"$DECIDER\".*\"rule\":\"block-probe\"" 10

# --- Ward's files: config (never written by the agent) and policy ---
expect config-read "OK" "$PROBE" read "$CONF"
expect config-write "ERR EPERM" "$PROBE" write "$CONF"
expect config-trunc-open "ERR EPERM" "$PROBE" trunc-open "$CONF"
expect config-truncate "ERR EPERM" "$PROBE" truncate "$CONF"
expect config-unlink "ERR EPERM" "$PROBE" unlink "$CONF"
expect config-rename "ERR EPERM" "$PROBE" rename "$CONF" "$WORK/conf/moved"
expect config-hard-link "ERR EPERM" "$PROBE" link "$CONF" "$WORK/linked"
expect config-chmod "ERR EPERM" "$PROBE" chmod "$CONF"
expect policy-write "ERR EPERM" "$PROBE" write "$POLICY"
expect policy-trunc-open "ERR EPERM" "$PROBE" trunc-open "$POLICY"
expect wardd-binary-write "ERR EPERM" "$PROBE" write "$WARD_BIN/ward"
if [ "$WARD_PATH" = lsm ]; then
  # Only the LSM can deny these for a file the agent replaces itself.
  expect policy-unlink "ERR EPERM" "$PROBE" unlink "$POLICY"
  expect policy-rename "ERR EPERM" "$PROBE" rename "$POLICY" "$WORK/conf/p2"
  expect policy-dir-rename "ERR EPERM" "$PROBE" rename "$WORK/conf" "$WORK/conf2"
fi
# (On the host the config's write-open fails on its immutable attribute before
# fanotify is asked; the policy's is fanotify's.)
check tamper-logged "$ERR" "tamper: write-open of $WORK/conf/[a-z.]+ by pid [0-9]+ \\(ward_probe" 5
check tamper-event "$OUT" "\"rule\":\"ward-self-protection\"" 5

# --- signals and ptrace (the LSM only: on the host they are recorded; see
# tests/e2e/self_protection_test.cc) ---
if [ "$WARD_PATH" = lsm ]; then
  expect kill-9-wardd "ERR EPERM" "$PROBE" kill "$WARDD_PID" 9
  expect kill-term-wardd "ERR EPERM" "$PROBE" kill "$WARDD_PID" 15
  expect kill-stop-wardd "ERR EPERM" "$PROBE" kill "$WARDD_PID" 19
  expect kill-int-wardd "ERR EPERM" "$PROBE" kill "$WARDD_PID" 2
  expect ptrace-wardd "ERR EPERM" "$PROBE" ptrace "$WARDD_PID"
  expect kill-0-allowed "OK" "$PROBE" kill "$WARDD_PID" 0
  if kill -9 "$WARDD_PID" 2>/dev/null; then result busybox-kill-9 FAIL "kill -9 succeeded"; else result busybox-kill-9 PASS "EPERM"; fi
  check kill-logged "$ERR" "tamper: SIGKILL to the agent \\(pid $WARDD_PID\\) by pid [0-9]+ .*: denied" 5
  check kill-event "$OUT" "\"rule\":\"ward-self-protection:SIGKILL\"" 5
  check ptrace-logged "$ERR" "tamper: ptrace/memory access to the agent .*: denied" 5
  if alive; then result wardd-survives PASS "pid $WARDD_PID"; else result wardd-survives FAIL "wardd died"; fi
fi

# --- the authenticated unlock ---
if "$WARD_BIN/ward" unlock --socket "$WORK/unlock.sock" wrong-token >/dev/null 2>&1; then
  result unlock-wrong-token FAIL "accepted"
else
  result unlock-wrong-token PASS "refused"
fi
if [ "$WARD_PATH" = lsm ]; then
  expect still-locked "ERR EPERM" "$PROBE" kill "$WARDD_PID" 15
fi
if "$WARD_BIN/ward" unlock --socket "$WORK/unlock.sock" "$TOKEN" >/dev/null 2>&1; then
  result unlock PASS "ok"
else
  result unlock FAIL "refused"
fi
expect write-after-unlock "OK" "$PROBE" write "$CONF"

# --- monitor mode: the policy can be changed once unlocked ---
sed 's/^mode: lockdown/mode: monitor/' "$POLICY" >"$POLICY.new" && cat "$POLICY.new" >"$POLICY"
kill -HUP "$WARDD_PID"
if wait_for "$ERR" "policy reloaded" 30; then
  expect monitor-runs-blocked "OK" "$PROBE" exec "$BLOCKED" read /dev/null
  check monitor-would-deny "$OUT" "\"target\":\"$BLOCKED\",\"result\":\"allow\",\"decided_by\":\"$DECIDER\",\"cached\":(true|false),\"would_deny\":true" 10
else
  result policy-reload FAIL "$(tail -n3 "$ERR" | tr '\n' '|')"
fi

# --- after the unlock, stopping Ward works ---
kill -TERM "$WARDD_PID"
i=0
while alive && [ "$i" -lt 300 ]; do
  sleep 0.1
  i=$((i + 1))
done
if alive; then
  result stop-after-unlock FAIL "wardd still running"
  kill -KILL "$WARDD_PID"
else
  result stop-after-unlock PASS "stopped"
fi
wait "$WARDD_PID" 2>/dev/null
WARDD_PID=""
