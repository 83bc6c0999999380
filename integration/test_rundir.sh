#!/usr/bin/env bash
# The run dir (SPEC §8, issue 12): jobshim's own, 0700, lock files 0600;
# a run dir planted by another user is not used (jobshim warns and runs
# without stats and locks) and not read by `stats`; files in it are never
# followed through a planted symlink; `stats` reads status.json only from a
# regular file (a planted FIFO does not hang it) and escapes control bytes.
# shellcheck source=integration/lib.sh
. "$(dirname "$0")/lib.sh"

export LC_ALL=C
unset JOBSHIM_RUN_DIR JOBSHIM_CONFIG JOBSHIM_JOB JOBSHIM_COMMAND
ERR=$TMP/err
PUB=$(mktemp -d "${TMPDIR:-/tmp}/jobshim-it-pub.XXXXXX")
chmod 1777 "$PUB"
trap 'rm -rf "$TMP" "$PUB"' EXIT

mode() { stat -c %a "$1"; }

# ---------------------------------------------------------------- modes
RUN=$TMP/run
JOBSHIM_JOB=w JOBSHIM_COMMAND='exec sleep 100' pid1_bg --run-dir "$RUN" 2>"$ERR"
wait_file "$RUN/status.json" 10
expect "run dir created 0700" 700 "$(mode "$RUN")"
expect "lock files 0600" "600 600" "$(mode "$RUN/job-w.lock") $(mode "$RUN/jobshim.lock")"
check "status.json is a regular file" test -f "$RUN/status.json" -a ! -L "$RUN/status.json"
kill -TERM "$J_PID"
wait_bg 20

# ---------------------------------------------------------------- the main app's run dir waits
# The main app takes no lock: its run dir is set up with the first status
# write, so one that exits at once leaves the file system untouched, and one
# that runs gets status.json and stats all the same.
RUN=$TMP/run-main
pid1 --run-dir "$RUN" -- true 2>"$ERR"
expect "main app that exits at once: exit 0" 0 "$?"
check "main app that exits at once: no run dir created" test ! -e "$RUN"
expect "main app that exits at once: nothing on stderr" "" "$(cat "$ERR")"
exec {pipe_w}> >(cat >/dev/null)
pid1_bg --run-dir "$RUN" -- sleep 100 >&"$pipe_w" {pipe_w}>&- 2>"$ERR"
exec {pipe_w}>&-
wait_file "$RUN/status.json" 10
expect "main app that runs: run dir created 0700" 700 "$(mode "$RUN")"
expect "main app that runs: status.json shows it" "main running" \
	"$(python3 -c 'import json, sys; j = json.load(open(sys.argv[1]))["jobs"][0]; print(j["kind"], j["state"])' "$RUN/status.json")"
# Nothing goes through jobshim's own stdout queue for the main app (it
# writes straight to the container's stdout): jobshim does not reopen it.
pipe=$(readlink "/proc/$J_PID/fd/1")
n=0
for f in "/proc/$J_PID/fd/"*; do [ "$(readlink "$f")" = "$pipe" ] && n=$((n + 1)); done
expect "main app that runs: jobshim holds its stdout pipe ($pipe) once" 1 "$n"
kill -TERM "$J_PID"
wait_bg 20

# ---------------------------------------------------------------- planted by another user
# Another user (nobody) creates the run dir first, with a forged status
# file and a lock held open: jobshim does not use it (a second instance
# is not locked out, and no file of root's lands there), and says so.
PLANT=$PUB/planted
setpriv --reuid 65534 --regid 65534 --clear-groups mkdir -m 0777 "$PLANT"
setpriv --reuid 65534 --regid 65534 --clear-groups sh -c \
	"printf '{\"jobshim_pid\":$$,\"jobs\":[{\"name\":\"forged\",\"state\":\"running\"}]}' >'$PLANT/status.json'"
setpriv --reuid 65534 --regid 65534 --clear-groups flock "$PLANT/job-w.lock" sleep 30 &
LOCKER=$!
for _ in $(seq 100); do [ -e "$PLANT/job-w.lock" ] && break; sleep 0.02; done
JOBSHIM_JOB=w JOBSHIM_COMMAND='exec sleep 100' pid1_bg --run-dir "$PLANT" 2>"$ERR"
wait_grep "$ERR" 'no run dir of jobshim' 10
sleep 0.3
alive=$(kill -0 "$J_PID" 2>/dev/null && echo running)
kill -TERM "$J_PID"
wait_bg 20
kill "$LOCKER" 2>/dev/null
wait "$LOCKER" 2>/dev/null
check "planted run dir: jobshim warns it is not its own" \
	grep -q "no run dir of jobshim's own ($PLANT: not a directory of jobshim's user" "$ERR"
expect "planted run dir: a held lock there does not stop the worker (no exit 75)" running "$alive"
expect "planted run dir: jobshim wrote nothing there" "job-w.lock status.json" \
	"$(find "$PLANT" -mindepth 1 -printf '%f\n' | sort | paste -sd ' ')"
"$JOBSHIM" stats --run-dir "$PLANT" >"$TMP/stats" 2>"$ERR"
expect "planted run dir: stats refuses it (exit 1)" 1 "$?"
check "planted run dir: stats says why" grep -q 'is not a run dir of this user' "$ERR"
check "planted run dir: no forged row" test "$(grep -c forged "$TMP/stats")" -eq 0

# ---------------------------------------------------------------- planted symlink
# A symlink at status.json.tmp (in a run dir of root's own) pointing to a
# file of root's: never followed, the file keeps its content.
RUN=$TMP/run-link
mkdir -m 0700 "$RUN"
echo secret >"$TMP/secret"
chmod 0600 "$TMP/secret"
ln -s "$TMP/secret" "$RUN/status.json.tmp"
JOBSHIM_JOB=w JOBSHIM_COMMAND='exec sleep 100' pid1_bg --run-dir "$RUN" 2>"$ERR"
wait_file "$RUN/status.json" 10
kill -TERM "$J_PID"
wait_bg 20
expect "planted symlink at status.json.tmp: not followed" secret "$(cat "$TMP/secret")"

# A symlinked run dir is refused.
ln -s "$TMP/run" "$TMP/run-symlink"
JOBSHIM_JOB=w JOBSHIM_COMMAND='exit 0' timeout -s KILL 10 "$JOBSHIM" stats --run-dir "$TMP/run-symlink" \
	>/dev/null 2>"$ERR"
expect "symlinked run dir: stats refuses it" 1 "$?"

# ---------------------------------------------------------------- stats reads carefully
# A FIFO planted as status.json: stats neither hangs nor reads it.
RUN=$TMP/run-fifo
mkdir -m 0700 "$RUN"
mkfifo "$RUN/status.json"
timeout -s KILL 10 "$JOBSHIM" stats --run-dir "$RUN" >/dev/null 2>"$ERR"
expect "FIFO as status.json: stats answers 1 at once (no hang)" 1 "$?"
check "FIFO as status.json: not a status file" grep -q 'not a jobshim status file' "$ERR"

# Control characters in a name are shown escaped, never raw.
RUN=$TMP/run-esc
mkdir -m 0700 "$RUN"
printf '{"jobshim_pid":%d,"jobs":[{"name":"evil\\u001b[31mred","kind":"worker","size":"micro","state":"running","pid":0}]}\n' \
	$$ >"$RUN/status.json"
"$JOBSHIM" stats --run-dir "$RUN" >"$TMP/stats" 2>"$ERR"
expect "escaped name: stats answers" 0 "$?"
expect "escaped name: no raw ESC byte in the table" 0 "$(tr -cd '\033' <"$TMP/stats" | wc -c)"
check "escaped name: shown as \\x1b" grep -qF 'evil\x1b[31mred' "$TMP/stats"

finish
