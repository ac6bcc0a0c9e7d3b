#!/bin/sh
# The VM benchmark: a spawn storm and an open storm, with no agent, with
# wardd deciding through fanotify AUTH (--no-lsm, the AUTH scope on WORK) and
# through the BPF LSM, in the same VM run; alternating rounds, ratios only
# (TCG makes absolute numbers meaningless).
#   spawn storm: fork+exec of a binary a sha256 rule covers (the policy's
#                exec verdict; cached per file on both paths after the first)
#   open storm:  read-opens of one of Ward's protected files (fanotify: a
#                round trip to the guard per open; LSM: a map lookup in
#                file_open) plus of a file under a DLP rule on the fanotify
#                path, so every open there asks user space
#   env: WARD_BIN, WORK, WARD_BENCH_SPAWNS (200), WARD_BENCH_OPENS (2000), WARD_BENCH_ROUNDS (2)
set -u
. "$(dirname "$0")/lib.sh"
WARDD_FORMAT=none  # no output: the storms measure the decisions
SPAWNS=${WARD_BENCH_SPAWNS:-200}
OPENS=${WARD_BENCH_OPENS:-2000}
ROUNDS=${WARD_BENCH_ROUNDS:-2}
B="$WORK/bench"
mkdir -p "$B/bin" "$B/data"
cp "$PROBE" "$B/bin/target"
printf 'bench' >>"$B/bin/target"
cp "$PROBE" "$B/bin/blocked"
printf 'blocked' >>"$B/bin/blocked"
echo "secret" >"$B/data/file"
echo "# conf" >"$B/wardd.yaml"
cat >"$B/policy.yaml" <<POL
mode: monitor
binary_rules:
  - {id: block-other, sha256: $(sha256sum "$B/bin/blocked" | cut -c1-64), policy: block}
file_access_rules:
  - {id: data-deny-nobody, shape: paths_with_denied_processes, paths: [{prefix: $B/data/}], processes: [{uid: 4242}], access: read_write}
POL

secs() { sed -n 's/^SECONDS \([0-9.]*\) FAILURES 0$/\1/p'; }
# run MODE: one round of both storms; appends "mode spawn open" to $B/times.
run() {
  s=$("$PROBE" spawn-storm "$B/bin/target" "$SPAWNS" | secs)
  if [ "$1" = lsm ]; then f="$B/wardd.yaml"; else f="$B/data/file"; fi
  o=$("$PROBE" open-storm "$f" "$OPENS" | secs)
  [ "$1" = fanotify ] && o2=$("$PROBE" open-storm "$B/wardd.yaml" "$OPENS" | secs) || o2=$o
  echo "$1 ${s:-x} ${o:-x} ${o2:-x}" >>"$B/times"
}
: >"$B/times"
round=0  # not i: lib.sh's helpers use i (sh has no locals)
while [ "$round" -lt "$ROUNDS" ]; do
  run none
  wardd_start --policy "$B/policy.yaml" --protect "$B/wardd.yaml" --no-lsm --auth-scope "$WORK" || exit 0
  run fanotify
  wardd_stop
  wardd_start --policy "$B/policy.yaml" --protect "$B/wardd.yaml" || exit 0
  grep -q "self-protection: files: bpf-lsm" "$ERR" || result bench-lsm-active FAIL "the LSM path is not active"
  run lsm
  wardd_stop
  round=$((round + 1))
done
cat "$B/times" | sed 's/^/WARD-VM-BENCH-RAW /'
# Sums per mode, then ratios against no agent.
# Throughput relative to no agent = time without / time with (1.00 = no
# cost, 0.50 = half the rate).
awk '
  { spawn[$1] += $2; open[$1] += $3; guard[$1] += $4; bad += ($2 == "x" || $3 == "x" || $4 == "x") }
  END {
    if (bad || !spawn["none"] || !open["none"] || !guard["none"] || !spawn["fanotify"] || !spawn["lsm"] || !open["fanotify"] || !guard["fanotify"] || !guard["lsm"]) { print "WARD-VM-RESULT bench FAIL incomplete timings"; exit }
    printf "WARD-VM-BENCH throughput vs no agent: spawn_storm fanotify=%.2f lsm=%.2f (lsm/fanotify %.2f)\n", spawn["none"]/spawn["fanotify"], spawn["none"]/spawn["lsm"], spawn["fanotify"]/spawn["lsm"]
    printf "WARD-VM-BENCH throughput vs no agent: open_storm DLP-scoped file fanotify=%.3f\n", open["none"]/open["fanotify"]
    printf "WARD-VM-BENCH throughput vs no agent: open_storm protected file fanotify=%.3f lsm=%.2f (lsm/fanotify %.1f)\n", guard["none"]/guard["fanotify"], guard["none"]/guard["lsm"], guard["fanotify"]/guard["lsm"]
    print "WARD-VM-RESULT bench PASS ratios above"
  }' "$B/times"
