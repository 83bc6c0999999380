#!/usr/bin/env bash
# A drop-in for tini and dumb-init (issue 17; SPEC §1, §11): --success-exit,
# --rewrite, --stop-delay, -v's line per reaped orphan, --pdeathsig, the
# tini and dumb-init names, and job control on a terminal (Ctrl-Z suspends
# the job and jobshim, fg resumes both) in a tmux session of our own. The
# peers' own suites run in `make peer-test`. Time bounds are generous.
# shellcheck source=integration/lib.sh
. "$(dirname "$0")/lib.sh"

export LC_ALL=C
unset JOBSHIM_RUN_DIR JOBSHIM_CONFIG JOBSHIM_JOB JOBSHIM_COMMAND JOBSHIM_STOP_SIGNAL \
	JOBSHIM_SIGNAL_GROUP JOBSHIM_REWRITE JOBSHIM_SUCCESS_EXIT JOBSHIM_STOP_DELAY \
	JOBSHIM_PDEATHSIG JOBSHIM_VERBOSE TINI_SUBREAPER TINI_KILL_PROCESS_GROUP TINI_VERBOSITY \
	DUMB_INIT_SETSID DUMB_INIT_DEBUG
ERR=$TMP/err
BIN=$TMP/bin
mkdir -p "$BIN"
cp "$JOBSHIM" "$BIN/tini"
ln -s "$JOBSHIM" "$BIN/docker-init"
cp "$JOBSHIM" "$BIN/dumb-init"

state() { sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null || echo gone; }

# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# ---------------------------------------------------------------- --success-exit
pid1 --success-exit 143 -- sh -c 'kill -TERM $$' 2>"$ERR"
expect "--success-exit 143: a job killed by TERM ends jobshim with 0" 0 $?
pid1 --success-exit 143 -- sh -c 'exit 3' 2>"$ERR"
expect "--success-exit 143: other codes are the job's" 3 $?
JOBSHIM_SUCCESS_EXIT=1,5-6 pid1 -- sh -c 'exit 6' 2>"$ERR"
expect "JOBSHIM_SUCCESS_EXIT=1,5-6: 6 is reported as 0" 0 $?
pid1 --success-exit 256 -- true 2>"$ERR"
expect "--success-exit 256: usage error" 2 $?
check "--success-exit 256: the message names the value" grep -q 'invalid exit code "256"' "$ERR"

# ---------------------------------------------------------------- --rewrite
F=$TMP/rw
pid1_bg --grace 1s --rewrite TERM:USR1,HUP:0 -- "$PROBE" record "$F" 2>"$ERR"
wait_file "$F.ready" 10 || fail "--rewrite" "probe not ready"
kill -HUP "$J_PID"
kill -USR2 "$J_PID"
wait_for 10 grep -qx 12 "$F" || fail "--rewrite" "USR2 never arrived"
kill -TERM "$J_PID"
wait_bg 20
expect "--rewrite TERM:USR1: still a stop (SIGKILL after the grace)" 137 "$BG_STATUS"
expect "--rewrite: HUP dropped, USR2 as is, TERM as USR1" "12 10" "$(grep -v ready "$F" | tr '\n' ' ' | sed 's/ $//')"

# ---------------------------------------------------------------- --stop-delay
# A long delay, then a second TERM: sent at once (the probe exits on TERM).
F=$TMP/delay
pid1_bg -v --stop-delay 60s -- "$PROBE" record "$F" 2>"$ERR"
wait_file "$F.ready" 10 || fail "--stop-delay" "probe not ready"
kill -TERM "$J_PID"
wait_for 10 grep -q 'stop signal follows in 60000ms' "$ERR" || fail "--stop-delay" "no delay line"
expect "--stop-delay: no signal during the delay" "" "$(grep -v ready "$F")"
kill -TERM "$J_PID"
wait_bg 20
expect "--stop-delay: a second TERM sends it at once (the job's 0)" 0 "$BG_STATUS"
expect "--stop-delay: the job got TERM once" 15 "$(grep -v ready "$F")"
# A short one: the stop signal comes after it, by itself.
F=$TMP/delay2
JOBSHIM_STOP_DELAY=1s pid1_bg -- "$PROBE" record "$F" 2>"$ERR"
wait_file "$F.ready" 10 || fail "JOBSHIM_STOP_DELAY" "probe not ready"
t0=$(date +%s%N)
kill -TERM "$J_PID"
wait_bg 20
ms=$((($(date +%s%N) - t0) / 1000000))
expect "JOBSHIM_STOP_DELAY=1s: the job got TERM" 15 "$(grep -v ready "$F")"
if [ "$BG_STATUS" = 0 ] && [ "$ms" -ge 1000 ]; then
	ok "JOBSHIM_STOP_DELAY=1s: the stop took at least the delay (${ms}ms)"
else
	fail "JOBSHIM_STOP_DELAY=1s" "status $BG_STATUS after ${ms}ms"
fi

# ---------------------------------------------------------------- -v: orphans
pid1 -v -- sh -c '(sleep 0.1 &); sleep 1' 2>"$ERR"
check "-v: a line for the reaped orphan" grep -qE '^jobshim: reaped orphan pid [0-9]+ \(exited with status 0\)$' "$ERR"
pid1 -- sh -c '(sleep 0.1 &); sleep 1' 2>"$ERR"
expect "no -v: no orphan lines" 0 "$(grep -c 'orphan' "$ERR")"
PATH=$BIN:$PATH unshare --pid --fork --mount-proc tini -w -- sh -c '(sleep 0.1 &); sleep 1' 2>"$ERR"
check "tini -w: tini's line for the reaped orphan" grep -qE 'Reaped zombie process with pid=[0-9]+$' "$ERR"

# ---------------------------------------------------------------- --pdeathsig
# jobshim's parent (a subshell) dies: jobshim gets USR1 and forwards it.
F=$TMP/pdeath
(
	"$JOBSHIM" --grace 1s --pdeathsig USR1 -- "$PROBE" record "$F" 2>"$ERR" &
	echo $! >"$TMP/pdeath.pid"
	wait
) &
parent=$!
wait_file "$F.ready" 10 || fail "--pdeathsig" "probe not ready"
kill -KILL "$parent"
wait "$parent" 2>/dev/null
if wait_for 10 grep -qx 10 "$F"; then
	ok "--pdeathsig USR1: the parent's death reached the job as USR1"
else
	fail "--pdeathsig USR1" "the job got: $(tr '\n' ' ' <"$F")"
fi
kill -TERM "$(cat "$TMP/pdeath.pid")" 2>/dev/null
wait_for 10 sh -c "! kill -0 $(cat "$TMP/pdeath.pid") 2>/dev/null" || fail "--pdeathsig" "jobshim did not end"

# ---------------------------------------------------------------- the names
PATH=$BIN:$PATH unshare --pid --fork --mount-proc tini -e 3 sh -c 'exit 3' 2>"$ERR"
expect "tini -e 3 sh -c 'exit 3' (options end at the command)" 0 $?
PATH=$BIN:$PATH unshare --pid --fork --mount-proc docker-init -- sh -c 'exit 4' 2>"$ERR"
expect "docker-init (a symlink) -- sh -c 'exit 4'" 4 $?
PATH=$BIN:$PATH tini sh -c 'grep ^SigBlk /proc/self/status' >"$TMP/blk" 2>"$ERR"
expect "tini (not PID 1, no -s): warns that zombie reaping won't work" 1 "$(grep -c "zombie reaping won't work" "$ERR")"
F=$TMP/dumb
PATH=$BIN:$PATH unshare --pid --fork --mount-proc dumb-init -r 15:10 --grace 1s "$PROBE" record "$F" 2>"$ERR" &
BG_PID=$!
J_PID=
wait_file "$F.ready" 10 || fail "dumb-init -r" "probe not ready"
J_PID=$(pgrep -P "$BG_PID" | head -n 1)
kill -TERM "$J_PID"
wait_bg 20
expect "dumb-init -r 15:10: TERM forwarded as USR1" 10 "$(grep -v ready "$F" | head -n 1)"
PATH=$BIN:$PATH dumb-init -h >"$TMP/help" 2>"$ERR"
check "dumb-init -h: jobshim's own help for that name" grep -q -- '--single-child' "$TMP/help"
"$JOBSHIM" -s true 2>"$ERR"
expect "under its own name, tini's -s is unknown" 2 $?

# ---------------------------------------------------------------- Ctrl-Z, fg
# A shell in a tmux session of our own (its own server socket): Ctrl-Z stops
# the job and jobshim, the shell prompt comes back; fg resumes both.
SOCK=$TMP/tmux.sock
tm() { tmux -S "$SOCK" "$@"; }
pane() { tm capture-pane -p -t jc; }
tm new-session -d -s jc -x 120 -y 30 "env PS1='jc\$ ' bash --norc --noprofile -i"
wait_for 10 sh -c "tmux -S '$SOCK' capture-pane -p -t jc | grep -q 'jc\\$'" || fail "job control" "no shell prompt"
tm send-keys -t jc "$JOBSHIM -- sleep 300; echo rc=\$?" Enter
# shellcheck disable=SC2317 # called through wait_for
find_sleep() {
	J=$(pgrep -f "^$JOBSHIM -- sleep 300" | head -n 1)
	[ -n "$J" ] && S=$(pgrep -P "$J" sleep | head -n 1) && [ -n "$S" ]
}
if wait_for 10 find_sleep; then
	tm send-keys -t jc C-z
	if wait_for 10 sh -c "[ \"\$(sed 's/.*) \(.\).*/\1/' /proc/$J/stat)\" = T ]"; then
		ok "Ctrl-Z: jobshim stops too"
	else
		fail "Ctrl-Z" "jobshim is $(state "$J")"
	fi
	expect "Ctrl-Z: the job is stopped" T "$(state "$S")"
	if wait_for 10 sh -c "tmux -S '$SOCK' capture-pane -p -t jc | grep -q Stopped"; then
		ok "Ctrl-Z: the shell says Stopped and gives its prompt back"
	else
		fail "Ctrl-Z" "no Stopped line: $(pane | tr '\n' '|')"
	fi
	tm send-keys -t jc "fg" Enter
	if wait_for 10 sh -c "[ \"\$(sed 's/.*) \(.\).*/\1/' /proc/$S/stat)\" = S ]"; then
		ok "fg: the job runs again"
	else
		fail "fg" "the job is $(state "$S")"
	fi
	expect "fg: jobshim runs again" S "$(state "$J")"
	tm send-keys -t jc C-c
	wait_for 10 sh -c "! kill -0 $J 2>/dev/null" || fail "Ctrl-C after fg" "jobshim still runs"
	tm send-keys -t jc "echo rc=\$?" Enter
	if wait_for 10 sh -c "tmux -S '$SOCK' capture-pane -p -t jc | grep -q 'rc=130'"; then
		ok "Ctrl-C after fg: the job (the foreground group again) ends, jobshim 130"
	else
		fail "Ctrl-C after fg" "$(pane | tr '\n' '|')"
	fi
else
	fail "job control" "jobshim or its job did not start: $(pane | tr '\n' '|')"
fi
tm kill-server 2>/dev/null
[ -n "${J:-}" ] && kill -KILL "$J" 2>/dev/null
[ -n "${S:-}" ] && kill -KILL "$S" 2>/dev/null

finish
