#!/usr/bin/env bash
# The spawn (SPEC §7, STYLE 11): the child shares jobshim's memory
# (CLONE_VM|CLONE_VFORK) and makes only a few checked system calls before
# execve, none that allocates; a setup step that fails is jobshim's own
# error (exit 125 once, never a restart loop); E2BIG at execve likewise
# (126). jobshim runs as PID 1 of a new PID namespace.
# shellcheck source=integration/lib.sh
. "$(dirname "$0")/lib.sh"

export LC_ALL=C
unset JOBSHIM_RUN_DIR JOBSHIM_CONFIG JOBSHIM_JOB JOBSHIM_COMMAND JOBSHIM_RLIMITS
export JOBSHIM_CGROUP_ROOT=$TMP/no-cgroup
ERR=$TMP/err

# ---------------------------------------------------------------- the child's calls
# child_lines LOG: the system calls of the child that jobshim cloned, from
# the clone to its execve (exclusive), one a line ("prctl(PR_...) = 0").
child_lines() {
	# The child is the first new pid after jobshim's CLONE_VFORK clone
	# (clone's own result is the pid inside the namespace).
	awk -v js="$JOBSHIM" '
		!parent && $2 ~ "^execve\\(\"" js "\"" { parent = $1 }
		!cloned { seen[$1] = 1 }
		parent && !cloned && $1 == parent && /clone\(.*CLONE_VM\|CLONE_VFORK/ { cloned = 1; next }
		cloned && !child && !($1 in seen) { child = $1 }
		child && $1 == child {
			line = $0
			sub(/^[0-9]+ +/, "", line)
			if (line ~ /^<\.\.\./) next # the rest of an interrupted line
			if (line ~ /^execve\(/) exit
			print line
		}' "$1"
}
bits() { # bits HEX: how many bits are set
	local v=$((16#$1)) n=0
	while [ "$v" -ne 0 ]; do
		n=$((n + (v & 1)))
		v=$((v >> 1))
	done
	echo "$n"
}
default_caps=$((16#5fb | 1 << 10)) # CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE

# strace_child [PREFIX...]: PREFIX jobshim -- /bin/true as PID 1 under
# strace -f; CHILD = the child's calls, CALLS = their names.
strace_child() {
	# (LeakSanitizer cannot run under ptrace: off for `make check SAN=1`.)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -o "$TMP/strace" unshare --pid --fork --mount-proc "$@" \
		"$JOBSHIM" -- /bin/true 2>"$ERR"
	RC=$?
	CHILD=$(child_lines "$TMP/strace")
	CALLS=$(cut -d'(' -f1 <<<"$CHILD")
}

bnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)
drops=$(bits "$(printf '%x' $((16#$bnd & ~default_caps)))")
# With a size, so that there are rlimits to set (SPEC §6).
strace_child env JOBSHIM_SIZE=micro
expect "strace: jobshim -- /bin/true exits 0" 0 "$RC"
check "strace: the child is cloned with CLONE_VM|CLONE_VFORK" grep -q 'CLONE_VM|CLONE_VFORK' "$TMP/strace"
n=$(grep -c . <<<"$CALLS")
check "child: at most 10 calls besides the $drops bounding-set drops (got $n)" \
	test "$n" -gt 0 -a "$n" -le $((10 + drops))
expect "child: nothing that allocates (mmap, brk, munmap, mprotect, mremap)" "" \
	"$(grep -xE 'mmap|brk|munmap|mprotect|mremap' <<<"$CALLS")"
expect "child: no file opened, nothing read back (open, read, capget)" "" \
	"$(grep -xE 'open|openat|read|capget|getrlimit' <<<"$CALLS")"
expect "child: one capset" 1 "$(grep -cx capset <<<"$CALLS")"
expect "child: the bounding set: one drop a capability present and not kept" "$drops" \
	"$(grep -c 'PR_CAPBSET_DROP' <<<"$CHILD")"
expect "child: no PR_CAPBSET_READ, no PR_CAP_AMBIENT_IS_SET" 0 \
	"$(grep -cE 'PR_CAPBSET_READ|PR_CAP_AMBIENT_IS_SET' <<<"$CHILD")"
expect "child: the ambient set cleared with one PR_CAP_AMBIENT_CLEAR_ALL" 1 \
	"$(grep -c 'PR_CAP_AMBIENT_CLEAR_ALL' <<<"$CHILD")"
# The order of SPEC §7.
order=$(grep -xE 'prlimit64|rt_sigprocmask|capset|prctl' <<<"$CALLS" | uniq | paste -sd ' ')
expect "child: rlimits, signal mask, bounding set, capset, no_new_privs + seccomp" \
	"prlimit64 rt_sigprocmask prctl capset prctl" "$order"

# No file read at start that the run does not need: jobshim's UTC log
# timestamps need no time zone (glibc's gmtime_r would read /etc/localtime).
expect "start-up: /etc/localtime is not read" 0 "$(grep -c '/etc/localtime' "$TMP/strace")"
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -e trace=open,openat -o "$TMP/strace-ts" unshare --pid --fork --mount-proc \
	env JOBSHIM_SIZE=micro JOBSHIM_LOG_TIMESTAMPS=1 JOBSHIM_LOG_FORMAT=json "$JOBSHIM" -- /bin/true 2>"$ERR"
expect "start-up with timestamps: a jobshim message was written" jobshim \
	"$(jsonq --lines -f "$ERR" -a 'd["time"].startswith("20")' 'd["stream"]' | head -n 1)"
expect "start-up with timestamps: /etc/localtime is not read" 0 \
	"$(grep -c '/etc/localtime' "$TMP/strace-ts")"

# In a container with Docker's 14 capabilities: fewer than 30 calls in all.
strace_child setpriv --bounding-set=-all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+setpcap,+net_bind_service,+net_raw,+mknod,+audit_write,+setfcap,+sys_chroot
expect "Docker's capabilities: exits 0" 0 "$RC"
n=$(grep -c . <<<"$CALLS")
check "Docker's capabilities: fewer than 30 calls in the child (got $n)" test "$n" -gt 0 -a "$n" -lt 30
expect "Docker's capabilities: 5 bounding-set drops" 5 "$(grep -c 'PR_CAPBSET_DROP' <<<"$CHILD")"

# ---------------------------------------------------------------- setup failure: 125, once
# An explicit rlimit above the hard limit cannot be set (SPEC §6): the
# worker is never started, and jobshim exits 125 at once instead of
# restarting it.
hard=$(ulimit -Hn)
capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
if [ "$hard" = unlimited ] || [ $((16#$capeff >> 24 & 1)) -eq 1 ]; then
	want=999999999 # above fs.nr_open: even CAP_SYS_RESOURCE cannot
else
	want=$((hard + 1))
fi
JOBSHIM_JOB=w1 JOBSHIM_COMMAND='echo started; exit 1' JOBSHIM_RLIMITS=nofile=$want \
	pid1_bg --run-dir "$TMP/run1" --backoff-min 10ms --backoff-max 10ms >"$TMP/out" 2>"$ERR"
wait_bg 20
expect "worker, rlimit that cannot be set: jobshim exits 125" 125 "$BG_STATUS"
check "worker: the message names the job and the step" \
	grep -qE '^jobshim: w1: setup failed at step rlimits \(nofile\): .*; not restarting$' "$ERR"
expect "worker: said once, never restarted" 1 "$(grep -c 'setup failed' "$ERR")"
expect "worker: the command never ran" "" "$(cat "$TMP/out")"
check "worker: no restart line" test "$(grep -c 'restart' "$ERR")" -eq 1 # "not restarting"

pid1 --rlimits nofile="$want" -- /bin/true 2>"$ERR"
expect "main app, rlimit that cannot be set: exit 125" 125 "$?"
check "main app: the message names the step" \
	grep -qE '^jobshim: web: setup failed at step rlimits \(nofile\): ' "$ERR"

# A deploy job's attempts are not retried when its setup fails: 125 at once.
printf 'deployJob:\n  name: release\n  command: "echo migrating"\n  retries: 3\n' >"$TMP/deploy.yaml"
JOBSHIM_CONFIG=$TMP/deploy.yaml JOBSHIM_RLIMITS=nofile=$want JOBSHIM_BACKOFF_MIN=10ms \
	pid1 --run-dir "$TMP/run4" --job release >"$TMP/out" 2>"$ERR"
expect "deploy job, rlimit that cannot be set: exit 125" 125 "$?"
check "deploy job: the step is named" \
	grep -qE '^jobshim: release: setup failed at step rlimits \(nofile\): ' "$ERR"
expect "deploy job: no attempt ran, none retried" "0 0" \
	"$(grep -c migrating "$TMP/out") $(grep -c 'attempt' "$ERR")"

# ---------------------------------------------------------------- @all: one job cannot start
# A fake cgroup v2 tree where one job's cgroup.procs cannot be written
# (/dev/full): that job fails at step "cgroup" in its child; the jobs
# started before it are stopped, and jobshim exits 125.
fake=$TMP/cg
mkdir -p "$fake/jobshim/init" "$fake/jobshim/web" "$fake/jobshim/ticker" "$fake/jobshim/broken"
echo "cpu memory pids" >"$fake/cgroup.controllers"
cp "$fake/cgroup.controllers" "$fake/jobshim/cgroup.controllers"
for f in cgroup.subtree_control cgroup.procs jobshim/cgroup.subtree_control jobshim/init/cgroup.procs; do
	: >"$fake/$f"
done
for j in web ticker broken; do
	for f in cgroup.procs memory.max memory.swap.max pids.max cpu.weight; do : >"$fake/jobshim/$j/$f"; done
done
rm "$fake/jobshim/broken/cgroup.procs"
ln -s /dev/full "$fake/jobshim/broken/cgroup.procs"
cat >"$TMP/all.yaml" <<'EOF'
workerJobs:
  - name: ticker
    command: "while :; do echo tick; sleep 0.1; done"
    size: micro
  - name: broken
    command: "echo never"
    size: micro
EOF
t0=$SECONDS
JOBSHIM_JOB=@all JOBSHIM_CONFIG=$TMP/all.yaml JOBSHIM_CGROUP_ROOT=$fake JOBSHIM_SIZE=micro \
	pid1_bg --run-dir "$TMP/run2" --grace 5s -- sh -c 'sleep 30' >"$TMP/out" 2>"$ERR"
wait_bg 20
expect "@all, one job cannot start: jobshim exits 125" 125 "$BG_STATUS"
check "@all: well before the main app would end (took $((SECONDS - t0))s)" test $((SECONDS - t0)) -lt 20
check "@all: the message names the job and the step" \
	grep -qE '^jobshim: broken: setup failed at step cgroup: No space left on device' "$ERR"
check "@all: the job that failed never ran" test "$(grep -c never "$TMP/out")" -eq 0

# ---------------------------------------------------------------- E2BIG
# A 1 MB command (SPEC's kernel limit for one argument is 128 KiB): execve
# fails with E2BIG, which no restart can fix. jobshim says so once and
# exits 126 (the command cannot be executed).
{
	printf 'workerJobs:\n  - name: huge\n    command: "true '
	head -c 1000000 /dev/zero | tr '\0' x
	printf '"\n'
} >"$TMP/huge.yaml"
JOBSHIM_JOB=huge JOBSHIM_CONFIG=$TMP/huge.yaml \
	pid1_bg --run-dir "$TMP/run3" --backoff-min 10ms --backoff-max 10ms >"$TMP/out" 2>"$ERR"
wait_bg 20
expect "1 MB command: jobshim exits 126" 126 "$BG_STATUS"
check "1 MB command: Argument list too long, not restarting" \
	grep -qE '^jobshim: huge: exec /bin/sh: Argument list too long \(the command is longer than the kernel takes\); not restarting$' "$ERR"
expect "1 MB command: said once" 1 "$(grep -c 'Argument list too long' "$ERR")"

# ---------------------------------------------------------------- exec failures stay 126/127
pid1 /nonexistent/program 2>"$ERR"
expect "not found: 127" 127 "$?"
check "not found: one message naming the command" test "$(grep -c '/nonexistent/program: No such file' "$ERR")" -eq 1
# An empty command name is not found, as execvp says (ENOENT), not a PATH
# directory taken for the command (EACCES, 126).
pid1 -- '' 2>"$ERR"
expect "empty command name: not found, 127" 127 "$?"
check "empty command name: No such file or directory" grep -q 'exec : No such file or directory' "$ERR"
PATH=$TMP/nowhere:$PATH pid1 true
expect "PATH search: an entry that does not exist is skipped" 0 "$?"
mkdir -p "$TMP/bin"
printf '#!/bin/sh\nexit 9\n' >"$TMP/bin/nine"
chmod 755 "$TMP/bin/nine"
PATH=$TMP/bin:$PATH pid1 nine
expect "PATH search: found in the job's PATH" 9 "$?"
printf 'x' >"$TMP/bin/noexec"
chmod 644 "$TMP/bin/noexec"
PATH=$TMP/bin:$PATH pid1 noexec 2>"$ERR"
expect "PATH search: found but not executable: 126" 126 "$?"
check "PATH search: Permission denied" grep -q 'noexec: Permission denied' "$ERR"

finish
