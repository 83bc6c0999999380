#!/usr/bin/env bash
# Builds the Debian 12 root file system of the real-worker image as a
# tarball: debootstrap (minbase) plus the third-party workers the suite
# runs. Only Debian's packages; no registry.
#
#   rootfs.sh OUT.tar.gz
#
# The tarball is cached by mk/real.mk under /var/cache/jobshim/real/, keyed
# by a hash of this script, so the package list below is part of the key.
set -euo pipefail
out=${1:?usage: rootfs.sh OUT.tar.gz}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=redis-server,ruby-sidekiq,python3-celery,python3-redis,nginx,gunicorn,curl,procps

work=$(mktemp -d "${TMPDIR:-/tmp}/jobshim-rootfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

debootstrap --variant=minbase --include="$PACKAGES" bookworm "$root" "$MIRROR" >"$work/log" 2>&1 || {
	tail -n 30 "$work/log" >&2
	exit 1
}
# No services, caches or logs from the build in the image.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
mkdir -p "$root/app"
tar -C "$root" --numeric-owner -czf "$out.tmp.$$" .
mv "$out.tmp.$$" "$out"
