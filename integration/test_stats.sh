#!/usr/bin/env bash
# `jobshim stats` (SPEC §8): the table and -o json from a status file whose
# job is a live process group, exit 1 with a clear message when no jobshim
# runs (no file, writer gone, file from another PID namespace), and the
# status file the real jobshim keeps as PID 1, read from inside its
# namespace the way `docker exec` would.
# shellcheck source=integration/lib.sh
. "$(dirname "$0")/lib.sh"

OUT=$TMP/out
ERR=$TMP/err
RUN=$TMP/run
mkdir -p "$RUN"

# run_stats ARGS...: sets RC, stdout in $OUT, stderr in $ERR.
run_stats() {
	env -u JOBSHIM_RUN_DIR "$JOBSHIM" stats "$@" >"$OUT" 2>"$ERR"
	RC=$?
}

# column FILE LINE N: the Nth whitespace-separated field of line LINE.
column() { awk -v l="$2" -v c="$3" 'NR == l { print $c }' "$1"; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---------------------------------------------------------------- fake file
# A process group of its own (setsid: the sleeper leads it) stands in for
# both the job and the jobshim that wrote the file.
setsid sleep 30 &
SLEEPER=$!
for _ in $(seq 100); do
	[ "$(ps -o pgid= -p "$SLEEPER" | tr -d ' ')" = "$SLEEPER" ] && break
	sleep 0.01
done
expect "sleeper leads its group" "$SLEEPER" "$(ps -o pgid= -p "$SLEEPER" | tr -d ' ')"

STARTED=$(($(now_ms) - 130000))
cat >"$RUN/status.json" <<EOF
{"jobshim_pid":$SLEEPER,"written":$(now_ms),"ready_after_ms":5000,"jobs":[
 {"name":"sidekiq","kind":"worker","size":"micro","state":"running","pid":$SLEEPER,
  "restarts":3,"last_exit_code":1,"unstable":0,"started":$STARTED,"next_start":0},
 {"name":"mailer","kind":"worker","size":"mini","state":"waiting","pid":0,
  "restarts":4,"last_exit_code":2,"unstable":3,"started":0,"next_start":0}]}
EOF

run_stats --run-dir "$RUN"
expect "table: exit 0" 0 "$RC"
expect "table: no message" "" "$(cat "$ERR")"
# The PID column is as wide as the sleeper's pid; STATUS as "failing".
PIDW=$((${#SLEEPER} > 3 ? ${#SLEEPER} : 3))
expect "table: header" \
	"JOB      KIND    PID$(printf '%*s' $((PIDW - 1)) '')STATUS   RESTARTS  LASTEXITCODE  UPTIME  CPU  MEMORY  SIZE" \
	"$(sed -n 1p "$OUT")"
expect "table: 3 lines" 3 "$(wc -l <"$OUT")"
expect "row 1: job" sidekiq "$(column "$OUT" 2 1)"
expect "row 1: kind" worker "$(column "$OUT" 2 2)"
expect "row 1: pid" "$SLEEPER" "$(column "$OUT" 2 3)"
expect "row 1: status" ready "$(column "$OUT" 2 4)"
expect "row 1: restarts" 3 "$(column "$OUT" 2 5)"
expect "row 1: last exit code" 1 "$(column "$OUT" 2 6)"
check "row 1: uptime 2m10s..2m19s" grep -qE '^2m1[0-9]s$' <<<"$(column "$OUT" 2 7)"
check "row 1: cpu in millicores" grep -qE '^[0-9]+m$' <<<"$(column "$OUT" 2 8)"
check "row 1: memory in binary units" grep -qE '^[0-9]+(Ki|Mi)$' <<<"$(column "$OUT" 2 9)"
expect "row 1: size" micro "$(column "$OUT" 2 10)"
expect "row 2: waiting job" "mailer worker - failing 4 2 - - - mini" \
	"$(sed -n 3p "$OUT" | tr -s ' ')"
# Columns line up: every line has STATUS's column at the same offset.
off() { sed -n "$1p" "$OUT" | awk '{ print index($0, $4) }'; }
expect "columns aligned" "$(off 1) $(off 1)" "$(off 2) $(off 3)"

run_stats --run-dir "$RUN" -o json
expect "json: exit 0" 0 "$RC"
# The row's keys in this order, its whole numbers ints (not floats or booleans).
check "json: first job" json_is "$OUT" 'list(d) == ["jobs"] and
	list(d["jobs"][0]) == ["job", "kind", "pid", "status", "restarts", "lastExitCode",
		"uptimeSeconds", "cpuMillicores", "memoryBytes", "size"] and
	find(d["jobs"][:1], job="sidekiq", kind="worker", pid=int(args[0]), status="ready",
		restarts=3, lastExitCode=1, size="micro") and
	all(type(d["jobs"][0][k]) is int for k in ("uptimeSeconds", "cpuMillicores", "memoryBytes")) and
	130 <= d["jobs"][0]["uptimeSeconds"] <= 139 and d["jobs"][0]["cpuMillicores"] >= 0 and
	d["jobs"][0]["memoryBytes"] >= 1' "$SLEEPER"
expect "json: absent values are null" \
	'{"job":"mailer","kind":"worker","pid":null,"status":"failing","restarts":4,"lastExitCode":2,"uptimeSeconds":null,"cpuMillicores":null,"memoryBytes":null,"size":"mini"}' \
	"$(jsonq -f "$OUT" 'd["jobs"][-1]')"
check "json: parses" json_is "$OUT" True

JOBSHIM_RUN_DIR=$RUN "$JOBSHIM" stats >"$OUT" 2>"$ERR"
expect "JOBSHIM_RUN_DIR is read" "0 sidekiq" "$? $(column "$OUT" 2 1)"

# ---------------------------------------------------------------- no jobshim
run_stats --run-dir "$TMP/none"
expect "no file: exit 1" 1 "$RC"
expect "no file: message" \
	"jobshim stats: no jobshim is running in this container (no $TMP/none/status.json)" \
	"$(cat "$ERR")"
expect "no file: nothing on stdout" "" "$(cat "$OUT")"

JOBSHIM_LOG_FORMAT=json run_stats --run-dir "$TMP/none"
expect "no file, json log: exit 1" 1 "$RC"
expect "no file, json log: one JSON message" \
	"jobshim|stats: no jobshim is running in this container (no $TMP/none/status.json)" \
	"$(python3 -c 'import json,sys; [print(o["stream"] + "|" + o["message"]) for o in map(json.loads, open(sys.argv[1]))]' "$ERR")"

"$JOBSHIM" stats --run-dir "$RUN" >/dev/full 2>"$ERR"
expect "stats >/dev/full: exit 1" 1 "$?"
expect "stats >/dev/full: the message" "jobshim stats: unable to write the output: No space left on device" "$(cat "$ERR")"

kill "$SLEEPER"
wait "$SLEEPER" 2>/dev/null
run_stats --run-dir "$RUN"
expect "writer gone: exit 1" 1 "$RC"
check "writer gone: message" grep -qF "no jobshim is running in this container ($RUN/status.json was written by pid $SLEEPER, which has exited)" "$ERR"

echo "garbage" >"$RUN/status.json"
run_stats --run-dir "$RUN"
expect "garbage: exit 1" 1 "$RC"
check "garbage: message" grep -qF "unable to read $RUN/status.json: not a jobshim status file" "$ERR"

# ---------------------------------------------------------------- real jobshim
# The status file of a jobshim running as PID 1, read from inside its PID
# and mount namespaces (what `docker exec ... jobshim stats` does); -r: and
# its root (entering a mount namespace resets the root to the namespace's,
# which in a chroot is not where the binary lives).
REAL=$TMP/real
pid1_bg --run-dir "$REAL" -- sleep 30 2>"$TMP/pid1.err"
if wait_file "$REAL/status.json" 10; then
	nsenter -t "$J_PID" -p -m -r "$JOBSHIM" stats --run-dir "$REAL" >"$OUT" 2>"$ERR"
	expect "real: exit 0" 0 "$?"
	expect "real: main app row" "web main 2" "$(sed -n 2p "$OUT" | awk '{ print $1, $2, $3 }')"
	check "real: progressing or ready" grep -qE '^(progressing|ready)$' <<<"$(column "$OUT" 2 4)"
	check "real: memory measured" grep -qE '^[0-9]+(Ki|Mi)$' <<<"$(column "$OUT" 2 9)"
	# From outside the namespace, pid 1 is someone else.
	run_stats --run-dir "$REAL"
	expect "real, outside its namespace: exit 1" 1 "$RC"
	check "real, outside: message" grep -qF "which is now another process" "$ERR"
else
	fail "real: status file" "$REAL/status.json never appeared: $(cat "$TMP/pid1.err")"
fi
kill -TERM "$J_PID" 2>/dev/null
wait_bg 20
expect "real: jobshim ends on SIGTERM" 143 "$BG_STATUS"
check "real: status file removed at exit" test ! -e "$REAL/status.json"

finish
