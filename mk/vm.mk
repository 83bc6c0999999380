# jobshim on a real kernel: Debian 12's, booted under qemu (make vm-test).
#
#   make vm-test    one boot running integration/vm/suite.sh as /init: the
#                   size's cgroup v2 limits, the OOM killer, pids.max,
#                   cgroup.kill in @all, a cgroup namespace, and the seccomp
#                   filter on a kernel with IA32 emulation
#
# Only Debian's packages: the kernel is `apt-get download`ed and unpacked
# (never installed) into VM_CACHE, keyed by its package name and version,
# outside the clone so that CI on this machine reuses it; the initramfs is
# rebuilt at each run (it holds this tree's binaries). The boot uses TCG:
# KVM hangs on these machines. Never skipped: a missing summary line, a
# failed test or the timeout fails the target.

VM_CACHE   ?= /var/cache/jobshim/vm
VM_DIR     := build/vm
VM_TIMEOUT ?= 600
VM_STAMP   := build/.vm-deps-ok
VM_HELPERS := build/helpers/sysprobe build/helpers/memhog $(VM_DIR)/i386probe $(VM_DIR)/vm-pod

.PHONY: vm-test
$(VM_STAMP): mk/vm.mk
	@./.ci/ensure-packages qemu-system-x86 busybox-static cpio gcc-multilib file
	@mkdir -p $(@D) && touch $@

# An i386 program: its system calls take the kernel's IA32 entry.
$(VM_DIR)/i386probe: integration/vm/i386probe.c | $(VM_STAMP)
	@mkdir -p $(@D)
	$(CC) -m32 -static -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -o $@ $<

# A pod's view: PID, mount and cgroup namespaces (busybox's unshare has no -C).
$(VM_DIR)/vm-pod: integration/vm/pod.c | $(VM_STAMP)
	@mkdir -p $(@D)
	$(CC) -static -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -o $@ $<

vm-test: build/jobshim-static $(VM_HELPERS) | $(VM_STAMP)
	@JOBSHIM=build/jobshim-static HELPERS="$(VM_HELPERS)" VM_CACHE=$(VM_CACHE) \
		VM_DIR=$(VM_DIR) VM_TIMEOUT=$(VM_TIMEOUT) ./integration/vm/run.sh
