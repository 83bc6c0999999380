#!/bin/sh
# A worker that crashes now and then: it runs for 1 to 3 seconds, then
# exits with status 1.
trap 'exec 2>/dev/null; echo "SIGTERM: stopping"; exit 0' TERM
life=$(($(od -An -N1 -tu1 /dev/urandom) % 3 + 1))
echo "started (pid $$), will crash in ${life}s"
sleep "$life" &
wait $! 2>/dev/null
echo "something went wrong, exiting with status 1" >&2
exit 1
