#!/usr/bin/env bash
# A worker's output (SPEC §5 logs): prefixed lines on the matching stream,
# never torn, merged or lost; a last partial line flushed with a newline;
# long lines cut into 16 KiB pieces with bounded memory; bytes passed
# through in plain format, valid JSON with U+FFFD in JSON format;
# timestamps. jobshim runs as PID 1 of a new PID namespace.
# shellcheck source=integration/lib.sh
. "$(dirname "$0")/lib.sh"

LOGPROBE=$HELPERS/logprobe
export LC_ALL=C
export JOBSHIM_RUN_DIR=$TMP/run
export JOBSHIM_BACKOFF_MIN=200ms JOBSHIM_BACKOFF_MAX=400ms
OUT=$TMP/out
ERR=$TMP/err

# worker NAME CMD [JOBSHIM ARGS...]: run CMD as worker NAME in the
# background (env-only: no configuration file), output to $OUT and $ERR.
worker() {
	local name=$1 cmd=$2
	shift 2
	JOBSHIM_JOB=$name JOBSHIM_COMMAND=$cmd pid1_bg "$@" >"$OUT" 2>"$ERR"
}

# stop: SIGTERM to jobshim, wait for it (BG_STATUS).
stop() {
	kill -TERM "$J_PID" 2>/dev/null
	wait_bg 20
}

# log_lines FILE: FILE's JSON log lines, each printed as
# "job<TAB>stream<TAB>partial<TAB>message" (partial yes or no, the message
# decoded); fails naming the first line that is not one JSON object of
# string and boolean values with a time, a job, a stream and a message.
log_lines() {
	jsonq --lines -f "$1" -a 'all(type(v) in (str, bool) for v in d.values())' \
		-a 'type(d["time"]) is str and d["job"] != "" and d["stream"] != "" and type(d["message"]) is str' \
		'd["job"], d["stream"], "yes" if d.get("partial") is True else "no", d["message"]'
}

# count_lines FILE PATTERN: lines of FILE matching the extended PATTERN.
count_lines() { grep -cE "$2" "$1"; }

# --- 100 000 numbered lines from the worker and its child on both streams.
# Each writer's lines must come out exactly once, intact and in order, on
# the stream they were written to.
N=100000
worker many "$LOGPROBE lines $N T && echo x >$TMP/many.done && exec sleep 100"
wait_file "$TMP/many.done" 60 || fail "many lines: probe finished" "no $TMP/many.done after 60 s"
# The shutdown drains the pipes: nothing written before it is lost.
stop
expect "many lines: stopped by SIGTERM" 143 "$BG_STATUS"
# verify STREAM FILE: prints "ok" or what is wrong.
verify() {
	grep -v '^jobshim: ' "$2" | awk -v s="$1" -v n="$N" '
		{
			if ($0 !~ ("^many \\| T [wc] " s " [0-9]+$")) { print "bad line " NR ": " substr($0, 1, 80); bad = 1; exit }
			w = $4; i = $6
			if (i != last[w] + 1) { print "writer " w ": line " i " after " last[w]; bad = 1; exit }
			last[w] = i
		}
		END {
			if (bad) exit
			if (last["w"] != n || last["c"] != n) { print "last lines: w " last["w"] ", c " last["c"]; exit }
			print "ok"
		}'
}
expect "many lines: stdout has every line once, intact, in order, prefixed" ok "$(verify out "$OUT")"
expect "many lines: stderr has every line once, intact, in order, prefixed" ok "$(verify err "$ERR")"
expect "many lines: nothing of stderr on stdout" 0 "$(count_lines "$OUT" ' err ')"
expect "many lines: only jobshim's messages on stderr besides the lines" 0 \
	"$(grep -v '^jobshim: ' "$ERR" | grep -vc '^many | T [wc] err ')"

# --- a partial line, then SIGKILL: the line is printed, with a newline.
worker half "exec $PROBE partial 'half a line'"
for _ in $(seq 100); do
	[ "$(count_lines "$OUT" '^half \| half a line$')" -ge 2 ] && break
	sleep 0.1
done
stop
check "partial line then SIGKILL: printed as its own line (twice: two instances)" \
	test "$(count_lines "$OUT" '^half \| half a line$')" -ge 2
expect "partial line: every stdout line is exactly the partial line" 0 \
	"$(grep -vcx 'half | half a line' "$OUT")"
check "partial line: the exit is logged as SIGKILL" \
	grep -q '^jobshim: half killed by signal 9 (SIGKILL) after [0-9.]*m\?s; restart 1 in 0\.2s$' "$ERR"
check "partial line: file ends with a newline" test "$(tail -c 1 "$OUT" | od -An -c | tr -d ' ')" = '\n'

# --- a partial line pending at shutdown: flushed with a newline
worker tail "printf 'no newline'; echo x >$TMP/tail.ready; exec sleep 100"
wait_file "$TMP/tail.ready" 10
check "partial line at shutdown: jobshim read it before the stop" wait_drained
stop
expect "partial line at shutdown: flushed" "tail | no newline" "$(cat "$OUT")"
check "partial line at shutdown: with a newline" test "$(tail -c 1 "$OUT" | od -An -c | tr -d ' ')" = '\n'

# --- a 10 MiB line without newline: 16 KiB pieces, each prefixed; jobshim's
# peak RSS grows by less than 1 MiB over a run with a short line.
# peak_rss BYTES: runs the probe, prints jobshim's VmHWM in KiB once the
# output is complete.
peak_rss() {
	local want=$(($1 + ($1 + 16383) * 6 / 16384))
	rm -f "$TMP/huge.done"
	worker big "$LOGPROBE huge $1; echo x >$TMP/huge.done; exec sleep 100"
	wait_file "$TMP/huge.done" 60
	# Everything but the last piece (held back until the line ends) is out.
	for _ in $(seq 300); do
		[ "$(stat -c %s "$OUT")" -ge $((want - 16384 - 6)) ] && break
		sleep 0.1
	done
	awk '/^VmHWM:/ { print $2 }' "/proc/$J_PID/status"
	stop
}
SMALL=$(peak_rss 100)
check "short line: flushed at shutdown" grep -qx 'big | ahovcjqxel.*' "$OUT"
BYTES=$((10 * 1024 * 1024 + 100))
BIG=$(peak_rss $BYTES)
expect "10 MiB line: 641 pieces" 641 "$(wc -l <"$OUT")"
expect "10 MiB line: 640 pieces of 16 KiB and the 100-byte rest, each prefixed" \
	"640 16390 1 106" "$(awk '{ print length }' "$OUT" | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? " " : ""), $1, $2 }')"
expect "10 MiB line: every piece starts with the prefix" 641 "$(count_lines "$OUT" '^big \| ')"
"$LOGPROBE" huge $BYTES >"$TMP/huge.want"
check "10 MiB line: the pieces join to the line" cmp -s "$TMP/huge.want" <(sed 's/^big | //' "$OUT" | tr -d '\n')
echo "# jobshim VmHWM: ${SMALL} KiB after a short line, ${BIG} KiB after 10 MiB"
check "10 MiB line: jobshim's peak RSS grows by < 1 MiB (${SMALL} -> ${BIG} KiB)" \
	test "$((BIG - SMALL))" -lt 1024

# --- invalid UTF-8: plain passes the bytes unchanged
BAD="printf 'a\\377b\\303(c \\342\\202\\254 \\355\\240\\200 end\\n'"
worker utf "$BAD; echo x >$TMP/utf.ready; exec sleep 100"
wait_file "$TMP/utf.ready" 10
check "invalid UTF-8: jobshim read it before the stop" wait_drained
stop
printf 'utf | a\377b\303(c \342\202\254 \355\240\200 end\n' >"$TMP/want"
check "invalid UTF-8, plain: bytes unchanged" cmp -s "$TMP/want" "$OUT"

# --- JSON: valid objects, invalid bytes as U+FFFD, jobshim's own messages too
rm -f "$TMP/utf.ready"
worker utf "$BAD; printf 'quote\" back\\\\ tab\\t\\001 end\\n'; printf 'err line\\n' >&2;
	echo x >$TMP/utf.ready; exit 3" --log-format json
wait_file "$TMP/utf.ready" 10
wait_grep "$ERR" 'utf exited with status 3'
stop
log_lines "$OUT" >"$TMP/json.out" 2>"$TMP/json.err"
expect "json: stdout lines are valid JSON objects" "0 " "$? $(cat "$TMP/json.err")"
# U+FFFD is EF BF BD; the valid euro sign stays; a UTF-8-encoded surrogate
# (ED A0 80) is not valid UTF-8: three replacement characters.
printf 'utf\tstdout\tno\ta\357\277\275b\357\277\275(c \342\202\254 \357\277\275\357\277\275\357\277\275 end\n' >"$TMP/want"
check "json: invalid UTF-8 as U+FFFD, valid characters kept" cmp -s "$TMP/want" <(head -n 1 "$TMP/json.out")
printf 'utf\tstdout\tno\tquote" back\\ tab\t\001 end\n' >"$TMP/want"
check "json: quotes, backslashes and control bytes round-trip" cmp -s "$TMP/want" <(sed -n 2p "$TMP/json.out")
check "json: time is RFC 3339 UTC with ms" \
	grep -qE '^\{"time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z",' "$OUT"
log_lines "$ERR" >"$TMP/json.err.out" 2>"$TMP/json.err"
expect "json: stderr lines are valid JSON objects" "0 " "$? $(cat "$TMP/json.err")"
check "json: worker stderr line" grep -qxF "$(printf 'utf\tstderr\tno\terr line')" "$TMP/json.err.out"
check "json: jobshim's own exit message, stream jobshim" \
	grep -qE "^utf	jobshim	no	utf exited with status 3 after [0-9.]+m?s; restart 1 in 0\.2s$" "$TMP/json.err.out"

# --- JSON: a cut line's pieces carry "partial":true, the last does not
rm -f "$TMP/huge.done"
worker big "$LOGPROBE huge 40000; echo; echo x >$TMP/huge.done; exec sleep 100" --log-format json
wait_file "$TMP/huge.done" 10
check "json long line: jobshim read it before the stop" wait_drained
stop
log_lines "$OUT" >"$TMP/json.out" 2>"$TMP/json.err"
expect "json long line: valid" "0 " "$? $(cat "$TMP/json.err")"
expect "json long line: partial yes, yes, no" "yes yes no" "$(cut -f3 "$TMP/json.out" | tr '\n' ' ' | sed 's/ $//')"
check "json long line: pieces join to the line" \
	cmp -s <("$LOGPROBE" huge 40000) <(cut -f4 "$TMP/json.out" | tr -d '\n')

# --- JOBSHIM_LOG_TIMESTAMPS=1: "TIME NAME | line", jobshim's messages too
rm -f "$TMP/ts.ready"
JOBSHIM_LOG_TIMESTAMPS=1 worker ts "echo hello; echo oops >&2; echo x >$TMP/ts.ready; exit 2"
wait_file "$TMP/ts.ready" 10
wait_grep "$ERR" 'jobshim: ts exited with status 2'
stop
TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
check "timestamps: stdout line" grep -qE "^$TS ts \| hello$" "$OUT"
check "timestamps: stderr line" grep -qE "^$TS ts \| oops$" "$ERR"
check "timestamps: jobshim's messages" grep -qE "^$TS jobshim: ts exited with status 2 after" "$ERR"
expect "timestamps: every stdout line has one" 0 "$(grep -vcE "^$TS ts \| hello$" "$OUT")"
check "timestamps: the time is now (within 60 s)" test \
	"$(($(date -u +%s) - $(date -u -d "$(head -n 1 "$OUT" | cut -d' ' -f1)" +%s)))" -lt 60

finish
