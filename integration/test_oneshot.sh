#!/usr/bin/env bash
# Deploy and scheduled jobs (SPEC §2, §4, §8): a one-shot run's attempts,
# retries, backoff and timeout (124), a stop during an attempt, the lock
# (75); @cron firing on second schedules and @every, without overlap and
# without a failed run stopping the schedule; @all's release gating; stats
# rows; no wake-ups of an idle @cron. jobshim runs as PID 1 of a new PID
# namespace.
# shellcheck source=integration/lib.sh
. "$(dirname "$0")/lib.sh"

export LC_ALL=C TZ=UTC
unset JOBSHIM_COMMAND JOBSHIM_TIMEOUT JOBSHIM_GRACE
export JOBSHIM_CONFIG=$TMP/deploio.yaml JOBSHIM_RUN_DIR=$TMP/run
export JOBSHIM_BACKOFF_MIN=200ms JOBSHIM_BACKOFF_MAX=300ms
OUT=$TMP/out
ERR=$TMP/err
COUNT=$TMP/count
MARK=$TMP/mark

# shellcheck disable=SC2317 # stats_in_ns and wait_stats are called through check
# stats_in_ns: `jobshim stats` inside the running jobshim's namespaces, as
# `docker exec` would run it.
stats_in_ns() {
	nsenter -t "$J_PID" -p -m -r "$JOBSHIM" stats "$@" 2>&1
}

# shellcheck disable=SC2317
# wait_stats PATTERN [ARGS...]: until a line of `stats ARGS` matches the
# extended PATTERN (status.json lags a change by up to 100 ms); the last
# output stays in $TMP/stats. wait_stats_json COND: until `stats -o json` is
# JSON for which COND holds (json_is).
wait_stats() { wait_stats_by grep "$@"; }
# shellcheck disable=SC2317 # called through check
wait_stats_json() { wait_stats_by json_is "$1" -o json; }
# shellcheck disable=SC2317 # called through wait_stats and wait_stats_json
wait_stats_by() {
	local how=$1 want=$2
	shift 2
	for _ in $(seq 100); do
		stats_in_ns "$@" >"$TMP/stats"
		if [ "$how" = json_is ]; then
			json_is "$TMP/stats" "$want" 2>/dev/null && return 0
		else
			grep -qE -- "$want" "$TMP/stats" && return 0
		fi
		sleep 0.1
	done
	return 1
}

# The job counts its attempts in $COUNT, prints a time stamp, and succeeds
# on attempt $1 (0: never); failing attempt N exits N.
cat >"$TMP/attempt.sh" <<EOF
#!/bin/sh
n=\$(cat "$COUNT" 2>/dev/null || echo 0)
n=\$((n + 1))
echo "\$n" >"$COUNT"
echo "attempt \$n at \$(date +%s%N)"
[ "\$1" -ne 0 ] && [ "\$n" -ge "\$1" ] && exit 0
exit "\$n"
EOF
chmod +x "$TMP/attempt.sh"

deploy_config() { # COMMAND RETRIES
	cat >"$JOBSHIM_CONFIG" <<EOF
deployJob:
  name: release
  command: "$1"
  retries: $2
EOF
}

# ---------------------------------------------------------------- one-shot runs
deploy_config "echo migrating; echo warn >&2" 0
pid1 --job release >"$OUT" 2>"$ERR"
expect "success: exit 0" 0 "$?"
expect "success: output prefixed with the job's name" "release | migrating" "$(cat "$OUT")"
check "success: stderr prefixed" grep -qx 'release | warn' "$ERR"
check "success: logged" grep -qx 'jobshim: release succeeded on attempt 1 of 1' "$ERR"

rm -f "$COUNT"
deploy_config "$TMP/attempt.sh 3" 3
JOBSHIM_JOB=release pid1 >"$OUT" 2>"$ERR"
expect "success on the third attempt: exit 0" 0 "$?"
expect "three attempts ran" 3 "$(cat "$COUNT")"
check "attempt 1's end logged with the backoff" \
	grep -qE '^jobshim: release attempt 1 of 4 exited with status 1 after [0-9.]+m?s; retry in 0\.2s$' "$ERR"
check "attempt 2's backoff doubled, capped at backoff-max" \
	grep -qE '^jobshim: release attempt 2 of 4 exited with status 2 after [0-9.]+m?s; retry in 0\.3s$' "$ERR"
check "the success logged" grep -qx 'jobshim: release succeeded on attempt 3 of 4' "$ERR"
mapfile -t stamps < <(sed -n 's/^release | attempt [0-9] at //p' "$OUT")
gap1=$(((stamps[1] - stamps[0]) / 1000000))
gap2=$(((stamps[2] - stamps[1]) / 1000000))
check "the backoff was waited (${gap1}ms >= 200ms)" test "$gap1" -ge 190
check "the backoff was waited (${gap2}ms >= 300ms)" test "$gap2" -ge 290

rm -f "$COUNT"
deploy_config "$TMP/attempt.sh 0" 2
pid1 --job release >"$OUT" 2>"$ERR"
expect "every attempt fails: the last attempt's status" 3 "$?"
check "every attempt fails: logged" grep -qx 'jobshim: release failed after 3 attempts' "$ERR"
check "the last attempt has no retry" \
	grep -qE '^jobshim: release attempt 3 of 3 exited with status 3 after [0-9.]+m?s$' "$ERR"

# --timeout allows short values (the file's minimum is 1m); the attempt gets
# the stop signal, then SIGKILL after grace.
deploy_config "trap 'echo ignoring TERM' TERM; while :; do sleep 0.1; done" 1
t0=$SECONDS
pid1 --job release --timeout 1s --grace 500ms >"$OUT" 2>"$ERR"
rc=$?
took=$((SECONDS - t0))
expect "timeout: exit 124" 124 "$rc"
check "timeout: bounded (took ${took}s)" test "$took" -le 10
check "timeout logged" grep -qx 'jobshim: release timed out after 1s (attempt 1 of 2)' "$ERR"
check "timeout of the retry logged" grep -qx 'jobshim: release timed out after 1s (attempt 2 of 2)' "$ERR"
check "the stop signal came first" grep -qx 'release | ignoring TERM' "$OUT"
check "then SIGKILL" grep -qE '^jobshim: release attempt 1 of 2 killed by signal 9 \(SIGKILL\) after 1\.[0-9]s; retry in 0\.2s$' "$ERR"

# One attempt at a time: what an attempt left behind (a setsid daemon
# included) is gone before the next one starts.
deploy_config "if pgrep -x sleep >/dev/null; then echo leftover; else echo clean; fi; setsid sleep 100 & sleep 0.2; exit 1" 2
pid1 --job release >"$OUT" 2>"$ERR"
expect "leftovers: the last attempt's status" 1 "$?"
expect "leftovers: every attempt started clean" "clean clean clean" \
	"$(sed -n 's/^release | //p' "$OUT" | xargs)"

# A stop during an attempt is forwarded; no further attempt starts; the
# status is the attempt's.
rm -f "$COUNT"
deploy_config "$TMP/attempt.sh 0 >/dev/null; exec sleep 30" 2
pid1_bg --job release >"$OUT" 2>"$ERR"
for _ in $(seq 200); do [ -s "$COUNT" ] && break; sleep 0.05; done
sleep 0.2
kill -TERM "$J_PID"
wait_bg 20
expect "stop during an attempt: the attempt's status (143)" 143 "$BG_STATUS"
expect "stop during an attempt: no further attempt" 1 "$(cat "$COUNT")"
check "stop during an attempt: the run failed" grep -qx 'jobshim: release failed after 1 attempt' "$ERR"

# A stop during the backoff: at once, no further attempt.
rm -f "$COUNT"
deploy_config "$TMP/attempt.sh 0" 2
JOBSHIM_BACKOFF_MIN=20s JOBSHIM_BACKOFF_MAX=20s pid1_bg --job release >"$OUT" 2>"$ERR"
wait_grep "$ERR" 'retry in 20s'
check "stats: a deploy row waiting for attempt 2" \
	wait_stats '^release +deploy +- +waiting +- +1 +- +- +- +[a-z0-9-]+ +1/3 +-$'
t0=$SECONDS
kill -TERM "$J_PID"
wait_bg 20
expect "stop during the backoff: the last status" 1 "$BG_STATUS"
check "stop during the backoff: prompt" test $((SECONDS - t0)) -le 3
expect "stop during the backoff: no further attempt" 1 "$(cat "$COUNT")"

# The lock: a second run of the same job in the same container exits 75.
deploy_config "exec sleep 30" 0
pid1_bg --job release >"$OUT" 2>"$ERR"
wait_file "$JOBSHIM_RUN_DIR/status.json"
pid1 --job release >"$TMP/out2" 2>"$TMP/err2"
expect "second run of the same job: 75" 75 "$?"
check "second run: says so" grep -q 'release already runs under another jobshim' "$TMP/err2"
check "stats json: the deploy row, running, attempt 1 of 1" \
	wait_stats_json 'find(d["jobs"], job="release", kind="deploy", status="running", attempt=1, attempts=1, timedOut=False)'
kill -TERM "$J_PID"
wait_bg 20
expect "the first run stopped: 143" 143 "$BG_STATUS"

# A timed-out attempt shows as 124 (timeout) while the next one waits.
deploy_config "exec sleep 30" 1
JOBSHIM_BACKOFF_MIN=20s JOBSHIM_BACKOFF_MAX=20s pid1_bg --job release --timeout 500ms >"$OUT" 2>"$ERR"
wait_grep "$ERR" 'retry in 20s'
check "stats: LASTEXITCODE 124 (timeout)" wait_stats '^release +deploy +- +waiting +- +124 \(timeout\) '
kill -TERM "$J_PID"
wait_bg 20
expect "stopped after a timeout: 124" 124 "$BG_STATUS"

# ---------------------------------------------------------------- schedules
cat >"$JOBSHIM_CONFIG" <<EOF
scheduledJobs:
  - name: tick
    command: "echo tick"
    schedule: "*/2 * * * * *"
  - name: every
    command: "echo every; exit 1"
    schedule: "@every 1s"
  - name: slow
    command: "echo slow; sleep 2.5"
    schedule: "@every 1s"
  - name: yearly
    command: "echo yearly"
    schedule: "0 0 1 1 *"
    retries: 2
EOF

# A scheduled job by name runs once, whatever its schedule.
pid1 --job yearly >"$OUT" 2>"$ERR"
expect "a scheduled job by name: one run, exit 0" 0 "$?"
expect "a scheduled job by name: its output" "yearly | yearly" "$(cat "$OUT")"

pid1_bg --job @cron >"$OUT" 2>"$ERR"
wait_grep "$OUT" '^tick +\| tick$' 10
wait_file "$JOBSHIM_RUN_DIR/status.json"
wait_grep "$ERR" '^jobshim: slow still running' 10
check "stats: a scheduled row with its NEXT time in the zone" \
	wait_stats '^yearly +scheduled +- +waiting +- +- +- +- +- +[a-z0-9-]+ +0/3 +20[0-9]{2}-01-01 00:00 UTC$'
check "stats: a running scheduled job" wait_stats '^slow +scheduled +[0-9]+ +running '
# Deadlines come from the wall clock: tick's next time is always an even
# second, whenever jobshim woke up.
nexts=""
for _ in $(seq 5); do
	nexts+=" $(jsonq -f "$JOBSHIM_RUN_DIR/status.json" 'find(d["jobs"], name="tick")["next_run"]')"
	sleep 0.7
done
odd=$(for n in $nexts; do echo $((n % 2000)); done | grep -cv '^0$')
expect "tick's next times are even wall-clock seconds ($nexts)" 0 "$odd"

# Wait until each had its turn a few times, then stop.
for _ in $(seq 100); do
	[ "$(grep -cE '^tick +\| tick$' "$OUT")" -ge 3 ] &&
		[ "$(grep -c 'jobshim: every failed after 1 attempt' "$ERR")" -ge 3 ] && break
	sleep 0.1
done
kill -TERM "$J_PID"
wait_bg 20
expect "@cron: a stop exits 0" 0 "$BG_STATUS"
ticks=$(grep -cE '^tick +\| tick$' "$OUT")
check "@cron: a seconds-field schedule fired ($ticks times)" test "$ticks" -ge 3
check "@cron: names padded to the longest" grep -qx 'tick   | tick' "$OUT"
fails=$(grep -c '^jobshim: every failed after 1 attempt$' "$ERR")
check "@cron: a failed run never stops the schedule ($fails failed runs)" test "$fails" -ge 3
check "@cron: no overlap, the skip logged" \
	grep -qE '^jobshim: slow still running \(since [0-9]{2}:[0-9]{2}:[0-9]{2}\); skipped [0-9]{2}:[0-9]{2}:[0-9]{2}$' "$ERR"
expect "@cron: the yearly job did not run" 0 "$(grep -c '^yearly' "$OUT")"
# */2 fires on even seconds only.
odd=$(grep -cE '^jobshim: tick succeeded' "$ERR")
check "@cron: tick's runs all succeeded ($odd)" test "$odd" -ge 3

# Bad input: the §1 message and exit 2, nothing started.
TZ=Mars/Base pid1 --job @cron >"$OUT" 2>"$ERR"
expect "@cron with an unknown zone: 2" 2 "$?"
check "@cron with an unknown zone: the zone file looked for" \
	grep -qF 'jobshim: TZ: unknown time zone "Mars/Base" (looked for the zone file /usr/share/zoneinfo/Mars/Base' "$ERR"
expect "@cron with an unknown zone: nothing ran" "" "$(cat "$OUT")"
cp "$JOBSHIM_CONFIG" "$TMP/good.yaml"
printf 'scheduledJobs:\n  - name: n\n    command: x\n    schedule: "0 25 * * *"\n    retries: 9\n' >"$JOBSHIM_CONFIG"
pid1 --job @cron >"$OUT" 2>"$ERR"
expect "a bad schedule: 2" 2 "$?"
check "a bad schedule: file:line:col and field" \
	grep -qF "deploio.yaml:4:15: scheduledJobs[0].schedule: invalid cron schedule: hour: 25 is out of range 0-23" "$ERR"
check "retries out of range: reported too" grep -qF "scheduledJobs[0].retries: must be between 0 and 5, found 9" "$ERR"
pid1 --job n >"$OUT" 2>"$ERR"
expect "a bad scheduled job by name: 2" 2 "$?"
cp "$TMP/good.yaml" "$JOBSHIM_CONFIG"
pid1 --job nope >"$OUT" 2>"$ERR"
expect "an unknown job: 2" 2 "$?"
check "an unknown job: every runnable name" \
	grep -qF 'unknown job "nope" (known jobs: tick, every, slow, yearly, @all, @cron)' "$ERR"

# A run of the same job by another jobshim in the container (its lock) makes
# @cron skip that time.
printf 'scheduledJobs:\n  - name: hold\n    command: "exec sleep 30"\n    schedule: "@every 1s"\n' \
	>"$JOBSHIM_CONFIG"
pid1_bg --job hold >"$TMP/out2" 2>"$TMP/err2"
HOLD_BG=$BG_PID HOLD_J=$J_PID
wait_file "$JOBSHIM_RUN_DIR/status.json"
pid1_bg --job @cron >"$OUT" 2>"$ERR"
check "a locked job's time is skipped" \
	wait_grep "$ERR" '^jobshim: hold runs under another jobshim in this container; skipped [0-9:]{8}$' 10
expect "a locked job: not run by @cron" 0 "$(grep -c '^hold' "$OUT")"
kill -TERM "$J_PID"
wait_bg 20
expect "@cron beside a locked run: stops with 0" 0 "$BG_STATUS"
BG_PID=$HOLD_BG J_PID=$HOLD_J
kill -TERM "$J_PID"
wait_bg 20
expect "the run that held the lock: 143" 143 "$BG_STATUS"
cp "$TMP/good.yaml" "$JOBSHIM_CONFIG"

# An idle @cron does not wake up between times. The one thing that may
# wake it is the wall clock being set (the timer is cancelled, and the next
# times are computed again): some VMs' clocks are stepped every few tenths
# of a second. With -v each such wake-up says so, so every wake-up in the
# window must be one of those.
cat >"$JOBSHIM_CONFIG" <<'EOF'
scheduledJobs:
  - name: yearly
    command: "echo yearly"
    schedule: "0 0 1 1 *"
EOF
pid1_bg -v --job @cron >"$OUT" 2>"$ERR"
wait_file "$JOBSHIM_RUN_DIR/status.json"
sleep 0.5
sets() { grep -c 'the clock was set' "$ERR"; }
set0=$(sets)
cs0=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$J_PID/status")
sleep 3
cs1=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$J_PID/status")
set1=$(sets)
wakes=$((cs1 - cs0)) clock=$((set1 - set0))
check "idle @cron: no wake-ups in 3s but for the clock being set ($wakes wake-ups, $clock clock sets)" \
	test "$wakes" -le "$clock"
kill -TERM "$J_PID"
wait_bg 20
expect "idle @cron: stops with 0" 0 "$BG_STATUS"

# ---------------------------------------------------------------- @all gating
cat >"$JOBSHIM_CONFIG" <<EOF
workerJobs:
  - name: worker
    command: "touch $MARK.worker; exec sleep 30"
deployJob:
  name: release
  command: "echo migrating; exit 4"
scheduledJobs:
  - name: tick
    command: "echo tick; exit 1"
    schedule: "@every 1s"
EOF
rm -f "$MARK".*
pid1 --job @all -- sh -c "touch $MARK.web; echo web started" >"$OUT" 2>"$ERR"
expect "@all: a failed deploy job's status" 4 "$?"
check "@all: the release ran" grep -q '^release | migrating$' "$OUT"
check "@all: says nothing else starts" grep -qx 'jobshim: release failed: nothing else starts' "$ERR"
check "@all: web never started" test ! -e "$MARK.web"
check "@all: the worker never started" test ! -e "$MARK.worker"
expect "@all: no scheduled run" 0 "$(grep -c '^tick' "$OUT")"

sed -i 's/exit 4/exit 0/' "$JOBSHIM_CONFIG"
rm -f "$MARK".*
pid1 --job @all -- sh -c "touch $MARK.web; echo web started; sleep 3; exit 5" >"$OUT" 2>"$ERR"
expect "@all: web's status ends the container" 5 "$?"
check "@all: web started after the release" test -e "$MARK.web"
check "@all: the worker started" test -e "$MARK.worker"
rel=$(grep -n 'release succeeded on attempt 1 of 1' "$ERR" | cut -d: -f1)
check "@all: the release succeeded first" test -n "$rel"
check "@all: output in order (release, then web)" \
	test "$(grep -n '^release | migrating' "$OUT" | cut -d: -f1)" -lt "$(grep -n '^web  *| web started' "$OUT" | cut -d: -f1)"
ticks=$(grep -cE '^tick +\| tick$' "$OUT")
check "@all: scheduled jobs ran beside web, failing without harm ($ticks runs)" test "$ticks" -ge 2

# A deploy job alone, no CMD: nothing is left to run after it
printf 'deployJob:\n  name: release\n  command: "echo migrating"\n' >"$JOBSHIM_CONFIG"
timeout 20 unshare --pid --fork --mount-proc "$JOBSHIM" --job @all >"$OUT" 2>"$ERR"
expect "@all with a deploy job alone: exits with its status (0), not idle" 0 "$?"
check "... says why" grep -qx 'jobshim: release succeeded and nothing else is configured: exiting' "$ERR"
printf 'deployJob:\n  name: release\n  command: "exit 3"\n' >"$JOBSHIM_CONFIG"
timeout 20 unshare --pid --fork --mount-proc "$JOBSHIM" --job @all >"$OUT" 2>"$ERR"
expect "... and with its failure (3)" 3 "$?"

finish
