#!/usr/bin/env bash
# The real-worker suite (make real-test): Debian 12's Sidekiq, Celery,
# nginx, gunicorn and Redis under jobshim as PID 1 of Docker containers,
# driven with docker run/stop/exec.
#
# Network rule: no Docker bridge. Redis runs in a container started with
# `--network none`; every other container that needs it joins that network
# namespace (`--network container:…`), so all traffic is on 127.0.0.1.
#
#   IMAGE    the image (integration/real/run.sh builds it)
#   PREFIX   prefix of the container names; those left over are removed
#
# Prints "ok - …" / "not ok - …: why" and ends with "real: N passed, N failed".
set -uo pipefail
: "${IMAGE:?IMAGE must name the image}"
: "${PREFIX:?PREFIX must name the container prefix}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/jobshim-real.XXXXXX")
PASSED=0
FAILED=0
REDIS=$PREFIX-redis

cleanup() {
	local c
	for c in $(docker ps -aq --filter "name=^$PREFIX-"); do
		docker rm -f "$c" >/dev/null 2>&1
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM # timeout(1): the containers are removed all the same

ok() {
	PASSED=$((PASSED + 1))
	echo "ok - $1"
}
fail() {
	FAILED=$((FAILED + 1))
	echo "not ok - $1: $2"
}
expect() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "want [$2], got [$3]"; fi; }

# logs NAME: the container's output so far (stdout and stderr).
logs() { docker logs "$1" 2>&1; }

# inlog CONTAINER REGEX: a line of the container's log matches. The log is
# read whole before grep sees it: under pipefail, `logs | grep -q` fails
# when grep stops at an early match and docker logs dies of SIGPIPE.
inlog() {
	local text
	text=$(logs "$1")
	grep -Eq -- "$2" <<<"$text"
}

# has NAME CONTAINER REGEX: a line of the container's log matches.
has() {
	if inlog "$2" "$3"; then ok "$1"; else
		fail "$1" "no /$3/ in the log of $2: $(logs "$2" | tail -n 12 | tr '\n' '|')"
	fi
}

# waitfor SECONDS CMD...: until CMD succeeds (0) or time is up (1).
waitfor() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.5
	done
}
rcli() { docker exec "$REDIS" redis-cli "$@"; }
llen_is() { [ "$(rcli -n 1 llen "$1")" -ge "$2" ]; }
# A Sidekiq process has registered itself in Redis (it fetches from then on).
sidekiq_up() { [ "$(rcli scard processes)" -ge 1 ]; }
# tcp_established CONTAINER HEXPORT: a client's connection to that port is
# up in the container's network namespace.
tcp_established() {
	docker exec "$1" cat /proc/net/tcp 2>/dev/null | awk -v p=":$2" \
		'substr($3, length($3) - 4) == p && $4 == "01" { found = 1 } END { exit !found }'
}
exit_code() { docker inspect -f '{{.State.ExitCode}}' "$1"; }

# run NAME ARGS...: a detached container named $PREFIX-NAME in Redis's
# network namespace (ARGS: docker run options, then the command).
run() {
	local name=$PREFIX-$1
	shift
	docker rm -f "$name" >/dev/null 2>&1
	docker run -d --name "$name" --network "container:$REDIS" "$@" >/dev/null
}

# ---------------------------------------------------------------- redis
docker rm -f "$REDIS" >/dev/null 2>&1
docker run -d --name "$REDIS" --network none "$IMAGE" \
	redis-server --bind 127.0.0.1 --save '' --appendonly no >/dev/null
if waitfor 30 sh -c "docker exec $REDIS redis-cli ping 2>/dev/null | grep -q PONG"; then
	ok "redis answers on 127.0.0.1 (network none)"
else
	fail "redis answers on 127.0.0.1" "$(logs "$REDIS" | tail -n 5)"
fi

# ---------------------------------------------------------------- sidekiq
# docker stop while two jobs run: Sidekiq's own shutdown (-t 3: wait 3 s,
# then push the unfinished jobs back to Redis), "Bye!", exit 0.
t_sidekiq_stop() {
	local c=$PREFIX-sidekiq
	rcli flushall >/dev/null
	run sidekiq -e JOBSHIM_JOB=sidekiq -e JOBSHIM_CONFIG=/app/workers.yaml -e JOBSHIM_GRACE=30s "$IMAGE"
	waitfor 60 sidekiq_up || {
		fail "sidekiq: starts" "$(logs "$c" | tail -n 5)"
		return
	}
	docker exec "$c" ruby enqueue.rb 2 60
	waitfor 30 llen_is sidekiq:started 2 || fail "sidekiq: both jobs start" "$(rcli -n 1 llen sidekiq:started)"
	docker stop -t 40 "$c" >/dev/null
	has "sidekiq: graceful stop pushes the running jobs back" "$c" 'Pushed 2 jobs back to Redis'
	has "sidekiq: says Bye!" "$c" 'Bye!'
	expect "sidekiq: exit status 0 (Sidekiq's own)" 0 "$(exit_code "$c")"
	expect "sidekiq: the 2 jobs are back in the queue" 2 "$(rcli llen queue:default)"
}

# A worker's restart loses no job: 3 jobs of 2 s, one thread, -t 1; the
# worker is stopped (TERM) while one runs, jobshim restarts it, and every
# job completes.
t_sidekiq_restart() {
	local c=$PREFIX-sidekiq2 done_ids
	rcli flushall >/dev/null
	run sidekiq2 -e JOBSHIM_JOB=sidekiq -e JOBSHIM_CONFIG=/app/workers.yaml \
		-e 'JOBSHIM_COMMAND=sidekiq -r ./worker.rb -c 1 -t 1' "$IMAGE"
	waitfor 60 sidekiq_up || {
		fail "restart: sidekiq starts" "$(logs "$c" | tail -n 5)"
		return
	}
	docker exec "$c" ruby enqueue.rb 3 2
	waitfor 30 llen_is sidekiq:started 1
	docker exec "$c" pkill -TERM -f '^sidekiq '
	waitfor 60 inlog "$c" 'restart 1 in'
	has "restart: jobshim restarts the stopped worker" "$c" '^jobshim: sidekiq exited with status 0 after .*; restart 1 in'
	waitfor 90 sh -c "[ \$(docker exec $REDIS redis-cli -n 1 lrange sidekiq:done 0 -1 | sort -u | wc -l) -ge 3 ]"
	done_ids=$(rcli -n 1 lrange sidekiq:done 0 -1 | sort -u | tr '\n' ' ')
	expect "restart: no job lost (every job done)" "0 1 2 " "$done_ids"
	docker stop -t 20 "$c" >/dev/null
}

# ---------------------------------------------------------------- celery
# docker stop 1.5 s into 4 tasks of 6 s: Celery's warm shutdown lets all 4
# finish, and the worker exits 0.
t_celery_stop() {
	local c=$PREFIX-celery
	rcli flushall >/dev/null
	run celery -e JOBSHIM_JOB=celery -e JOBSHIM_CONFIG=/app/workers.yaml -e JOBSHIM_GRACE=30s "$IMAGE"
	waitfor 60 inlog "$c" ' ready\.' || {
		fail "celery: starts" "$(logs "$c" | tail -n 5)"
		return
	}
	docker exec "$c" python3 -c 'import tasks; [tasks.slow.delay(i, 6) for i in range(4)]'
	waitfor 30 llen_is celery:started 4 || fail "celery: 4 tasks start" "$(rcli -n 1 llen celery:started)"
	sleep 1.5 # the issue's scenario: the stop comes while the tasks run
	docker stop -t 40 "$c" >/dev/null
	has "celery: warm shutdown" "$c" 'worker: Warm shutdown'
	expect "celery: all 4 running tasks finished" 4 "$(rcli -n 1 llen celery:done)"
	expect "celery: exit status 0" 0 "$(exit_code "$c")"
}

# ---------------------------------------------------------------- nginx
# JOBSHIM_STOP_SIGNAL=QUIT: docker stop sends TERM, jobshim sends nginx
# QUIT, nginx finishes the slow download (2 MiB at 512 KiB/s) and exits.
t_nginx() {
	local c=$PREFIX-nginx dl=$PREFIX-dl
	docker rm -f "$c" "$dl" >/dev/null 2>&1
	docker run -d --name "$c" --network none -e JOBSHIM_STOP_SIGNAL=QUIT "$IMAGE" \
		nginx -c /app/nginx.conf -g 'daemon off;' >/dev/null
	waitfor 30 docker exec "$c" curl -sfI http://127.0.0.1:8080/big >/dev/null ||
		fail "nginx: serves" "$(logs "$c" | tail -n 5)"
	# The client runs in its own container (same network namespace), so it
	# outlives nginx's.
	docker run --name "$dl" --network "container:$c" --entrypoint curl "$IMAGE" \
		-s -o /dev/null -w '%{http_code} %{size_download}' http://127.0.0.1:8080/big \
		>"$TMP/dl" 2>&1 &
	local dlpid=$!
	# The stop comes once the download runs: a connection to port 8080
	# (1F90) established in the shared network namespace.
	waitfor 30 tcp_established "$c" 1F90 || fail "nginx: the download starts" "no connection"
	docker stop -t 30 "$c" >/dev/null
	wait "$dlpid"
	expect "nginx: the download finished under QUIT" "200 2097152" "$(cat "$TMP/dl")"
	has "nginx: graceful shutdown (QUIT)" "$c" 'gracefully shutting down'
	expect "nginx: exit status 0" 0 "$(exit_code "$c")"
	docker rm -f "$dl" >/dev/null 2>&1
}

# ---------------------------------------------------------------- @all
# gunicorn (web) + Sidekiq + Celery in one container; a crash of Celery
# leaves web untouched (same master pid, still serving); stats over exec.
t_all() {
	local c=$PREFIX-all before after row mem
	rcli flushall >/dev/null
	run all -e JOBSHIM_JOB=@all -e JOBSHIM_CONFIG=/app/all.yaml "$IMAGE" \
		gunicorn -b 127.0.0.1:8000 -w 2 web:app
	waitfor 60 sh -c "docker exec $c curl -sf http://127.0.0.1:8000/ >/dev/null" ||
		fail "@all: web serves" "$(logs "$c" | tail -n 5)"
	waitfor 60 inlog "$c" '^celery +\| .* ready\.'
	waitfor 60 sidekiq_up
	before=$(docker exec "$c" curl -s http://127.0.0.1:8000/)
	docker exec "$c" jobshim stats >"$TMP/stats" 2>&1
	sed 's/^/# /' "$TMP/stats"
	for j in web sidekiq celery; do
		if grep -Eq "^$j +(main|worker) +[0-9]+ +(ready|progressing) " "$TMP/stats"; then
			ok "@all: stats over docker exec shows $j running"
		else
			fail "@all: stats shows $j running" "$(tr '\n' '|' <"$TMP/stats")"
		fi
	done
	row=$(grep -E '^web ' "$TMP/stats")
	# CPU in millicores, MEMORY in binary units: gunicorn's master and two
	# workers use some MiB, far below a GiB.
	mem=$(awk '{ print $9 }' <<<"$row")
	if [[ $(awk '{ print $8 }' <<<"$row") =~ ^[0-9]+m$ ]] && [[ $mem =~ ^[0-9]+Mi$ ]] &&
		[ "${mem%Mi}" -ge 5 ] && [ "${mem%Mi}" -lt 1024 ]; then
		ok "@all: stats gives sensible CPU and MEMORY for web ($row)"
	else
		fail "@all: stats gives sensible CPU and MEMORY for web" "$row"
	fi
	docker exec "$c" pkill -KILL -f 'celery -A tasks worker'
	waitfor 30 inlog "$c" '^jobshim: celery .*restart 1 in'
	has "@all: the crashed worker is restarted" "$c" '^jobshim: celery (killed by signal 9|exited with status [0-9]+) .*restart 1 in'
	waitfor 60 sh -c "docker logs $c 2>&1 | grep -Ec '^celery +\| .* ready\.' | grep -q 2"
	after=$(docker exec "$c" curl -s http://127.0.0.1:8000/)
	expect "@all: web untouched by the worker's crash (same pid, serving)" "$before" "$after"
	docker stop -t 30 "$c" >/dev/null
	expect "@all: docker stop ends with web's status 0" 0 "$(exit_code "$c")"
}

# ---------------------------------------------------------------- deploy job
# The deploy job (a 3 s migration) runs first; web starts only after it
# succeeded (web.py reports whether /tmp/migrated existed when it started).
t_deploy() {
	local c=$PREFIX-deploy out
	docker rm -f "$c" >/dev/null 2>&1
	docker run -d --name "$c" --network none -e JOBSHIM_JOB=@all -e JOBSHIM_CONFIG=/app/deploy.yaml \
		"$IMAGE" gunicorn -b 127.0.0.1:8000 -w 1 web:app >/dev/null
	waitfor 60 sh -c "docker exec $c curl -sf http://127.0.0.1:8000/ >/dev/null"
	out=$(docker exec "$c" curl -s http://127.0.0.1:8000/)
	if [[ $out =~ migrated\ True ]]; then ok "deploy: web started after the migration"; else
		fail "deploy: web started after the migration" "[$out] $(logs "$c" | tail -n 8 | tr '\n' '|')"
	fi
	has "deploy: the migration's output is prefixed" "$c" '^migrate +\| migrated$'
	has "deploy: jobshim logs its success" "$c" '^jobshim: migrate succeeded on attempt 1 of 1$'
	docker stop -t 20 "$c" >/dev/null
}

# ---------------------------------------------------------------- @cron
t_cron() {
	local c=$PREFIX-cron n
	docker rm -f "$c" >/dev/null 2>&1
	docker run -d --name "$c" --network none -e JOBSHIM_JOB=@cron -e JOBSHIM_CONFIG=/app/cron.yaml \
		"$IMAGE" >/dev/null
	waitfor 30 sh -c "[ \$(docker logs $c 2>&1 | grep -Ec '^tick +\| tick [0-9]+$') -ge 2 ]"
	n=$(logs "$c" | grep -Ec '^tick +\| tick [0-9]+$')
	if [ "$n" -ge 2 ]; then ok "@cron: the scheduled job fired $n times"; else
		fail "@cron: the scheduled job fires" "$(logs "$c" | tail -n 8 | tr '\n' '|')"
	fi
	docker stop -t 20 "$c" >/dev/null
	expect "@cron: docker stop ends it with status 0" 0 "$(exit_code "$c")"
}

start=$SECONDS
for t in t_sidekiq_stop t_sidekiq_restart t_celery_stop t_nginx t_all t_deploy t_cron; do
	echo "# $t"
	$t
done
echo "real: suite took $((SECONDS - start)) s"
echo "real: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
