#!/usr/bin/env bash
# Supervision real workers can trust (issue 12; SPEC §4, §5): signals go to
# the job's main process (a prefork pool hears the stop from its master),
# --signal-group and --stop-signal, a simple command is exec'd by the shell
# (its status and signals are the app's), a stopped or traced job is never
# read as an exit, and one line says why a stop began. jobshim runs as
# PID 1 of a new PID namespace; time bounds are generous (shared machines).
# shellcheck source=integration/lib.sh
. "$(dirname "$0")/lib.sh"

export LC_ALL=C
unset JOBSHIM_RUN_DIR JOBSHIM_CONFIG JOBSHIM_JOB JOBSHIM_COMMAND JOBSHIM_STOP_SIGNAL \
	JOBSHIM_SIGNAL_GROUP
W=$HELPERS/workerprobe
OUT=$TMP/out
ERR=$TMP/err
RUNS=0

# state PID: the process state letter of PID (R, S, T, ...), or "gone".
state() { sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null || echo gone; }

# child_of PID: the first child of PID (in the host's view).
child_of() { pgrep -P "$1" | head -n 1; }

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# ---------------------------------------------------------------- prefork pool
# TERM reaches the master only; the master tells its pool (USR1) and exits 0,
# which is jobshim's status. Before the fix the pool got TERM from jobshim
# too (Celery's WorkerLostError).
F=$TMP/prefork
worker pool "$W prefork $F 3"
wait_file "$F.ready" 10 || fail "prefork" "not ready"
kill -TERM "$J_PID"
wait_bg 20
expect "prefork: the master's own status (0) is jobshim's" 0 "$BG_STATUS"
expect "prefork: TERM reached the master" "master TERM" "$(grep '^master' "$F")"
expect "prefork: no pool child got TERM from jobshim" 0 "$(grep -c '^child .* TERM' "$F")"
expect "prefork: each pool child heard the stop from its master" 3 "$(grep -c '^child [0-9] USR1$' "$F")"
check "stop line: 'SIGTERM received: stopping pool (grace 8s)'" \
	grep -qx 'jobshim: SIGTERM received: stopping pool (grace 8s)' "$ERR"
check "exit line after the stop: 'pool exited with status 0'" \
	grep -qE '^jobshim: pool exited with status 0 after [0-9.]+m?s$' "$ERR"

# --signal-group keeps dumb-init's behaviour: the whole group gets it.
F=$TMP/prefork-group
worker pool "$W prefork $F 2" --signal-group
wait_file "$F.ready" 10 || fail "prefork --signal-group" "not ready"
kill -TERM "$J_PID"
wait_bg 20
expect "--signal-group: every pool child got TERM too" 2 "$(grep -c '^child [0-9] TERM$' "$F")"

# JOBSHIM_SIGNAL_GROUP=1 is its twin; forwarded signals follow it as well.
F=$TMP/prefork-env
JOBSHIM_SIGNAL_GROUP=1 worker pool "$W prefork $F 2"
wait_file "$F.ready" 10 || fail "prefork JOBSHIM_SIGNAL_GROUP" "not ready"
kill -HUP "$J_PID"
wait_grep "$F" '^master HUP$' 10
kill -TERM "$J_PID"
wait_bg 20
expect "JOBSHIM_SIGNAL_GROUP=1: HUP reached every pool child" 2 "$(grep -c '^child [0-9] HUP$' "$F")"

# Forwarded signals (HUP) go to the main process only by default.
F=$TMP/prefork-hup
worker pool "$W prefork $F 2"
wait_file "$F.ready" 10 || fail "prefork HUP" "not ready"
kill -HUP "$J_PID"
wait_grep "$F" '^master HUP$' 10 || fail "HUP forwarded" "the master did not get HUP"
kill -TERM "$J_PID"
wait_bg 20
expect "forwarded HUP: the pool did not get it" 0 "$(grep -c '^child [0-9] HUP$' "$F")"

# ---------------------------------------------------------------- stop signal
# --stop-signal QUIT (nginx's graceful stop): TERM from the platform sends
# QUIT to the app; sigprobe exits only on TERM, so the grace ends in SIGKILL,
# logged as a signal, never as "status 137".
F=$TMP/quit
worker nginx "$PROBE record $F" --stop-signal QUIT --grace 1s
wait_file "$F.ready" 10
kill -TERM "$J_PID"
wait_bg 20
expect "--stop-signal QUIT: the app got QUIT (3), not TERM" 3 "$(paste -sd ' ' "$F")"
expect "--stop-signal QUIT: killed after the grace: 137" 137 "$BG_STATUS"
check "stop line names the stop signal" \
	grep -qx 'jobshim: SIGTERM received: stopping nginx with SIGQUIT (grace 1s)' "$ERR"
check "a grace-period kill reads 'killed by signal 9 (SIGKILL)'" \
	grep -qE '^jobshim: nginx killed by signal 9 \(SIGKILL\) after [0-9.]+m?s$' "$ERR"
check "no 'status 137' anywhere" test "$(grep -c 'status 137' "$ERR")" -eq 0

F=$TMP/quit-env
JOBSHIM_STOP_SIGNAL=SIGINT worker nginx "$PROBE record $F" --grace 1s
wait_file "$F.ready" 10
kill -TERM "$J_PID"
wait_bg 20
expect "JOBSHIM_STOP_SIGNAL=SIGINT: the app got INT (2)" 2 "$(paste -sd ' ' "$F")"

pid1 --stop-signal BOGUS -- true 2>"$ERR"
expect "--stop-signal BOGUS: usage error 2" 2 "$?"
check "--stop-signal BOGUS: says so" grep -q 'stop-signal: unknown signal "BOGUS"' "$ERR"
# KILL and STOP are known signals, refused as stop signals with the reason,
# not called unknown; nothing is started.
for sig in KILL 9 STOP; do
	pid1 --stop-signal "$sig" -- sh -c "touch $TMP/started-$sig" 2>"$ERR"
	expect "--stop-signal $sig: usage error 2" 2 "$?"
	check "--stop-signal $sig: says it is not allowed, not unknown" \
		grep -qx "jobshim: stop-signal: \"$sig\" is not allowed: .*" "$ERR"
	check "--stop-signal $sig: nothing started" test ! -e "$TMP/started-$sig"
done

# ---------------------------------------------------------------- exec'd command
# A simple command: the shell execs it, so TERM reaches the app and its
# own status (0) is jobshim's (before: the shell's 143).
F=$TMP/simple
worker app "$PROBE record $F"
wait_file "$F.ready" 10
main=$(child_of "$J_PID")
expect "simple command: the main process is the app itself" sigprobe "$(cat "/proc/$main/comm")"
kill -TERM "$J_PID"
wait_bg 20
expect "simple command: TERM reached the app; its status 0 is jobshim's" "0 15" \
	"$BG_STATUS $(paste -sd ' ' "$F")"

# A compound command keeps the shell as the main process (write exec
# yourself): TERM goes to the shell, whose status is reported; what is
# left of the group gets SIGTERM after it.
F=$TMP/compound
worker app "echo starting; $PROBE record $F"
wait_file "$F.ready" 10
main=$(child_of "$J_PID")
expect "compound command: the shell stays the main process" sh "$(cat "/proc/$main/comm")"
kill -TERM "$J_PID"
wait_bg 20
expect "compound command: the shell's status (143)" 143 "$BG_STATUS"
expect "compound command: the app got SIGTERM as a leftover of the group" 15 "$(paste -sd ' ' "$F")"

# ---------------------------------------------------------------- stopped, continued
# TSTP to an app that handles it (Sidekiq's quiet): it runs on, and TERM
# ends it at once with its own status.
F=$TMP/quiet
worker sidekiq "$W quiet $F"
wait_file "$F.ready" 10
main=$(child_of "$J_PID")
kill -TSTP "$J_PID"
wait_grep "$F" '^TSTP$' 10 || fail "TSTP" "not forwarded"
sleep 0.2
expect "TSTP handled: the app keeps running (not stopped)" S "$(state "$main")"
t0=$(date +%s%N)
kill -TERM "$J_PID"
wait_bg 20
took=$(ms_since "$t0")
expect "TSTP then TERM: the app's own status 0" 0 "$BG_STATUS"
check "TSTP then TERM: no grace period spent (took ${took}ms)" test "$took" -lt 6000

# TSTP to an app that does not handle it stops it; jobshim does not take
# that for an exit, and a later TERM still works within the grace.
worker sleeper "$PROBE sleep 100000"
main=
for _ in $(seq 200); do
	main=$(child_of "$J_PID")
	[ -n "$main" ] && [ "$(cat "/proc/$main/comm" 2>/dev/null)" = sigprobe ] && break
	sleep 0.02
done
kill -TSTP "$J_PID"
for _ in $(seq 200); do [ "$(state "$main")" = T ] && break; sleep 0.02; done
expect "TSTP not handled: the app is stopped" T "$(state "$main")"
sleep 0.3
expect "a stopped app is not an exit: no exit line" 0 "$(grep -c 'exited\|killed' "$ERR")"
t0=$(date +%s%N)
kill -TERM "$J_PID"
wait_bg 20
took=$(ms_since "$t0")
expect "stopped app, then TERM: it dies of that TERM (143)" 143 "$BG_STATUS"
check "stopped app, then TERM: well within the grace (took ${took}ms)" test "$took" -lt 6000

# TTIN (Sidekiq's thread dump), then a crash: seen and restarted.
F=$TMP/ttin
worker sidekiq "$W quiet $F" --backoff-min 100ms
wait_file "$F.ready" 10
kill -TTIN "$J_PID"
wait_grep "$F" '^TTIN$' 10 || fail "TTIN" "not forwarded"
rm -f "$F.ready"
kill -USR2 "$J_PID"
wait_grep "$ERR" '^jobshim: sidekiq exited with status 3 after [0-9.]+m?s; restart 1 in 0\.1s$' 10
ok_restart=$?
wait_file "$F.ready" 10
expect "after TTIN a crash is seen and restarted" "0 ready" "$ok_restart $(cat "$F.ready" 2>/dev/null)"
kill -TERM "$J_PID"
wait_bg 20

# ---------------------------------------------------------------- traced
# A job that makes jobshim its tracer (PTRACE_TRACEME) and execs: its
# ptrace-stops are no exits; signals still reach it; TERM ends it with 0.
F=$TMP/traced
worker traced "$W traceme $F" --seccomp off
wait_file "$F.ready" 10 || fail "TRACEME" "the traced job never got past its exec"
kill -USR1 "$J_PID"
wait_grep "$F" '^USR1$' 10 || fail "TRACEME" "USR1 not delivered"
expect "TRACEME: a ptrace-stop is not an exit" 0 "$(grep -c 'exited\|killed\|restart' "$ERR")"
kill -TERM "$J_PID"
wait_bg 20
expect "TRACEME: TERM ends it with its own status 0" "0 USR1 TERM" "$BG_STATUS $(paste -sd ' ' "$F")"

# ---------------------------------------------------------------- @all
cat >"$TMP/all.yaml" <<'EOF'
workerJobs:
  - name: sidekiq
    command: "sleep 1000"
EOF
JOBSHIM_JOB=@all JOBSHIM_CONFIG=$TMP/all.yaml pid1_bg --run-dir "$TMP/run-all" \
	-- sh -c 'sleep 0.5; exit 3' >"$OUT" 2>"$ERR"
wait_bg 20
expect "@all: the main app's status ends it" 3 "$BG_STATUS"
check "@all: 'web exited with status 3: stopping the other jobs'" \
	grep -qx 'jobshim: web exited with status 3: stopping the other jobs' "$ERR"

JOBSHIM_JOB=@all JOBSHIM_CONFIG=$TMP/all.yaml pid1_bg --run-dir "$TMP/run-all2" \
	-- sleep 1000 >"$OUT" 2>"$ERR"
wait_file "$TMP/run-all2/status.json" 10
kill -TERM "$J_PID"
wait_bg 20
check "@all: 'SIGTERM received: stopping web, sidekiq (grace 8s)'" \
	grep -qx 'jobshim: SIGTERM received: stopping web, sidekiq (grace 8s)' "$ERR"

# ---------------------------------------------------------------- one instance, exactly
# Each instance starts a setsid daemon (re-parented to jobshim, PID 1) and
# exits 1. Before each restart every process descending from jobshim dies,
# daemons included; a process that entered the namespace from outside
# (nsenter, like `docker exec`), and what it started, are never touched.
F=$TMP/daemons
worker daemons "$W daemon $F" --backoff-min 100ms --backoff-max 100ms
nsenter -t "$J_PID" -p sh -c 'sleep 1000 & wait' &
OUTSIDER=$!
for _ in $(seq 100); do [ -n "$(pgrep -P "$OUTSIDER")" ] && break; sleep 0.02; done
outsider_sh=$(pgrep -P "$OUTSIDER")
outsider_sleep=$(pgrep -P "$outsider_sh")
max=0
deadline=$((SECONDS + 20))
# pgrep reads /proc one process after the other: an old instance's daemon
# seen early in a scan and the next instance seen late are not proof of two
# at once. So each one seen is counted only if it is still alive (and not a
# zombie) after the scan: then all were alive together at its end.
while [ "$(wc -l <"$F" 2>/dev/null || echo 0)" -lt 6 ] && [ "$SECONDS" -lt "$deadline" ]; do
	n=0
	for p in $(pgrep -P "$J_PID" -x workerprobe); do
		st=$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null)
		[ -n "$st" ] && [ "$st" != Z ] && n=$((n + 1))
	done
	[ "$n" -gt "$max" ] && max=$n
	sleep 0.02
done
check "setsid daemons: 6 instances ran" test "$(wc -l <"$F")" -ge 6
check "setsid daemons: never more than one instance and its daemon (saw $max)" test "$max" -le 2
check "outsider (entered with nsenter) is never killed" kill -0 "$outsider_sh"
check "what the outsider started is never killed" kill -0 "$outsider_sleep"
kill -TERM "$J_PID"
wait_bg 20
kill -KILL "$outsider_sleep" "$outsider_sh" 2>/dev/null
wait "$OUTSIDER" 2>/dev/null

# @all with a (test) cgroup v2 root: a restart writes the job's cgroup.kill.
CG=$TMP/cgroot
mkdir -p "$CG/jobshim/init" "$CG/jobshim/crasher" "$CG/jobshim/web"
echo "cpu memory pids" >"$CG/cgroup.controllers"
cp "$CG/cgroup.controllers" "$CG/jobshim/cgroup.controllers"
for f in cgroup.subtree_control cgroup.procs jobshim/cgroup.subtree_control jobshim/init/cgroup.procs; do
	: >"$CG/$f"
done
for j in crasher web; do
	for f in cgroup.procs cgroup.kill memory.max memory.swap.max pids.max cpu.weight; do
		: >"$CG/jobshim/$j/$f"
	done
done
cat >"$TMP/all-crash.yaml" <<'EOF'
workerJobs:
  - name: crasher
    command: "exit 1"
    size: micro
EOF
JOBSHIM_JOB=@all JOBSHIM_CONFIG=$TMP/all-crash.yaml JOBSHIM_CGROUP_ROOT=$CG pid1_bg \
	--run-dir "$TMP/run-cg" --backoff-min 100ms -- sleep 1000 >"$OUT" 2>"$ERR"
wait_grep "$ERR" 'crasher exited with status 1 .*restart 2' 15
kill -TERM "$J_PID"
wait_bg 20
expect "@all: a restart kills the job's cgroup (cgroup.kill written)" 1 \
	"$(cat "$CG/jobshim/crasher/cgroup.kill" 2>/dev/null)"

# A failed @all start stops what it started: fork fails for the second
# worker (RLIMIT_NPROC of an otherwise unused uid), the main app and the
# first worker get the stop signal, and jobshim exits 125.
F=$TMP/failed-start
cat >"$TMP/all-three.yaml" <<EOF
workerJobs:
  - name: first
    command: "$PROBE record $F.first"
  - name: second
    command: "sleep 1000"
EOF
# RLIMIT_NPROC counts every process of the uid on the machine: one no other
# run (another clone's tests, at the same time) uses.
NPROC_UID=$((50000 + $$ % 10000))
while pgrep -u "$NPROC_UID" >/dev/null; do NPROC_UID=$((NPROC_UID + 1)); done
chmod 777 "$TMP"
JOBSHIM_JOB=@all JOBSHIM_CONFIG=$TMP/all-three.yaml timeout -s KILL 30 \
	unshare --pid --fork --mount-proc setpriv --reuid "$NPROC_UID" --regid "$NPROC_UID" --clear-groups \
	prlimit --nproc=3 "$JOBSHIM" --run-dir "$TMP/run-nproc" --grace 2s -- "$PROBE" record "$F.web" \
	>"$OUT" 2>"$ERR"
rc=$?
chmod 700 "$TMP"
expect "a failed @all start exits 125" 125 "$rc"
check "it says which job could not start" grep -q 'unable to start second: ' "$ERR"
check "the worker it had started got the stop signal" \
	grep -qE '^jobshim: first (killed by signal 15 \(SIGTERM\)|exited with status 0) after' "$ERR"
expect "nothing of the failed start is left running" "" "$(pgrep -u "$NPROC_UID")"

# ---------------------------------------------------------------- start-up
# A FIFO as .deploio.yaml never hangs jobshim: the main app starts with a
# warning; a worker (which needs the file) fails with 2.
mkdir -p "$TMP/fifo-app"
mkfifo "$TMP/fifo-app/.deploio.yaml"
(cd "$TMP/fifo-app" && timeout -s KILL 20 unshare --pid --fork --mount-proc "$JOBSHIM" \
	--run-dir "$TMP/run-fifo" -- sh -c 'exit 4' 2>"$ERR")
expect "FIFO as .deploio.yaml: the main app still runs (its status 4)" 4 "$?"
check "FIFO as .deploio.yaml: a warning says it is not a regular file" \
	grep -q 'warning: unable to read .*\.deploio\.yaml: not a regular file' "$ERR"
JOBSHIM_JOB=sidekiq JOBSHIM_CONFIG=$TMP/fifo-app/.deploio.yaml timeout -s KILL 20 \
	unshare --pid --fork --mount-proc "$JOBSHIM" --run-dir "$TMP/run-fifo2" 2>"$ERR"
expect "FIFO as the worker's config: configuration error 2, no hang" 2 "$?"
JOBSHIM_CONFIG=$TMP/fifo-app/.deploio.yaml timeout -s KILL 20 "$JOBSHIM" check >/dev/null 2>"$ERR"
expect "FIFO as the config: check fails with 2, no hang" 2 "$?"

# A flood of queued real-time signals does not delay a TERM: jobshim
# forwards them a bounded number a turn (the app ignores them) and the
# TERM, queued after them, still ends the job at once.
F=$TMP/flooded
worker flooded "$W quiet $F" --grace 1s
wait_file "$F.ready" 10
t0=$(date +%s%N)
queued=$("$W" sigflood "$J_PID" 60000)
wait_bg 30
took=$(ms_since "$t0")
check "signal flood: ${queued:-0} real-time signals were queued" test "${queued:-0}" -ge 10000
expect "signal flood: TERM still ends the job with its own status" 0 "$BG_STATUS"
check "signal flood: within 5 s of the flood (took ${took}ms)" test "$took" -lt 5000
check "signal flood: TERM reached the app, not a SIGKILL at the grace's end" grep -qx TERM "$F"

# check rejects a command the kernel would refuse (E2BIG: more than
# MAX_ARG_STRLEN, 131072 bytes, in one argument).
python3 -c 'print("workerJobs:\n  - name: big\n    command: \"echo " + "x" * 200000 + "\"")' >"$TMP/big.yaml"
JOBSHIM_CONFIG=$TMP/big.yaml "$JOBSHIM" check >/dev/null 2>"$ERR"
expect "check: a 200 kB command is a configuration error" 2 "$?"
check "check: it says the command is too long, with line and column" \
	grep -qE 'big\.yaml:[0-9]+:[0-9]+: workerJobs\[0\]\.command: too long: 200005 bytes' "$ERR"

finish
