#!/usr/bin/env bash
# Operating a running jobshim (SPEC §10): `jobshim restart|signal|reload`
# over RUN_DIR/control, --watch-config, and the channel's hostile cases
# (another user, a flood of requests, a symlink or FIFO at its name).
# jobshim runs as PID 1 of a new PID namespace; the commands talk to it
# from outside, as `docker exec` does.
# shellcheck source=integration/lib.sh
. "$(dirname "$0")/lib.sh"

export LC_ALL=C
unset JOBSHIM_RUN_DIR JOBSHIM_COMMAND JOBSHIM_WATCH_CONFIG JOBSHIM_JOB JOBSHIM_CONFIG
# A backoff restart would take 30 s: any quick restart below is no backoff.
export JOBSHIM_BACKOFF_MIN=30s JOBSHIM_BACKOFF_MAX=60s
RUN=$TMP/run
OUT=$TMP/out
ERR=$TMP/err

ctl() {
	"$JOBSHIM" "$@" --run-dir "$RUN" >"$TMP/ctl.out" 2>"$TMP/ctl.err"
	CTL_RC=$?
}

wait_sock() {
	local deadline=$((SECONDS + ${2:-10}))
	until [ -S "$1" ]; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.01
	done
}

# The pid status.json shows for job $1 (empty when none).
job_pid() {
	jsonq -f "$RUN/status.json" 'find(d["jobs"], name=args[0])["pid"]' "$1" 2>/dev/null
}

job_names() {
	jsonq -f "$RUN/status.json" '" ".join(j["name"] for j in d["jobs"])'
}

# Waits until job $1's pid in status.json is non-empty and differs from $2.
wait_pid_change() {
	local deadline=$((SECONDS + ${3:-15})) p
	while :; do
		p=$(job_pid "$1")
		[ -n "$p" ] && [ "$p" != "0" ] && [ "$p" != null ] && [ "$p" != "$2" ] && echo "$p" && return 0
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# shellcheck disable=SC2317 # called through check
locked() { ! flock -n "$1" true; }

# ---------------------------------------------------------------- no jobshim
ctl restart w
expect "no jobshim running: restart exits 1" 1 "$CTL_RC"
check "... with a clear message" grep -q 'no jobshim is running in this container' "$TMP/ctl.err"
ctl signal w FOO
expect "an unknown signal is a bad request (2), before any connection" 2 "$CTL_RC"
check "... saying what a signal is" grep -q 'unknown signal' "$TMP/ctl.err"
pid1 -- restart >"$OUT" 2>&1
expect "after -- the word restart is the main app's command (not found: 127)" 127 "$?"

# ---------------------------------------------------------------- worker: restart, signal
cat >"$TMP/worker.yaml" <<EOF
workerJobs:
  - name: w
    command: "exec $PROBE record $TMP/rec"
EOF
JOBSHIM_JOB=w JOBSHIM_CONFIG=$TMP/worker.yaml pid1_bg --run-dir "$RUN" >"$OUT" 2>"$ERR"
wait_sock "$RUN/control"
check "the control socket exists" test -S "$RUN/control"
expect "it is mode 0600" 600 "$(stat -c %a "$RUN/control")"
wait_file "$TMP/rec.ready"
old=$(wait_pid_change w "")
t0=$SECONDS
ctl restart w
took=$((SECONDS - t0))
expect "restart w exits 0" 0 "$CTL_RC"
new=$(sed -n 's/^restarted w: pid \([0-9]*\)$/\1/p' "$TMP/ctl.out")
check "the answer names the new pid ($new)" test -n "$new"
check "it is a new instance ($old -> $new)" test "$new" != "$old"
check "no backoff: answered in ${took}s (the backoff would be 30s)" test "$took" -le 10
expect "the old instance got the stop signal (TERM)" 15 "$(head -n 1 "$TMP/rec")"
check "status.json shows the new pid" wait_pid_change w "$old" >/dev/null
check "jobshim logged the restart" grep -q '^jobshim: control: restart of w requested$' "$ERR"
check "... and its end" grep -q "^jobshim: w restarted: pid $new$" "$ERR"
: >"$TMP/rec"
ctl restart
expect "restart without a name restarts every worker (0)" 0 "$CTL_RC"
check "... answered with the new pid" grep -q '^restarted w: pid [0-9]*$' "$TMP/ctl.out"
: >"$TMP/rec"
wait_file "$TMP/rec.ready"
ctl signal w USR1
expect "signal w USR1 exits 0" 0 "$CTL_RC"
check "... and says so" grep -q '^sent SIGUSR1 to w (pid [0-9]*)$' "$TMP/ctl.out"
check "the job's main process received SIGUSR1" wait_grep "$TMP/rec" '^10$'
check "jobshim logged it" grep -q '^jobshim: control: sent SIGUSR1 to w (pid [0-9]*)$' "$ERR"
: >"$TMP/rec"
"$JOBSHIM" signal w USR2 --run-dir "$RUN" >/dev/full 2>"$TMP/ctl.err"
expect "signal w USR2 with stdout full still exits 0 (the signal went)" 0 "$?"
check "... saying the answer was lost" grep -q '^jobshim signal: done, but the answer could not be written: No space left on device$' "$TMP/ctl.err"
check "... and the signal arrives" wait_grep "$TMP/rec" '^12$'
ctl signal w TSTP
expect "signal w TSTP exits 0" 0 "$CTL_RC"
check "the job received SIGTSTP" wait_grep "$TMP/rec" '^20$'
ctl signal nope HUP
expect "signal to an unknown job exits 2" 2 "$CTL_RC"
check "... listing the jobs" grep -q 'unknown job "nope" (jobs here: w)' "$TMP/ctl.err"
ctl restart nope
expect "restart of an unknown job exits 2" 2 "$CTL_RC"
kill -HUP "$J_PID"
check "SIGHUP to jobshim is still forwarded to the job" wait_grep "$TMP/rec" '^1$'
ctl reload now
expect "a malformed request exits 2" 2 "$CTL_RC"

# A client that connects and sends nothing, and one that never reads its
# answer: jobshim goes on answering others.
python3 - "$RUN/control" <<'EOF' &
import socket, sys, time
silent = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
silent.connect(sys.argv[1])
deaf = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
deaf.connect(sys.argv[1])
deaf.send(b"signal w WINCH\n")
time.sleep(4)
EOF
hold=$!
sleep 0.2
ctl signal w USR2
expect "with a silent and a deaf client connected, requests are still answered" 0 "$CTL_RC"
check "... and the signal arrives" wait_grep "$TMP/rec" '^12$'
wait "$hold"

# ---------------------------------------------------------------- flood
# 1000 requests from 8 clients at once; a signal to jobshim in the middle
# of them is forwarded at once, and TERM during a second burst stops it.
cat >"$TMP/flood.py" <<'EOF'
import socket, sys, threading
path, n, threads = sys.argv[1], int(sys.argv[2]), 8
ok = [0] * threads
def run(k):
    for _ in range(n // threads):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.settimeout(20)
            s.connect(path)
            s.send(b"signal w WINCH\n")
            if s.recv(4096).startswith(b"0 "):
                ok[k] += 1
            s.close()
        except OSError:
            pass
ts = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
[t.start() for t in ts]
[t.join() for t in ts]
print(sum(ok))
EOF
: >"$TMP/rec"
t0=$SECONDS
python3 "$TMP/flood.py" "$RUN/control" 1000 >"$TMP/flood.out" &
flood=$!
sleep 0.3
kill -USR1 "$J_PID"
check "SIGUSR1 during the burst is forwarded promptly" wait_grep "$TMP/rec" '^10$' 10
wait "$flood"
took=$((SECONDS - t0))
expect "all 1000 requests of the burst were answered (in ${took}s)" 1000 "$(cat "$TMP/flood.out")"
python3 "$TMP/flood.py" "$RUN/control" 4000 >/dev/null &
flood=$!
sleep 0.3
t0=$SECONDS
kill -TERM "$J_PID"
wait_bg 30
took=$((SECONDS - t0))
expect "TERM during a burst stops jobshim (the job's status, 0)" 0 "$BG_STATUS"
check "... promptly (${took}s)" test "$took" -le 10
kill "$flood" 2>/dev/null
wait "$flood" 2>/dev/null
check "the socket is removed at exit" test ! -e "$RUN/control"

# ---------------------------------------------------------------- grace
# A job that ignores the stop signal is killed after the grace period, and
# a reload during that restart is refused, not doubled.
cat >"$TMP/stubborn.yaml" <<EOF
workerJobs:
  - name: s
    command: "exec $PROBE ignore-term $TMP/stubborn.ready"
EOF
JOBSHIM_JOB=s JOBSHIM_CONFIG=$TMP/stubborn.yaml pid1_bg --run-dir "$RUN" --grace 2s --watch-config \
	>"$OUT" 2>"$ERR"
wait_sock "$RUN/control"
wait_file "$TMP/stubborn.ready"
old=$(wait_pid_change s "")
rm -f "$TMP/stubborn.ready"
timeout 30 "$JOBSHIM" restart s --run-dir "$RUN" >"$TMP/restart.out" 2>&1 &
restart=$!
wait_grep "$ERR" 'restarting s: SIGTERM'
ctl reload
expect "a reload during a restart's grace period is refused (1)" 1 "$CTL_RC"
check "... saying a restart is in progress" grep -q 'a restart or reload is in progress: nothing changed' "$TMP/ctl.err"
expect "the refused reload read nothing" 0 "$(grep -c '^jobshim: reloading' "$ERR")"
# A change of the watched file during the grace waits for the restart.
sed "s|stubborn.ready|stubborn2.ready|" "$TMP/stubborn.yaml" >"$TMP/stubborn.new"
mv "$TMP/stubborn.new" "$TMP/stubborn.yaml"
wait "$restart"
expect "the restart of a job that ignores TERM still completes (0)" 0 "$?"
check "... after SIGKILL at the end of the grace period" grep -q '^jobshim: s did not stop within the grace period: sending SIGKILL$' "$ERR"
check "... killed by signal 9" grep -q '^jobshim: s killed by signal 9 (SIGKILL) after [0-9.]*s (restart requested)$' "$ERR"
new=$(sed -n 's/^restarted s: pid \([0-9]*\)$/\1/p' "$TMP/restart.out")
check "... with a new instance ($old -> $new)" test -n "$new" -a "$new" != "$old"
check "the queued reload ran once the restart was done" wait_file "$TMP/stubborn2.ready" 20
expect "... once" 1 "$(grep -c 'changed: reloading$' "$ERR")"
check "... after the restart's new instance" test "$(grep -n '^jobshim: s restarted: pid' "$ERR" | head -n 1 | cut -d: -f1)" -lt \
	"$(grep -n 'changed: reloading$' "$ERR" | cut -d: -f1)"
kill -KILL "$J_PID"
wait_bg 20
# A jobshim killed by SIGKILL leaves its socket behind; the next one
# replaces it only with its first status write.
rm -f "$RUN/control" "$RUN/status.json"

# ---------------------------------------------------------------- main app only
pid1_bg --run-dir "$RUN" -- sleep 100 >"$OUT" 2>"$ERR"
wait_sock "$RUN/control"
ctl restart web
expect "restart of the main app exits 2" 2 "$CTL_RC"
check "... saying the platform restarts containers" grep -q 'web is the main app: jobshim never restarts it (the platform restarts containers' "$TMP/ctl.err"
ctl restart
expect "restart of every job with only the main app exits 2" 2 "$CTL_RC"
ctl signal web TERM
expect "signal web TERM exits 0" 0 "$CTL_RC"
wait_bg 20
expect "the main app died of it: 143" 143 "$BG_STATUS"

# ---------------------------------------------------------------- @all reload
mkdir -p "$TMP/app"
cfg=$TMP/app/.deploio.yaml
write_all() { # names and commands: a=CMD b=CMD ...
	echo "workerJobs:" >"$cfg.new"
	for kv in "$@"; do
		printf '  - name: %s\n    command: "exec %s sleep %s"\n' "${kv%%=*}" "$PROBE" "${kv#*=}" >>"$cfg.new"
	done
	mv "$cfg.new" "$cfg"
}
write_all a=100000 b=100000
JOBSHIM_JOB=@all JOBSHIM_CONFIG=$cfg pid1_bg --run-dir "$RUN" -- sleep 100000 >"$OUT" 2>"$ERR"
wait_sock "$RUN/control"
pa=$(wait_pid_change a "")
pb=$(wait_pid_change b "")
pw=$(wait_pid_change web "")
ctl reload
expect "reload of an unchanged file exits 0" 0 "$CTL_RC"
check "... and says nothing was touched" grep -q 'unchanged: no job touched' "$TMP/ctl.out"
write_all a=100000 b=100001
ctl reload
expect "reload with b's command changed exits 0" 0 "$CTL_RC"
check "... and names the restart" grep -q '^restarted b (command changed): pid [0-9]*$' "$TMP/ctl.out"
pb2=$(wait_pid_change b "$pb")
check "b runs as a new instance ($pb -> $pb2)" test -n "$pb2"
expect "a (unchanged) keeps its pid" "$pa" "$(job_pid a)"
expect "the main app keeps its pid" "$pw" "$(job_pid web)"
check "jobshim logged it" grep -q '^jobshim: reload: b changed (command)$' "$ERR"
printf 'workerJobs:\n  - name: a\n    command: x\n    size: huge\n' >"$cfg"
ctl reload
expect "reload of an invalid file exits 2" 2 "$CTL_RC"
check "... with the error in the §1 format" grep -qE "^jobshim: $cfg:4:11: workerJobs\[0\]\.size: unknown size \"huge\"" "$TMP/ctl.err"
check "... and says nothing changed" grep -q 'reload refused: the configuration is not valid; nothing changed' "$TMP/ctl.err"
expect "the jobs go on: a keeps its pid" "$pa" "$(job_pid a)"
expect "... b keeps its pid" "$pb2" "$(job_pid b)"
write_all a=100000 c=100000
ctl reload
expect "reload adding c and removing b exits 0" 0 "$CTL_RC"
check "... c started" grep -q '^started c (added): pid [0-9]*$' "$TMP/ctl.out"
check "... b stopped" grep -q '^stopped b (removed)$' "$TMP/ctl.out"
check "the added worker holds its single-instance lock" locked "$RUN/job-c.lock"
check "stats shows web, a and c" wait_json "$RUN/status.json" 'find(d["jobs"], name="c")'
wait_json "$RUN/status.json" '[j["name"] for j in d["jobs"]] == ["web", "a", "c"]' # b's removal lags by up to 100 ms
expect "the jobs are now web a c" "web a c" "$(job_names)"
expect "a still keeps its pid" "$pa" "$(job_pid a)"
check "b's process is gone" test -z "$(pgrep -f "$PROBE sleep 100001")"
kill -TERM "$J_PID"
wait_bg 20
expect "@all stops cleanly after reloads (143 from sleep)" 143 "$BG_STATUS"

# ---------------------------------------------------------------- @cron reload
cron_cfg() { # name:command ...
	echo "scheduledJobs:" >"$cfg.new"
	for kv in "$@"; do
		printf '  - name: %s\n    command: "echo %s >>%s"\n    schedule: "@every 1s"\n' \
			"$kv" "$kv" "$TMP/cron.log" >>"$cfg.new"
	done
	mv "$cfg.new" "$cfg"
}
cron_cfg n1
JOBSHIM_JOB=@cron JOBSHIM_CONFIG=$cfg pid1_bg --run-dir "$RUN" >"$OUT" 2>"$ERR"
wait_sock "$RUN/control"
check "@cron: n1 runs on its schedule" wait_grep "$TMP/cron.log" '^n1$'
ctl restart n1
expect "restart of a scheduled job is a bad request (2)" 2 "$CTL_RC"
check "... saying it runs on its schedule" grep -q 'n1 is a scheduled job: it runs on its schedule' "$TMP/ctl.err"
cron_cfg n1 n2
ctl reload
expect "@cron reload adding n2 exits 0" 0 "$CTL_RC"
check "... n2 scheduled" grep -q '^scheduled n2 (added)$' "$TMP/ctl.out"
check "n2 runs on its schedule" wait_grep "$TMP/cron.log" '^n2$'
cron_cfg n2
ctl reload
expect "@cron reload removing n1 exits 0" 0 "$CTL_RC"
check "... n1 stopped" grep -q '^stopped n1 (removed)$' "$TMP/ctl.out"
sleep 0.5 # a run of n1 begun before the reload may still append
before=$(grep -c '^n1$' "$TMP/cron.log")
n2_before=$(grep -c '^n2$' "$TMP/cron.log")
sleep 2.5
expect "n1 runs no more" "$before" "$(grep -c '^n1$' "$TMP/cron.log")"
check "n2 goes on" test "$(grep -c '^n2$' "$TMP/cron.log")" -gt "$n2_before"
kill -TERM "$J_PID"
wait_bg 20
expect "@cron stops cleanly after reloads" 0 "$BG_STATUS"

# ---------------------------------------------------------------- --watch-config
# A Kubernetes ConfigMap volume: the file is a symlink through ..data, a
# symlink to a timestamped directory; an update writes a new directory and
# renames a new ..data_tmp symlink over ..data.
cm=$TMP/cm
mkdir -p "$cm/..2026_12_01_a"
printf 'workerJobs:\n  - name: a\n    command: "exec %s sleep 100000"\n' "$PROBE" >"$cm/..2026_12_01_a/.deploio.yaml"
ln -s ..2026_12_01_a "$cm/..data"
ln -s ..data/.deploio.yaml "$cm/.deploio.yaml"
JOBSHIM_JOB=a JOBSHIM_CONFIG=$cm/.deploio.yaml pid1_bg --run-dir "$RUN" --watch-config >"$OUT" 2>"$ERR"
wait_sock "$RUN/control"
pa=$(wait_pid_change a "")
mkdir -p "$cm/..2026_12_01_x"
printf 'workerJobs:\n  - name: a\n    command: "exec %s sleep 100002"\n' "$PROBE" >"$cm/..2026_12_01_x/.deploio.yaml"
ln -s ..2026_12_01_x "$cm/..data_tmp"
mv -T "$cm/..data_tmp" "$cm/..data"
pa2=$(wait_pid_change a "$pa")
check "a ConfigMap's ..data swap restarts the changed job ($pa -> $pa2)" test -n "$pa2"
check "... running the new command" wait_grep "$ERR" 'reload: a changed \(command\)'
expect "one reload for the swap" 1 "$(grep -c 'changed: reloading$' "$ERR")"
# A burst of writes to the file is one reload.
for i in $(seq 20); do
	printf 'workerJobs:\n  - name: a\n    command: "exec %s sleep 100003" # %s\n' "$PROBE" "$i" >"$cm/..2026_12_01_x/.deploio.yaml"
done
pa3=$(wait_pid_change a "$pa2")
check "a burst of 20 writes restarts the job" test -n "$pa3"
sleep 1 # past the debounce: a second reload would show now
expect "... with one reload" 2 "$(grep -c 'changed: reloading$' "$ERR")"
touch "$cm/..2026_12_01_x/.deploio.yaml"
sleep 1
expect "touching the file without changing it reloads nothing" 2 "$(grep -c 'changed: reloading$' "$ERR")"
printf 'workerJobs: [\n' >"$cm/..2026_12_01_x/.deploio.yaml"
check "a broken file is reported" wait_grep "$ERR" 'reload refused: the configuration is not valid'
expect "... and the job goes on" "$pa3" "$(job_pid a)"
kill -TERM "$J_PID"
wait_bg 20
expect "jobshim stops cleanly after watched reloads" 143 "$BG_STATUS"

# ---------------------------------------------------------------- another user
# The client copied where uid 65534 can run it.
pub=$(mktemp -d /tmp/jobshim-ctl-pub.XXXXXX)
chmod 755 "$pub"
cp "$JOBSHIM" "$pub/jobshim"
mkdir -m 0711 "$pub/run"
pid1_bg --run-dir "$pub/run" -- sleep 100000 >"$OUT" 2>"$ERR"
wait_sock "$pub/run/control"
setpriv --reuid 65534 --regid 65534 --clear-groups "$pub/jobshim" signal web USR1 \
	--run-dir "$pub/run" >"$TMP/ctl.out" 2>"$TMP/ctl.err"
expect "another user's request is refused (2)" 2 "$?"
check "... saying who may operate jobshim" grep -q 'only the user jobshim runs as may operate it' "$TMP/ctl.err"
# Even past the file's permissions (loosened here by hand), jobshim checks
# the peer's credentials itself.
chmod 666 "$pub/run/control"
setpriv --reuid 65534 --regid 65534 --clear-groups /usr/bin/python3 -c 'import socket,sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
try:
    s.send(b"signal web TERM\n")
except OSError:
    pass  # refused at accept: the answer may already be queued, the socket closed
sys.stdout.write(s.recv(4096).decode())' \
	"$pub/run/control" >"$TMP/raw.out" 2>&1
check "a connection of uid 65534 is answered with a refusal" grep -q '^2 jobshim: refused: only uid 0 may operate this jobshim, not uid 65534$' "$TMP/raw.out"
check "... and logged" grep -q 'control: refused a request of uid 65534' "$ERR"
check "the main app was not signalled" kill -0 "$J_PID"
ctl_pub() { "$JOBSHIM" "$@" --run-dir "$pub/run" >"$TMP/ctl.out" 2>"$TMP/ctl.err"; }

# ---------------------------------------------------------------- symlink / FIFO
mv "$pub/run/control" "$pub/run/control.real"
ln -s control.real "$pub/run/control"
ctl_pub signal web USR1
expect "a symlink at the control name is not followed (1)" 1 "$?"
check "... and the client says why" grep -q 'is not a socket' "$TMP/ctl.err"
rm "$pub/run/control"
mkfifo "$pub/run/control"
t0=$SECONDS
ctl_pub signal web USR1
expect "a FIFO at the control name is not opened (1)" 1 "$?"
check "... without hanging ($((SECONDS - t0))s)" test $((SECONDS - t0)) -le 5
kill -TERM "$J_PID"
wait_bg 20
expect "jobshim stops cleanly" 143 "$BG_STATUS"
check "the FIFO, not jobshim's, is left in place" test -p "$pub/run/control"
# Started with a FIFO there: jobshim warns and runs without control.
# (A job that runs past the first status write: a job that exits at once
# costs no control socket.)
pid1 --run-dir "$pub/run" -- sleep 0.5 >"$OUT" 2>"$ERR"
expect "a FIFO at the name does not stop jobshim from running" 0 "$?"
check "... it says there is no control channel" grep -q 'no control channel' "$ERR"
rm -rf "$pub"

finish
