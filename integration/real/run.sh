#!/usr/bin/env bash
# make real-test: builds (or reuses) the real-worker image, then runs
# integration/real/suite.sh against it.
#
#   JOBSHIM       the static jobshim (build/jobshim-static)
#   REAL_CACHE    where the debootstrap tarball is cached
#   REAL_PREFIX   prefix of the image and container names; each run adds
#                 its pid, so that runs side by side never touch each other's
#   REAL_TIMEOUT  seconds for the suite (default 900)
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${JOBSHIM:?JOBSHIM must name the static jobshim}"
REAL_CACHE=${REAL_CACHE:-/var/cache/jobshim/real}
REAL_PREFIX=${REAL_PREFIX:-jobshim-real}

key=$(sha256sum integration/real/rootfs.sh | cut -c1-16)
tarball=$REAL_CACHE/rootfs-$key.tar.gz
base=jobshim-real-rootfs:$key # shared by every run, like the tarball
prefix=$REAL_PREFIX-$$
image=$prefix:test
start=$SECONDS
mkdir -p "$REAL_CACHE"
exec 8>>"$REAL_CACHE/.lock" # one builder at a time; the others reuse its work
flock -w 1800 8
if [ ! -s "$tarball" ]; then
	echo "real: building the Debian 12 root file system (debootstrap) into $tarball"
	./integration/real/rootfs.sh "$tarball"
fi
if ! docker image inspect "$base" >/dev/null 2>&1; then
	echo "real: docker import $tarball as $base"
	docker import --change 'ENTRYPOINT ["/usr/local/bin/jobshim", "--"]' \
		--change 'WORKDIR /app' --change 'ENV LANG=C.UTF-8' "$tarball" "$base" >/dev/null
fi
flock -u 8

ctx=build/real/ctx-$$
trap 'rm -rf "$ctx"; docker rmi -f "$image" >/dev/null 2>&1' EXIT
rm -rf "$ctx"
mkdir -p "$ctx/srv"
cp "$JOBSHIM" "$ctx/jobshim"
cp -r integration/real/app "$ctx/app"
head -c 2097152 /dev/zero >"$ctx/srv/big" # 4 s at nginx.conf's limit_rate
printf '%s\n' "FROM $base" 'COPY jobshim /usr/local/bin/jobshim' 'COPY app /app' \
	'COPY srv /srv' >"$ctx/Dockerfile"
out=$(DOCKER_BUILDKIT=0 docker build -q -t "$image" "$ctx" 2>&1) || {
	echo "$out" >&2
	exit 1
}
echo "real: image $image ready after $((SECONDS - start)) s"
rc=0
IMAGE=$image PREFIX=$prefix timeout -k 30 "${REAL_TIMEOUT:-900}" ./integration/real/suite.sh || rc=$?
if [ "$rc" -eq 124 ]; then
	echo "real: the suite timed out after ${REAL_TIMEOUT:-900} s" >&2
	echo "real: 0 passed, 1 failed"
fi
exit "$rc"
