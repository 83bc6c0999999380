#!/usr/bin/env bash
# `make demo`: runs examples/demo under jobshim as PID 1 of a new PID
# namespace in @all mode (the main app as `web` plus every worker), shows
# the prefixed logs for about 15 seconds, a restart with backoff, `jobshim
# stats`, and a graceful stop with SIGTERM.
#
#   ./examples/demo/run.sh /abs/path/to/jobshim
set -u

JOBSHIM=${1:?usage: $0 /abs/path/to/jobshim}
DEMO=$(cd "$(dirname "$0")" && pwd)
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/jobshim-demo.XXXXXX")
BG=
J=

if [ -t 1 ]; then
	say() { printf '\n\033[1m>>> %s\033[0m\n' "$*"; }
else
	say() { printf '\n>>> %s\n' "$*"; }
fi

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	[ -n "$J" ] && kill -KILL "$J" 2>/dev/null
	[ -n "$BG" ] && wait "$BG" 2>/dev/null
	rm -rf "$RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case $JOBSHIM in
/*) ;;
*) echo "run.sh: give jobshim's absolute path" >&2 && exit 2 ;;
esac
if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
	echo "run.sh: unshare --pid needs root (or user namespaces): try sudo make demo" >&2
	exit 2
fi

cd "$DEMO" || exit 1
say "jobshim as PID 1, JOBSHIM_JOB=@all: web (jobs/web.sh) + workers queue, flaky"
JOBSHIM_JOB=@all JOBSHIM_CONFIG=$DEMO/.deploio.yaml \
	JOBSHIM_BACKOFF_MIN=500ms JOBSHIM_BACKOFF_MAX=4s JOBSHIM_GRACE=3s \
	unshare --pid --fork --mount-proc "$JOBSHIM" --run-dir "$RUN_DIR" -- sh jobs/web.sh &
BG=$!
for _ in $(seq 200); do
	J=$(pgrep -P "$BG" | head -n 1)
	[ -n "$J" ] && break
	sleep 0.02
done
if [ -z "$J" ]; then
	echo "run.sh: jobshim did not start" >&2
	exit 1
fi

sleep 8
# The status file names jobshim by its pid inside the namespace (1), so
# stats runs in there, as `docker exec CONTAINER jobshim stats` would.
say "jobshim stats (what 'docker exec ... jobshim stats' shows)"
if ! nsenter -t "$J" -p -m -r "$JOBSHIM" stats --run-dir "$RUN_DIR"; then
	echo "run.sh: jobshim stats failed" >&2
	exit 1
fi
sleep 7

say "SIGTERM to jobshim: graceful stop"
kill -TERM "$J"
wait "$BG"
status=$?
J=
BG=
say "jobshim exited with status $status (the main app's)"
exit "$status"
