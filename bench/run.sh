#!/usr/bin/env bash
# Side-by-side benchmarks of jobshim against tini, dumb-init and catatonit
# (issue 7). `make bench` builds what this needs and runs it; bench/README.md
# describes the method. Prints a Markdown report and writes it to
# build/bench/results.md.
#
# Environment:
#   BENCH_REPS=5        repetitions of every measurement (stop latency: max(20, 4x))
#   BENCH_N=500         runs per repetition in the start-up loop
#   BENCH_ORPHANS=10000 orphans per reaping run
#   BENCH_QUICK=1       256 MiB instead of 1 GiB per throughput run
#   BENCH_CRASH_S=30    seconds of each crash-loop run
#   BENCH_RESTARTS=300  restarts measured for the restart latency
#   BENCH_LINES_MIB=32  MiB per line-at-a-time writer run
#   BENCH_PACED=20000   lines of the paced writer (one every 50 µs) for latency
#   BENCH_CRON_S=60     seconds of each idle @cron run
#   BENCH_ONLY="..."    a subset of: size startup rss reap stop restart log lines crash cron
#   BENCH_README=1      also replace the table in bench/README.md
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/build/bench
REPS=${BENCH_REPS:-5}
N=${BENCH_N:-500}
ORPHANS=${BENCH_ORPHANS:-10000}
CRASH_S=${BENCH_CRASH_S:-30}
ONLY=${BENCH_ONLY:-size startup rss reap stop restart log lines crash cron}
RESTARTS=${BENCH_RESTARTS:-300}
LINES_MIB=${BENCH_LINES_MIB:-32}
PACED=${BENCH_PACED:-20000}
CRON_S=${BENCH_CRON_S:-60}
if [ "${BENCH_QUICK:-0}" = 1 ]; then LOG_MIB=256; else LOG_MIB=1024; fi
STOP_REPS=$((REPS * 4 > 20 ? REPS * 4 : 20))
RESULTS=$ROOT/build/bench/results.md

die() {
	echo "bench: $*" >&2
	exit 1
}
note() { echo "bench: $*" >&2; }
wants() { [[ " $ONLY " == *" $1 "* ]]; }

[ "$(id -u)" -eq 0 ] || die "needs root (PID namespaces)"
for f in "$ROOT/build/jobshim-static" "$ROOT/build/jobshim-static-glibc" \
	/usr/bin/tini /usr/bin/tini-static /usr/bin/dumb-init /usr/bin/catatonit \
	"$BIN/spawnloop" "$BIN/pid1run" "$BIN/orphans" "$BIN/linegen" "$BIN/drain" \
	"$BIN/mininit" "$BIN/measure" "$BIN/linelat" "$BIN/stamp" "$BIN/filterload"; do
	[ -x "$f" ] || die "missing $f (run: make bench)"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/jobshim-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
S=$WORK/samples
mkdir -p "$S" "$WORK/empty" "$WORK/bin" "$WORK/run"
# For the start-up breakdown: the status file on tmpfs instead of $TMPDIR.
SHM_RUN=""
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
	SHM_RUN=$(mktemp -d /dev/shm/jobshim-bench.XXXXXX)
	trap 'rm -rf "$WORK" "$SHM_RUN"' EXIT
fi
# Private copies: a rebuild in the tree during the run cannot change them.
JS=$WORK/bin/jobshim
JG=$WORK/bin/jobshim-glibc
cp "$ROOT/build/jobshim-static" "$JS"
cp "$ROOT/build/jobshim-static-glibc" "$JG"
# jobshim reads ./.deploio.yaml when present: run everything from an empty dir.
cd "$WORK/empty"
# @all: the main app and two workers, 3 jobs (RSS, stop latency).
ALL_YAML=$WORK/all.yaml
printf 'workerJobs:\n  - name: one\n    command: "sleep 100"\n  - name: two\n    command: "sleep 100"\n' >"$ALL_YAML"

PEERS=(tini-static tini dumb-init catatonit)
DOCKER_CAPS=-all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+setpcap,+net_bind_service,+net_raw,+mknod,+audit_write,+setfcap,+sys_chroot
RATIO_PEERS="" # best_peer's candidates when not all PEERS
COLS=(jobshim jobshim-glibc "${PEERS[@]}")
declare -A LABEL=([jobshim]="jobshim (musl)" [jobshim-glibc]="jobshim (glibc)"
	[jobshim-off]="jobshim, seccomp off" [tini-static]=tini-static [tini]="tini (dyn)"
	[dumb-init]="dumb-init (dyn)" [catatonit]=catatonit [floor]="floor: minimal musl init"
	[jobshim-shm]="jobshim, run dir on tmpfs")

# The argv that runs COMMAND under init V (NAME=VALUE words first, for
# spawnloop; pid1run gets them through its own environment instead).
init_argv() {
	case $1 in
	jobshim) echo "$JS --run-dir $WORK/run --" ;;
	jobshim-off) echo "JOBSHIM_SECCOMP=off $JS --run-dir $WORK/run --" ;;
	jobshim-glibc) echo "$JG --run-dir $WORK/run --" ;;
	jobshim-shm) echo "$JS --run-dir $SHM_RUN --" ;;
	floor) echo "$BIN/mininit --" ;;
	tini-static) echo "/usr/bin/tini-static --" ;;
	tini) echo "/usr/bin/tini --" ;;
	dumb-init) echo "/usr/bin/dumb-init" ;;
	catatonit) echo "/usr/bin/catatonit --" ;;
	*) die "unknown init $1" ;;
	esac
}

# ---------------------------------------------------------------- statistics
# summ FILE: "median min max" of the numbers in FILE, one per line.
summ() {
	if [ ! -s "$1" ]; then
		echo "NA NA NA"
		return
	fi
	sort -g "$1" | awk '{ a[NR] = $1 }
		END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		      print m, a[1], a[NR] }'
}
median() { summ "$1" | cut -d' ' -f1; }
# cell FILE DECIMALS: "median (min–max)"
cell() {
	local m lo hi
	read -r m lo hi < <(summ "$1")
	if [ "$m" = NA ]; then
		echo "–"
		return
	fi
	LC_ALL=C printf "%.${2}f (%.${2}f–%.${2}f)" "$m" "$lo" "$hi"
}
calc() { LC_ALL=C awk "BEGIN { printf \"%.6g\\n\", ($1) }"; }
# r2 EXPR: a ratio with two decimals
r2() { LC_ALL=C awk "BEGIN { printf \"%.2f\\n\", ($1) }"; }
# best_peer METRIC: the peer with the lowest median (HIGHER=1: highest).
best_peer() {
	local best="" bv="" v m
	# shellcheck disable=SC2086 # a list of plain names
	for v in ${RATIO_PEERS:-${PEERS[*]}}; do
		[ -s "$S/$1.$v" ] || continue
		m=$(median "$S/$1.$v")
		if [ -z "$bv" ] || { [ "${HIGHER:-0}" = 1 ] && (($(calc "$m > $bv"))); } ||
			{ [ "${HIGHER:-0}" != 1 ] && (($(calc "$m < $bv"))); }; then
			best=$v bv=$m
		fi
	done
	echo "$best"
}
# ratio METRIC: jobshim's median over the best peer's, "0.42× (tini-static)".
ratio() {
	local best
	best=$(best_peer "$1")
	if [ -z "$best" ] || [ ! -s "$S/$1.jobshim" ]; then
		echo "–"
		return
	fi
	printf '%s× %s' "$(r2 "$(median "$S/$1.jobshim") / $(median "$S/$1.$best")")" "$best"
}
# verdict COND: ✅ or ❌ for an awk condition
verdict() { if (($(calc "$1"))); then echo "✅"; else echo "❌"; fi; }

# ---------------------------------------------------------------- 1. size
bench_size() {
	note "binary sizes"
	stat -c %s "$JS" >"$S/size.jobshim"
	stat -c %s "$JG" >"$S/size.jobshim-glibc"
	stat -c %s /usr/bin/tini-static >"$S/size.tini-static"
	stat -c %s /usr/bin/tini >"$S/size.tini"
	stat -c %s /usr/bin/dumb-init >"$S/size.dumb-init"
	stat -c %s /usr/bin/catatonit >"$S/size.catatonit"
	for v in "${COLS[@]}"; do
		awk '{ print $1 / 1024 }' "$S/size.$v" >"$S/sizekb.$v"
	done
}

# ---------------------------------------------------------------- 2. start-up
bench_startup() {
	local vars=(bare jobshim jobshim-off jobshim-glibc "${PEERS[@]}" floor)
	[ -n "$SHM_RUN" ] && vars+=(jobshim-shm)
	local args=() v r idx wall cpu bare_wall bare_cpu
	for v in "${vars[@]}"; do
		[ ${#args[@]} -gt 0 ] && args+=(:::)
		if [ "$v" = bare ]; then
			args+=(/bin/true)
		else
			# shellcheck disable=SC2207 # the argv words are plain paths
			args+=($(init_argv "$v") /bin/true)
		fi
	done
	for r in $(seq "$REPS"); do
		note "start-up: repetition $r/$REPS (${#vars[@]} commands x $N runs, round robin)"
		"$BIN/spawnloop" "$N" "${args[@]}" >"$WORK/spawn.out" ||
			die "start-up loop failed: $(cat "$WORK/spawn.out")"
		read -r _ bare_wall bare_cpu _ < <(sed -n 1p "$WORK/spawn.out")
		while read -r idx wall cpu _; do
			v=${vars[$idx]}
			[ "$v" = bare ] && continue
			calc "($wall - $bare_wall) / $N * 1000" >>"$S/start.$v"
			calc "($cpu - $bare_cpu) / $N * 1000" >>"$S/startcpu.$v"
		done <"$WORK/spawn.out"
		calc "$bare_wall / $N * 1000" >>"$S/bare"
		# A container's usual capabilities (Docker's 14): the child drops
		# 5 from the bounding set instead of this host's 31.
		note "start-up: repetition $r/$REPS with Docker's capabilities"
		local dargs=(/bin/true) dv
		for dv in jobshim jobshim-off tini-static floor; do
			# shellcheck disable=SC2207 # the argv words are plain paths
			dargs+=(::: $(init_argv "$dv") /bin/true)
		done
		setpriv --bounding-set="$DOCKER_CAPS" "$BIN/spawnloop" "$N" "${dargs[@]}" \
			>"$WORK/spawnd.out" || die "start-up loop (Docker's capabilities) failed"
		read -r _ bare_wall _ < <(sed -n 1p "$WORK/spawnd.out")
		while read -r idx wall _; do
			v=$(echo "bare jobshim jobshim-off tini-static floor" | cut -d' ' -f$((idx + 1)))
			[ "$v" = bare ] && continue
			calc "($wall - $bare_wall) / $N * 1000" >>"$S/startd.$v"
		done <"$WORK/spawnd.out"
		# The filter's own cost: fork + no_new_privs + load + exit, over none.
		"$BIN/filterload" $((N * 4)) >"$WORK/fl.out" || die "filterload failed"
		awk '$1 == "none" { z = $3 } $1 != "none" { v[$1] = $3; n[$1] = $2 }
			END { for (k in v) print k, n[k], v[k] - z }' "$WORK/fl.out" |
			while read -r v insns us; do
				echo "$us" >>"$S/fl.$v"
				echo "$insns" >"$S/flinsns.$v"
			done
	done
}

# ---------------------------------------------------------------- 3. memory
# pid1 INIT [pid1run options] -- COMMAND...: COMMAND under INIT as PID 1.
pid1() {
	local v=$1 init
	shift
	local opts=()
	while [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	init=$(init_argv "$v")
	if [ "$v" = jobshim-off ]; then
		init=${init#JOBSHIM_SECCOMP=off }
		# shellcheck disable=SC2086 # init is a list of plain words
		JOBSHIM_SECCOMP=off "$BIN/pid1run" -q "${opts[@]}" -- $init "$@"
	else
		# shellcheck disable=SC2086
		"$BIN/pid1run" -q "${opts[@]}" -- $init "$@"
	fi
}

bench_rss() {
	local r v out
	for r in $(seq "$REPS"); do
		note "memory: repetition $r/$REPS"
		for v in "${COLS[@]}" floor; do
			out=$(pid1 "$v" -m 500 -- sleep 2) || die "rss $v: $out"
			awk '$1 == "hwm_kb" { print $2 }' <<<"$out" >>"$S/hwm.$v"
		done
		out=$(JOBSHIM_JOB=w JOBSHIM_COMMAND='sleep 2' "$BIN/pid1run" -q -m 500 -- \
			"$JS" --run-dir "$WORK/run") || die "rss worker: $out"
		awk '$1 == "hwm_kb" { print $2 }' <<<"$out" >>"$S/hwmw.jobshim"
		out=$(JOBSHIM_JOB=w JOBSHIM_COMMAND='sleep 2' "$BIN/pid1run" -q -m 500 -- \
			"$JG" --run-dir "$WORK/run") || die "rss worker glibc: $out"
		awk '$1 == "hwm_kb" { print $2 }' <<<"$out" >>"$S/hwmw.jobshim-glibc"
		out=$(JOBSHIM_JOB=@all JOBSHIM_CONFIG=$ALL_YAML "$BIN/pid1run" -q -m 500 -- \
			"$JS" --run-dir "$WORK/run" -- sleep 2) || die "rss @all: $out"
		awk '$1 == "hwm_kb" { print $2 }' <<<"$out" >>"$S/hwma.jobshim"
		out=$(JOBSHIM_SECCOMP=off "$BIN/pid1run" -q -m 500 -- "$JS" --run-dir "$WORK/run" -- \
			sleep 2) || die "rss seccomp off: $out"
		awk '$1 == "hwm_kb" { print $2 }' <<<"$out" >>"$S/hwmo.jobshim"
	done
}

# ---------------------------------------------------------------- 4. reaping
REAP_INITS=(jobshim "${PEERS[@]}")
bench_reap() {
	local r v out
	for r in $(seq "$REPS"); do
		note "reaping $ORPHANS orphans: repetition $r/$REPS"
		for v in "${REAP_INITS[@]}"; do
			out=$(pid1 "$v" -t -- "$BIN/orphans" "$ORPHANS") || die "reap $v: $out"
			grep -q '^reap_ms ' <<<"$out" || die "reap $v: $out"
			awk '$1 == "reap_ms" { print $2 }' <<<"$out" >>"$S/reap.$v"
			awk '$1 == "elapsed_s" { print $2 * 1000 }' <<<"$out" >>"$S/reaptotal.$v"
		done
	done
}

# ---------------------------------------------------------------- 5. stop
bench_stop() {
	local r v out
	for r in $(seq "$STOP_REPS"); do
		[ $((r % 5)) -eq 1 ] && note "stop latency: repetition $r/$STOP_REPS"
		for v in "${REAP_INITS[@]}"; do
			out=$(pid1 "$v" -k 300 -- sleep 100) || die "stop $v: $out"
			awk '$1 == "stop_us" { print $2 / 1000 }' <<<"$out" >>"$S/stop.$v"
		done
		out=$(JOBSHIM_JOB=@all JOBSHIM_CONFIG=$ALL_YAML pid1 jobshim -k 300 -- sleep 100) ||
			die "stop @all: $out"
		awk '$1 == "stop_us" { print $2 / 1000 }' <<<"$out" >>"$S/stopall.jobshim"
	done
}

# ---------------------------------------------------------------- 5b. restart latency
# A worker that exits at once, with the smallest backoff jobshim takes
# (1ms; 0 is refused): from one instance's exit to the next one's start
# (bench/stamp.c), p50 and p99 over RESTARTS restarts a repetition.
bench_restart() {
	local r f pid
	for r in $(seq "$REPS"); do
		note "restart latency: repetition $r/$REPS ($RESTARTS restarts)"
		f=$WORK/stamps.$r
		: >"$f"
		JOBSHIM_JOB=w JOBSHIM_COMMAND="$BIN/stamp $f" JOBSHIM_BACKOFF_MIN=1ms \
			JOBSHIM_BACKOFF_MAX=1ms "$JS" --run-dir "$WORK/run" >/dev/null 2>&1 &
		pid=$!
		for _ in $(seq 3000); do
			[ "$(wc -l <"$f")" -gt $((2 * RESTARTS + 2)) ] && break
			sleep 0.01
		done
		kill -TERM "$pid"
		wait "$pid" || true
		awk '$1 == "e" { e = $2 } $1 == "s" && e { print ($2 - e) / 1e6; e = 0 }' "$f" |
			head -n "$RESTARTS" | sort -g >"$WORK/rl"
		[ -s "$WORK/rl" ] || die "restart latency: no restarts"
		awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }' "$WORK/rl" >>"$S/rl50.jobshim"
		awk '{ a[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; print a[i] }' "$WORK/rl" >>"$S/rl99.jobshim"
	done
}

# ---------------------------------------------------------------- 6. log throughput
now() { echo "$EPOCHREALTIME"; }
# log_run TOOL LEN SINK: one run; appends MB/s to $S/log.LEN.SINK.TOOL
log_run() {
	local tool=$1 len=$2 sink=$3 bytes t0 t1 got want cnt=$WORK/count
	bytes=$((LOG_MIB * 1024 * 1024 / len * len))
	rm -f "$cnt"
	t0=$(now)
	case $tool.$sink in
	cat.null) "$BIN/linegen" "$len" "$bytes" | cat >/dev/null ;;
	cat.pipe) "$BIN/linegen" "$len" "$bytes" | cat | "$BIN/drain" "$cnt" ;;
	sed.null) "$BIN/linegen" "$len" "$bytes" | LC_ALL=C sed 's/^/w | /' >/dev/null ;;
	sed.pipe) "$BIN/linegen" "$len" "$bytes" | LC_ALL=C sed 's/^/w | /' | "$BIN/drain" "$cnt" ;;
	jobshim.*)
		# The worker's command ends by stopping jobshim (its parent), which
		# then drains the pipes and exits; a worker is restarted otherwise.
		local cmd="$BIN/linegen $len $bytes; kill -TERM \$PPID"
		if [ "$sink" = null ]; then
			JOBSHIM_JOB=w JOBSHIM_COMMAND=$cmd "$JS" --run-dir "$WORK/run" \
				>/dev/null 2>>"$WORK/log.err" || true
		else
			JOBSHIM_JOB=w JOBSHIM_COMMAND=$cmd "$JS" --run-dir "$WORK/run" \
				2>>"$WORK/log.err" | "$BIN/drain" "$cnt" || true
		fi
		;;
	esac
	t1=$(now)
	calc "$bytes / ($t1 - $t0) / 1e6" >>"$S/log.$len.$sink.$tool"
	if [ "$sink" = pipe ]; then
		got=$(cat "$cnt")
		case $tool in
		cat) want=$bytes ;;
		*) want=$((bytes + (bytes / len) * 4)) ;; # "w | " per line
		esac
		[ "$got" = "$want" ] || {
			note "log $tool $len $sink: $got bytes out, expected $want"
			echo "$tool $len $sink: $got of $want bytes" >>"$WORK/log.lost"
		}
	fi
	return 0
}

bench_log() {
	local r len sink tool
	for r in $(seq "$REPS"); do
		note "log throughput: repetition $r/$REPS ($LOG_MIB MiB per run)"
		for len in 80 4096; do
			for sink in null pipe; do
				for tool in cat sed jobshim; do
					log_run "$tool" "$len" "$sink"
				done
			done
		done
	done
}

# ---------------------------------------------------------------- 6b. line by line
# A worker that writes line by line (Sidekiq, Celery) costs the prefixer a
# wake-up, a read and a write a line; `cat` on the same stream is the
# reference. bench/measure.c reads the process's own CPU time (schedstat)
# and read/write calls (/proc/PID/io) when it has exited. A parent's io
# counts include the children it reaped: the writer's own (measured alone)
# are taken off jobshim's. Writers: block (64 KiB writes), line (one write a
# line, as fast as it goes), paced (one 80-byte line every 50 µs, which
# also gives the write -> read latency of each line through the chain).
# lines_run WRITER TOOL: appends cpu ms/MB, reads/line, writes/line (and
# for paced the latencies) to $S/ln.*.WRITER.TOOL.
lines_run() {
	local w=$1 tool=$2 bytes lines gen m=$WORK/m lat=$WORK/lat cpu cr cw wr ww
	case $w in
	block) bytes=$((LINES_MIB * 1024 * 1024 / 80 * 80)) gen="$BIN/linegen 80 $bytes" ;;
	line) bytes=$((LINES_MIB * 1024 * 1024 / 80 * 80)) gen="$BIN/linegen 80 $bytes 1" ;;
	paced) bytes=$((PACED * 80)) gen="$BIN/linelat gen $PACED 50" ;;
	esac
	lines=$((bytes / 80))
	rm -f "$m" "$lat"
	if [ "$tool" = cat ]; then
		$gen | "$BIN/measure" "$m" cat | "$BIN/linelat" read "$lat"
		wr=0 ww=0
	else
		JOBSHIM_JOB=w JOBSHIM_COMMAND="$gen; kill -TERM \$PPID" "$BIN/measure" "$m" \
			"$JS" --run-dir "$WORK/run" 2>>"$WORK/lines.err" | "$BIN/linelat" read "$lat" || true
		read -r wr ww < <("$BIN/measure" "$WORK/mw" sh -c "$gen >/dev/null" &&
			awk '{ print $4, $6 }' "$WORK/mw")
	fi
	read -r cpu cr cw < <(awk '{ print $2, $4, $6 }' "$m")
	calc "$cpu / 1e6 / ($bytes / 1e6)" >>"$S/lncpu.$w.$tool"
	calc "($cr - $wr) / $lines" >>"$S/lnr.$w.$tool"
	calc "($cw - $ww) / $lines" >>"$S/lnw.$w.$tool"
	if [ "$w" = paced ]; then
		awk '{ print $6 / 1000 }' "$lat" >>"$S/lat50.$tool"
		awk '{ print $8 / 1000 }' "$lat" >>"$S/lat99.$tool"
		awk '{ print $10 / 1000 }' "$lat" >>"$S/latmax.$tool"
	fi
	grep -q "^lines $lines " "$lat" || echo "$w $tool: $(cat "$lat"), expected $lines lines" >>"$WORK/lines.lost"
}

bench_lines() {
	local r w tool
	for r in $(seq "$REPS"); do
		note "line by line: repetition $r/$REPS"
		for w in block line paced; do
			for tool in cat jobshim; do
				lines_run "$w" "$tool"
			done
		done
	done
}

# ---------------------------------------------------------------- 7. crash loop
# crash_run TAG [NAME=VALUE...]: one worker that exits at once, CRASH_S
# seconds; appends jobshim's own CPU ms and the restart count.
crash_run() {
	local tag=$1 dir pid stat ticks ns hz rest f
	shift
	dir=$(mktemp -d "$WORK/crash.XXXXXX")
	env JOBSHIM_JOB=w JOBSHIM_COMMAND='exit 1' "$@" "$JS" --run-dir "$dir" \
		>/dev/null 2>"$dir/err" &
	pid=$!
	sleep "$CRASH_S"
	stat=$(cat "/proc/$pid/stat")
	ns=$(cut -d' ' -f1 "/proc/$pid/schedstat" 2>/dev/null || echo "")
	kill -TERM "$pid"
	wait "$pid" || true
	rest=${stat##*) }
	# fields after "comm)": state is field 3, so utime/stime (14/15) are 12/13
	read -r -a f <<<"$rest"
	hz=$(getconf CLK_TCK)
	ticks=$((f[11] + f[12]))
	calc "$ticks * 1000 / $hz" >>"$S/crashtick.$tag"
	if [ -n "$ns" ]; then
		calc "$ns / 1e6" >>"$S/crash.$tag"
	fi
	grep -c 'exited with' "$dir/err" >>"$S/restarts.$tag" || echo 0 >>"$S/restarts.$tag"
}

bench_crash() {
	local r tag
	note "crash loop: $REPS x ${CRASH_S}s with the default backoff (in parallel, idle)"
	for r in $(seq "$REPS"); do
		crash_run default &
	done
	for r in $(seq "$REPS"); do
		note "crash loop: 10ms backoff, repetition $r/$REPS (${CRASH_S}s)"
		crash_run fast JOBSHIM_BACKOFF_MIN=10ms JOBSHIM_BACKOFF_MAX=10ms
	done
	wait
	for tag in default fast; do
		paste -d' ' "$S/crash.$tag" "$S/restarts.$tag" |
			awk '$2 > 0 { print $1 * 1000 / $2 }' >"$S/crashper.$tag"
	done
}

# ---------------------------------------------------------------- 8. idle @cron
# cron_run: JOBSHIM_JOB=@cron with one job due once a year, CRON_S seconds;
# appends jobshim's wake-ups per hour (its context switches, voluntary and
# not, counted from 1 s after the start: the start-up's own are not idle).
cron_run() {
	local dir pid c0 c1
	dir=$(mktemp -d "$WORK/cron.XXXXXX")
	printf 'scheduledJobs:\n  - name: yearly\n    command: "true"\n    schedule: "0 0 1 1 *"\n' \
		>"$dir/deploio.yaml"
	env JOBSHIM_JOB=@cron JOBSHIM_CONFIG="$dir/deploio.yaml" TZ=UTC "$JS" --run-dir "$dir" \
		>/dev/null 2>"$dir/err" &
	pid=$!
	sleep 1
	c0=$(awk '/ctxt_switches/ { n += $2 } END { print n }' "/proc/$pid/status")
	sleep "$CRON_S"
	c1=$(awk '/ctxt_switches/ { n += $2 } END { print n }' "/proc/$pid/status")
	kill -TERM "$pid"
	wait "$pid" || true
	calc "($c1 - $c0) * 3600 / $CRON_S" >>"$S/cronwake.jobshim"
}

bench_cron() {
	local r
	note "idle @cron: $REPS x ${CRON_S}s (in parallel, idle)"
	for r in $(seq "$REPS"); do
		cron_run &
	done
	wait
}

# ---------------------------------------------------------------- report
machine() {
	local v
	echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r), $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); load average at start $LOAD0, at end $(cut -d' ' -f1-3 /proc/loadavg)"
	printf -- '- jobshim %s (git %s)' "$("$JS" --version 2>&1 | head -n 1 | awk '{ print $NF }')" \
		"$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
	for v in tini dumb-init catatonit; do
		printf ', %s %s' "$v" "$(dpkg-query -W -f='${Version}' "$v" 2>/dev/null || echo '?')"
	done
	echo
	echo "- settings: $REPS repetitions; start-up $N runs each; $ORPHANS orphans; stop latency $STOP_REPS runs; $LOG_MIB MiB per throughput run; crash loop ${CRASH_S}s; idle @cron ${CRON_S}s"
}

row() { # row TITLE METRIC DECIMALS GOAL [COLS...]
	local title=$1 m=$2 d=$3 goal=$4 v line
	line="| $title"
	for v in "${COLS[@]}"; do
		line+=" | $(cell "$S/$m.$v" "$d")"
	done
	echo "$line | $(ratio "$m") | $goal |"
}

report() {
	local g_start g_rss g_size g_log b t
	echo "### jobshim vs. tini, dumb-init, catatonit"
	echo
	machine
	echo
	echo "Cells: median (min–max) over the repetitions. Ratio: jobshim (musl) ÷ the best peer's median."
	echo
	local head="| metric"
	for v in "${COLS[@]}"; do head+=" | ${LABEL[$v]}"; done
	echo "$head | jobshim ÷ best peer | goal |"
	echo "|---$(printf '|---%.0s' "${COLS[@]}")|---|---|"
	if wants size; then
		g_size="< 300 KiB $(verdict "$(cat "$S/size.jobshim") < 307200")"
		# Only the statically linked peers: the dynamic ones need libc.so too.
		RATIO_PEERS="tini-static catatonit"
		row "static binary size, KiB (dyn: not static)" sizekb 0 "$g_size"
		RATIO_PEERS=""
	fi
	if wants startup; then
		t=$(median "$S/start.tini-static")
		g_start="≤ 0.40× tini-static ($(r2 "$t * 0.40") ms) $(verdict "$(median "$S/start.jobshim") <= $t * 0.40")"
		row "start-up overhead, ms/run (wall)" start 3 "$g_start"
		row "start-up overhead, ms CPU/run" startcpu 3 ""
		echo "| start-up, JOBSHIM_SECCOMP=off, ms/run (wall / CPU) | $(cell "$S/start.jobshim-off" 3) / $(cell "$S/startcpu.jobshim-off" 3) | | | | | | $(r2 "$(median "$S/start.jobshim-off") / $t")× tini-static | ≤ 0.25× tini-static ($(r2 "$t * 0.25") ms) $(verdict "$(median "$S/start.jobshim-off") <= $t * 0.25") |"
		if [ -n "$SHM_RUN" ]; then
			echo "| start-up, run dir on tmpfs, ms/run (wall / CPU) | $(cell "$S/start.jobshim-shm" 3) / $(cell "$S/startcpu.jobshim-shm" 3) | | | | | | | |"
		fi
		echo "| start-up, floor: minimal static musl fork+exec+wait, ms/run (wall / CPU) | $(cell "$S/start.floor" 3) / $(cell "$S/startcpu.floor" 3) | | | | | | $(r2 "$(median "$S/start.floor") / $t")× tini-static | the goals leave $(r2 "$t * 0.40 - $(median "$S/start.floor")") / $(r2 "$t * 0.25 - $(median "$S/start.floor")") ms over it (negative: below the floor) |"
		t=$(median "$S/startd.tini-static")
		echo "| start-up with Docker's 14 capabilities, ms/run (wall): jobshim / seccomp off / tini-static / floor | $(cell "$S/startd.jobshim" 3) / $(cell "$S/startd.jobshim-off" 3) / $(cell "$S/startd.tini-static" 3) / $(cell "$S/startd.floor" 3) | | | | | | $(r2 "$(median "$S/startd.jobshim") / $t")× / $(r2 "$(median "$S/startd.jobshim-off") / $t")× tini-static | ≤ 0.40× / ≤ 0.25× $(verdict "$(median "$S/startd.jobshim") <= $t * 0.40")$(verdict "$(median "$S/startd.jobshim-off") <= $t * 0.25") |"
		echo "| seccomp filter load, µs a start: jobshim's $(cat "$S/flinsns.compact") instructions / libseccomp's $(cat "$S/flinsns.libseccomp") for the same table / a 1-instruction filter | $(cell "$S/fl.compact" 0) / $(cell "$S/fl.libseccomp" 0) / $(cell "$S/fl.allow-all" 0) | | | | | | | |"
	fi
	if wants rss; then
		t=$(median "$S/hwm.tini-static")
		g_rss="≤ tini-static $(verdict "$(median "$S/hwm.jobshim") <= $t")"
		row "own peak RSS as PID 1 (VmHWM), KiB" hwm 0 "$g_rss"
		echo "| own peak RSS, floor: minimal musl init, KiB | $(cell "$S/hwm.floor" 0) | | | | | | | |"
		echo "| own peak RSS, worker mode, KiB | $(cell "$S/hwmw.jobshim" 0) | $(cell "$S/hwmw.jobshim-glibc" 0) | | | | | $(r2 "$(median "$S/hwmw.jobshim") / $t")× tini-static | ≤ tini-static $(verdict "$(median "$S/hwmw.jobshim") <= $t") |"
		echo "| own peak RSS, @all (3 jobs), KiB | $(cell "$S/hwma.jobshim" 0) | | | | | | $(r2 "$(median "$S/hwma.jobshim") / $t")× tini-static | ≤ tini-static $(verdict "$(median "$S/hwma.jobshim") <= $t") |"
		echo "| own peak RSS, main app, seccomp off, KiB | $(cell "$S/hwmo.jobshim" 0) | | | | | | $(r2 "$(median "$S/hwmo.jobshim") / $t")× tini-static | |"
	fi
	if wants reap; then
		row "reap $ORPHANS orphans, ms" reap 1 ""
	fi
	if wants stop; then
		row "stop latency (SIGTERM → exit), ms" stop 2 ""
		echo "| stop latency, @all with 3 jobs, ms | $(cell "$S/stopall.jobshim" 2) | | | | | | | |"
	fi
	if wants restart; then
		echo "| restart latency (exit → next start, backoff 1ms), ms p50 / p99 | $(cell "$S/rl50.jobshim" 2) / $(cell "$S/rl99.jobshim" 2) | | | | | | | |"
	fi
	if wants log; then
		echo
		echo "#### Log prefixing throughput, MB/s of input (worker \`w\`; \`sed 's/^/w | /'\`, LC_ALL=C)"
		echo
		echo "| line length → sink | cat | sed | jobshim | jobshim ÷ cat | goal |"
		echo "|---|---|---|---|---|---|"
		for len in 80 4096; do
			for sink in null pipe; do
				b="$S/log.$len.$sink"
				t=$(r2 "$(median "$b.jobshim") / $(median "$b.cat")")
				g_log=""
				[ "$len" = 80 ] && g_log="≥ 0.9 × cat $(verdict "$t >= 0.9")"
				local sname="/dev/null"
				[ "$sink" = pipe ] && sname="pipe → reader"
				echo "| $len B → $sname | $(cell "$b.cat" 0) | $(cell "$b.sed" 0) | $(cell "$b.jobshim" 0) | ${t}× | $g_log |"
			done
		done
		if [ -s "$WORK/log.lost" ]; then
			echo
			echo "**Output byte counts differed (lost or extra data):**"
			sed 's/^/- /' "$WORK/log.lost"
		fi
	fi
	if wants lines; then
		echo
		echo "#### A writer line by line: CPU and system calls of jobshim and of \`cat\` for the same stream"
		echo
		echo "80-byte lines into a pipe to a reader; block: $LINES_MIB MiB in 64 KiB writes; line: the same, one write a line; paced: $PACED lines, one every 50 µs."
		echo
		echo "| writer | cat CPU ms/MB | jobshim CPU ms/MB | jobshim ÷ cat | cat reads / writes a line | jobshim reads / writes a line | goal |"
		echo "|---|---|---|---|---|---|---|"
		for w in block line paced; do
			t=$(r2 "$(median "$S/lncpu.$w.jobshim") / $(median "$S/lncpu.$w.cat")")
			g_log=""
			[ "$w" != block ] && g_log="≤ 1.5× cat $(verdict "$t <= 1.5")"
			echo "| $w | $(cell "$S/lncpu.$w.cat" 2) | $(cell "$S/lncpu.$w.jobshim" 2) | ${t}× | $(LC_ALL=C printf '%.3f / %.3f' "$(median "$S/lnr.$w.cat")" "$(median "$S/lnw.$w.cat")") | $(LC_ALL=C printf '%.3f / %.3f' "$(median "$S/lnr.$w.jobshim")" "$(median "$S/lnw.$w.jobshim")") | $g_log |"
		done
		echo
		echo "| line latency, write → read, paced writer, ms | p50 | p99 | max | goal |"
		echo "|---|---|---|---|---|"
		echo "| cat | $(cell "$S/lat50.cat" 3) | $(cell "$S/lat99.cat" 3) | $(cell "$S/latmax.cat" 1) | |"
		echo "| jobshim | $(cell "$S/lat50.jobshim" 3) | $(cell "$S/lat99.jobshim" 3) | $(cell "$S/latmax.jobshim" 1) | p99 ≤ 1 ms $(verdict "$(median "$S/lat99.jobshim") <= 1") |"
		if [ -s "$WORK/lines.lost" ]; then
			echo
			echo "**Line counts differed:**"
			sed 's/^/- /' "$WORK/lines.lost"
		fi
	fi
	if wants crash; then
		echo
		echo "#### Crash loop: jobshim's own CPU while a worker (\`exit 1\`) crashes for ${CRASH_S}s"
		echo
		echo "| backoff | restarts | jobshim CPU, ms (schedstat) | CPU ms (utime+stime ticks) | CPU µs per restart |"
		echo "|---|---|---|---|---|"
		echo "| default (1s doubling, 60s cap) | $(cell "$S/restarts.default" 0) | $(cell "$S/crash.default" 1) | $(cell "$S/crashtick.default" 0) | $(cell "$S/crashper.default" 0) |"
		echo "| 10ms / 10ms | $(cell "$S/restarts.fast" 0) | $(cell "$S/crash.fast" 1) | $(cell "$S/crashtick.fast" 0) | $(cell "$S/crashper.fast" 0) |"
	fi
	if wants cron; then
		echo
		echo "#### Idle \`@cron\`: jobshim's wake-ups while its one job is not due (${CRON_S}s runs)"
		echo
		echo "| what | wake-ups per hour (context switches) | goal |"
		echo "|---|---|---|"
		echo "| \`JOBSHIM_JOB=@cron\`, schedule \`0 0 1 1 *\` | $(cell "$S/cronwake.jobshim" 0) | 0 $(verdict "$(median "$S/cronwake.jobshim") == 0") |"
	fi
	if wants startup; then
		echo
		echo "Bare \`/bin/true\`: $(cell "$S/bare" 3) ms/run (wall) on this machine."
	fi
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(now)
wants size && bench_size
wants startup && bench_startup
wants rss && bench_rss
wants reap && bench_reap
wants stop && bench_stop
wants restart && bench_restart
wants log && bench_log
wants lines && bench_lines
wants crash && bench_crash
wants cron && bench_cron
mkdir -p "$(dirname "$RESULTS")"
report >"$RESULTS"
note "done in $(r2 "($(now) - $T0) / 60") min; results in ${RESULTS#"$ROOT"/}"
echo
cat "$RESULTS"

if [ "${BENCH_README:-0}" = 1 ]; then
	readme=$ROOT/bench/README.md
	grep -q '^<!-- bench:begin -->$' "$readme" || die "no <!-- bench:begin --> marker in $readme"
	awk -v res="$RESULTS" '
		/^<!-- bench:begin -->$/ { print; while ((getline l < res) > 0) print l; skip = 1; next }
		/^<!-- bench:end -->$/ { skip = 0 }
		!skip' "$readme" >"$WORK/readme" && cat "$WORK/readme" >"$readme"
	note "updated ${readme#"$ROOT"/}"
fi
