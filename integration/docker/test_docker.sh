#!/usr/bin/env bash
# jobshim as the ENTRYPOINT of a real Docker container (`make docker-test`):
# the image jobshim-test (Dockerfile.test, FROM scratch: the static musl
# release binary, busybox, the static helpers, /app/.deploio.yaml with the
# jobs `worker` and `ticker`). Every container runs with --network none and
# carries a label of this run; all of them are removed at exit.
#
# Never skipped: without a docker daemon every test fails.
#
#   DOCKER_IMAGE   the image under test (default jobshim-test)
# shellcheck disable=SC2016 # $VARS in single quotes are for the container's sh
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
: "${JOBSHIM:=$ROOT/build/jobshim-static}" "${HELPERS:=$ROOT/build/helpers}"
export JOBSHIM HELPERS
# shellcheck source=integration/lib.sh
. "$ROOT/integration/lib.sh"
IMG=${DOCKER_IMAGE:-jobshim-test}
RUN_LABEL=jobshim-docker-test=$$

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local ids
	ids=$(docker ps -aq --filter "label=$RUN_LABEL" 2>/dev/null)
	# shellcheck disable=SC2086 # one word per container id
	[ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

if ! docker image inspect "$IMG" >/dev/null 2>&1; then
	fail "docker" "no docker daemon, or no image $IMG (make docker-image)"
	finish
fi

# drun [DOCKER-RUN-OPTIONS...] -- [CMD...]: a foreground container; stdout in
# $OUT, stderr in $ERR, status in $RC.
drun() {
	split_args "$@"
	timeout 60 docker run --rm --network none --label "$RUN_LABEL" "${PRE[@]}" "$IMG" "${POST[@]}" \
		>"$TMP/out" 2>"$TMP/err"
	RC=$?
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
}

# drun_cp FILE DEST [DOCKER-RUN-OPTIONS...] -- [CMD...]: drun with FILE
# copied to DEST in the container before it starts. docker cp, not a bind
# mount: the daemon resolves a bind mount's path in its own file system,
# which is not the test's when the daemon is another machine's, or the
# host's seen from a chroot (make fresh-check).
drun_cp() {
	local file=$1 dest=$2 c
	shift 2
	split_args "$@"
	RC=125
	OUT=
	if ! c=$(docker create --network none --label "$RUN_LABEL" "${PRE[@]}" "$IMG" "${POST[@]}" 2>"$TMP/err"); then
		ERR="docker create: $(cat "$TMP/err")"
		return
	fi
	if docker cp "$file" "$c:$dest" 2>"$TMP/err"; then
		timeout 60 docker start -a "$c" >"$TMP/out" 2>"$TMP/err"
		RC=$?
		OUT=$(cat "$TMP/out")
	fi
	ERR=$(cat "$TMP/err")
	docker rm -f "$c" >/dev/null 2>&1
}

# dstart NAME [DOCKER-RUN-OPTIONS...] -- [CMD...]: a detached container whose
# name is printed in $C (unique to this run).
dstart() {
	C=jobshim-test-$$-$1
	shift
	split_args "$@"
	docker run -d --name "$C" --network none --label "$RUN_LABEL" "${PRE[@]}" "$IMG" "${POST[@]}" \
		>/dev/null 2>"$TMP/err" || echo "dstart $C: $(cat "$TMP/err")" >&2
}

# logs CONTAINER [stdout|stderr|all]
logs() {
	case ${2:-all} in
	stdout) docker logs "$1" 2>/dev/null ;;
	stderr) { docker logs "$1" >/dev/null; } 2>&1 ;;
	*) docker logs "$1" 2>&1 ;;
	esac
}

# wait_log CONTAINER REGEX [SECONDS]: until a line of its logs matches.
wait_log() {
	local deadline=$((SECONDS + ${3:-15}))
	until logs "$1" | grep -qE -- "$2"; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# wait_cmd SECONDS CMD...: until CMD succeeds.
wait_cmd() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# has NAME REGEX TEXT: a line of TEXT matches.
has() {
	if grep -qE -- "$2" <<<"$3"; then ok "$1"; else fail "$1" "no line /$2/ in: $(tr '\n' '|' <<<"$3")"; fi
}

state() { docker inspect -f "{{.State.$2}}" "$1" 2>/dev/null; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---------------------------------------------------------------- main app
drun -- sigprobe exit 7
expect "main app: its exit status is the container's" 7 "$RC"
drun -- echo hello container
expect "main app: stdout unprefixed" "hello container" "$OUT"
drun -- sigprobe kill 15
expect "main app: killed by SIGTERM -> 143" 143 "$RC"
drun -- no-such-program
expect "main app: command not found -> 127" 127 "$RC"
has "main app: not-found message" "^jobshim: .*no-such-program" "$ERR"
drun -- sigprobe orphans 200 200
expect "zombies: the probe exits 0" 0 "$RC"
has "zombies: 200 orphans reaped by jobshim as PID 1" "^zombies 0$" "$OUT"
drun -- sh -c 'echo $$; cat /proc/1/comm'
expect "main app: jobshim is PID 1, the app a child" "$(printf '%s\n' 7 jobshim)" \
	"$(sed '1s/^[0-9]*$/7/' <<<"$OUT")"

# ---------------------------------------------------------------- workers
dstart worker -e JOBSHIM_JOB=worker --
wait_log "$C" '^worker \| ' 10
has "worker: configured command's stdout prefixed (env from .deploio.yaml)" \
	'^worker \| worker says hello-from-deploio$' "$(logs "$C" stdout)"
expect "worker: keeps running" true "$(state "$C" Running)"

dstart override -e JOBSHIM_JOB=worker \
	-e JOBSHIM_COMMAND='echo to-stdout; echo to-stderr >&2; printf no-newline; exit 4' --
wait_log "$C" 'restart' 10
has "worker: JOBSHIM_COMMAND's stdout prefixed" '^worker \| to-stdout$' "$(logs "$C" stdout)"
has "worker: stderr prefixed on stderr" '^worker \| to-stderr$' "$(logs "$C" stderr)"
has "worker: last line without newline flushed" '^worker \| no-newline$' "$(logs "$C" stdout)"
has "worker: exit logged with the restart delay" \
	'^jobshim: worker exited with status 4 after .*; restart' "$(logs "$C" stderr)"

dstart json -e JOBSHIM_JOB=worker -e JOBSHIM_LOG_FORMAT=json \
	-e JOBSHIM_COMMAND='echo as-json; exec sleep 3600' --
wait_log "$C" 'as-json' 10
has "worker: JSON log lines" \
	'^\{"time":"[0-9T:.-]+Z","job":"worker","stream":"stdout","message":"as-json"\}$' \
	"$(logs "$C" stdout)"

dstart all -e JOBSHIM_JOB=@all -- sh -c 'echo web-up; exec sleep 3600'
wait_log "$C" 'tick' 10
wait_log "$C" 'web-up' 5
L=$(logs "$C" stdout)
has "@all: main app prefixed web" '^web +\| web-up$' "$L"
has "@all: worker from .deploio.yaml" '^worker +\| worker says hello-from-deploio$' "$L"
has "@all: ticker from .deploio.yaml" '^ticker +\| tick$' "$L"

# ---------------------------------------------------------------- stop
dstart stop -e JOBSHIM_JOB=worker \
	-e JOBSHIM_COMMAND='trap "echo got TERM, bye; exit 3" TERM; echo started; while :; do sleep 1; done' --
wait_log "$C" '^worker \| started$' 10
t0=$(now_ms)
docker stop -t 30 "$C" >/dev/null
dt=$(($(now_ms) - t0))
has "docker stop: the worker's last line reaches docker logs" '^worker \| got TERM, bye$' \
	"$(logs "$C" stdout | tail -n 1)"
expect "docker stop: exit status is the worker's (3)" 3 "$(state "$C" ExitCode)"
check "docker stop: graceful stop quick (${dt} ms < 5000)" test "$dt" -lt 5000

dstart stubborn -e JOBSHIM_JOB=worker -e JOBSHIM_GRACE=2s \
	-e JOBSHIM_COMMAND='echo stubborn; exec sigprobe ignore-term /tmp/ready' --
wait_log "$C" '^worker \| stubborn$' 10
wait_cmd 10 docker exec "$C" test -s /tmp/ready
t0=$(now_ms)
docker stop -t 30 "$C" >/dev/null
dt=$(($(now_ms) - t0))
check "TERM ignored: jobshim kills after its grace (${dt} ms >= 1900)" test "$dt" -ge 1900
check "TERM ignored: well before docker's 30 s (${dt} ms < 10000)" test "$dt" -lt 10000
expect "TERM ignored: killed by SIGKILL -> 137" 137 "$(state "$C" ExitCode)"

# ---------------------------------------------------------------- stats
dstart stats -e JOBSHIM_JOB=worker -e JOBSHIM_COMMAND='exec sleep 3600' --
wait_cmd 10 docker exec "$C" test -s /run/jobshim/status.json
S=$(docker exec "$C" jobshim stats 2>&1)
expect "stats: exit 0" 0 $?
has "stats: header" '^JOB +KIND +PID +STATUS +RESTARTS +LASTEXITCODE +UPTIME +CPU +MEMORY +SIZE$' "$S"
has "stats: the worker's row" '^worker +worker +[0-9]+ +(ready|progressing) +0 +- +[0-9]' "$S"
S=$(docker exec "$C" jobshim stats -o json 2>&1)
check "stats -o json: the worker" json_is <(printf '%s\n' "$S") \
	'type(find(d["jobs"], job="worker", kind="worker")["pid"]) is int'

# ---------------------------------------------------------------- operating (SPEC §10)
dstart ops -e JOBSHIM_JOB=worker -e JOBSHIM_COMMAND='exec sleep 3600' --
wait_cmd 10 docker exec "$C" test -S /run/jobshim/control
S=$(docker exec "$C" jobshim restart worker 2>&1)
expect "docker exec jobshim restart worker: exit 0" 0 $?
has "restart: the new pid" '^restarted worker: pid [0-9]+$' "$S"
has "restart: logged by the running jobshim" '^jobshim: worker restarted: pid [0-9]+$' "$(logs "$C" stderr)"
S=$(docker exec "$C" jobshim signal worker FOO 2>&1)
expect "docker exec jobshim signal worker FOO: exit 2" 2 $?
S=$(docker exec "$C" jobshim signal worker TERM 2>&1)
expect "docker exec jobshim signal worker TERM: exit 0" 0 $?
has "signal: said so" '^sent SIGTERM to worker \(pid [0-9]+\)$' "$S"
# As user 1000 the run dir is /tmp/jobshim-1000 (a uid's own). docker exec
# runs as the container's user by default; root is not jobshim's user and
# has a run dir of its own, where no jobshim listens.
dstart ops-user --user 1000:1000 -e JOBSHIM_JOB=worker -e JOBSHIM_COMMAND='exec sleep 3600' --
wait_cmd 10 docker exec "$C" test -S /tmp/jobshim-1000/control
S=$(docker exec "$C" jobshim restart worker 2>&1)
expect "user 1000: docker exec jobshim restart worker: exit 0" 0 $?
has "user 1000: the new pid" '^restarted worker: pid [0-9]+$' "$S"
S=$(docker exec --user 0 "$C" jobshim restart worker 2>&1)
expect "user 1000: docker exec --user 0 finds no jobshim of its own (1)" 1 $?
has "user 1000: ... saying who may" 'a jobshim answers only its own user' "$S"

# ---------------------------------------------------------------- seccomp
# Docker's default profile filters jobshim (PID 1) and everything under it;
# jobshim stacks its own filter on the job only.
drun -- grep Seccomp_filters /proc/self/status /proc/1/status
has "seccomp: the job has Docker's filter and jobshim's" '^/proc/self/status:Seccomp_filters:.2$' "$OUT"
has "seccomp: jobshim itself has only Docker's" '^/proc/1/status:Seccomp_filters:.1$' "$OUT"
drun -e JOBSHIM_SECCOMP=off -- grep Seccomp_filters /proc/self/status
has "seccomp off: the job has only Docker's filter" 'Seccomp_filters:.1$' "$OUT"
drun -- sysprobe mount
has "seccomp: mount refused" '^mount: EPERM$' "$OUT"
# With CAP_SYS_ADMIN Docker's profile allows mount(2): then only jobshim's
# filter can refuse it (ENOENT: the syscall ran and found no mount point).
drun --cap-add SYS_ADMIN -e JOBSHIM_CAPS=sys_admin -e JOBSHIM_SECCOMP=off -- sysprobe mount
has "seccomp: Docker alone lets mount through (control)" '^mount: ENOENT$' "$OUT"
drun --cap-add SYS_ADMIN -e JOBSHIM_CAPS=sys_admin -- sysprobe mount
has "seccomp: jobshim's default refuses mount under Docker's profile" '^mount: EPERM$' "$OUT"
drun -- sysprobe ptrace
has "seccomp: default allows ptrace (control)" '^ptrace: ESRCH$' "$OUT"
drun -e JOBSHIM_SECCOMP=strict -- sysprobe ptrace
has "seccomp: strict refuses ptrace under Docker's profile" '^ptrace: EPERM$' "$OUT"
expect "seccomp: the job runs (exit 0)" 0 "$RC"

# ---------------------------------------------------------------- read-only
drun --read-only -- sigprobe exit 5
expect "read-only: main app runs" 5 "$RC"
dstart ro -e JOBSHIM_JOB=worker --read-only -e JOBSHIM_COMMAND='echo ro-ok; exec sleep 3600' --
wait_log "$C" '^worker \| ro-ok$' 10
has "read-only: no run dir is a warning" '^jobshim: no run dir of jobshim.s own \(Read-only file system\)' "$(logs "$C" stderr)"
expect "read-only: the worker keeps running" true "$(state "$C" Running)"
S=$(docker exec "$C" jobshim stats 2>&1)
expect "read-only: stats says no jobshim (exit 1)" 1 $?
has "read-only: stats message" '^jobshim stats: no jobshim is running' "$S"
dstart rotmp -e JOBSHIM_JOB=worker --read-only --tmpfs /run \
	-e JOBSHIM_COMMAND='echo ro-ok; exec sleep 3600' --
wait_log "$C" '^worker \| ro-ok$' 10
wait_cmd 10 docker exec "$C" test -s /run/jobshim/status.json
has "read-only + tmpfs /run: stats works" '^worker +worker +[0-9]+' "$(docker exec "$C" jobshim stats 2>&1)"
check "read-only + tmpfs /run: status in /run/jobshim" docker exec "$C" test -s /run/jobshim/status.json

# ---------------------------------------------------------------- cap-drop
drun --cap-drop ALL -- sysprobe status
expect "cap-drop ALL: main app runs" 0 "$RC"
has "cap-drop ALL: no capabilities" '^CapBnd:.0000000000000000$' "$OUT"
dstart nocaps --cap-drop ALL -e JOBSHIM_JOB=worker -e JOBSHIM_CAPS=default \
	-e JOBSHIM_COMMAND='echo nocaps-ok; exec sleep 3600' --
if wait_log "$C" '^worker \| nocaps-ok$' 10; then
	ok "cap-drop ALL: worker runs"
else
	fail "cap-drop ALL: worker runs" "$(logs "$C" | tail -n 5 | tr '\n' '|')"
fi

# ---------------------------------------------------------------- user
drun --user 1000:1000 -- id
has "user 1000: main app runs as app" '^uid=1000\(app\) gid=1000\(app\)' "$OUT"
dstart user --user 1000:1000 -e JOBSHIM_JOB=worker -e JOBSHIM_COMMAND='echo uid=$(id -u); exec sleep 3600' --
wait_log "$C" '^worker \| uid=' 10
has "user 1000: worker runs as 1000" '^worker \| uid=1000$' "$(logs "$C" stdout)"
wait_cmd 10 docker exec "$C" test -s /tmp/jobshim-1000/status.json
has "user 1000: stats works (run dir in /tmp)" '^worker +worker +[0-9]+' \
	"$(docker exec "$C" jobshim stats 2>&1)"

# ---------------------------------------------------------------- bad config
printf '%s\n' 'workerJobs:' '  - name: worker' '    command: echo' '    size: huge' >"$TMP/bad.yaml"
chmod 644 "$TMP/bad.yaml"
drun_cp "$TMP/bad.yaml" /app/.deploio.yaml -e JOBSHIM_JOB=worker --
expect "bad .deploio.yaml: worker exits 2" 2 "$RC"
has "bad .deploio.yaml: file:line:col: field: message" \
	'^jobshim: (\./|/app/)?\.deploio\.yaml:4:11: workerJobs\[0\]\.size: unknown size "huge"' "$ERR"
drun_cp "$TMP/bad.yaml" /app/.deploio.yaml -- sh -c 'echo main-started'
expect "bad .deploio.yaml: main app still starts" "main-started" "$OUT"
expect "bad .deploio.yaml: main app's status" 0 "$RC"
has "bad .deploio.yaml: main app warned" '^jobshim: warning: .*\.deploio\.yaml:4:11:' "$ERR"

# ---------------------------------------------------------------- one-shot, @cron
# A deploy job and a schedule from a file copied in: the one-shot run's exit
# status is the container's; @cron ticks until `docker stop`; a FROM scratch
# image has no zone files, so TZ names one that is not there.
cat >"$TMP/oneshot.yaml" <<'EOF'
deployJob:
  name: release
  command: "n=$(cat /tmp/n 2>/dev/null || echo 0); n=$((n + 1)); echo $n >/tmp/n; echo attempt $n; [ $n -ge 2 ]"
  retries: 2
scheduledJobs:
  - name: tick
    command: "echo tick"
    schedule: "* * * * * *"
EOF
chmod 644 "$TMP/oneshot.yaml"
ONESHOT=(-e JOBSHIM_CONFIG=/app/oneshot.yaml -e JOBSHIM_BACKOFF_MIN=100ms)
drun_cp "$TMP/oneshot.yaml" /app/oneshot.yaml "${ONESHOT[@]}" -e JOBSHIM_JOB=release --
expect "deploy job: succeeded on attempt 2, exit 0" 0 "$RC"
has "deploy job: its lines prefixed" '^release \| attempt 2$' "$OUT"
has "deploy job: the retry logged" '^jobshim: release attempt 1 of 3 exited with status 1 after [0-9.]+m?s; retry in 0\.1s$' "$ERR"
has "deploy job: the success logged" '^jobshim: release succeeded on attempt 2 of 3$' "$ERR"
drun_cp "$TMP/oneshot.yaml" /app/oneshot.yaml "${ONESHOT[@]}" -e JOBSHIM_JOB=@cron -e TZ=Europe/Zurich --
expect "no zone files in the image: TZ=Europe/Zurich exits 2" 2 "$RC"
has "no zone files: says which file was looked for" \
	'^jobshim: TZ: unknown time zone "Europe/Zurich" \(looked for the zone file /usr/share/zoneinfo/Europe/Zurich' "$ERR"
C=jobshim-test-$$-cron
if docker create --name "$C" --network none --label "$RUN_LABEL" "${ONESHOT[@]}" \
	-e JOBSHIM_JOB=@cron "$IMG" >/dev/null 2>"$TMP/err" &&
	docker cp "$TMP/oneshot.yaml" "$C:/app/oneshot.yaml" 2>>"$TMP/err" &&
	docker start "$C" >/dev/null 2>>"$TMP/err"; then
	if wait_log "$C" '^tick \| tick$' 15; then ok "@cron: a seconds schedule ticks"; else
		fail "@cron: a seconds schedule ticks" "$(logs "$C" | tail -n 5 | tr '\n' '|')"
	fi
	# status.json follows a change by up to 100 ms: the first tick may come first.
	wait_cmd 10 docker exec "$C" jobshim stats
	has "@cron: the zone is UTC without TZ or /etc/localtime" '^tick +scheduled +.* UTC$' \
		"$(docker exec "$C" jobshim stats 2>&1)"
	docker stop -t 10 "$C" >/dev/null 2>&1
	expect "@cron: docker stop ends it with 0" 0 "$(docker inspect -f '{{.State.ExitCode}}' "$C" 2>&1)"
else
	fail "@cron: container" "$(cat "$TMP/err")"
fi

finish
