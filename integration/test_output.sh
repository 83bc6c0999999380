#!/usr/bin/env bash
# jobshim's output never blocks it (SPEC §5, issue 12): with its stdout a
# pipe nobody reads, jobshim still forwards signals, restarts, writes
# status.json and exits promptly, saying how much it could not deliver;
# back-pressure stops the job, nothing is dropped; after ENOSPC output is
# held and resumes when the file system recovers (one message each way), and
# so do status.json writes. jobshim runs as PID 1 of a new PID namespace.
# shellcheck source=integration/lib.sh
. "$(dirname "$0")/lib.sh"

export LC_ALL=C
unset JOBSHIM_RUN_DIR JOBSHIM_CONFIG JOBSHIM_JOB JOBSHIM_COMMAND
W=$HELPERS/workerprobe
ERR=$TMP/err
RUNS=0

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# stalled_fifo: $STALL is a FIFO with a reader that never reads (a stalled
# log driver), already full; READER_PID holds it open.
stalled_fifo() {
	STALL=$TMP/stall$RUNS
	mkfifo "$STALL"
	# shellcheck disable=SC2217 # holds the FIFO open, never reads it
	sleep 1000 <"$STALL" &
	READER_PID=$!
	exec 4>"$STALL"
	head -c 65536 /dev/zero >&4 # the pipe's default size: full
}
end_stall() {
	exec 4>&-
	kill "$READER_PID" 2>/dev/null
	wait "$READER_PID" 2>/dev/null
}

# ---------------------------------------------------------------- TERM while stalled
RUNS=1
stalled_fifo
F=$TMP/flood
JOBSHIM_JOB=flood JOBSHIM_COMMAND="$W flood $F" pid1_bg --run-dir "$TMP/run1" --grace 1s \
	>"$STALL" 2>"$ERR"
wait_file "$F.ready" 10
sleep 1 # the flood fills the job's pipe and jobshim's queue
t0=$(date +%s%N)
kill -TERM "$J_PID"
wait_grep "$F" '^TERM$' 10
got_term=$?
took_term=$(ms_since "$t0")
wait_bg 30
took=$(ms_since "$t0")
end_stall
expect "stalled stdout: TERM is still forwarded to the job" 0 "$got_term"
check "stalled stdout: forwarded at once (took ${took_term}ms)" test "$took_term" -lt 3000
check "stalled stdout: jobshim exits promptly after grace 1s (took ${took}ms)" test "$took" -lt 8000
expect "stalled stdout: not a hang" yes "$([ "$BG_STATUS" != hang ] && echo yes)"
check "stalled stdout: says how many bytes it could not deliver" \
	grep -qE '^jobshim: [0-9]+ bytes of output could not be delivered' "$ERR"

# ---------------------------------------------------------------- crash loop while stalled
RUNS=2
stalled_fifo
JOBSHIM_JOB=loop JOBSHIM_COMMAND='echo crashing; exit 1' pid1_bg --run-dir "$TMP/run2" \
	--backoff-min 100ms --backoff-max 100ms >"$STALL" 2>"$ERR"
wait_file "$TMP/run2/status.json" 10
sleep 3
nsenter -t "$J_PID" -p -m -r "$JOBSHIM" stats --run-dir "$TMP/run2" >"$TMP/stats" 2>&1
stats_rc=$?
kill -TERM "$J_PID"
wait_bg 20
end_stall
restarts=$(grep -c '^jobshim: loop exited with status 1 .*; restart' "$ERR")
check "stalled stdout: a crash loop keeps restarting at the backoff rate ($restarts in 3 s)" \
	test "$restarts" -ge 10
expect "stalled stdout: stats still answers" 0 "$stats_rc"
check "stalled stdout: stats shows the job" grep -q '^loop ' "$TMP/stats"

# ---------------------------------------------------------------- slow reader, nothing lost
# A reader that takes its time: every line arrives, complete and in order.
RUNS=3
F=$TMP/count
mkfifo "$TMP/slow"
(
	exec <"$TMP/slow"
	sleep 2
	exec cat
) >"$TMP/out3" &
READER_PID=$!
JOBSHIM_JOB=count JOBSHIM_COMMAND="$W flood $F 200000" pid1_bg --run-dir "$TMP/run3" \
	--backoff-min 60s >"$TMP/slow" 2>"$ERR"
wait_grep "$ERR" 'count exited with status 0' 60
kill -TERM "$J_PID" 2>/dev/null
wait_bg 30
wait "$READER_PID"
expect "slow reader: every line arrives, in order" \
	"200000 $(seq 1 200000 | sed 's/^/count | line /' | md5sum)" \
	"$(wc -l <"$TMP/out3") $(md5sum <"$TMP/out3")"

# ---------------------------------------------------------------- ENOSPC
# stdout on a full file system: output is held (the job is paused by
# back-pressure), one message; space comes back: it resumes, one message,
# nothing lost. status.json on the same full file system: retried too.
SMALL=$TMP/small
mkdir -p "$SMALL"
if mount -t tmpfs -o size=256k jobshim-small "$SMALL"; then
	head -c 1M /dev/zero >"$SMALL/fill" 2>/dev/null
	F=$TMP/enospc
	JOBSHIM_JOB=full JOBSHIM_COMMAND="$W flood $F 3000" pid1_bg --run-dir "$SMALL/run" \
		--backoff-min 60s >"$SMALL/out" 2>"$ERR"
	wait_grep "$ERR" 'unable to write to stdout: No space left on device; holding' 10
	held=$?
	sleep 0.5
	rm -f "$SMALL/fill"
	wait_grep "$ERR" 'stdout works again' 10
	back=$?
	wait_grep "$ERR" 'full exited with status 0' 20
	wait_grep "$ERR" '/status.json written again' 10
	kill -TERM "$J_PID"
	wait_bg 20
	expect "ENOSPC: said once that output is held" "0 1" "$held $(grep -c 'unable to write to stdout' "$ERR")"
	expect "ENOSPC: said once that it works again" "0 1" "$back $(grep -c 'stdout works again' "$ERR")"
	check "ENOSPC: a failed status.json write is said and retried" \
		grep -q 'unable to write .*/status.json: No space left on device; retrying' "$ERR"
	check "ENOSPC: status.json is written again once there is room" \
		grep -q '/status.json written again' "$ERR"
	expect "ENOSPC: nothing lost: all 3000 lines, in order" \
		"$(seq 1 3000 | sed 's/^/full | line /' | md5sum)" "$(md5sum <"$SMALL/out")"
	umount "$SMALL"
else
	fail "ENOSPC" "cannot mount a tmpfs"
fi

finish
