#!/usr/bin/env bash
# Builds static musl copies of libyaml, libseccomp and libcap for the release
# binary (mk/musl.mk), from Debian's own source packages so that the static
# binary carries the same versions and Debian patches (security fixes
# included) as the -dev packages the dynamic build links against.
#
#   mk/build-musl-deps.sh OUTDIR
#
# Result: OUTDIR/prefix/{include,lib} with libyaml.a, libseccomp.a, libcap.a,
# OUTDIR/prefix/kernel-include (Linux UAPI headers for musl-gcc) and
# OUTDIR/prefix/VERSIONS. OUTDIR/prefix/.done marks success; with it present
# the script does nothing. Build output goes to OUTDIR/logs/*.log.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
ARG=$1
mkdir -p "$ARG"
OUT=$(cd "$ARG" && pwd)
PREFIX=$OUT/prefix
STAMP=$PREFIX/.done
LOGS=$OUT/logs
SRC=$OUT/src

[ -f "$STAMP" ] && exit 0

# Run from make, the environment carries the parent's MAKEFLAGS (command-line
# overrides such as CC=... would reach the libraries' own makes) and its
# compiler flags (exported CPPFLAGS with jobshim's -I paths); the libraries
# get only the flags given below.
unset MAKEFLAGS MFLAGS MAKEOVERRIDES MAKELEVEL CC CFLAGS CPPFLAGS LDFLAGS LDLIBS LIBS

# What building the three libraries needs: dpkg-dev unpacks and patches
# source packages; gperf because Debian's libseccomp patch updates
# syscalls.csv, which regenerates the gperf table; autoconf/automake/libtool
# because libyaml's orig tarball ships no configure script (Debian runs
# autoreconf too); linux-libc-dev for the kernel UAPI headers.
PKGS=(musl-tools dpkg-dev gcc make gperf autoconf automake libtool
	linux-libc-dev)
SRC_PKGS=(libyaml libseccomp libcap2)
JOBS=$(nproc 2>/dev/null || echo 2)

mkdir -p "$LOGS" "$SRC"
rm -f "$LOGS"/*.log # only this attempt's output

say() { echo "musl-deps: $*"; }

# run LOG CMD...: run CMD with output to LOGS/LOG.log; on failure show the
# tail of that log and stop.
run() {
	local log=$LOGS/$1.log
	shift
	if ! "$@" >>"$log" 2>&1; then
		echo "musl-deps: FAILED: $*" >&2
		echo "---- last lines of $log ----" >&2
		tail -n 40 "$log" >&2
		exit 1
	fi
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "musl-deps: $1 needs root; run once as root: $0 $ARG" >&2
		exit 1
	fi
}

# ---------------------------------------------------------------- packages
missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

# ---------------------------------------------------------------- deb-src
# Reuse whatever URIs/suites the system already installs binaries from (a
# mirror, a snapshot), so source and binary versions match; fall back to
# deb.debian.org.
CODENAME=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null || true)
CODENAME=${CODENAME:-bookworm}
SRC_LIST=/etc/apt/sources.list.d/jobshim-src.list

# Prints one-line deb-src entries mirroring every enabled `deb` entry for
# $CODENAME (and its -updates/-security suites) in the system's sources.
mirror_deb_src() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		if [ ! -f "$f" ] || [ "$f" = "$SRC_LIST" ]; then continue; fi
		awk -v cn="$CODENAME" '
			$1 == "deb" {
				i = 2; opt = ""
				if ($2 ~ /^\[/) {
					while (i <= NF && $i !~ /\]$/) { opt = opt " " $i; i++ }
					opt = opt " " $i; i++
				}
				if ($(i + 1) ~ ("^" cn "($|[-/])")) {
					line = "deb-src" opt
					for (; i <= NF; i++) line = line " " $i
					print line
				}
			}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# deb822: one stanza per paragraph; keys are case-insensitive.
		awk -v cn="$CODENAME" '
			function flush(   n, m, s, u, a, b) {
				if (types ~ /(^| )deb( |$)/ && enabled != "no") {
					n = split(suites, s, " "); m = split(uris, u, " ")
					for (a = 1; a <= n; a++) {
						if (s[a] !~ ("^" cn "($|[-/])")) continue
						for (b = 1; b <= m; b++)
							print "deb-src" opt " " u[b] " " s[a] " " comps
					}
				}
				types = uris = suites = comps = opt = enabled = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			/^[ \t]/ { next }   # continuation line (e.g. an inline key)
			{
				key = tolower($1); sub(/:$/, "", key)
				val = $0; sub(/^[^:]*:[ \t]*/, "", val)
				if (key == "types") types = val
				else if (key == "uris") uris = val
				else if (key == "suites") suites = val
				else if (key == "components") comps = val
				else if (key == "enabled") enabled = tolower(val)
				# Only a keyring path fits the one-line format; an
				# inline key falls back to apt'"'"'s trusted keyrings.
				else if (key == "signed-by" && val ~ /^\//)
					opt = " [signed-by=" val "]"
			}
			END { flush() }' "$f"
	done
}

has_deb_src() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		grep -Eqs '^[[:space:]]*(deb-src[[:space:]]|[Tt]ypes:.*deb-src)' "$f" && return 0
	done
	return 1
}

need_update=
if ! has_deb_src; then
	need_root "adding $SRC_LIST"
	entries=$(mirror_deb_src | sort -u)
	if [ -z "$entries" ]; then
		entries="deb-src http://deb.debian.org/debian $CODENAME main"
	fi
	say "adding deb-src entries to $SRC_LIST"
	{
		echo "# Added by jobshim mk/build-musl-deps.sh: Debian source packages"
		echo "# for the static musl build of libyaml, libseccomp and libcap."
		echo "$entries"
	} >"$SRC_LIST"
	need_update=1
fi
# deb-src configured but its Sources indices never fetched.
if [ -z "$(apt-get indextargets 'Identifier: Sources' 2>/dev/null)" ]; then
	need_update=1
fi
if [ -n "$need_update" ] || [ ${#missing[@]} -gt 0 ]; then
	need_root "apt-get update"
	say "apt-get update"
	run apt apt-get update
fi
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	run apt env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${missing[@]}"
fi

# ---------------------------------------------------------------- sources
# Start every unfinished run from freshly unpacked trees; apt-get source
# keeps already downloaded (and verified) files and only re-extracts.
say "fetching Debian sources: ${SRC_PKGS[*]}"
rm -rf "$PREFIX"
find "$SRC" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
(cd "$SRC" && run fetch apt-get source "${SRC_PKGS[@]}")

srcdir() {
	local d
	d=$(find "$SRC" -mindepth 1 -maxdepth 1 -type d -name "$1-*" | sort | tail -n 1)
	[ -n "$d" ] || {
		echo "musl-deps: no unpacked source for $1 in $SRC" >&2
		exit 1
	}
	echo "$d"
}
YAML_DIR=$(srcdir libyaml)
SECCOMP_DIR=$(srcdir libseccomp)
CAP_DIR=$(srcdir libcap2)

# ---------------------------------------------------------------- headers
# musl-gcc's specs pass -nostdinc, hiding /usr/include; libseccomp, libcap
# (and jobshim) need the kernel UAPI headers, which are libc-independent,
# so expose just those directories.
KINC=$PREFIX/kernel-include
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
mkdir -p "$KINC" "$PREFIX/include" "$PREFIX/lib"
ln -sfn /usr/include/linux "$KINC/linux"
ln -sfn /usr/include/asm-generic "$KINC/asm-generic"
ln -sfn "/usr/include/$MULTIARCH/asm" "$KINC/asm"

export CC=musl-gcc
# Section-per-function so the final --gc-sections link drops unused code.
DEP_CFLAGS="-Os -ffunction-sections -fdata-sections -isystem $KINC"

# ---------------------------------------------------------------- libyaml
say "building libyaml ($(basename "$YAML_DIR"))"
(
	cd "$YAML_DIR"
	run libyaml autoreconf -fi
	run libyaml ./configure --prefix="$PREFIX" --disable-shared --enable-static \
		CC="$CC" CFLAGS="$DEP_CFLAGS"
	run libyaml make -j"$JOBS" -C src
	run libyaml make -C src install
	run libyaml make -C include install
	run libyaml make install-pkgconfigDATA
)

# ---------------------------------------------------------------- libseccomp
say "building libseccomp ($(basename "$SECCOMP_DIR"))"
(
	cd "$SECCOMP_DIR"
	run libseccomp ./configure --prefix="$PREFIX" --disable-shared --enable-static \
		--disable-python CC="$CC" CFLAGS="$DEP_CFLAGS"
	# Only the library and its headers; tools/ and tests/ are not needed.
	run libseccomp make -j"$JOBS" -C src
	run libseccomp make -C src install
	run libseccomp make -C include install
	run libseccomp make install-pkgconfDATA
)

# ---------------------------------------------------------------- libcap
# libcap has a plain Makefile: build only libcap.a (no shared library, no
# libpsx, no Go, no PAM). _makenames runs at build time, so BUILD_CC is the
# host gcc. Flags go through COPTS because command-line CFLAGS/CPPFLAGS
# would replace libcap's own include paths.
say "building libcap ($(basename "$CAP_DIR"))"
run libcap make -j"$JOBS" -C "$CAP_DIR/libcap" \
	CC="$CC" BUILD_CC=gcc COPTS="$DEP_CFLAGS" BUILD_COPTS=-O2 \
	SHARED=no PTHREADS=no GOLANG=no PAM_CAP=no \
	prefix="$PREFIX" lib=lib \
	install-static-cap

# ---------------------------------------------------------------- done
for lib in libyaml.a libseccomp.a libcap.a; do
	[ -f "$PREFIX/lib/$lib" ] || {
		echo "musl-deps: $PREFIX/lib/$lib missing after build" >&2
		exit 1
	}
done
{
	for d in "$YAML_DIR" "$SECCOMP_DIR" "$CAP_DIR"; do
		printf '%s %s\n' "$(dpkg-parsechangelog -l "$d/debian/changelog" -S Source)" \
			"$(dpkg-parsechangelog -l "$d/debian/changelog" -S Version)"
	done
} >"$PREFIX/VERSIONS"
# libtool archives only record absolute build paths; nothing here uses them.
rm -f "$PREFIX"/lib/*.la
touch "$STAMP"
say "done: $(tr '\n' ' ' <"$PREFIX/VERSIONS")-> $PREFIX"
