#!/usr/bin/env bash
# Prints the path of a Debian 12 kernel image (vmlinuz) for the VM suite,
# fetching it first when the cache has none: the current bookworm
# linux-image-6.1.0-N-amd64 (what linux-image-amd64 depends on, per
# apt-cache), `apt-get download`ed and unpacked with `dpkg-deb -x`. Nothing
# is installed. The cache entry is keyed by the package's name and version.
#
#   kernel.sh CACHE_DIR
set -euo pipefail
cache=${1:?usage: kernel.sh CACHE_DIR}

pick() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n 1
}
pkg=$(pick)
if [ -z "$pkg" ]; then
	apt-get -o DPkg::Lock::Timeout=900 update -q >/dev/null
	pkg=$(pick)
fi
[ -n "$pkg" ] || {
	echo "kernel.sh: apt-cache knows no linux-image-6.1.0-*-amd64" >&2
	exit 1
}
ver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
dir=$cache/$pkg-$ver
mkdir -p "$cache"
exec 8>>"$cache/.lock" # one fetcher at a time; the others reuse its work
flock -w 600 8
if [ ! -s "$dir/vmlinuz" ]; then
	echo "kernel.sh: fetching $pkg $ver" >&2
	work=$(mktemp -d "${TMPDIR:-/tmp}/jobshim-kernel.XXXXXX")
	chmod 755 "$work" # apt-get download drops root for _apt
	trap 'rm -rf "$work"' EXIT
	(cd "$work" && apt-get download -q "$pkg=$ver" >/dev/null)
	dpkg-deb -x "$work"/*.deb "$work/x"
	mkdir -p "$dir"
	cp "$work"/x/boot/config-* "$dir/config"
	cp "$work"/x/boot/vmlinuz-* "$dir/vmlinuz.tmp"
	mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
fi
echo "$dir/vmlinuz"
