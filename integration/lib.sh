# shellcheck shell=bash
# Shared by integration/test_*.sh: results, temp dir, and running the real
# jobshim binary as PID 1 of a new PID namespace.
#
#   JOBSHIM, HELPERS   the binary under test, the static helpers' dir
#   TMP                a temp dir, removed at exit
#   ok NAME / fail NAME WHY / check NAME CMD... / expect NAME WANT GOT
#   pid1 ARGS...       run jobshim as PID 1 in the foreground
#   pid1_bg ARGS...    the same in the background; sets BG_PID (unshare's
#                      pid) and J_PID (jobshim's pid, to signal)
#   wait_bg [SECONDS]  wait for it; BG_STATUS = its status or "hang"
#   wait_file FILE [SECONDS]   wait until FILE exists and is not empty
#   split_args A.. -- B..      PRE=(A..) POST=(B..)
#   finish             print this script's summary and exit
set -u
: "${JOBSHIM:?JOBSHIM must name the binary under test}"
: "${HELPERS:?HELPERS must name the helpers directory}"
# shellcheck disable=SC2034 # used by the scripts that source this file
PROBE=$HELPERS/sigprobe
TMP=$(mktemp -d "${TMPDIR:-/tmp}/jobshim-it.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
PASSED=0
FAILED=0

ok() {
	PASSED=$((PASSED + 1))
	echo "ok - $1"
}

fail() {
	FAILED=$((FAILED + 1))
	echo "not ok - $1: $2"
}

check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name" "command failed: $*"; fi
}

expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "want [$2], got [$3]"; fi
}

pid1() {
	unshare --pid --fork --mount-proc "$JOBSHIM" "$@"
}

pid1_bg() {
	unshare --pid --fork --mount-proc "$JOBSHIM" "$@" &
	BG_PID=$!
	J_PID=
	for _ in $(seq 500); do
		J_PID=$(pgrep -P "$BG_PID" | head -n 1)
		[ -n "$J_PID" ] && return 0
		kill -0 "$BG_PID" 2>/dev/null || return 0 # already done
		sleep 0.01
	done
	echo "pid1_bg: jobshim did not start" >&2
	return 1
}

wait_file() {
	local deadline=$((SECONDS + ${2:-10}))
	while [ ! -s "$1" ]; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.01
	done
}

# Wait for BG_PID with a bound and set BG_STATUS to its exit status, or to
# "hang" (then it is killed): a hang is a failure, not a stuck test run.
# Not in a $(...) subshell: only this shell can wait for its children.
wait_bg() {
	local deadline=$((SECONDS + ${1:-20}))
	while kill -0 "$BG_PID" 2>/dev/null; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			kill -KILL "$BG_PID" "$J_PID" 2>/dev/null
			wait "$BG_PID" 2>/dev/null
			BG_STATUS=hang
			return 0
		fi
		sleep 0.02
	done
	wait "$BG_PID"
	# shellcheck disable=SC2034 # read by the caller
	BG_STATUS=$?
}

# split_args WORDS... -- REST...: the words before "--" into PRE, the rest
# into POST (for helpers that take "VAR=value... -- command").
split_args() {
	PRE=()
	while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
		PRE+=("$1")
		shift
	done
	[ "$#" -gt 0 ] && shift
	# shellcheck disable=SC2034 # read by the caller
	POST=("$@")
}

finish() {
	echo "$(basename "$0"): $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit $?
}
