# shellcheck shell=bash
# Shared by integration/test_*.sh: results, temp dir, and running the real
# jobshim binary as PID 1 of a new PID namespace.
#
#   JOBSHIM, HELPERS   the binary under test, the static helpers' dir
#   TMP                a temp dir, removed at exit
#   PUBLIC             a world-readable temp dir holding copies of JOBSHIM
#                      and HELPERS (which then point there), for jobs that
#                      run as other users
#   ok NAME / fail NAME WHY / check NAME CMD... / expect NAME WANT GOT
#   pid1 ARGS...       run jobshim as PID 1 in the foreground
#   pid1_bg ARGS...    the same in the background; sets BG_PID (unshare's
#                      pid) and J_PID (jobshim's pid, to signal)
#   wait_bg [SECONDS]  wait for it; BG_STATUS = its status or "hang"
#   wait_file FILE [SECONDS]   wait until FILE exists and is not empty
#   wait_grep FILE ERE [SECONDS]  wait until a line of FILE matches ERE
#   wait_drained [SECONDS]     wait until jobshim read all its pipes hold
#   split_args A.. -- B..      PRE=(A..) POST=(B..)
#   jsonq ARGS...      integration/jsonq.py: JSON decoded strictly by python3's
#                      json module, conditions checked, fields printed
#   json_is FILE COND [ARG...]  FILE is JSON for which COND holds
#   wait_json FILE COND [SECONDS]  wait until it is
#   finish             print this script's summary and exit
set -u
: "${JOBSHIM:?JOBSHIM must name the binary under test}"
: "${HELPERS:?HELPERS must name the helpers directory}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/jobshim-it.XXXXXX")
# build/yamlcheck sits beside the helpers' dir (test_examples.sh)
YAMLCHECK=${YAMLCHECK:-$(dirname "$HELPERS")/yamlcheck}
# What jobs running as other users (65534, 1234, 2001) execute must be
# reachable by them wherever the clone lives (/root is 0700): the binary
# and the static helpers are copied into a world-readable directory.
PUBLIC=$(mktemp -d "${TMPDIR:-/tmp}/jobshim-it-pub.XXXXXX")
trap 'rm -rf "$TMP" "$PUBLIC"' EXIT
chmod 0755 "$PUBLIC"
mkdir "$PUBLIC/helpers"
cp -p "$HELPERS"/* "$PUBLIC/helpers/"
cp -p "$JOBSHIM" "$PUBLIC/jobshim"
chmod -R a+rX "$PUBLIC"
JOBSHIM=$PUBLIC/jobshim
HELPERS=$PUBLIC/helpers
# shellcheck disable=SC2034 # used by the scripts that source this file
PROBE=$HELPERS/sigprobe
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

# worker NAME CMD [JOBSHIM ARGS...]: CMD as worker NAME (environment only),
# in the background, with a run dir of its own ($RUN, counted in $RUNS),
# output in $OUT/$ERR (set by the caller).
worker() {
	local name=$1 cmd=$2
	shift 2
	RUNS=$((${RUNS:-0} + 1))
	RUN=$TMP/run$RUNS
	JOBSHIM_JOB=$name JOBSHIM_COMMAND=$cmd pid1_bg --run-dir "$RUN" "$@" >"$OUT" 2>"$ERR"
}

wait_file() {
	local deadline=$((SECONDS + ${2:-10}))
	while [ ! -s "$1" ]; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.01
	done
}

# wait_grep FILE ERE [SECONDS]: until FILE has a line matching ERE.
wait_grep() {
	local deadline=$((SECONDS + ${3:-15}))
	until grep -qE "$2" "$1" 2>/dev/null; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# wait_drained [SECONDS]: until no pipe of jobshim ($J_PID) holds unread
# bytes, i.e. jobshim has read everything its jobs wrote so far (FIONREAD
# on each pipe, opened through /proc).
wait_drained() {
	python3 - "$J_PID" "${1:-10}" <<'PY'
import fcntl, os, struct, sys, termios, time
pid, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2])
def unread():
    n, d = 0, "/proc/%s/fd" % pid
    for fd in os.listdir(d):
        try:
            if not os.readlink("%s/%s" % (d, fd)).startswith("pipe:"):
                continue
            f = os.open("%s/%s" % (d, fd), os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            n += struct.unpack("i", fcntl.ioctl(f, termios.FIONREAD, b"\0" * 4))[0]
        finally:
            os.close(f)
    return n
while unread() > 0:
    if time.monotonic() > deadline:
        sys.exit(1)
    time.sleep(0.01)
PY
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

# jsonq: the tests' one JSON checker (python3 is among the packages make
# installs); its usage is at the top of jsonq.py.
JSONQ_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/jsonq.py
jsonq() { python3 -I "$JSONQ_PY" "$@"; }

# json_is FILE COND [ARG...]: FILE holds one JSON document for which the
# Python expression COND holds (over d, the document; args, the ARGs; and
# find(list, key=value...), the first element with those values).
json_is() {
	[ "$(jsonq -f "$1" "bool($2)" "${@:3}")" = true ]
}

# wait_json FILE COND [SECONDS]: until json_is FILE COND.
wait_json() {
	local deadline=$((SECONDS + ${3:-15}))
	until json_is "$1" "$2" 2>/dev/null; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

finish() {
	echo "$(basename "$0"): $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit $?
}
