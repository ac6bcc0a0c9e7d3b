#!/usr/bin/env bash
# file_bench.sh: file-operation throughput with and without an agent, side by side.
#
#   bench/file_bench.sh [--rounds N] [--count N] [--configs LIST] [--no-accounting]
#
# Each round runs every configuration in turn (baseline, ward, auditd, baseline, ...):
# the tool is started, file_storm creates, writes, closes, renames and unlinks --count
# files (default 100000), the tool is stopped. Reports the median files/s and the ratio
# to the baseline, then (unless --no-accounting) one run of ward writing its events to a
# file, to check that every event of the storm was delivered or reported as dropped.
#
# Configurations:
#   baseline  nothing
#   ward      ward log <every file event> > /dev/null
#   auditd    auditd with one rule on the syscalls behind those events (system-wide, as ward)
#
# Audit residue (BENCHMARKING.md): once audit has been enabled in a boot every new task
# takes the syscall-audit slow path. Baseline and ward rounds run with `-a never,task`
# loaded (the workload is a new task each run) and the auditd rounds without it, so each
# configuration is measured as it would run alone. At exit every audit rule is removed,
# auditd is stopped and audit is disabled; the residue itself lasts until reboot.
#
# Binaries: ${WARD_BIN:-build/bin}/ward and file_storm. Needs root. Never leaves a tool,
# a ward_* BPF program or an audit rule behind.

set -uo pipefail

ROUNDS=5
COUNT=100000
ACCOUNTING=1
ALL_CONFIGS=(baseline ward auditd)
CONFIGS=("${ALL_CONFIGS[@]}")
BIN_DIR=${WARD_BIN:-build/bin}
WARD=$BIN_DIR/ward
STORM=$BIN_DIR/file_storm
FILE_EVENTS=(open close write create unlink rename link truncate setmode setowner utimes setextattr deleteextattr
  mmap mprotect)
# The syscalls behind those events, for auditd.
AUDIT_SYSCALLS=open,openat,openat2,creat,close,write,pwrite,writev,rename,renameat,renameat2,unlink,unlinkat,rmdir
AUDIT_SYSCALLS+=,link,linkat,symlink,symlinkat,mkdir,mkdirat,mknod,mknodat,truncate,ftruncate,chmod,fchmod,fchmodat
AUDIT_SYSCALLS+=,chown,fchown,lchown,fchownat,utime,utimes,utimensat,setxattr,lsetxattr,fsetxattr,removexattr
AUDIT_SYSCALLS+=,lremovexattr,fremovexattr,mmap,mprotect

while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --count) COUNT=${2:?}; shift 2 ;;
    --configs) IFS=', ' read -r -a CONFIGS <<<"${2:?}"; shift 2 ;;
    --no-accounting) ACCOUNTING=0; shift ;;
    -h|--help) sed -n '3,4p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    *) echo "file_bench: unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ ${CONFIGS[0]} == baseline ]] || CONFIGS=(baseline "${CONFIGS[@]/baseline/}")

log() { printf '%s\n' "$*" >&2; }
die() { log "file_bench: $*"; exit 1; }

WORKDIR=$(mktemp -d /tmp/file_bench.XXXXXX) || die "mktemp failed"
TOOL_PID=""
AUDITD_PID=""

bpf_progs() { bpftool prog list 2>/dev/null; }

start_tool() {  # NAME CMD...: own session, stdout to /dev/null
  local name=$1; shift
  (trap - INT QUIT; exec setsid "$@" >/dev/null 2>"$WORKDIR/$name.stderr") &
  TOOL_PID=$!
}

stop_pid() {  # PID [SIGNAL]: SIGINT (or SIGNAL), then SIGKILL its group after 10 s; reaps it
  local pid=$1 sig=${2:-INT} deadline=$((SECONDS + 10))
  kill -"$sig" "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
  kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

wait_for() {  # SECONDS CMD...: until CMD succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

ward_attached() { bpf_progs | grep -q ' name ward_file_exit '; }
# Other Ward instances (a wardd) may run on a shared machine: only the file
# sensor's programs are ours to wait for.
ward_gone() { ! bpf_progs | grep -q ' name ward_file_'; }

# ---------------------------------------------------------------- audit state

HAVE_AUDIT=0
command -v auditctl >/dev/null && command -v auditd >/dev/null && HAVE_AUDIT=1
audit_quiet() {  # baseline and ward: no rule but never,task
  ((HAVE_AUDIT)) || return 0
  auditctl -D >/dev/null 2>&1
  auditctl -a never,task >/dev/null 2>&1
}

cfg_baseline_check() { return 0; }
cfg_baseline_start() { audit_quiet; }
cfg_baseline_stop() { return 0; }

cfg_ward_check() { [[ -x $WARD ]] || { echo "skipped (not built: $WARD)"; return 1; }; }
cfg_ward_start() {
  audit_quiet
  start_tool ward "$WARD" log "${FILE_EVENTS[@]}"
  wait_for 60 ward_attached || return 1
  sleep 1  # into its read loop
  kill -0 "$TOOL_PID" 2>/dev/null
}
cfg_ward_stop() {
  stop_pid "$TOOL_PID"
  TOOL_PID=""
  grep -h 'lost' "$WORKDIR/ward.stderr" >&2
  wait_for 5 ward_gone || { log "file_bench: ward_file_* BPF programs remain"; return 1; }
}

cfg_auditd_check() { ((HAVE_AUDIT)) || { echo "skipped (auditd not installed)"; return 1; }; }
cfg_auditd_start() {
  auditctl -D >/dev/null 2>&1  # no never,task: the workload must be audited
  (trap - INT QUIT; exec setsid auditd -n >/dev/null 2>"$WORKDIR/auditd.stderr") &
  AUDITD_PID=$!
  wait_for 10 bash -c 'auditctl -s 2>/dev/null | grep -q "^pid [1-9]"' || return 1
  auditctl -b 8192 >/dev/null &&
    auditctl -a always,exit -F arch=b64 -S "$AUDIT_SYSCALLS" -k ward_file_bench >/dev/null
}
cfg_auditd_stop() {
  auditctl -D >/dev/null 2>&1
  [[ -n $AUDITD_PID ]] && stop_pid "$AUDITD_PID" TERM
  AUDITD_PID=""
  ! pidof auditd >/dev/null
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n $TOOL_PID ]] && stop_pid "$TOOL_PID"
  [[ -n $AUDITD_PID ]] && cfg_auditd_stop
  if ((HAVE_AUDIT)); then
    auditctl -D >/dev/null 2>&1
    auditctl -e 0 >/dev/null 2>&1
  fi
  ward_gone || log "file_bench: WARNING: ward_file_* BPF programs are still loaded"
  rm -rf "$WORKDIR"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- preflight

((EUID == 0)) || die "needs root"
[[ -x $STORM ]] || die "file_storm not found at $STORM (build it, or set WARD_BIN)"
ward_gone || die "BPF programs named ward_file_* are already loaded; refusing to measure"
n=$(bpf_progs | grep -cE '^[0-9]+: (tracing|kprobe|tracepoint|raw_tracepoint) ')
((n > 0)) && log "file_bench: note: $n tracing BPF programs of others are loaded (they slow every configuration alike)"
pidof auditd >/dev/null && die "auditd is already running; refusing to measure"

declare -A SKIP
RUNNABLE=()
for c in "${CONFIGS[@]}"; do
  [[ -n $c ]] || continue
  declare -F "cfg_${c}_check" >/dev/null || die "unknown configuration: $c (known: ${ALL_CONFIGS[*]})"
  if reason=$("cfg_${c}_check"); then RUNNABLE+=("$c"); else SKIP[$c]=$reason; fi
done
read -r LOAD_START _ </proc/loadavg
log "file_bench: rounds=$ROUNDS count=$COUNT configurations: ${RUNNABLE[*]} (load average $LOAD_START)"
for c in "${!SKIP[@]}"; do log "file_bench: $c: ${SKIP[$c]}"; done

run_storm() {  # files/s of one run
  local out
  out=$(timeout 900 "$STORM" --count "$COUNT") || { log "file_bench: file_storm failed: $out"; return 1; }
  sed -n 's/.*"per_second":\([0-9.]*\).*/\1/p' <<<"$out"
}

"$STORM" --count 2000 >/dev/null || die "file_storm warm-up failed"

for ((r = 1; r <= ROUNDS; r++)); do
  for c in "${RUNNABLE[@]}"; do
    if ! "cfg_${c}_start"; then
      log "file_bench: $c failed to start:"
      cat "$WORKDIR/$c.stderr" >&2 2>/dev/null
      exit 1
    fi
    rate=$(run_storm) || exit 1
    "cfg_${c}_stop" || exit 1
    echo "$rate" >>"$WORKDIR/$c"
    log "round $r/$ROUNDS  $(printf '%-9s %10.1f files/s' "$c" "$rate")"
  done
done

median() { sort -g "$1" | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
echo
echo "file_storm: create+write+close+rename+unlink of $COUNT files, median of $ROUNDS rounds"
printf '%-10s %12s %12s %12s %8s\n' config median/s min/s max/s ratio
base=$(median "$WORKDIR/baseline")
json=()
for c in "${CONFIGS[@]}"; do
  [[ -n $c ]] || continue
  if [[ -n ${SKIP[$c]+x} ]]; then
    printf '%-10s %s\n' "$c" "${SKIP[$c]}"
    continue
  fi
  med=$(median "$WORKDIR/$c")
  ratio=$(awk -v a="$med" -v b="$base" 'BEGIN {printf "%.3f", (b > 0) ? a / b : 0}')
  read -r lo hi <<<"$(sort -g "$WORKDIR/$c" | awk 'NR==1{lo=$1} {hi=$1} END {printf "%.1f %.1f", lo, hi}')"
  printf '%-10s %12.1f %12s %12s %8s\n' "$c" "$med" "$lo" "$hi" "$ratio"
  json+=("\"$c\":{\"median_per_second\":$med,\"ratio\":$ratio}")
done

# ---------------------------------------------------------------- accounting

if ((ACCOUNTING)) && [[ -n ${SKIP[ward]+x} ]]; then ACCOUNTING=0; fi
if ((ACCOUNTING)); then
  audit_quiet
  out=$WORKDIR/ward.jsonl
  (trap - INT QUIT; exec setsid "$WARD" log "${FILE_EVENTS[@]}" >"$out" 2>"$WORKDIR/ward.stderr") &
  TOOL_PID=$!
  wait_for 60 ward_attached || die "ward did not attach for the accounting run"
  sleep 1
  "$STORM" --count "$COUNT" >"$WORKDIR/storm.json" &
  storm=$!
  wait "$storm"
  sleep 2
  stop_pid "$TOOL_PID"
  TOOL_PID=""
  # Events whose instigator is the storm, per type, and what was reported lost.
  read -r seen drops <<<"$(python3 - "$out" "$storm" <<'PY'
import json, sys
seen = drops = 0
for line in open(sys.argv[1]):
    d = json.loads(line)
    if "drop" in d:
        drops += d["drop"]["count"]
    elif d["process"]["audit_token"]["pid"] == int(sys.argv[2]):
        seen += 1
print(seen, drops)
PY
)"
  expected=$((COUNT * 6))
  echo
  echo "accounting: $seen of $expected storm events delivered, $drops reported dropped (all types)," \
    "unaccounted: $((expected - seen - drops < 0 ? 0 : expected - seen - drops))"
  json+=("\"accounting\":{\"expected\":$expected,\"delivered\":$seen,\"reported_dropped\":$drops}")
fi
echo
printf '{"bench":"file","count":%d,"rounds":%d,"configs":{%s}}\n' "$COUNT" "$ROUNDS" "$(IFS=,; echo "${json[*]}")"
