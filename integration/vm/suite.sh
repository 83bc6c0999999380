#!/bin/sh
# shellcheck disable=SC3043 # busybox ash has `local`
# /init of the VM suite (make vm-test): PID 1 of a Debian 12 kernel booted
# by qemu, with busybox, the static jobshim and the static helpers in an
# initramfs (integration/vm/run.sh builds it). Shows on a real cgroup v2
# what the host (cgroup v1) cannot: the size's cgroup limits, the OOM
# killer named by jobshim, pids.max against a fork bomb, cgroup.kill in
# @all, a cgroup namespace as a Kubernetes pod has it; and the seccomp
# filter on a kernel with IA32 emulation.
#
# Every result is a line "ok - NAME" or "not ok - NAME: WHY" on the serial
# console; the last one is "vm: N passed, N failed", which run.sh parses.
# Then the VM powers off.
export PATH=/usr/local/bin:/bin
export HOME=/tmp TMPDIR=/tmp
CG=/sys/fs/cgroup
PASSED=0
FAILED=0
T=/tmp/t # per-test scratch

setup() {
	mount -t proc proc /proc
	mount -t sysfs sys /sys
	mount -t devtmpfs dev /dev 2>/dev/null
	mount -t tmpfs tmp /tmp
	mount -t tmpfs run /run
	mount -t cgroup2 cgroup2 $CG
	exec </dev/null >/dev/console 2>&1
	mkdir -p $T
	echo "vm: kernel $(uname -r), $(nproc) cpu, cgroup controllers: $(cat $CG/cgroup.controllers)"
}

ok() {
	PASSED=$((PASSED + 1))
	echo "ok - $1"
}

fail() {
	FAILED=$((FAILED + 1))
	echo "not ok - $1: $2"
}

# expect NAME WANT GOT
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "want [$2], got [$3]"; fi
}

# has NAME FILE REGEX: a line of FILE matches the extended REGEX
has() {
	if grep -Eq -- "$3" "$2"; then ok "$1"; else
		fail "$1" "no line matches /$3/ in: $(tail -n 15 "$2" | tr '\n' '|')"
	fi
}

# hasnt NAME FILE REGEX
hasnt() {
	if grep -Eq -- "$3" "$2"; then fail "$1" "$(grep -E -- "$3" "$2" | head -n 3 | tr '\n' '|')"; else ok "$1"; fi
}

# waitfor SECONDS CMD...: until CMD succeeds (0) or the time is up (1).
waitfor() {
	local n=$(($1 * 5))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

inlog() { grep -Eqs -- "$2" "$1"; }
alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }

# stop PID: SIGTERM, then wait up to 30 s; sets RC (or "hang", then SIGKILL).
stop() {
	kill -TERM "$1"
	if waitfor 30 dead "$1"; then
		wait "$1"
		RC=$?
	else
		kill -KILL "$1"
		wait "$1"
		RC=hang
	fi
}

# stopped NAME: the last stop ended jobshim (its status depends on whether
# the worker was running or waiting for its restart).
stopped() {
	if [ "$RC" != hang ]; then ok "$1 (status $RC)"; else fail "$1" "still running 30 s after SIGTERM"; fi
}

# Processes whose command line is exactly the words given, e.g. "sleep 1001".
count_cmd() {
	local want="$*" n=0 f line
	for f in /proc/[0-9]*/cmdline; do
		line=$(tr '\0' ' ' <"$f" 2>/dev/null) || continue
		[ "$line" = "$want " ] && n=$((n + 1))
	done
	echo "$n"
}

# The job's cgroup files as "file=value" lines, printed from inside the job.
# shellcheck disable=SC2016 # expanded by the job's shell
CGFILES='cat /proc/self/cgroup; d=/sys/fs/cgroup/jobshim/web
for f in memory.max memory.swap.max pids.max cpu.weight; do echo "$f=$(cat $d/$f)"; done'
value() { sed -n "s/^$2=//p" "$1"; }

# ------------------------------------------------------------ size limits
t_limits() {
	local c
	for c in memory pids cpu; do
		if grep -qw $c $CG/cgroup.controllers; then ok "cgroup v2 offers $c"; else
			fail "cgroup v2 offers $c" "$(cat $CG/cgroup.controllers)"
		fi
	done
	JOBSHIM_SIZE=micro jobshim -- sh -c "$CGFILES" >$T/limits 2>&1
	expect "micro: main app exits 0" 0 $?
	has "micro: the job runs in /jobshim/web" $T/limits '^0::/jobshim/web$'
	expect "micro: memory.max 256Mi" 268435456 "$(value $T/limits memory.max)"
	expect "micro: memory.swap.max 0" 0 "$(value $T/limits memory.swap.max)"
	expect "micro: pids.max 256" 256 "$(value $T/limits pids.max)"
	expect "micro: cpu.weight 12 (125m)" 12 "$(value $T/limits cpu.weight)"
	hasnt "micro: no warning that limits are not enforced" $T/limits 'not enforced|not set'

	# Lower limits already in place (the platform's, a parent's) stay.
	echo 104857600 >$CG/jobshim/web/memory.max
	echo 100 >$CG/jobshim/web/pids.max
	JOBSHIM_SIZE=micro jobshim -- sh -c "$CGFILES" >$T/lower 2>&1
	expect "lowered: a lower memory.max stays" 104857600 "$(value $T/lower memory.max)"
	expect "lowered: a lower pids.max stays" 100 "$(value $T/lower pids.max)"
	echo max >$CG/jobshim/web/memory.max
	echo max >$CG/jobshim/web/pids.max
	JOBSHIM_SIZE=mini jobshim -- sh -c "$CGFILES" >$T/raise 2>&1
	expect "lowered: a higher memory.max is lowered to the size's" 536870912 \
		"$(value $T/raise memory.max)"
	JOBSHIM_SIZE=micro jobshim -- sh -c "$CGFILES" >$T/raise 2>&1
	expect "lowered: mini then micro lowers memory.max" 268435456 "$(value $T/raise memory.max)"
	JOBSHIM_SIZE=mini jobshim -- sh -c "$CGFILES" >$T/raise 2>&1
	expect "lowered: micro then mini never raises memory.max" 268435456 \
		"$(value $T/raise memory.max)"

	JOBSHIM_SIZE=micro jobshim check >$T/check 2>&1
	has "check: shows the cgroup it would set on this v2" $T/check \
		'cgroup: /sys/fs/cgroup/jobshim/web memory\.max=268435456 memory\.swap\.max=0 pids\.max=256 cpu\.weight=12'

	jobshim -- sh -c 'cat /proc/self/cgroup' >$T/nosize 2>&1
	has "no size: the job stays in jobshim's cgroup" $T/nosize '^0::/$'
}

# ------------------------------------------------------------ OOM killer
# A worker over its memory.max: the kernel kills it, jobshim names the OOM
# killer (from memory.events oom_kill), restarts it, and stats shows it.
# $1 "": in the VM's root cgroup namespace; "pod": as PID 1 of a pod (vm-pod
# in cgroup $2), with stats run inside its namespaces as `kubectl exec` does.
t_oom() {
	local mode="$1" log="$T/oom$1.log" pid inner name
	name="oom${mode:+ (pod)}"
	cat >$T/oom.yaml <<-'EOF'
		workerJobs:
		  - name: hog
		    command: memhog 400
		    size: micro
	EOF
	if [ "$mode" = pod ]; then
		mkdir -p "$2"
		JOBSHIM_CONFIG=$T/oom.yaml JOBSHIM_JOB=hog vm-pod "$2" jobshim >"$log" 2>&1 &
	else
		JOBSHIM_CONFIG=$T/oom.yaml JOBSHIM_JOB=hog jobshim >"$log" 2>&1 &
	fi
	pid=$!
	waitfor 120 inlog "$log" 'restart 2 in'
	has "$name: named: killed by the OOM killer (memory.max 256Mi)" "$log" \
		'^jobshim: hog killed by the OOM killer \(memory\.max 256Mi\) after [0-9.]+m?s; restart 1 in 1s$'
	has "$name: worker restarted and killed again" "$log" \
		'^jobshim: hog killed by the OOM killer \(memory\.max 256Mi\) after .*; restart 2 in 2s$'
	hasnt "$name: memhog never got past 256Mi" "$log" 'memhog: (25[6-9]|2[6-9][0-9]|3[0-9][0-9]|400) MiB'
	if [ "$mode" = pod ]; then
		inner=$(cat /proc/$pid/task/$pid/children)
		inner=${inner%% *}
		nsenter -t "$inner" -p -m jobshim stats >$T/stats 2>&1
		nsenter -t "$inner" -p -m jobshim stats -o json >$T/stats.json 2>&1
	else
		jobshim stats >$T/stats 2>&1
		jobshim stats -o json >$T/stats.json 2>&1
	fi
	has "$name: stats shows LASTEXITCODE 137 (OOM)" $T/stats '^hog +worker .* 137 \(OOM\) '
	has "$name: stats counts the restarts" $T/stats '^hog +worker +([0-9]+|-) +[a-z]+ +[1-9]'
	has "$name: stats -o json gives the reason" $T/stats.json '"lastExitCode":137,"lastExitReason":"OOM"'
	stop $pid
	stopped "$name: jobshim stops on SIGTERM"
	sed 's/^/# /' "$log"
}

# The main app of @all over its memory.max: named so too, and it ends the
# container with its status (137).
t_oom_web() {
	cat >$T/oomweb.yaml <<-'EOF'
		size: micro
		workerJobs:
		  - name: idle
		    command: sleep 600
	EOF
	JOBSHIM_CONFIG=$T/oomweb.yaml JOBSHIM_JOB=@all timeout 120 jobshim -- memhog 400 >$T/oomweb 2>&1
	expect "oom @all: web's OOM kill ends jobshim with 137" 137 $?
	has "oom @all: named: web killed by the OOM killer" $T/oomweb \
		'^jobshim: web killed by the OOM killer \(memory\.max 256Mi\): stopping the other jobs$'
}

# A deploy job's attempt over its memory.max: the attempt line names the
# OOM killer; the run fails with its status.
t_oom_deploy() {
	cat >$T/oomdeploy.yaml <<-'EOF'
		deployJob:
		  name: release
		  command: memhog 400
		  size: micro
		  retries: 1
	EOF
	JOBSHIM_CONFIG=$T/oomdeploy.yaml JOBSHIM_JOB=release timeout 120 jobshim >$T/oomdeploy 2>&1
	expect "oom deploy: the run fails with the attempt's 137" 137 $?
	has "oom deploy: attempt 1 named: killed by the OOM killer" $T/oomdeploy \
		'^jobshim: release attempt 1 of 2 killed by the OOM killer \(memory\.max 256Mi\) after .*; retry in 1s$'
	has "oom deploy: the run fails after 2 attempts" $T/oomdeploy '^jobshim: release failed after 2 attempts$'
}

# ------------------------------------------------------------ pids.max
t_forkbomb() {
	local log=$T/bomb.log pid d=$CG/jobshim/bomb
	cat >$T/bomb.yaml <<-'EOF'
		workerJobs:
		  - name: bomb
		    command: "i=0; while [ $i -lt 1000 ]; do sleep 600 & i=$((i+1)); done; wait"
		    size: micro
	EOF
	JOBSHIM_CONFIG=$T/bomb.yaml JOBSHIM_JOB=bomb jobshim >$log 2>&1 &
	pid=$!
	waitfor 120 inlog "$log" 'restart 1 in'
	has "pids.max: the bomb's shell could not fork" "$log" "can't fork"
	local max
	max=$(sed -n 's/^max //p' $d/pids.events)
	if [ "${max:-0}" -ge 1 ]; then ok "pids.max: the kernel refused forks (pids.events max $max)"; else
		fail "pids.max: the kernel refused forks" "pids.events: $(cat $d/pids.events)"
	fi
	expect "pids.max: 256 in the job cgroup" 256 "$(cat $d/pids.max)"
	if jobshim stats >$T/bstats 2>&1; then ok "pids.max: jobshim stats answers during the bomb"; else
		fail "pids.max: jobshim stats answers during the bomb" "$(cat $T/bstats)"
	fi
	has "pids.max: stats has the bomb's row" $T/bstats '^bomb +worker '
	if alive $pid; then ok "pids.max: jobshim keeps running"; else fail "pids.max: jobshim keeps running" "gone"; fi
	stop $pid
	stopped "pids.max: jobshim stops on SIGTERM"
	waitfor 20 test "$(count_cmd sleep 600)" = 0
	expect "pids.max: no sleeper of the bomb is left" 0 "$(count_cmd sleep 600)"
}

# ------------------------------------------------------------ @all cgroup.kill
# A worker that leaves a setsid daemon behind at each exit: before each
# restart its cgroup is killed (cgroup.kill), so the daemon goes too; web is
# never touched.
t_all_kill() {
	local log=$T/all.log pid web1 web2
	rm -f $T/dn
	cat >$T/all.yaml <<-EOF
		workerJobs:
		  - name: daemon
		    command: "n=\$(cat $T/dn 2>/dev/null || echo 0); n=\$((n+1)); echo \$n > $T/dn; setsid sleep \$((1000+n)) & sleep 1; exit 3"
		    size: micro
	EOF
	JOBSHIM_CONFIG=$T/all.yaml JOBSHIM_JOB=@all jobshim -- sleep 999 >$log 2>&1 &
	pid=$!
	waitfor 30 test "$(count_cmd sleep 999)" = 1
	web1=$(pidof 'sleep' | tr ' ' '\n' | while read -r p; do
		[ "$(tr '\0' ' ' </proc/"$p"/cmdline)" = "sleep 999 " ] && echo "$p"
	done)
	waitfor 60 inlog "$log" 'restart 3 in'
	has "@all: the worker exits and is restarted" "$log" '^jobshim: daemon exited with status 3 after .*; restart 3 in'
	expect "@all: the first instance's setsid daemon is gone" 0 "$(count_cmd sleep 1001)"
	expect "@all: the second instance's setsid daemon is gone" 0 "$(count_cmd sleep 1002)"
	web2=$(pidof 'sleep' | tr ' ' '\n' | while read -r p; do
		[ "$(tr '\0' ' ' </proc/"$p"/cmdline)" = "sleep 999 " ] && echo "$p"
	done)
	if [ -n "$web1" ] && [ "$web1" = "$web2" ]; then ok "@all: web untouched (same pid $web1)"; else
		fail "@all: web untouched" "web pid [$web1] then [$web2]"
	fi
	stop $pid
	expect "@all: jobshim stops on SIGTERM with web's status" 143 "$RC"
	waitfor 20 test "$(count_cmd sleep 999)" = 0
}

# ------------------------------------------------------------ cgroup namespace
# As a Kubernetes pod sees it: jobshim is PID 1 at the root of its own
# cgroup namespace, in a non-root cgroup of the host (/pod1): it moves itself
# into its own leaf (/jobshim/init) so that the job cgroups can have
# controllers, and sets the same limits.
t_cgroupns() {
	mkdir -p $CG/pod1
	JOBSHIM_SIZE=micro vm-pod $CG/pod1 jobshim -- sh -c "$CGFILES; cat /proc/1/cgroup >$T/pod-init" \
		>$T/pod 2>&1
	expect "cgroupns: exit 0" 0 $?
	has "cgroupns: the job runs in /jobshim/web of the namespace" $T/pod '^0::/jobshim/web$'
	has "cgroupns: jobshim (PID 1) moved itself into its leaf /jobshim/init" $T/pod-init '^0::/jobshim/init$'
	expect "cgroupns: memory.max 256Mi" 268435456 "$(value $T/pod memory.max)"
	expect "cgroupns: memory.swap.max 0" 0 "$(value $T/pod memory.swap.max)"
	expect "cgroupns: pids.max 256" 256 "$(value $T/pod pids.max)"
	expect "cgroupns: cpu.weight 12" 12 "$(value $T/pod cpu.weight)"
	expect "cgroupns: from the host, the job cgroup is /pod1/jobshim/web" 268435456 \
		"$(cat $CG/pod1/jobshim/web/memory.max)"
	t_oom pod $CG/pod2
}

# ------------------------------------------------------------ sandbox
t_sandbox() {
	JOBSHIM_SECCOMP=off jobshim -- sysprobe int80 >$T/sb 2>&1
	has "kernel has IA32 emulation: int 0x80 unfiltered works" $T/sb '^int80: ok$'
	jobshim -- sysprobe int80 >$T/sb 2>&1
	expect "default: int 0x80 from 64-bit code killed by SIGSYS (exit 159)" 159 $?
	JOBSHIM_SECCOMP=strict jobshim -- sysprobe int80 >$T/sb 2>&1
	expect "strict: int 0x80 killed by SIGSYS (exit 159)" 159 $?
	JOBSHIM_SECCOMP=off jobshim -- i386probe >$T/sb 2>&1
	has "kernel runs i386 programs unfiltered" $T/sb '^i386probe: pid [0-9]+$'
	jobshim -- i386probe >$T/sb 2>&1
	expect "default: an i386 program killed by SIGSYS at its first syscall" 159 $?
	jobshim -- sysprobe x32 >$T/sb 2>&1
	expect "default: x32 killed by SIGSYS" 159 $?

	jobshim -- sysprobe mount reboot swapon init_module kexec_load syscall 1000 clone3 \
		fork pthread socket vsock socket inet >$T/sb 2>&1
	expect "default: exit 0" 0 $?
	for p in mount reboot swapon init_module kexec_load; do
		has "default: $p refused (EPERM)" $T/sb "^$p: EPERM$"
	done
	has "default: unknown syscall ENOSYS" $T/sb '^syscall 1000: ENOSYS$'
	has "default: clone3 ENOSYS" $T/sb '^clone3: ENOSYS$'
	has "default: fork works" $T/sb '^fork: ok$'
	has "default: pthread works (clone fallback)" $T/sb '^pthread: ok$'
	has "default: AF_VSOCK refused" $T/sb '^socket vsock: EPERM$'
	has "default: AF_INET works" $T/sb '^socket inet: ok$'

	JOBSHIM_SECCOMP=strict jobshim -- sysprobe ptrace bpf io_uring userfaultfd keyctl \
		personality unshare-files clone3 pthread >$T/sb 2>&1
	expect "strict: exit 0" 0 $?
	for p in ptrace bpf io_uring userfaultfd keyctl personality unshare-files; do
		has "strict: $p refused (EPERM)" $T/sb "^$p: EPERM$"
	done
	has "strict: clone3 ENOSYS" $T/sb '^clone3: ENOSYS$'
	has "strict: pthread works" $T/sb '^pthread: ok$'

	JOBSHIM_SECCOMP=off JOBSHIM_CAPS=SYS_ADMIN,SYS_BOOT jobshim -- sysprobe clone3 reboot >$T/sb 2>&1
	has "off: clone3 reaches the kernel" $T/sb '^clone3: EINVAL$'
	has "off: reboot reaches the kernel (bad magic)" $T/sb '^reboot: EINVAL$'
}

# ------------------------------------------------------------ clock changes
# The VM's clock is the suite's own, so it may be set: @cron waits for a
# wall-clock time (a timerfd with TFD_TIMER_CANCEL_ON_SET), and a clock set
# forward to just before that time makes it fire then, not months later.
t_clock() {
	cat >$T/clock.yaml <<-'EOF'
		scheduledJobs:
		  - name: newyear
		    command: echo happy new year
		    schedule: "0 0 1 1 *"
	EOF
	date -u -s '2030-06-01 12:00:00' >/dev/null
	rm -f /run/jobshim/status.json
	JOBSHIM_CONFIG=$T/clock.yaml JOBSHIM_JOB=@cron JOBSHIM_RUN_DIR=/run/jobshim \
		jobshim >$T/clock 2>&1 &
	local pid=$!
	if waitfor 10 test -s /run/jobshim/status.json; then ok "clock: @cron runs"; else
		fail "clock: @cron runs" "$(tr '\n' '|' <$T/clock)"
	fi
	hasnt "clock: nothing fires in June" $T/clock 'happy new year'
	date -u -s '2030-12-31 23:59:57' >/dev/null
	if waitfor 20 inlog $T/clock '^newyear \| happy new year$'; then
		ok "clock: set forward, the yearly job fires at the new midnight"
	else
		fail "clock: set forward, the yearly job fires at the new midnight" \
			"$(date -u); $(tr '\n' '|' <$T/clock)"
	fi
	stop $pid
	stopped "clock: @cron stops"
}

setup
start=$(cut -d. -f1 /proc/uptime)
for t in t_sandbox t_limits t_oom t_oom_web t_oom_deploy t_forkbomb t_all_kill t_cgroupns t_clock; do
	echo "# $t"
	$t
done
echo "vm: suite took $(($(cut -d. -f1 /proc/uptime) - start)) s"
echo "vm: $PASSED passed, $FAILED failed"
sync
poweroff -f
