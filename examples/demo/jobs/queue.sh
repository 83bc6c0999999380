#!/bin/sh
# A worker that processes a queue item a second; stderr for warnings.
trap 'exec 2>/dev/null; echo "SIGTERM: putting item $n back on the queue"; exit 0' TERM
n=0
while :; do
	n=$((n + 1))
	echo "processed item $n"
	[ $((n % 4)) -eq 0 ] && echo "item $n was slow" >&2
	sleep 1 &
	wait $! 2>/dev/null
done
