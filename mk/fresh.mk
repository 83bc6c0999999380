# `make fresh-check` (.ci/fresh-check): `make demo` and `make check` on a
# fresh Debian 12 root file system with only git and make, in a chroot,
# from a clone of the committed HEAD. Root only; takes minutes (the root
# file system is cached in /var/cache/jobshim/fresh/). Run by .ci/run.

DEPS_PKGS_fresh-check += debootstrap

.PHONY: fresh-check
fresh-check: | $(DEPS_STAMP)
	@./.ci/fresh-check
