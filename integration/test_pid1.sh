#!/usr/bin/env bash
# The PID-1 core (SPEC §1, §2 main app, §4 reaping, §5 signals): the real
# binary as PID 1 of a new PID namespace.
# shellcheck source=integration/lib.sh
. "$(dirname "$0")/lib.sh"

# --- exit statuses: every code 0..255 round-trips, in one namespace each
bad=
for code in $(seq 0 255); do
	pid1 "$PROBE" exit "$code"
	got=$?
	[ "$got" -eq "$code" ] || bad="$bad $code->$got"
done
expect "exit codes 0..255 round-trip" "" "$bad"

for pair in TERM:143 HUP:129 QUIT:131 KILL:137 SEGV:139; do
	sig=${pair%:*}
	want=${pair#*:}
	pid1 "$PROBE" kill "$(kill -l "$sig")" 2>/dev/null
	expect "child killed by SIG$sig -> $want" "$want" "$?"
done

pid1 /nonexistent/program 2>"$TMP/err"
expect "command not found -> 127" 127 "$?"
check "not-found message names the command" grep -q '/nonexistent/program' "$TMP/err"
printf 'x' >"$TMP/noexec"
chmod 644 "$TMP/noexec"
pid1 "$TMP/noexec" 2>/dev/null
expect "command not executable -> 126" 126 "$?"
pid1 2>/dev/null
expect "no command -> 2" 2 "$?"
pid1 --no-such-flag true 2>/dev/null
expect "unknown flag -> 2" 2 "$?"
JOBSHIM_GRACE=soon pid1 true 2>"$TMP/err"
expect "bad JOBSHIM_GRACE -> 2" 2 "$?"
check "bad duration names the variable" grep -q 'JOBSHIM_GRACE' "$TMP/err"
pid1 -- true
expect "-- then a command" 0 "$?"

# --- stdin passes through, and the job reads it directly
got=$(echo 'exit 3' | pid1 -- sh >/dev/null 2>&1; echo $?)
expect "stdin passes through (echo 'exit 3' | jobshim -- sh)" 3 "$got"

# --- the child's own process group and an empty signal mask
out=$(pid1 "$PROBE" status)
pid=$(sed -n 's/^pid //p' <<<"$out")
pgid=$(sed -n 's/^pgid //p' <<<"$out")
expect "child's pgid is its pid" "$pid" "$pgid"
expect "child's SigBlk is 0" "0000000000000000" "$(awk '/^SigBlk/ {print $2}' <<<"$out")"
expect "child's SigIgn is 0 (dispositions inherited)" "0000000000000000" \
	"$(awk '/^SigIgn/ {print $2}' <<<"$out")"
# The harness's own inherited fds pass through both ways; jobshim adds none.
direct=$("$PROBE" status | grep '^fds')
expect "child gets no jobshim fds" "$direct" "$(grep '^fds' <<<"$out")"
out=$(exec 7</dev/null; pid1 "$PROBE" status | grep '^fds')
direct=$(exec 7</dev/null; "$PROBE" status | grep '^fds')
expect "inherited fd 7 passes through" "$direct" "$out"
check "fd 7 is there" grep -qw 7 <<<"$out"
out=$(
	trap '' USR2
	pid1 "$PROBE" status
)
expect "an ignored signal stays ignored in the child" "0000000000000800" \
	"$(awk '/^SigIgn/ {print $2}' <<<"$out")"

# --- with a terminal on stdin the job is its foreground process group
# (script(1) gives the command a pseudo-terminal as its controlling tty)
out=$(script -qec "$JOBSHIM -- $PROBE status" /dev/null </dev/null | tr -d '\r')
expect "terminal: the job is the foreground group" \
	"$(sed -n 's/^pgid //p' <<<"$out")" "$(sed -n 's/^tpgid //p' <<<"$out")"
# ... and so is a worker run alone, whose stdin is the terminal too
# shellcheck disable=SC2016 # expanded by the worker's shell
out=$(JOBSHIM_JOB=w JOBSHIM_COMMAND="$PROBE status; kill -TERM \$PPID" timeout 20 \
	script -qec "$JOBSHIM" /dev/null \
	</dev/null | tr -d '\r')
expect "terminal: a worker alone is the foreground group (a read does not stop it)" \
	"$(sed -n 's/^w | pgid //p' <<<"$out")" "$(sed -n 's/^w | tpgid //p' <<<"$out")"
# shellcheck disable=SC2016 # expanded by the inner shell
out=$(timeout 20 script -qec "$JOBSHIM -- sh -c 'set -m; sleep 0.3 & echo \$! \$(cut -d\" \" -f5 /proc/\$!/stat); wait'" \
	/dev/null </dev/null 2>/dev/null | tr -d '\r' | tail -n 1)
check "terminal: job control works in a shell under jobshim (bg job has its own group)" \
	test -n "$out" -a "${out% *}" = "${out#* }"

# --- every forwardable signal reaches the child exactly once
rec=$TMP/rec
pid1_bg --grace 30s "$PROBE" record "$rec"
wait_file "$rec.ready" || fail "record probe ready" "no ready file"
sent=""
for sig in 1 2 3 10 12 13 14 18 23 26 27 28 29 30 31 15; do
	kill -"$sig" "$J_PID"
	sent="$sent $sig"
	# wait until the probe has seen it, so that no two coalesce
	for _ in $(seq 200); do
		grep -qx "$sig" "$rec" 2>/dev/null && break
		sleep 0.01
	done
done
wait_bg 20
status=$BG_STATUS
expect "record probe ends with 0 after SIGTERM" 0 "$status"
expect "every forwardable signal exactly once" "$sent" "$(tr '\n' ' ' <"$rec" | sed 's/ $//; s/^/ /')"

# --- a child that ignores TERM is killed after the grace period
pid1_bg --grace 1s "$PROBE" ignore-term "$TMP/ready"
wait_file "$TMP/ready"
start=$SECONDS
kill -TERM "$J_PID"
wait_bg 10
status=$BG_STATUS
took=$((SECONDS - start))
expect "TERM-ignoring child killed: 137" 137 "$status"
check "exit within grace + 2 s (took ${took}s)" test "$took" -le 3

# --- TERM stops a shell and its background child; nothing stays behind
# The child records the signals it gets: it must get jobshim's SIGTERM (the
# main app's group after the main app exited) before jobshim exits. Once
# PID 1 exits the kernel SIGKILLs whatever is left, which leaves no record:
# looking for leftovers after jobshim exited could never fail.
pid1_bg sh -c "$PROBE record $TMP/left & wait"
wait_file "$TMP/left.ready"
start=$SECONDS
kill -TERM "$J_PID"
wait_bg 10
status=$BG_STATUS
expect "sh -c 'CHILD & wait' stopped by TERM -> 143" 143 "$status"
check "stopped without waiting out the grace period" test $((SECONDS - start)) -le 2
expect "no process left behind: the background child got SIGTERM from jobshim" 15 "$(cat "$TMP/left")"

# --- main app exit: its group's leftovers get TERM, jobshim exits with its status
start=$SECONDS
pid1 --grace 5s sh -c 'sleep 60 & exit 4'
expect "main app's status when leftovers remain" 4 "$?"
check "leftovers stopped by TERM, not by the grace deadline" test $((SECONDS - start)) -le 2

# --- reaping as PID 1
out=$(pid1 "$PROBE" orphans 200 200)
expect "200 orphans -> 0 zombies" "zombies 0" "$out"

# --- not PID 1: a child subreaper adopts the orphans
# shellcheck disable=SC2016 # expanded by the inner shell
out=$("$JOBSHIM" -- sh -c 'sh -c "sleep 20 >/dev/null & echo \$!" >"$1"; o=$(cat "$1"); n=0
	until [ "$(cut -d" " -f4 "/proc/$o/stat")" = "$PPID" ] || [ $n -ge 500 ]; do
		n=$((n + 1)); sleep 0.01; done
	echo "$PPID $(cut -d" " -f4 "/proc/$o/stat")"; kill "$o"' sh "$TMP/orphan")
expect "not PID 1: orphan adopted by jobshim" "$(cut -d' ' -f1 <<<"$out")" "$(cut -d' ' -f2 <<<"$out")"

# --- a burst of 1000 USR1: jobshim survives and the child stays alive
pid1_bg --grace 30s "$PROBE" record "$TMP/burst"
wait_file "$TMP/burst.ready"
for _ in $(seq 1000); do kill -USR1 "$J_PID"; done
for _ in $(seq 500); do
	grep -qx 10 "$TMP/burst" && break
	sleep 0.01
done
check "jobshim alive after 1000 USR1" kill -0 "$J_PID"
check "child received USR1" grep -qx 10 "$TMP/burst"
kill -TERM "$J_PID"
wait_bg 10
expect "child alive after the burst: clean stop" 0 "$BG_STATUS"

# --- many children exit at the same instant as the main child: never hangs
hangs=0
for _ in $(seq 100); do
	pid1_bg "$PROBE" race 20
	wait_bg 10
	[ "$BG_STATUS" = 0 ] || hangs=$((hangs + 1))
done
expect "100 exit races, none hangs or fails" 0 "$hangs"

# --- an empty variable is unset, for every option (README): as a template
# renders a variable it has no value for. The table from SPEC §1, plus every
# JOBSHIM_* name the binary itself knows (options added later included).
mapfile -t vars < <({
	printf '%s\n' JOBSHIM_JOB JOBSHIM_CONFIG JOBSHIM_COMMAND JOBSHIM_SIZE JOBSHIM_GRACE \
		JOBSHIM_STOP_SIGNAL JOBSHIM_SIGNAL_GROUP JOBSHIM_STOP_DELAY JOBSHIM_REWRITE \
		JOBSHIM_SUCCESS_EXIT JOBSHIM_PDEATHSIG JOBSHIM_BACKOFF_MIN JOBSHIM_BACKOFF_MAX \
		JOBSHIM_BACKOFF_RESET JOBSHIM_SECCOMP JOBSHIM_CAPS JOBSHIM_USER JOBSHIM_RLIMITS \
		JOBSHIM_LOG_FORMAT JOBSHIM_LOG_TIMESTAMPS JOBSHIM_RUN_DIR JOBSHIM_WATCH_CONFIG \
		JOBSHIM_VERBOSE JOBSHIM_CGROUP_ROOT
	grep -ao 'JOBSHIM_[A-Z_]*[A-Z]' "$JOBSHIM"
} | sort -u)
all=()
for v in "${vars[@]}"; do
	err=$(env "$v=" unshare --pid --fork --mount-proc "$JOBSHIM" -- true 2>&1)
	expect "$v= (empty) is unset: exit 0, nothing said" "0 []" "$? [$err]"
	all+=("$v=")
done
err=$(env "${all[@]}" unshare --pid --fork --mount-proc "$JOBSHIM" -- true 2>&1)
expect "all ${#all[@]} variables empty at once: exit 0, nothing said" "0 []" "$? [$err]"
err=$(env JOBSHIM_GRACE= JOBSHIM_BACKOFF_MIN= "$JOBSHIM" check 2>&1 >/dev/null)
expect "empty durations: check is valid" "0 []" "$? [$err]"

finish
