#!/usr/bin/env bash
# make vm-test: boots Debian 12's kernel under qemu (TCG: no KVM) with an
# initramfs of busybox, the static jobshim, the static helpers and
# integration/vm/suite.sh as /init, and passes or fails on the suite's last
# line "vm: N passed, N failed" read from the serial console.
#
#   JOBSHIM    the static jobshim (build/jobshim-static)
#   HELPERS    static helpers to put in /usr/local/bin
#   VM_CACHE   kernel cache (default /var/cache/jobshim/vm)
#   VM_DIR     work dir (default build/vm): initramfs, console.log
#   VM_TIMEOUT seconds for the whole boot (default 600)
#   VM_MEM     MiB of guest memory (default 1024)
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${JOBSHIM:?JOBSHIM must name the static jobshim}"
: "${HELPERS:?HELPERS must list the static helpers}"
VM_CACHE=${VM_CACHE:-/var/cache/jobshim/vm}
VM_DIR=${VM_DIR:-build/vm}
VM_TIMEOUT=${VM_TIMEOUT:-600}
BUSYBOX=/bin/busybox

file "$JOBSHIM" | grep -q 'statically linked' || {
	echo "vm: $JOBSHIM is not a static binary" >&2
	exit 1
}
kernel=$(./integration/vm/kernel.sh "$VM_CACHE")

# ---------------------------------------------------------------- initramfs
root=$VM_DIR/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,dev,etc,proc,sys,tmp,run,usr/local/bin}
cp "$BUSYBOX" "$root/bin/busybox"
for a in $("$BUSYBOX" --list); do
	[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
done
cp "$JOBSHIM" "$root/usr/local/bin/jobshim"
# shellcheck disable=SC2086 # HELPERS is a list of paths
cp $HELPERS "$root/usr/local/bin/"
cp integration/vm/suite.sh "$root/init"
chmod 755 "$root/init"
printf '%s\n' 'root:x:0:0:root:/tmp:/bin/sh' 'nobody:x:65534:65534:nobody:/:/bin/false' \
	>"$root/etc/passwd"
printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$root/etc/group"
# The kernel opens /dev/console for /init before anything is mounted.
mknod -m 600 "$root/dev/console" c 5 1
mknod -m 666 "$root/dev/null" c 1 3
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 >"$VM_DIR/initramfs.gz"

# ---------------------------------------------------------------- boot
log=$VM_DIR/console.log
echo "vm: booting $kernel (qemu, TCG), timeout ${VM_TIMEOUT}s; console in $log"
start=$SECONDS
set +e
timeout --foreground -k 10 "$VM_TIMEOUT" qemu-system-x86_64 -accel tcg -m "${VM_MEM:-1024}" \
	-smp 1 -nographic -no-reboot -nodefaults -serial stdio -display none \
	-kernel "$kernel" -initrd "$VM_DIR/initramfs.gz" \
	-append "console=ttyS0 panic=-1 quiet" </dev/null 2>&1 | tr -d '\r' | tee "$log"
rc=${PIPESTATUS[0]}
set -e
echo "vm: qemu ended with status $rc after $((SECONDS - start)) s"
[ "$rc" -eq 124 ] && echo "vm: timed out after ${VM_TIMEOUT}s" >&2
line=$(grep -E '^vm: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)
if [ -z "$line" ]; then
	echo "vm: the suite printed no summary line" >&2
	echo "vm: 0 passed, 1 failed"
	exit 1
fi
[[ $line =~ ^vm:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]
[ "${BASH_REMATCH[2]}" -eq 0 ] && [ "${BASH_REMATCH[1]}" -gt 0 ]
