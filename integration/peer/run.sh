#!/usr/bin/env bash
# The peers' own test suites against jobshim standing in for them (issue 17,
# SPEC §11): dumb-init's pytest suite (tests/), its PID-1 zombie script
# (tests/test-zombies), and tini's inner tests (test/run_inner_tests.py),
# from Debian's source packages fetched at test time into
# /var/cache/jobshim/peer (their code is never part of this repository).
#
#   integration/peer/run.sh JOBSHIM      jobshim copied as `tini` / `dumb-init`
#   integration/peer/run.sh --peers      the peers' own Debian binaries, to
#                                        validate the rig (every test passes)
#
# Each suite runs in a fresh PID (and mount) namespace whose PID 1 only
# reaps (pid1.py), with a private /run. Results are compared with
# known-differences.txt: the tests that compare the peers' own help, usage
# or message wording, each listed with why. Prints one line per unexpected
# result, then `peer: N passed, N failed` (failed = unexpected results: a
# listed test that passes counts too, so the list stays true) and exits 1
# when anything failed.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${PEER_CACHE:-/var/cache/jobshim/peer}
PY=/usr/bin/python3 # Debian's python, where the Debian test modules are
PY_PKGS=(python3-pytest python3-pytest-timeout python3-psutil python3-py
	python3-prctl python3-mock)

say() { echo "peer: $*"; }
die() {
	echo "peer: $*" >&2
	echo "peer: 0 passed, 1 failed"
	exit 1
}

mode=jobshim
if [ "${1:-}" = "--peers" ]; then
	mode=peers
elif [ $# -eq 1 ] && [ -x "$1" ]; then
	JOBSHIM=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
else
	echo "usage: $0 JOBSHIM | --peers" >&2
	exit 2
fi

# ---------------------------------------------------------------- packages
pkgs=("${PY_PKGS[@]}" gcc util-linux)
[ "$mode" = peers ] && pkgs+=(tini dumb-init)
"$ROOT/.ci/ensure-packages" "${pkgs[@]}" || die "missing packages"

# ---------------------------------------------------------------- sources
# apt-get verifies what it downloads; the orig tarballs (all the tests
# need) are checked again against the Sources index, because a mirror may
# lack the small Debian packaging tarball and make apt-get fail after the
# orig tarball is in place.
orig_tarball() { # PKG: prints the verified path of PKG's orig tarball
	local pkg=$1 line sum file
	line=$(apt-cache showsrc "$pkg" 2>/dev/null |
		awk '/^Checksums-Sha256:/ { on = 1; next } /^[^ ]/ { on = 0 }
			on && $3 ~ /\.orig\.tar\./ { print $1, $3; exit }')
	[ -n "$line" ] || return 1
	read -r sum file <<<"$line"
	if ! echo "$sum  $CACHE/$file" | sha256sum -c --status 2>/dev/null; then
		(cd "$CACHE" && apt-get source --download-only "$pkg" >/dev/null 2>&1)
		echo "$sum  $CACHE/$file" | sha256sum -c --status 2>/dev/null || return 1
	fi
	echo "$CACHE/$file"
}
mkdir -p "$CACHE" || die "cannot create $CACHE"
if [ -z "$(apt-cache showsrc tini 2>/dev/null)" ]; then
	apt-get -o DPkg::Lock::Timeout=900 update -q >/dev/null 2>&1
fi
TINI_TGZ=$(orig_tarball tini) ||
	die "no tini source package (needs deb-src entries: \`make musl-deps\` adds them)"
DI_TGZ=$(orig_tarball dumb-init) || die "no dumb-init source package"

T=$(mktemp -d "${TMPDIR:-/tmp}/jobshim-peer.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/src" "$T/bin" "$T/build"
for tgz in "$TINI_TGZ" "$DI_TGZ"; do
	tar -xzf "$tgz" -C "$T/src" || die "cannot unpack $tgz"
done
TINI_SRC=$(find "$T/src" -maxdepth 1 -type d -name 'tini-*' | head -n 1)
DI_SRC=$(find "$T/src" -maxdepth 1 -type d -name 'dumb-init-*' | head -n 1)
if [ ! -f "$TINI_SRC/test/run_inner_tests.py" ] || [ ! -d "$DI_SRC/tests" ]; then
	die "the source packages hold no test suites"
fi

# ---------------------------------------------------------------- binaries
# Copies, not symlinks: the suites resolve their binary (dumb-init's cwd
# test takes realpath), and jobshim picks its mode from argv[0]'s name.
if [ "$mode" = peers ]; then
	cp /usr/bin/tini "$T/build/tini"
	cp /usr/bin/dumb-init "$T/bin/dumb-init"
else
	cp "$JOBSHIM" "$T/build/tini"
	cp "$JOBSHIM" "$T/bin/dumb-init"
fi
# The suites' helper scripts say `python` and `python3`.
ln -s "$PY" "$T/bin/python"
ln -s "$PY" "$T/bin/python3"
gcc -O1 -o "$T/build/sigconf-test" "$TINI_SRC/test/sigconf/sigconf-test.c" ||
	die "cannot build sigconf-test"
export PATH="$T/bin:$PATH"
# A HOME of their own: dumb-init's tty test runs an interactive `bash -m`,
# which would read the machine's ~/.bashrc (and wait there for whatever it
# runs, e.g. a pyenv rehash lock).
mkdir -p "$T/home"
export HOME=$T/home

# ns CMD...: CMD under a reaping PID 1 in fresh PID and mount namespaces,
# with a private /run (jobshim's default run dir).
ns() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	unshare --pid --fork --mount-proc --propagation private \
		bash -c 'mount -t tmpfs peer-run /run && exec "$0" "$@"' \
		"$PY" "$HERE/pid1.py" "$@"
}

# ---------------------------------------------------------------- suites
results=$T/results.tsv # SUITE<TAB>TEST<TAB>passed|failed
: >"$results"

say "dumb-init: pytest tests/ ($(basename "$DI_TGZ"))"
# Generous bounds for a loaded machine: 60 s a test instead of pytest.ini's
# 5 s, 20 s for the suite's sleep_until instead of 1.5 s (report.py).
PYTEST=("$PY" -m pytest -q -rf -p report -p no:cacheprovider --timeout=60)
export PEER_WAIT_S=20
(cd "$DI_SRC" && PEER_REPORT=$T/di.tsv PYTHONPATH=$HERE \
	ns "${PYTEST[@]}" tests) >"$T/di.log" 2>&1
[ -s "$T/di.tsv" ] || {
	tail -n 30 "$T/di.log"
	die "dumb-init's suite reported nothing"
}
sed 's/^/dumb-init\t/' "$T/di.tsv" >>"$results"
tail -n 1 "$T/di.log"

# cwd_test reads /proc/$PPID/cwd from the job, which the default
# capability set (SPEC §7) forbids for a parent with more capabilities:
# once more with SYS_PTRACE kept, to show what it tests (jobshim leaves its
# working directory, the job keeps it).
say "dumb-init: tests/cwd_test.py with SYS_PTRACE in JOBSHIM_CAPS"
(cd "$DI_SRC" && PEER_REPORT=$T/cwd.tsv PYTHONPATH=$HERE \
	JOBSHIM_CAPS=CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,SETGID,SETUID,SETPCAP,NET_BIND_SERVICE,SYS_PTRACE \
	ns "${PYTEST[@]}" tests/cwd_test.py) >"$T/cwd.log" 2>&1
if [ -s "$T/cwd.tsv" ]; then
	sed 's/^/dumb-init\t(SYS_PTRACE) /' "$T/cwd.tsv" >>"$results"
else
	printf 'dumb-init\t(SYS_PTRACE) tests/cwd_test.py\tfailed\n' >>"$results"
fi

# tests/test-zombies wants dumb-init as PID 1 of an empty container.
say "dumb-init: tests/test-zombies as PID 1"
if (cd "$DI_SRC" && timeout 60 unshare --pid --fork --mount-proc \
	dumb-init bash tests/test-zombies) >"$T/zombies.log" 2>&1; then
	printf 'dumb-init\ttests/test-zombies (as PID 1)\tpassed\n' >>"$results"
else
	tail -n 5 "$T/zombies.log"
	printf 'dumb-init\ttests/test-zombies (as PID 1)\tfailed\n' >>"$results"
fi

say "tini: test/run_inner_tests.py ($(basename "$TINI_TGZ"))"
SOURCE_DIR=$TINI_SRC BUILD_DIR=$T/build FORCE_SUBREAPER=1 \
	ns "$PY" "$HERE/tini_inner.py" "$T/tini.tsv" >"$T/tini.log" 2>&1
[ -s "$T/tini.tsv" ] || {
	tail -n 30 "$T/tini.log"
	die "tini's suite reported nothing"
}
cut -f 1,2 "$T/tini.tsv" | sed 's/^/tini\t/' >>"$results"
grep '^peer: check failed' "$T/tini.log" | cut -c 1-300
awk -F '\t' '$2 == "failed" { print "peer: tini: " $1 ": " substr($3, 1, 300) }' "$T/tini.tsv"

# ---------------------------------------------------------------- verdict
known=$HERE/known-differences.txt
[ "$mode" = peers ] && known=/dev/null
cat "$T/di.log" "$T/cwd.log" >"$T/pytest.log" 2>/dev/null
"$PY" - "$results" "$known" "$T/pytest.log" <<'EOF'
import fnmatch
import sys

# pytest -rf's "FAILED NODEID - reason" lines, for the unexpected failures.
reasons = {}
for line in open(sys.argv[3], errors="replace"):
    if line.startswith("FAILED "):
        nodeid, _, why = line[7:].rstrip("\n").partition(" - ")
        reasons[nodeid] = why[:240]

results = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
known = []
for line in open(sys.argv[2]):
    if line.strip() and not line.startswith("#"):
        suite, pattern, why = line.rstrip("\n").split("\t", 2)
        known.append((suite, pattern, why))

passed = failed = expected = 0
per_suite = {}
for suite, test, outcome in results:
    listed = any(s == suite and fnmatch.fnmatchcase(test, p) for s, p, _ in known)
    p, f = per_suite.get(suite, (0, 0))
    per_suite[suite] = (p + (outcome == "passed"), f + (outcome != "passed"))
    if outcome == "passed" and not listed:
        passed += 1
    elif outcome == "failed" and listed:
        expected += 1
    elif outcome == "failed":
        failed += 1
        why = reasons.get(test.replace("(SYS_PTRACE) ", ""), "")
        print("peer: FAILED {}: {}{}".format(suite, test, " - " + why if why else ""))
    else:
        failed += 1
        print("peer: PASSED but listed in known-differences.txt {}: {}".format(suite, test))
for suite, (p, f) in sorted(per_suite.items()):
    print("peer: {}: {} of {} pass".format(suite, p, p + f))
if expected:
    print("peer: {} known differences (help, usage and message wording; README)".format(expected))
print("peer: {} passed, {} failed".format(passed, failed))
sys.exit(1 if failed or not passed else 0)
EOF
