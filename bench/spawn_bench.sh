#!/usr/bin/env bash
# spawn_bench.sh: process-spawn throughput with and without an agent, side by side.
#
#   bench/spawn_bench.sh [--rounds N] [--count N] [--parallel P] [--configs LIST]
#                        [--fix-audit-residue]
#
# Every round runs each configuration in turn (baseline, ward, ..., baseline, ward, ...).
# Within a configuration the tool is started once, then spawn_storm runs a serial
# workload (--count spawns) and a parallel one (--count spawns over P workers), then the
# tool is stopped. Reports the median spawns/s per configuration and workload, and the
# ratio configuration / baseline (1.00 = no cost). See bench/README.md.
#
# Binaries: ${WARD_BIN:-build/bin}/ward and ${WARD_BIN:-build/bin}/spawn_storm.
# Needs root (BPF). Never leaves a tool or a ward_* BPF program behind.
#
# Adding a configuration: write cfg_NAME_check (print a reason and return 1 when it
# cannot run), cfg_NAME_start and cfg_NAME_stop, and add NAME to ALL_CONFIGS.

set -uo pipefail

ROUNDS=7
COUNT=3000
PARALLEL=4
FIX_AUDIT=0
ALL_CONFIGS=(baseline ward execsnoop)
CONFIGS=("${ALL_CONFIGS[@]}")
BIN_DIR=${WARD_BIN:-build/bin}
WARD=$BIN_DIR/ward
STORM=$BIN_DIR/spawn_storm
READY_TIMEOUT=10   # seconds to wait for a tool to attach
STOP_TIMEOUT=10    # seconds to wait after SIGINT before SIGKILL
RUN_TIMEOUT=600    # seconds for one spawn_storm run

usage() {
  sed -n '3,5p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --count) COUNT=${2:?}; shift 2 ;;
    --parallel) PARALLEL=${2:?}; shift 2 ;;   # 0 or 1: no parallel workload
    --configs) IFS=', ' read -r -a CONFIGS <<<"${2:?}"; shift 2 ;;
    --fix-audit-residue) FIX_AUDIT=1; shift ;;
    -h|--help) usage ;;
    *) echo "spawn_bench: unknown argument: $1" >&2; usage ;;
  esac
done
for n in "$ROUNDS" "$COUNT" "$PARALLEL"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "spawn_bench: not a number: $n" >&2; exit 2; }
done
((ROUNDS >= 1 && COUNT >= 1)) || { echo "spawn_bench: --rounds and --count must be >= 1" >&2; exit 2; }
[[ ${CONFIGS[0]} == baseline ]] || CONFIGS=(baseline "${CONFIGS[@]/baseline/}")

WORKLOADS=(serial)
((PARALLEL > 1)) && WORKLOADS+=(parallel)

log() { printf '%s\n' "$*" >&2; }
die() { log "spawn_bench: $*"; exit 1; }

WORKDIR=$(mktemp -d /tmp/spawn_bench.XXXXXX) || die "mktemp failed"
ACTIVE=""          # configuration whose tool is running, for the exit trap
TOOL_PID=""        # pid (= process group, via setsid) of the running tool
AUDIT_RULE_ADDED=0

# ---------------------------------------------------------------- helpers

bpf_progs() { bpftool prog list 2>/dev/null; }

# wait_bpf REGEX: until a loaded BPF program's line matches REGEX, while TOOL_PID lives.
wait_bpf() {
  local deadline=$((SECONDS + READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    kill -0 "$TOOL_PID" 2>/dev/null || return 1
    bpf_progs | grep -Eq "$1" && return 0
    sleep 0.1
  done
  return 1
}

# start_tool NAME CMD...: run CMD in its own session (so its pid is its process group and
# it is never in the workload's group), stdout to /dev/null, stderr to a log. A
# non-interactive bash starts background jobs with SIGINT/SIGQUIT ignored; undo that so
# SIGINT reaches the tool's default or its own handler.
start_tool() {
  local name=$1; shift
  (trap - INT QUIT; exec setsid "$@" >/dev/null 2>"$WORKDIR/$name.stderr") &
  TOOL_PID=$!
}

# stop_tool: SIGINT, wait up to STOP_TIMEOUT, then SIGKILL the whole group. Reaps it.
stop_tool() {
  [[ -n $TOOL_PID ]] || return 0
  local deadline=$((SECONDS + STOP_TIMEOUT)) rc=0
  kill -INT "$TOOL_PID" 2>/dev/null
  while kill -0 "$TOOL_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
  if kill -0 "$TOOL_PID" 2>/dev/null; then
    log "spawn_bench: pid $TOOL_PID ignored SIGINT for ${STOP_TIMEOUT}s: SIGKILL"
    kill -KILL -- "-$TOOL_PID" 2>/dev/null
    rc=1
  fi
  wait "$TOOL_PID" 2>/dev/null
  kill -KILL -- "-$TOOL_PID" 2>/dev/null  # anything it left in its group
  TOOL_PID=""
  return $rc
}

# wait_no_bpf REGEX: BPF programs are released asynchronously after their owner exits.
wait_no_bpf() {
  local deadline=$((SECONDS + 5))
  while bpf_progs | grep -Eq "$1"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
  return 0
}

# ---------------------------------------------------------------- configurations
# cfg_X_check: 0 if X can run, else print why not (e.g. "skipped (not installed)").
# cfg_X_start: start X and wait until it is attached; non-zero on failure.
# cfg_X_stop:  stop X and verify nothing of it remains; non-zero on failure.

cfg_baseline_check() { return 0; }
cfg_baseline_start() { return 0; }
cfg_baseline_stop() { return 0; }

cfg_ward_check() {
  [[ -x $WARD ]] || { echo "skipped (not built: $WARD)"; return 1; }
  command -v bpftool >/dev/null || { echo "skipped (bpftool not installed)"; return 1; }
}
cfg_ward_start() {
  start_tool ward "$WARD" log exec fork exit
  wait_bpf '^[0-9]+: .* name ward_exec ' || return 1
  sleep 0.5  # let it finish attaching the remaining programs and enter its read loop
  kill -0 "$TOOL_PID" 2>/dev/null
}
cfg_ward_stop() {
  local rc=0
  stop_tool || rc=1
  if ! wait_no_bpf ' name ward_'; then
    log "spawn_bench: BPF programs named ward_* remain after ward exited:"
    bpf_progs | grep ' name ward_' >&2
    rc=1
  fi
  return $rc
}

# execsnoop from libbpf-tools (Debian package libbpf-tools: /usr/sbin/execsnoop).
EXECSNOOP=$(command -v execsnoop || true)
cfg_execsnoop_check() {
  [[ -n $EXECSNOOP ]] || { echo "skipped (not installed)"; return 1; }
  # bpfcc-tools' execsnoop-bpfcc is a different (Python) tool; only the libbpf one here.
  [[ $(head -c 4 "$EXECSNOOP" 2>/dev/null | tr -d '\177') == ELF ]] || { echo "skipped ($EXECSNOOP is not libbpf-tools)"; return 1; }
}
TRACEFS_MOUNTED=0  # execsnoop attaches to tracefs tracepoints; mounted (and unmounted at exit) if missing
cfg_execsnoop_start() {
  if [[ ! -d /sys/kernel/tracing/events/syscalls ]] && ((TRACEFS_MOUNTED == 0)); then
    mount -t tracefs nodev /sys/kernel/tracing && TRACEFS_MOUNTED=1 &&
      log "spawn_bench: mounted tracefs on /sys/kernel/tracing for execsnoop"
  fi
  start_tool execsnoop "$EXECSNOOP"
  wait_bpf ' name tracepoint__sys' || return 1
  sleep 0.5
  kill -0 "$TOOL_PID" 2>/dev/null
}
cfg_execsnoop_stop() { stop_tool; wait_no_bpf ' name tracepoint__sys'; }

# ---------------------------------------------------------------- cleanup

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $ACTIVE ]]; then
    "cfg_${ACTIVE}_stop" || log "spawn_bench: cleanup of $ACTIVE reported a problem"
    ACTIVE=""
  fi
  [[ -n $TOOL_PID ]] && stop_tool
  if ((TRACEFS_MOUNTED)); then umount /sys/kernel/tracing 2>/dev/null || true; fi
  if ((AUDIT_RULE_ADDED)); then
    auditctl -d never,task >/dev/null 2>&1 && log "spawn_bench: removed the never,task audit rule it added"
  fi
  if command -v bpftool >/dev/null && bpf_progs | grep -q ' name ward_'; then
    log "spawn_bench: WARNING: BPF programs named ward_* are loaded:"
    bpf_progs | grep ' name ward_' >&2
  fi
  rm -rf "$WORKDIR"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- preflight

[[ -x $STORM ]] || die "spawn_storm not found at $STORM (build it, or set WARD_BIN)"
((EUID == 0)) || log "spawn_bench: not root: BPF-based configurations will fail"

if command -v bpftool >/dev/null && bpf_progs | grep -q ' name ward_'; then
  die "BPF programs named ward_* are already loaded (another ward running?); refusing to measure"
fi

# Audit residue: once audit was enabled in this boot, every new task takes the syscall-audit
# slow path unless a never,task rule exists. Baseline and tools share that state in this
# run, so ratios stay valid, but absolute rates and cross-run comparisons do not.
AUDIT_NOTE="auditctl not installed"
if command -v auditctl >/dev/null; then
  if auditctl -s 2>/dev/null | grep -q '^enabled [12]'; then
    if auditctl -l 2>/dev/null | grep -q 'never,task'; then
      AUDIT_NOTE="audit enabled, never,task rule present (no residue)"
    elif ((FIX_AUDIT)); then
      if auditctl -a never,task >/dev/null 2>&1; then
        AUDIT_RULE_ADDED=1
        AUDIT_NOTE="audit enabled: loaded never,task for this run (--fix-audit-residue)"
      else
        AUDIT_NOTE="audit enabled: failed to load never,task"
      fi
    else
      AUDIT_NOTE="audit enabled, no never,task rule: AUDIT RESIDUE (new tasks take the audit slow path; --fix-audit-residue)"
    fi
  else
    AUDIT_NOTE="audit disabled"
  fi
elif dmesg 2>/dev/null | grep -q 'audit_enabled=1'; then
  AUDIT_NOTE="auditctl not installed, but the kernel log shows audit was enabled this boot: possible AUDIT RESIDUE"
fi
OTHER_NOTES=()
pidof fapolicyd >/dev/null 2>&1 && OTHER_NOTES+=("fapolicyd is running")
pidof auditd >/dev/null 2>&1 && OTHER_NOTES+=("auditd is running")
if command -v bpftool >/dev/null; then
  n=$(bpf_progs | grep -cE '^[0-9]+: (tracing|kprobe|tracepoint|raw_tracepoint|lsm) ')
  ((n > 0)) && OTHER_NOTES+=("$n tracing BPF programs already loaded")
fi

# A busy machine (builds, tests) ruins absolute rates and widens the spread of ratios.
read -r LOAD_START _ </proc/loadavg
busy() { awk -v l="$1" -v n="$(nproc)" 'BEGIN {exit !(l > 0.5 * n)}'; }
busy "$LOAD_START" && OTHER_NOTES+=("machine busy: load average $LOAD_START at start")

# Which configurations can run.
declare -A SKIP
RUNNABLE=()
for c in "${CONFIGS[@]}"; do
  [[ -n $c ]] || continue
  declare -F "cfg_${c}_check" >/dev/null || die "unknown configuration: $c (known: ${ALL_CONFIGS[*]})"
  if reason=$("cfg_${c}_check"); then
    RUNNABLE+=("$c")
  else
    SKIP[$c]=$reason
  fi
done

log "spawn_bench: rounds=$ROUNDS count=$COUNT parallel=$PARALLEL exe=/bin/true"
log "spawn_bench: configurations: ${RUNNABLE[*]}"
for c in "${!SKIP[@]}"; do log "spawn_bench: $c: ${SKIP[$c]}"; done
log "spawn_bench: audit: $AUDIT_NOTE"
for n in "${OTHER_NOTES[@]}"; do log "spawn_bench: note: $n"; done

# ---------------------------------------------------------------- measurement

# run_storm WORKLOAD: one spawn_storm run; prints spawns/s.
run_storm() {
  local args=(--count "$COUNT") out
  [[ $1 == parallel ]] && args+=(--parallel "$PARALLEL")
  out=$(timeout "$RUN_TIMEOUT" "$STORM" "${args[@]}") || { log "spawn_bench: spawn_storm failed: $out"; return 1; }
  sed -n 's/.*"per_second":\([0-9.]*\).*/\1/p' <<<"$out"
}

# Warm-up (page cache, lazy kernel state); not recorded.
"$STORM" --count 300 >/dev/null || die "spawn_storm warm-up failed"

for ((r = 1; r <= ROUNDS; r++)); do
  for c in "${RUNNABLE[@]}"; do
    "cfg_${c}_start" || {
      log "spawn_bench: $c failed to start; its stderr:"
      cat "$WORKDIR/$c.stderr" >&2 2>/dev/null
      ACTIVE=$c; exit 1
    }
    ACTIVE=$c
    for w in "${WORKLOADS[@]}"; do
      rate=$(run_storm "$w") || exit 1
      if [[ -n $TOOL_PID ]] && ! kill -0 "$TOOL_PID" 2>/dev/null; then
        log "spawn_bench: $c exited during the $w workload; its stderr:"
        cat "$WORKDIR/$c.stderr" >&2 2>/dev/null
        exit 1
      fi
      echo "$rate" >>"$WORKDIR/$c.$w"
      log "round $r/$ROUNDS  $(printf '%-10s %-8s %10.1f spawns/s' "$c" "$w" "$rate")"
    done
    ACTIVE=""
    "cfg_${c}_stop" || { log "spawn_bench: $c did not stop cleanly"; exit 1; }
  done
done

# ---------------------------------------------------------------- report

median() { sort -g "$1" | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
minmax() { sort -g "$1" | awk 'NR==1{lo=$1} {hi=$1} END {printf "%.1f %.1f", lo, hi}'; }

declare -A MED
for c in "${RUNNABLE[@]}"; do
  for w in "${WORKLOADS[@]}"; do MED[$c.$w]=$(median "$WORKDIR/$c.$w"); done
done

echo
echo "spawn /bin/true, $COUNT spawns per run, median of $ROUNDS rounds (parallel = $PARALLEL workers)"
echo "audit: $AUDIT_NOTE"
printf '%-12s %-9s %12s %12s %12s %8s\n' config workload median/s min/s max/s ratio
json_cfgs=()
for c in "${CONFIGS[@]}"; do
  [[ -n $c ]] || continue
  if [[ -n ${SKIP[$c]+x} ]]; then
    printf '%-12s %s\n' "$c" "${SKIP[$c]}"
    json_cfgs+=("\"$c\":{\"status\":\"${SKIP[$c]//\"/\'}\"}")
    continue
  fi
  parts=()
  for w in "${WORKLOADS[@]}"; do
    med=${MED[$c.$w]}
    ratio=$(awk -v a="$med" -v b="${MED[baseline.$w]}" 'BEGIN {printf "%.3f", (b > 0) ? a / b : 0}')
    read -r lo hi <<<"$(minmax "$WORKDIR/$c.$w")"
    printf '%-12s %-9s %12.1f %12s %12s %8s\n' "$c" "$w" "$med" "$lo" "$hi" "$ratio"
    parts+=("\"$w\":{\"median_per_second\":$(printf '%.1f' "$med"),\"ratio\":$ratio}")
  done
  json_cfgs+=("\"$c\":{$(IFS=,; echo "${parts[*]}")}")
done
read -r LOAD_END _ </proc/loadavg
busy "$LOAD_END" && OTHER_NOTES+=("machine busy: load average $LOAD_END at end")
for n in "${OTHER_NOTES[@]}"; do echo "note: $n"; done
notes=$(printf '%s; ' "${OTHER_NOTES[@]}"); notes=${notes%; }
echo
printf '{"bench":"spawn","exe":"/bin/true","rounds":%d,"count":%d,"parallel":%d,"audit":"%s","notes":"%s","configs":{%s}}\n' \
  "$ROUNDS" "$COUNT" "$PARALLEL" "$AUDIT_NOTE" "$notes" "$(IFS=,; echo "${json_cfgs[*]}")"
