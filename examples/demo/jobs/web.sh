#!/bin/sh
# The demo's main app: pretends to serve requests until SIGTERM.
trap 'exec 2>/dev/null; echo "SIGTERM: finishing the last request, bye"; exit 0' TERM
echo "listening on :8080 (pid $$; $DEMO_GREETING)"
n=0
while :; do
	n=$((n + 1))
	echo "GET /items/$n 200 in $((n % 7 + 3))ms"
	# sleep in the background: the trap runs at once, not after the sleep
	sleep 1.5 &
	wait $! 2>/dev/null
done
