#!/usr/bin/env bash
# Worker jobs (SPEC §2 worker, §4 supervision, §5 stdout closed, §8 stats):
# selecting a job from .deploio.yaml or the environment alone, restarts
# with exponential backoff, exit logging, a stop during the backoff wait,
# one instance at a time, the single-instance lock, jobshim's own cost
# while a worker crash-loops, and `jobshim stats` in every state. jobshim
# runs as PID 1 of a new PID namespace; time bounds are generous on purpose
# (shared, noisy machines).
# shellcheck source=integration/lib.sh
. "$(dirname "$0")/lib.sh"

export LC_ALL=C
unset JOBSHIM_RUN_DIR JOBSHIM_CONFIG JOBSHIM_JOB JOBSHIM_COMMAND
OUT=$TMP/out
ERR=$TMP/err
RUNS=0

stop() {
	kill -TERM "$J_PID" 2>/dev/null
	wait_bg 20
}

# wait_lines FILE N [SECONDS]: until FILE has at least N lines.
wait_lines() {
	local deadline=$((SECONDS + ${3:-15}))
	until [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# stats ARGS...: `jobshim stats` from inside the running jobshim's PID and
# mount namespaces (what `docker exec` does); stdout in $TMP/stats, RC set.
stats() {
	nsenter -t "$J_PID" -p -m -r "$JOBSHIM" stats --run-dir "$RUN" "$@" >"$TMP/stats" 2>"$TMP/stats.err"
	RC=$?
}
# stats_until N VALUE [SECONDS]: stats until column N of the first row is
# VALUE (status.json follows a change within 100 ms; on a loaded machine,
# later).
stats_until() {
	local deadline=$((SECONDS + ${3:-5}))
	while :; do
		stats
		[ "$(field "$1")" = "$2" ] && return 0
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}
# field N: column N of the first job row of the last stats table.
field() { awk -v c="$1" 'NR == 2 { print $c }' "$TMP/stats"; }

# cpu_ticks PID: utime + stime of PID.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

# ---------------------------------------------------------------- CPU cost
# A worker crash-looping for 20 s (backoff 1s each time) costs jobshim less
# than 2% of a CPU. Runs in the background while the other tests run: only
# jobshim's own utime+stime counts.
CPU_RUN=$TMP/cpu-run
JOBSHIM_JOB=loop JOBSHIM_COMMAND='exit 1' pid1_bg --run-dir "$CPU_RUN" --backoff-max 1s \
	>"$TMP/cpu.out" 2>"$TMP/cpu.err"
CPU_BG=$BG_PID CPU_J=$J_PID
CPU_T0=$(date +%s%N)
CPU_C0=$(cpu_ticks "$CPU_J")

# ---------------------------------------------------------------- selection
cat >"$TMP/deploio.yaml" <<'EOF'
env:
  - name: FROM_CONFIG
    value: config-value
  - name: BOTH
    value: config-loses
workerJobs:
  - name: alpha
    command: "echo \"alpha FROM_CONFIG=$FROM_CONFIG BOTH=$BOTH arg0=$0\"; exec sleep 100"
  - name: beta
    command: "echo beta"
EOF
RUNS=$((RUNS + 1))
RUN=$TMP/run$RUNS
BOTH=container-wins JOBSHIM_CONFIG=$TMP/deploio.yaml JOBSHIM_JOB=alpha \
	pid1_bg --run-dir "$RUN" -- /bin/false >"$OUT" 2>"$ERR"
wait_grep "$OUT" '^alpha \| ' 10
stop
expect "config worker: env entries reach it, the container's own env wins, argv ignored" \
	"alpha | alpha FROM_CONFIG=config-value BOTH=container-wins arg0=/bin/sh" "$(head -n 1 "$OUT")"
expect "config worker: stopped by SIGTERM -> 143" 143 "$BG_STATUS"

JOBSHIM_CONFIG=$TMP/deploio.yaml JOBSHIM_JOB=alpha JOBSHIM_COMMAND='echo overridden; exec sleep 100' \
	pid1_bg --run-dir "$RUN" >"$OUT" 2>"$ERR"
wait_grep "$OUT" '^alpha \| ' 10
stop
expect "JOBSHIM_COMMAND overrides the configured command" "alpha | overridden" "$(head -n 1 "$OUT")"

JOBSHIM_CONFIG=$TMP/deploio.yaml JOBSHIM_JOB=gamma pid1 --run-dir "$RUN" >"$OUT" 2>"$ERR"
expect "unknown job -> 2" 2 "$?"
check "unknown job: the message lists alpha and beta" grep -q 'alpha.*beta' "$ERR"
expect "unknown job: nothing on stdout" "" "$(cat "$OUT")"

# shellcheck disable=SC2016 # expanded by the worker's shell
worker solo 'echo "env-only $0"; exec sleep 100'
wait_grep "$OUT" '^solo \| ' 10
stop
expect "env-only worker (JOBSHIM_JOB + JOBSHIM_COMMAND, no file)" "solo | env-only /bin/sh" "$(cat "$OUT")"

# ---------------------------------------------------------------- backoff
# Starts are stamped by the worker itself. Delays 200ms, doubling, capped at
# 800ms; the 5th instance runs 1.5 s (> reset 1s), so the delay starts over.
S=$TMP/starts
worker flap "date +%s%N >>$S; [ \"\$(wc -l <$S)\" -eq 5 ] && sleep 1.5; exit 1" \
	--backoff-min 200ms --backoff-max 800ms --backoff-reset 1s
wait_lines "$S" 7 30 || fail "backoff: 7 starts" "only $(wc -l <"$S") after 30 s"
stop
expect "backoff: restart delays logged 0.2 0.4 0.8 0.8 (cap) 0.2 (reset) 0.4" \
	"1 0.2s|2 0.4s|3 0.8s|4 0.8s|5 0.2s|6 0.4s" \
	"$(sed -n 's/^jobshim: flap exited with status 1 after [0-9.]*m\{0,1\}s; restart \([0-9]*\) in \(.*\)$/\1 \2/p' "$ERR" | head -n 6 | paste -sd '|')"
check "backoff: the long run is logged as 1.5s" \
	grep -qE '^jobshim: flap exited with status 1 after 1\.[5-9]s; restart 5 in 0\.2s$' "$ERR"
# Each gap between starts is at least the delay (plus the 1.5 s run for the
# 5th) and less than that + 1.5 s.
gaps=$(awk 'NR > 1 { printf "%d ", ($1 - prev) / 1000000 } { prev = $1 }' "$S")
echo "# backoff: gaps between starts (ms): $gaps"
bad=$(awk -v g="$gaps" 'BEGIN {
	split("200 400 800 800 1700 400", want, " "); n = split(g, got, " ")
	for (i = 1; i <= 6; i++)
		if (i > n || got[i] < want[i] || got[i] >= want[i] + 1500)
			printf "gap %d: %s ms, want %d..%d; ", i, got[i], want[i], want[i] + 1500
}')
expect "backoff: measured gaps follow min, 2·min, 4·min, cap, reset" "" "$bad"

# exit 0 restarts too
worker zero "echo x >>$TMP/zero; exit 0" --backoff-min 100ms --backoff-max 100ms
wait_lines "$TMP/zero" 3 15
stop
check "exit 0: restarted (3 instances)" test "$(wc -l <"$TMP/zero")" -ge 3
check "exit 0: logged" grep -qE '^jobshim: zero exited with status 0 after [0-9.]+m?s; restart 1 in 0\.1s$' "$ERR"

# killed by a signal
worker sig 'kill -9 $$' --backoff-min 100ms
wait_grep "$ERR" 'restart 1 in' 10
stop
check "signal exit: 'killed by signal 9 (SIGKILL)'" \
	grep -qE '^jobshim: sig killed by signal 9 \(SIGKILL\) after [0-9.]+m?s; restart 1 in 0\.1s$' "$ERR"

# ---------------------------------------------------------------- stop in backoff
# SIGTERM during a 5 s backoff wait ends jobshim at once, with the last
# status of the worker (3: nothing runs that the signal could end).
worker wait 'exit 3' --backoff-min 5s
wait_grep "$ERR" 'restart 1 in 5s' 10 || fail "backoff wait" "no 'restart 1 in 5s'"
t0=$(date +%s%N)
stop
took=$((($(date +%s%N) - t0) / 1000000))
expect "TERM during the backoff wait: exit status is the worker's last (3)" 3 "$BG_STATUS"
check "TERM during the backoff wait: exits within 2 s (took ${took}ms)" test "$took" -lt 2000
check "TERM during the backoff wait: no restart" test "$(grep -c 'restart' "$ERR")" -eq 1

# ---------------------------------------------------------------- state trace
# -vv logs each step of the job-state table: a crash and its restart go
# running -> cleanup -> waiting -> running, the stop in the backoff wait
# (of 4 s) ends it: waiting -> done.
JOBSHIM_VERBOSE=2 worker trace 'exit 1' --backoff-min 2s --backoff-max 30s
wait_grep "$ERR" 'restart 2 in' 15 || fail "state trace" "no 'restart 2 in'"
stop
steps=$(sed -n 's/^jobshim: trace: \([a-z]* + [a-z-]* -> [a-z]* ([a-z-]*)\)$/\1/p' "$ERR" | paste -sd '|')
expect "-vv: the steps of a start, a crash and a restart" \
	"new + start -> new (spawn)|new + spawned -> running (none)|running + exited -> cleanup (kill-leftovers)|cleanup + gone -> waiting (backoff)|waiting + backoff-over -> waiting (respawn)|waiting + spawned -> running (none)" \
	"$(printf '%s\n' "$steps" | cut -d'|' -f1-6)"
check "-vv: the stop during the backoff wait: waiting + stop -> done" \
	grep -qx 'jobshim: trace: waiting + stop -> done (none)' "$ERR"
check "-vv off: no step lines without it" bash -c "! grep -q ' -> ' '$TMP/cpu.err'"

# ---------------------------------------------------------------- one at a time
# Each instance leaves a `sleep 100.PID` behind in its process group and
# exits; the next instance looks for any sleep process before it starts one.
# An instance writes "started" only once its sleep has exec'd (its comm is
# "sleep"), so that the next one's look cannot come before it. The fifth
# instance stays (exec sleep 1000.PID): while it runs, jobshim is alive and
# the leftovers of the fourth must already be gone (looked at inside the
# namespace, before jobshim exits and the kernel kills what is left).
D=$TMP/daemon
worker daemon "if pgrep -x sleep >/dev/null; then echo leftover; else echo clean; fi >>$D
	[ \"\$(wc -l <$D)\" -ge 9 ] && exec sleep 1000.$$
	sleep 100.$$ & s=\$!; n=0
	until [ \"\$(cat /proc/\$s/comm 2>/dev/null)\" = sleep ] || [ \$n -ge 2000 ]; do n=\$((n + 1)); done
	pgrep -x sleep >/dev/null && echo started >>$D; exit 1" \
	--backoff-min 100ms --backoff-max 100ms
wait_lines "$D" 9 20
expect "leftovers of an instance are gone before the next starts" \
	"clean started clean started clean started clean started clean" \
	"$(head -n 9 "$D" | paste -sd ' ')"
n=0
until pgrep -fx "sleep 1000\\.$$" >/dev/null || [ $n -ge 500 ]; do
	n=$((n + 1))
	sleep 0.01
done
check "while jobshim runs: the last instance runs" pgrep -fx "sleep 1000\\.$$"
check "while jobshim runs: no leftover sleep of the earlier instances in its namespace" \
	bash -c "! nsenter -t $J_PID -p -m -r pgrep -fx 'sleep 100\\.$$' >/dev/null"
stop

# ---------------------------------------------------------------- lock
worker dup 'exec sleep 100'
wait_file "$RUN/status.json" 10
JOBSHIM_JOB=dup JOBSHIM_COMMAND='echo second instance' "$JOBSHIM" --run-dir "$RUN" \
	>"$TMP/dup.out" 2>"$TMP/dup.err"
expect "second jobshim for the same job -> 75" 75 "$?"
check "second jobshim: says the job already runs" grep -q 'dup already runs under another jobshim' "$TMP/dup.err"
expect "second jobshim: started nothing" "" "$(cat "$TMP/dup.out")"
JOBSHIM_JOB=other JOBSHIM_COMMAND='exec sleep 100' timeout --preserve-status -s TERM 1 "$JOBSHIM" --run-dir "$RUN" \
	>/dev/null 2>&1
expect "another job with the same run dir runs (ended by TERM -> 143)" 143 "$?"
stop
expect "first jobshim unaffected (TERM -> 143)" 143 "$BG_STATUS"

# ---------------------------------------------------------------- stdout closed
# A pipe whose reader has gone: EPIPE. jobshim keeps supervising; its own
# messages and the worker's stderr still reach stderr.
mkfifo "$TMP/fifo"
head -n 1 <"$TMP/fifo" >"$TMP/head.out" &
HEAD=$!
JOBSHIM_JOB=gone JOBSHIM_COMMAND='echo to stdout; echo to stderr >&2; exit 1' \
	pid1_bg --run-dir "$TMP/run-gone" --backoff-min 100ms --backoff-max 100ms >"$TMP/fifo" 2>"$ERR"
wait "$HEAD"
# the worker keeps writing into the broken pipe at every restart
wait_grep "$ERR" 'restart 20 in' 30
check "stdout a broken pipe: jobshim alive after 20 restarts" kill -0 "$J_PID"
stop
expect "stdout a broken pipe: the reader got the first line" "gone | to stdout" "$(cat "$TMP/head.out")"
check "stdout a broken pipe: worker's stderr still prefixed on stderr" \
	test "$(grep -c '^gone | to stderr$' "$ERR")" -ge 20
check "stdout a broken pipe: not killed by SIGPIPE, stopped by TERM" \
	test "$BG_STATUS" != 141 -a "$BG_STATUS" != hang

# stdout closed outright (>&-)
RUN=$TMP/run-shut
JOBSHIM_JOB=shut JOBSHIM_COMMAND='echo to stdout; echo to stderr >&2; exit 1' \
	pid1_bg --run-dir "$RUN" --backoff-min 100ms --backoff-max 100ms >&- 2>"$ERR"
wait_grep "$ERR" 'restart 20 in' 30
check "stdout closed: jobshim alive after 20 restarts" kill -0 "$J_PID"
stats
check "stdout closed: stats shows the restarts" test "$(field 5)" -ge 18
stop
check "stdout closed: worker's stderr still prefixed on stderr" \
	test "$(grep -c '^shut | to stderr$' "$ERR")" -ge 20
check "stdout closed: ended by TERM" test "$BG_STATUS" != hang

# stdin and stdout closed: jobshim's own fds (signalfd, locks, pipes) must
# not take numbers 0 and 1, or the worker's lines land in a lock file.
RUN=$TMP/run-shut2
# (pid1_bg would give its background job /dev/null as stdin: no function)
JOBSHIM_JOB=shut2 JOBSHIM_COMMAND='echo into the void; exec sleep 100' \
	unshare --pid --fork --mount-proc "$JOBSHIM" --run-dir "$RUN" <&- >&- 2>"$ERR" &
BG_PID=$!
for _ in $(seq 500); do
	J_PID=$(pgrep -P "$BG_PID" | head -n 1)
	[ -n "$J_PID" ] && break
	sleep 0.01
done
wait_file "$RUN/status.json" 10
# until the worker wrote its line and exec'd sleep
for _ in $(seq 500); do
	pgrep -x sleep -P "$J_PID" >/dev/null && break
	sleep 0.01
done
check "stdin+stdout closed: the worker wrote and went on" pgrep -x sleep -P "$J_PID"
check "stdin+stdout closed: jobshim alive" kill -0 "$J_PID"
stop
expect "stdin+stdout closed: stopped by TERM" 143 "$BG_STATUS"
expect "stdin+stdout closed: nothing written into the run dir's lock files" "" \
	"$(cat "$RUN"/*.lock)"

# ---------------------------------------------------------------- stats
# progressing, then ready after 5 s; terminating during the grace period.
worker steady "trap '' TERM; exec sleep 100" --grace 4s --size micro
wait_file "$RUN/status.json" 10
stats
expect "stats progressing: exit 0" 0 "$RC"
expect "stats progressing: header" "JOB KIND PID STATUS RESTARTS LASTEXITCODE UPTIME CPU MEMORY SIZE" \
	"$(head -n 1 "$TMP/stats" | tr -s ' ')"
expect "stats progressing: row" "steady worker progressing 0 -" "$(field 1) $(field 2) $(field 4) $(field 5) $(field 6)"
check "stats progressing: pid is a number" grep -qE '^[0-9]+$' <<<"$(field 3)"
check "stats progressing: memory measured" grep -qE '^[0-9]+(Ki|Mi)$' <<<"$(field 9)"
expect "stats progressing: size" micro "$(field 10)"
# The instance's start as jobshim wrote it (ms since the epoch).
started=$(jsonq -f "$RUN/status.json" 'd["jobs"][0]["started"]')
for _ in $(seq 100); do
	stats
	seen=$(date +%s%3N) # stats judged "ready" before this
	[ "$(field 4)" = ready ] && break
	sleep 0.1
done
expect "stats ready after 5 s" ready "$(field 4)"
check "stats ready: not before 5 s ($((seen - started)) ms after the start)" \
	test $((seen - started)) -ge 5000
check "stats ready: uptime >= 5s" grep -qE '^([5-9]|[1-9][0-9])s$' <<<"$(field 7)"
stats -o json
# The one row, its keys in this order, the measured numbers whole and >= 0.
check "stats -o json: ready row" json_is "$TMP/stats" 'list(d) == ["jobs"] and len(d["jobs"]) == 1 and
	list(d["jobs"][0]) == ["job", "kind", "pid", "status", "restarts", "lastExitCode",
		"uptimeSeconds", "cpuMillicores", "memoryBytes", "size"] and
	find(d["jobs"], job="steady", kind="worker", status="ready", restarts=0, lastExitCode=None,
		size="micro") and
	all(type(d["jobs"][0][k]) is int and d["jobs"][0][k] >= 0
		for k in ("pid", "uptimeSeconds", "cpuMillicores", "memoryBytes"))'
kill -TERM "$J_PID"
stats_until 4 terminating
expect "stats terminating (TERM ignored, within the grace period)" terminating "$(field 4)"
wait_bg 20
expect "TERM ignored: SIGKILL after the grace period -> 137" 137 "$BG_STATUS"
stats_gone() {
	"$JOBSHIM" stats --run-dir "$RUN" >"$TMP/stats" 2>"$TMP/stats.err"
	RC=$?
}
stats_gone
expect "stats after jobshim exited: exit 1" 1 "$RC"
check "stats after jobshim exited: says no jobshim runs" grep -q 'no jobshim is running' "$TMP/stats.err"

# waiting (in backoff), then failing (more than 2 quick restarts)
worker slow 'exit 1' --backoff-min 4s
wait_grep "$ERR" 'restart 1 in 4s' 10
stats_until 4 waiting
expect "stats waiting: row" "slow worker - waiting 0 1 -" \
	"$(field 1) $(field 2) $(field 3) $(field 4) $(field 5) $(field 6) $(field 7)"
stop

# Restarted twice, waiting for the third restart: not yet "failing", which
# is more than 2 restarts without a stable run (SPEC §8).
worker twice 'exit 1' --backoff-min 1s --backoff-max 60s
wait_grep "$ERR" 'restart 3 in 4s' 20
for _ in $(seq 40); do # status.json catches up with the log line
	stats
	[ "$(field 5)" = 2 ] && break
	sleep 0.05
done
expect "stats after 2 restarts, waiting for the 3rd: waiting, not failing" "waiting 2" \
	"$(field 4) $(field 5)"
stop

worker flaky 'exit 2' --backoff-min 100ms --backoff-max 100ms
wait_grep "$ERR" 'restart 4 in' 10
stats_until 4 failing
for _ in $(seq 40); do # status.json catches up with the log line
	[ "$(field 5)" -ge 3 ] && break
	sleep 0.05
	stats
done
expect "stats failing: status and last exit code" "failing 2" "$(field 4) $(field 6)"
check "stats failing: restarts counted" test "$(field 5)" -ge 3
stats -o json
check "stats -o json: failing" json_is "$TMP/stats" 'find(d["jobs"], job="flaky", kind="worker", status="failing", lastExitCode=2)'
stop

# ---------------------------------------------------------------- CPU cost
# (started at the top)
while [ $(($(date +%s%N) - CPU_T0)) -lt 20000000000 ]; do sleep 0.2; done
CPU_C1=$(cpu_ticks "$CPU_J")
CPU_MS=$((($(date +%s%N) - CPU_T0) / 1000000))
HZ=$(getconf CLK_TCK)
used_ms=$(((CPU_C1 - CPU_C0) * 1000 / HZ))
echo "# crash loop: jobshim used ${used_ms}ms CPU in ${CPU_MS}ms"
BG_PID=$CPU_BG J_PID=$CPU_J
stop
restarts=$(grep -c '^jobshim: loop exited with status 1' "$TMP/cpu.err")
check "crash loop: restarted about every second (${restarts} exits in ~20 s)" test "$restarts" -ge 10
check "crash loop: jobshim under 2% CPU (${used_ms}ms in ${CPU_MS}ms)" \
	test $((used_ms * 100)) -lt $((CPU_MS * 2))

finish
