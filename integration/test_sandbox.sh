#!/usr/bin/env bash
# The job's sandbox and limits (SPEC §6, §7), seen from inside the job:
# build/helpers/sysprobe runs as the main app under the real jobshim as PID
# 1 and reports what its system calls did and what /proc shows.
# shellcheck source=integration/lib.sh
. "$(dirname "$0")/lib.sh"
SP=$HELPERS/sysprobe

# run [VAR=value...] -- PROBES...: stdout of the probe; status in $RC,
# stderr in $TMP/err.
run() {
	split_args "$@"
	OUT=$(env "${PRE[@]}" JOBSHIM_CGROUP_ROOT="${CGROUP_ROOT:-/nonexistent}" \
		unshare --pid --fork --mount-proc "$JOBSHIM" -- "$SP" "${POST[@]}" 2>"$TMP/err")
	RC=$?
}

# has NAME LINE: the last run printed exactly LINE.
has() {
	if grep -qxF -- "$2" <<<"$OUT"; then ok "$1"; else fail "$1" "no line [$2] in: $(tr '\n' '|' <<<"$OUT")"; fi
}

# field KEY: the value of a /proc/self/status line in the last output.
field() {
	sed -n "s/^$1:[[:space:]]*//p" <<<"$OUT" | head -n 1 | sed 's/[[:space:]]*$//'
}

DEFAULT_CAPS=00000000000005fb # CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE

# ---------------------------------------------------------------- default
run -- mount umount2 kexec_load init_module reboot swapon pivot_root \
	syscall 1000 clone3 pthread fork unshare-user unshare-files clone-newns \
	socket vsock socket alg socket vsock-hi socket inet socket unix \
	personality personality 0x0040000 ptrace
expect "default: exit 0" 0 "$RC"
for p in mount umount2 kexec_load init_module reboot swapon pivot_root; do
	has "default: $p refused" "$p: EPERM"
done
has "default: unknown syscall 1000 is ENOSYS" "syscall 1000: ENOSYS"
has "default: clone3 is ENOSYS (libc falls back)" "clone3: ENOSYS"
has "default: pthread_create still works" "pthread: ok"
has "default: fork works" "fork: ok"
has "default: unshare(CLONE_NEWUSER) refused" "unshare-user: EPERM"
has "default: unshare(CLONE_FILES) allowed" "unshare-files: ok"
has "default: clone(CLONE_NEWNS) refused" "clone-newns: EPERM"
has "default: socket AF_VSOCK refused" "socket vsock: EPERM"
has "default: socket AF_ALG refused" "socket alg: EPERM"
has "default: socket AF_VSOCK with garbage upper bits refused" "socket vsock-hi: EPERM"
has "default: socket AF_INET works" "socket inet: ok"
has "default: socket AF_UNIX works" "socket unix: ok"
has "default: personality query allowed" "personality: ok"
has "default: personality ADDR_NO_RANDOMIZE refused" "personality: EPERM"
has "default: ptrace allowed (ESRCH: nothing traced)" "ptrace: ESRCH"

# Other ABIs are killed: SIGSYS, 128+31.
run -- x32
expect "default: x32 syscall killed by SIGSYS (exit 159)" 159 "$RC"
# i386 `int 0x80`: killed by the filter's architecture check (SIGSYS) where
# the kernel has IA32 emulation; without it the kernel itself kills the
# call with SIGSEGV, filtered or not. Either way it never runs.
"$SP" int80 >/dev/null 2>&1
unfiltered=$?
run -- int80
if [ "$unfiltered" -eq 139 ]; then
	expect "default: int 0x80 killed (kernel without IA32 emulation: SIGSEGV)" 139 "$RC"
else
	expect "default: int 0x80 killed by SIGSYS (exit 159)" 159 "$RC"
fi

# ---------------------------------------------------------------- strict
run JOBSHIM_SECCOMP=strict -- ptrace bpf io_uring userfaultfd keyctl personality \
	unshare-files mount syscall 1000 clone3 pthread socket inet socket vsock
for p in ptrace bpf io_uring userfaultfd keyctl personality unshare-files mount; do
	has "strict: $p refused" "$p: EPERM"
done
has "strict: syscall 1000 ENOSYS" "syscall 1000: ENOSYS"
has "strict: clone3 ENOSYS" "clone3: ENOSYS"
has "strict: pthread works" "pthread: ok"
has "strict: socket AF_INET works" "socket inet: ok"
has "strict: socket AF_VSOCK refused" "socket vsock: EPERM"

# ---------------------------------------------------------------- off
# With the capabilities these calls need, nothing is refused: each fails
# on its harmless argument instead (see sysprobe.c).
run JOBSHIM_SECCOMP=off JOBSHIM_CAPS=SYS_ADMIN,SYS_BOOT,SYS_MODULE,SYS_PTRACE -- \
	mount umount2 reboot swapon pivot_root syscall 1000 clone3 unshare-files \
	personality 0x0040000 socket inet status
for p in mount umount2 reboot swapon pivot_root clone3; do
	if grep -q "^$p: EPERM$" <<<"$OUT"; then fail "off: $p not refused" "$OUT"; else ok "off: $p not refused"; fi
done
has "off: clone3 reaches the kernel" "clone3: EINVAL"
has "off: reboot reaches the kernel (bad magic)" "reboot: EINVAL"
has "off: personality any value" "personality: ok"
expect "off: Seccomp 0" 0 "$(field Seccomp)"
expect "off: NoNewPrivs still 1" 1 "$(field NoNewPrivs)"

# ---------------------------------------------------------------- /proc status
run -- status status1
expect "root: Seccomp 2 (filter)" 2 "$(field Seccomp)"
expect "root: NoNewPrivs 1" 1 "$(field NoNewPrivs)"
expect "root: CapBnd = default set" "$DEFAULT_CAPS" "$(field CapBnd)"
expect "root: CapEff = default set" "$DEFAULT_CAPS" "$(field CapEff)"
expect "root: CapPrm = default set" "$DEFAULT_CAPS" "$(field CapPrm)"
expect "root: CapAmb empty" 0000000000000000 "$(field CapAmb)"
expect "root: CapInh empty" 0000000000000000 "$(field CapInh)"
# status1 printed PID 1's lines after the job's: jobshim is never filtered
expect "jobshim itself: Seccomp 0" 0 "$(sed -n 's/^Seccomp:[[:space:]]*//p' <<<"$OUT" | tail -n 1)"
expect "jobshim itself: NoNewPrivs 0" 0 "$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' <<<"$OUT" | tail -n 1)"

run JOBSHIM_CAPS=none -- status
expect "caps none: CapBnd empty" 0000000000000000 "$(field CapBnd)"
expect "caps none: CapEff empty" 0000000000000000 "$(field CapEff)"

run JOBSHIM_CAPS=cap_net_raw,Chown -- status
expect "caps list: CapBnd = the list" 0000000000002001 "$(field CapBnd)"
expect "caps list: CapEff = the list" 0000000000002001 "$(field CapEff)"

run JOBSHIM_CAPS=NO_SUCH_CAP -- status
expect "caps: unknown name is a usage error (exit 2)" 2 "$RC"

# ---------------------------------------------------------------- users
run JOBSHIM_USER=65534 -- status
expect "uid 65534: Uid" "65534	65534	65534	65534" "$(field Uid)"
expect "uid 65534: Gid (same number)" "65534	65534	65534	65534" "$(field Gid)"
expect "uid 65534: CapEff empty" 0000000000000000 "$(field CapEff)"
expect "uid 65534: CapPrm empty" 0000000000000000 "$(field CapPrm)"
expect "uid 65534: CapAmb empty" 0000000000000000 "$(field CapAmb)"
expect "uid 65534: CapBnd = default set" "$DEFAULT_CAPS" "$(field CapBnd)"
expect "uid 65534: Seccomp 2" 2 "$(field Seccomp)"

run JOBSHIM_USER=nobody -- status
expect "user nobody: Uid" "65534	65534	65534	65534" "$(field Uid)"
expect "user nobody: Gid from /etc/passwd" \
	"$(awk -F: '$1=="nobody"{print $4"\t"$4"\t"$4"\t"$4}' /etc/passwd)" "$(field Gid)"

run JOBSHIM_USER=1234:4321 -- status
expect "uid:gid: Uid" "1234	1234	1234	1234" "$(field Uid)"
expect "uid:gid: Gid" "4321	4321	4321	4321" "$(field Gid)"
expect "uid:gid: no supplementary groups" "" "$(field Groups)"

run JOBSHIM_USER=65534 JOBSHIM_CAPS=NET_BIND_SERVICE -- status
expect "non-root with a list: CapEff = the list" 0000000000000400 "$(field CapEff)"
expect "non-root with a list: CapAmb = the list" 0000000000000400 "$(field CapAmb)"
expect "non-root with a list: CapBnd = the list" 0000000000000400 "$(field CapBnd)"

# Supplementary groups from /etc/group: the image's files are stood in for
# by bind mounts in the job's own mount namespace, so the test does not
# depend on which users the host has.
cat >"$TMP/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
worker:x:2001:2001:worker:/home/worker:/bin/sh
PW
cat >"$TMP/group" <<'GR'
root:x:0:
worker:x:2001:
audio:x:2029:other,worker
video:x:2044:worker
nogroup:x:2099:
GR
# shellcheck disable=SC2016 # expanded by the inner shell
OUT=$(unshare --pid --fork --mount-proc sh -c 'mount --bind "$1" /etc/passwd &&
	mount --bind "$2" /etc/group && shift 2 && exec "$@"' sh "$TMP/passwd" "$TMP/group" \
	env JOBSHIM_USER=worker JOBSHIM_CGROUP_ROOT=/nonexistent "$JOBSHIM" -- "$SP" status 2>"$TMP/err")
RC=$?
expect "user by name: exit 0" 0 "$RC"
expect "user by name: uid from the image's passwd" "2001 2001 2001 2001" "$(field Uid | tr -s '\t ' ' ')"
expect "user by name: gid from the image's passwd" "2001 2001 2001 2001" "$(field Gid | tr -s '\t ' ' ')"
expect "user by name: supplementary groups from the image's group file" "2029 2044" \
	"$(field Groups | tr '\t' ' ' | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ' | sed 's/ $//')"

run JOBSHIM_USER=no-such-user-42 -- status
expect "unknown user: exit 125" 125 "$RC"
check "unknown user: the step is named" grep -q 'resolve user: no user "no-such-user-42"' "$TMP/err"

# A hostile image: a FIFO as /etc/passwd (opening it waits for a writer) or
# /dev/zero as /etc/group (reading it never ends) must not hang jobshim,
# which reads them with its signals blocked: refused as not regular files.
mkfifo "$TMP/passwd.fifo"
for f in "passwd $TMP/passwd.fifo nobody" "group /dev/zero 0:nogroup"; do
	read -r db src spec <<<"$f"
	t0=$SECONDS
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout -s KILL 30 unshare --pid --fork --mount-proc sh -c 'mount --bind "$1" "/etc/$2" &&
		shift 2 && exec "$@"' sh "$src" "$db" \
		env JOBSHIM_USER="$spec" "$JOBSHIM" -- true 2>"$TMP/err"
	RC=$?
	expect "/etc/$db from $src: exit 125, no hang" "125 yes" "$RC $([ $((SECONDS - t0)) -lt 20 ] && echo yes)"
	check "/etc/$db from $src: says it is not a regular file" \
		grep -q "resolve user: .*read /etc/$db: not a regular file" "$TMP/err"
done

# ---------------------------------------------------------------- rlimits
limit() { # limit "Max open files": "soft hard" from the last output
	grep "^$1 " <<<"$OUT" | awk '{print $(NF-2), $(NF-1)}'
}
# Without CAP_SYS_RESOURCE a size's nofile above the current hard limit is
# lowered to it (an explicit JOBSHIM_RLIMITS value would fail instead).
hard=$(ulimit -Hn)
capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
for size in micro:4096 mini:8192 standard-1:16384 standard-2:32768 standard-4:65536; do
	name=${size%%:*} nofile=${size##*:}
	if [ $((0x$capeff >> 24 & 1)) -eq 0 ] && [ "$hard" != unlimited ] && [ "$nofile" -gt "$hard" ]; then
		nofile=$hard
	fi
	run JOBSHIM_SIZE="$name" -- limits
	expect "size $name: nofile $nofile" "$nofile $nofile" "$(limit 'Max open files')"
	expect "size $name: core 0" "0 0" "$(limit 'Max core file size')"
	expect "size $name: no address space limit" "unlimited unlimited" "$(limit 'Max address space')"
done
for size in micro:256 standard-4:4096; do
	name=${size%%:*} pids=${size##*:}
	run JOBSHIM_SIZE="$name" JOBSHIM_USER=65534 -- limits
	expect "size $name, non-root: nproc $pids" "$pids $pids" "$(grep '^Max processes ' <<<"$OUT" | awk '{print $3, $4}')"
done
run JOBSHIM_RLIMITS=nofile=1000,as=1G,fsize=1K:2K,core=unlimited -- limits
expect "override: nofile" "1000 1000" "$(limit 'Max open files')"
expect "override: as" "1073741824 1073741824" "$(limit 'Max address space')"
expect "override: fsize soft:hard" "1024 2048" "$(limit 'Max file size')"
expect "override: core" "unlimited unlimited" "$(limit 'Max core file size')"

run JOBSHIM_RLIMITS=fsize=1K -- fsize 1024
expect "fsize exceeded: killed by SIGXFSZ (exit 153)" 153 "$RC"
run JOBSHIM_RLIMITS=fsize=1K -- fsize 1023
expect "fsize not exceeded: exit 0" 0 "$RC"

# Above fs.nr_open even root may not go: the step is named, exit 125.
run JOBSHIM_RLIMITS=nofile=999999999 -- limits
expect "rlimit impossible: exit 125" 125 "$RC"
check "rlimit impossible: the step is named" grep -q 'rlimits (nofile)' "$TMP/err"

run JOBSHIM_RLIMITS=nofile=lots -- limits
expect "rlimits: bad value is a usage error (exit 2)" 2 "$RC"

# ---------------------------------------------------------------- cgroup
# /sys/fs/cgroup here may be cgroup v1 or read-only: one clear warning.
CGROUP_ROOT=$TMP/no-cgroup run JOBSHIM_SIZE=micro -- limits
expect "no cgroup v2: still runs" 0 "$RC"
check "no cgroup v2: says memory is not enforced" \
	grep -q "is not writable (.*): size micro's memory (256Mi), pids and CPU are not enforced by jobshim" "$TMP/err"
expect "no cgroup v2: said once" 1 "$(grep -c 'not enforced' "$TMP/err")"

# Several jobs with sizes, in @all, and restarts: still said once.
cat >"$TMP/sized.yaml" <<EOF
size: mini
workerJobs:
  - name: one
    command: "touch $TMP/one.ran; exit 1"
    size: micro
  - name: two
    command: "touch $TMP/two.ran; exit 1"
    size: mini
EOF
# The main app waits until both workers ran at least 3 times.
OUT=$(JOBSHIM_JOB=@all JOBSHIM_CONFIG=$TMP/sized.yaml JOBSHIM_CGROUP_ROOT=$TMP/no-cgroup \
	JOBSHIM_BACKOFF_MIN=10ms JOBSHIM_BACKOFF_MAX=10ms unshare --pid --fork --mount-proc \
	"$JOBSHIM" -- sh -c "until [ -e $TMP/one.ran ] && [ -e $TMP/two.ran ]; do sleep 0.01; done" \
	2>"$TMP/err")
RC=$?
expect "@all, three sized jobs restarting: exit 0" 0 "$RC"
expect "@all, three sized jobs restarting: not enforced said once" 1 "$(grep -c 'not enforced' "$TMP/err")"

# ---------------------------------------------------------------- no size
# No layer names a size (SPEC §6): no rlimit changed, no cgroup touched,
# nothing said, exactly as under tini. The real cgroup root, not a fake.
err=$(unshare --pid --fork --mount-proc env -u JOBSHIM_CGROUP_ROOT "$JOBSHIM" -- true 2>&1 >/dev/null)
expect "no size: 'jobshim -- true' as PID 1 has an empty stderr" "" "$err"
want=$(unshare --pid --fork --mount-proc cat /proc/self/limits)
got=$(unshare --pid --fork --mount-proc env -u JOBSHIM_CGROUP_ROOT "$JOBSHIM" -- cat /proc/self/limits 2>"$TMP/err")
expect "no size: /proc/self/limits under jobshim as PID 1 = the container's" "$want" "$got"
expect "no size: nothing printed" "" "$(cat "$TMP/err")"
got=$(unshare --pid --fork --mount-proc env -u JOBSHIM_CGROUP_ROOT JOBSHIM_USER=65534 "$JOBSHIM" -- \
	cat /proc/self/limits 2>"$TMP/err")
expect "no size, non-root job: the container's limits (no nproc)" "$want" "$got"
expect "no size, non-root job: nothing printed" "" "$(cat "$TMP/err")"
# Only what JOBSHIM_RLIMITS names changes.
run JOBSHIM_RLIMITS=nofile=1000 -- limits
expect "no size, JOBSHIM_RLIMITS: nofile set" "1000 1000" "$(limit 'Max open files')"
expect "no size, JOBSHIM_RLIMITS: core as the container's" \
	"$(grep '^Max core file size ' <<<"$want" | awk '{print $(NF-2), $(NF-1)}')" "$(limit 'Max core file size')"
expect "no size, JOBSHIM_RLIMITS: nothing printed" "" "$(cat "$TMP/err")"

# ---------------------------------------------------------------- lowered
# A size's nofile above a hard limit jobshim cannot raise: lowered, with one
# warning naming the rlimit and both values; with CAP_SYS_RESOURCE (or a
# high enough hard limit) it is set as asked, without a word.
if [ $((0x$capeff >> 24 & 1)) -eq 0 ] && [ "$hard" != unlimited ] && [ "$hard" -lt 32768 ]; then
	run JOBSHIM_SIZE=standard-2 -- limits
	expect "lowered: nofile is the hard limit" "$hard $hard" "$(limit 'Max open files')"
	expect "lowered: one warning naming nofile, 32768 and $hard" 1 \
		"$(grep -c "size standard-2: rlimit nofile 32768 is above the hard limit $hard, which jobshim cannot raise (no CAP_SYS_RESOURCE); the job gets $hard" "$TMP/err")"
	expect "lowered: nothing else said (but the cgroup note)" 1 "$(grep -vc 'not enforced' "$TMP/err")"
	OUT=$(JOBSHIM_JOB=@all JOBSHIM_CONFIG=$TMP/sized.yaml JOBSHIM_SIZE=standard-2 \
		JOBSHIM_CGROUP_ROOT=$TMP/no-cgroup unshare --pid --fork --mount-proc "$JOBSHIM" -- \
		true 2>"$TMP/err")
	expect "lowered: said once in @all" 1 "$(grep -c 'rlimit nofile' "$TMP/err")"
	# Two sizes above the hard limit, one restarting: each size's own
	# values are said, once each (not only the first size's).
	cat >"$TMP/sized2.yaml" <<EOF
size: standard-2
workerJobs:
  - name: big
    command: "touch $TMP/big.ran; exit 1"
    size: standard-4
EOF
	rm -f "$TMP/big.ran"
	JOBSHIM_JOB=@all JOBSHIM_CONFIG=$TMP/sized2.yaml JOBSHIM_CGROUP_ROOT=$TMP/no-cgroup \
		JOBSHIM_BACKOFF_MIN=10ms JOBSHIM_BACKOFF_MAX=10ms unshare --pid --fork --mount-proc \
		"$JOBSHIM" -- sh -c "until [ -e $TMP/big.ran ]; do sleep 0.01; done; rm $TMP/big.ran;
			until [ -e $TMP/big.ran ]; do sleep 0.01; done" 2>"$TMP/err"
	expect "lowered, two sizes in @all: standard-2's values said once" 1 \
		"$(grep -c "size standard-2: rlimit nofile 32768 is above the hard limit $hard,.* the job gets $hard" "$TMP/err")"
	expect "lowered, two sizes in @all: standard-4's values said once, across restarts" 1 \
		"$(grep -c "size standard-4: rlimit nofile 65536 is above the hard limit $hard,.* the job gets $hard" "$TMP/err")"
	out=$(JOBSHIM_SIZE=standard-2 "$JOBSHIM" check 2>&1)
	check "lowered: check shows the value the job gets" grep -qx "  rlimits: nofile=$hard core=0" <<<"$out"
	check "lowered: check says why" grep -qx "  rlimits lowered: size standard-2: rlimit nofile 32768 is above the hard limit $hard, which jobshim cannot raise (no CAP_SYS_RESOURCE); the job gets $hard" <<<"$out"
else
	run JOBSHIM_SIZE=standard-2 -- limits
	expect "raisable: nofile 32768" "32768 32768" "$(limit 'Max open files')"
	expect "raisable: no warning" 0 "$(grep -c 'rlimit nofile' "$TMP/err")"
	out=$(JOBSHIM_SIZE=standard-2 "$JOBSHIM" check 2>&1)
	check "raisable: check shows nofile 32768" grep -qx "  rlimits: nofile=32768 core=0" <<<"$out"
fi

# A fake cgroup v2 tree (JOBSHIM_CGROUP_ROOT): the job's limits are written
# and the job joins its cgroup (the fake keeps the "0" it wrote).
fake=$TMP/cg
mkdir -p "$fake/jobshim/init" "$fake/jobshim/web"
echo "cpu memory pids" >"$fake/cgroup.controllers"
cp "$fake/cgroup.controllers" "$fake/jobshim/cgroup.controllers"
for f in cgroup.subtree_control cgroup.procs jobshim/cgroup.subtree_control jobshim/init/cgroup.procs \
	jobshim/web/cgroup.procs jobshim/web/memory.max jobshim/web/memory.swap.max \
	jobshim/web/pids.max jobshim/web/cpu.weight; do
	: >"$fake/$f"
done
CGROUP_ROOT=$fake run JOBSHIM_SIZE=mini -- status
expect "fake cgroup: job ran" 0 "$RC"
expect "fake cgroup: memory.max" 536870912 "$(cat "$fake/jobshim/web/memory.max")"
expect "fake cgroup: memory.swap.max" 0 "$(cat "$fake/jobshim/web/memory.swap.max")"
expect "fake cgroup: pids.max" 512 "$(cat "$fake/jobshim/web/pids.max")"
expect "fake cgroup: cpu.weight" 25 "$(cat "$fake/jobshim/web/cpu.weight")"
expect "fake cgroup: the job joined" 0 "$(cat "$fake/jobshim/web/cgroup.procs")"

finish
