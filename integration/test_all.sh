#!/usr/bin/env bash
# JOBSHIM_JOB=@all (SPEC §2): the main app as `web` and every worker job in
# one container, like foreman. Names padded to the longest; the main app's
# exit ends everything with its status; a crashing worker never disturbs
# the main app. jobshim runs as PID 1 of a new PID namespace.
# shellcheck source=integration/lib.sh
. "$(dirname "$0")/lib.sh"

export LC_ALL=C
unset JOBSHIM_RUN_DIR JOBSHIM_COMMAND
export JOBSHIM_JOB=@all JOBSHIM_CONFIG=$TMP/deploio.yaml
export JOBSHIM_BACKOFF_MIN=100ms JOBSHIM_BACKOFF_MAX=200ms
OUT=$TMP/out
ERR=$TMP/err

cat >"$JOBSHIM_CONFIG" <<'EOF'
env:
  - name: GREETING
    value: hello
workerJobs:
  - name: clock
    command: "i=0; while :; do echo \"tick $i $GREETING\"; i=$((i+1)); sleep 0.2; done"
  - name: crasher
    command: "echo crash starting; echo crash err >&2; sleep 0.3; exit 1"
EOF

# The main app: prints its pid once, then 25 numbered lines on both
# streams over about 5 s, then exits 7.
# shellcheck disable=SC2016 # expanded by the main app's shell
MAIN='echo "main pid $$"; i=0; while [ $i -lt 25 ]; do echo "main $i"; echo "main err $i" >&2;
	i=$((i+1)); sleep 0.2; done; exit 7'

t0=$SECONDS
pid1_bg --run-dir "$TMP/run" -- sh -c "$MAIN" >"$OUT" 2>"$ERR"
wait_file "$TMP/run/status.json" 10
nsenter -t "$J_PID" -p -m -r "$JOBSHIM" stats --run-dir "$TMP/run" >"$TMP/stats" 2>&1
expect "stats: one row a job, main app first" "web main|clock worker|crasher worker" \
	"$(awk 'NR > 1 { print $1, $2 }' "$TMP/stats" | paste -sd '|')"
wait_bg 30
took=$((SECONDS - t0))
expect "the main app's exit ends everything with its status (7)" 7 "$BG_STATUS"
check "ended promptly after the main app (took ${took}s)" test "$took" -le 15

# Every line carries a name padded to the longest (crasher: 7).
expect "every stdout line is prefixed with a padded name" 0 \
	"$(grep -cvE '^(web    |clock  |crasher) \| ' "$OUT")"
expect "every stderr line is a prefixed line or jobshim's own" 0 \
	"$(grep -cvE '^((web    |clock  |crasher) \| |jobshim: )' "$ERR")"
expect "the main app ran once (never restarted)" 1 "$(grep -c '^web     | main pid ' "$OUT")"
expect "the main app's output is complete and in order despite the crashes" \
	"$(seq 0 24 | sed 's/^/main /' | paste -sd '|')" \
	"$(sed -n 's/^web     | \(main [0-9]*\)$/\1/p' "$OUT" | paste -sd '|')"
expect "the main app's stderr is complete and prefixed" 25 "$(grep -c '^web     | main err [0-9]*$' "$ERR")"
crashes=$(grep -c '^crasher | crash starting$' "$OUT")
check "the crashing worker was restarted ($crashes instances)" test "$crashes" -ge 3
check "the crashing worker's stderr is prefixed" grep -q '^crasher | crash err$' "$ERR"
check "its exits are logged" grep -qE '^jobshim: crasher exited with status 1 after [0-9.]+m?s; restart 2 in 0\.2s$' "$ERR"
check "the other worker ran throughout, with the config's env" \
	test "$(grep -c '^clock   | tick [0-9]* hello$' "$OUT")" -ge 15
expect "the clock worker was never restarted" 0 "$(grep -c 'clock exited' "$ERR")"
# Lines of different jobs interleave: the main app's lines are not bunched.
first_web=$(grep -n '^web ' "$OUT" | head -n 1 | cut -d: -f1)
last_web=$(grep -n '^web ' "$OUT" | tail -n 1 | cut -d: -f1)
others=$(sed -n "${first_web},${last_web}p" "$OUT" | grep -vc '^web ')
check "lines of the jobs interleave ($others other lines among the main app's)" test "$others" -ge 10

# --- the main app killed by a signal: 128+N, workers stopped
# (the main app dies once a worker's line is out)
pid1 --run-dir "$TMP/run" -- sh -c "n=0; until grep -q '^clock   | tick 0 ' $OUT || [ \$n -ge 300 ]; do
	n=\$((n + 1)); sleep 0.05; done; kill -9 \$\$" >"$OUT" 2>"$ERR"
expect "main app killed by SIGKILL -> 137" 137 "$?"
check "workers ran meanwhile" grep -q '^clock   | tick 0 hello$' "$OUT"

# --- SIGTERM stops every job; the status is the main app's
pid1_bg --run-dir "$TMP/run" -- sleep 100 >"$OUT" 2>"$ERR"
for _ in $(seq 100); do
	grep -q '^clock   | tick 1 ' "$OUT" && break
	sleep 0.1
done
t0=$SECONDS
kill -TERM "$J_PID"
wait_bg 20
expect "SIGTERM in @all: the main app's status (143)" 143 "$BG_STATUS"
check "SIGTERM in @all: prompt (took $((SECONDS - t0))s)" test $((SECONDS - t0)) -le 3
check "SIGTERM in @all: workers had run" grep -q '^crasher | crash starting$' "$OUT"

# --- the stop line names every job, whole, however long the names
n63=$(printf 'n%.0s' $(seq 62))
printf 'workerJobs:\n' >"$TMP/long.yaml"
for k in 1 2 3; do
	printf '  - name: %s%d\n    command: "sleep 100"\n' "$n63" "$k" >>"$TMP/long.yaml"
done
JOBSHIM_CONFIG=$TMP/long.yaml pid1_bg --run-dir "$TMP/run" -- sleep 100 >"$OUT" 2>"$ERR"
wait_file "$TMP/run/status.json" 10
kill -TERM "$J_PID"
wait_bg 20
check "SIGTERM in @all with three 63-character names: each named whole in the stop line" \
	grep -qx "jobshim: SIGTERM received: stopping web, ${n63}1, ${n63}2, ${n63}3 (grace 8s)" "$ERR"

# --- @all needs a valid configuration
printf 'workerJobs:\n  - name: Bad_Name\n    command: x\n' >"$TMP/bad.yaml"
JOBSHIM_CONFIG=$TMP/bad.yaml pid1 --run-dir "$TMP/run" -- sh -c 'echo started' >"$OUT" 2>"$ERR"
expect "invalid configuration in @all -> 2" 2 "$?"
expect "invalid configuration in @all: nothing started" "" "$(cat "$OUT")"
check "invalid configuration in @all: the field is named" grep -q 'workerJobs\[0\]\.name' "$ERR"

finish
