#!/usr/bin/env bash
# `jobshim check` (SPEC §9) and configuration errors (SPEC §1, §3): the plan
# of every job for a valid file, every error with file:line:col for a broken
# one, exit 0 / 2, and -o json. No PID namespace needed.
# shellcheck source=integration/lib.sh
. "$(dirname "$0")/lib.sh"

EXAMPLE=$(cd "$(dirname "$0")/.." && pwd)/examples/deploio.yaml
OUT=$TMP/out
ERR=$TMP/err

# run_check [ENV=VAL...] -- ARGS...: runs `jobshim check ARGS` with a clean
# JOBSHIM_* environment; sets RC, stdout in $OUT, stderr in $ERR.
run_check() {
	split_args "$@"
	env -u JOBSHIM_JOB -u JOBSHIM_CONFIG -u JOBSHIM_COMMAND -u JOBSHIM_SIZE \
		"${PRE[@]}" "$JOBSHIM" check "${POST[@]}" >"$OUT" 2>"$ERR"
	RC=$?
}

# shellcheck disable=SC2317 # called through check
has() { grep -qF -- "$2" "$1"; }

# ---------------------------------------------------------------- valid
run_check -- --config "$EXAMPLE"
expect "valid example exits 0" 0 "$RC"
check "no errors for the example" test ! -s "$ERR"
check "names the file" has "$OUT" "config: $EXAMPLE"
check "main app block" has "$OUT" "kind: main (runs here)"
check "main app without command shows the image CMD" has "$OUT" "command: (image CMD)"
check "main app size from the file" has "$OUT" "size: mini (memory 512Mi, cpu 250m, pids 512, nofile 8192)"
check "worker sidekiq" has "$OUT" "command: bundle exec sidekiq -C config/sidekiq.yml"
check "worker size" has "$OUT" "size: standard-1 (memory 1Gi, cpu 500m, pids 1024, nofile 16384)"
check "worker without a size: none" has "$OUT" "size: none (jobshim changes no limit; the platform sizes the container)"
check "deploy job" has "$OUT" "kind: deploy"
check "deploy timeout" has "$OUT" "timeout: 10m"
check "scheduled job schedule" has "$OUT" "schedule: 0 3 * * *"
check "scheduled job retries" has "$OUT" "retries: 1"
for job in web sidekiq mailer release nightly-cleanup reports; do
	check "block for $job" grep -qx "$job" "$OUT"
done
order=$(grep -xE 'web|sidekiq|mailer|release|nightly-cleanup|reports' "$OUT" | tr '\n' ' ')
expect "jobs in order" "web sidekiq mailer release nightly-cleanup reports " "$order"
check "sandbox described" grep -q "seccomp" "$OUT"

# The environment twins select and override (a flag would win likewise).
run_check JOBSHIM_CONFIG="$EXAMPLE" JOBSHIM_JOB=mailer JOBSHIM_COMMAND="bin/mailer --fast" \
	JOBSHIM_SIZE=standard-2 --
expect "selected worker exits 0" 0 "$RC"
check "selected worker runs here" has "$OUT" "kind: worker (runs here)"
check "command override" has "$OUT" "command: bin/mailer --fast"
check "size override" has "$OUT" "size: standard-2 (memory 2Gi"
run_check JOBSHIM_CONFIG="$EXAMPLE" JOBSHIM_SIZE=micro -- --size standard-4 --job sidekiq
check "flag wins over its variable" has "$OUT" "size: standard-4 (memory 4Gi"

# ./.deploio.yaml is read when it exists.
mkdir -p "$TMP/app"
cp "$EXAMPLE" "$TMP/app/.deploio.yaml"
(cd "$TMP/app" && run_check -- && cp "$OUT" "$TMP/out.default" && exit "$RC")
expect "default file exits 0" 0 "$?"
check "default file is ./.deploio.yaml" has "$TMP/out.default" "config: .deploio.yaml"

# No file at all: only the main app, valid.
(cd "$TMP" && run_check -- -o json && cp "$OUT" "$TMP/out.none" && exit "$RC")
expect "no file exits 0" 0 "$?"
check "no file: config null" json_is "$TMP/out.none" 'd["config"] is None and d["valid"] is True and d["jobs"][0]["name"] == "web"'

# ---------------------------------------------------------------- json
run_check -- --config "$EXAMPLE" -o json
expect "json exits 0" 0 "$RC"
check "json parses" json_is "$OUT" True
check "json valid" json_is "$OUT" 'd["valid"] is True'
check "json config" json_is "$OUT" 'd["config"] == args[0]' "$EXAMPLE"
check "json job" json_is "$OUT" 'find(d["jobs"], name="nightly-cleanup")["kind"] == "scheduled"'
check "json size" json_is "$OUT" 'find(d["jobs"], name="sidekiq")["size"]["name"] == "standard-1" and find(d["jobs"], name="sidekiq")["size"]["memory_bytes"] == 1073741824'
check "json: a job without a size: size null, no rlimits, no cgroup" json_is "$OUT" 'find(d["jobs"], name="mailer", size=None, rlimits={}, cgroup=None)'
check "json schedule" json_is "$OUT" 'find(d["jobs"], name="reports")["schedule"] == "30 6 * * mon"'

# ---------------------------------------------------------------- errors
BROKEN=$TMP/broken.yaml
cat >"$BROKEN" <<'YAML'
size: mini
workerJobs:
  - name: sidekiq
    command: bundle exec sidekiq
  - name: mailer
    command: bin/mailer
    size: huge
  - name: Bad_Name
    command: ""
YAML
run_check -- --config "$BROKEN"
expect "broken file exits 2" 2 "$RC"
check "nothing on stdout when invalid" test ! -s "$OUT"
check "unknown size with line:col" has "$ERR" "jobshim: $BROKEN:7:11: workerJobs[1].size: unknown size \"huge\" (expected micro, mini, standard-1, standard-2, standard-4)"
check "bad name with line:col" has "$ERR" "jobshim: $BROKEN:8:11: workerJobs[2].name: \"Bad_Name\" is not a valid name"
check "empty command with line:col" has "$ERR" "jobshim: $BROKEN:9:14: workerJobs[2].command: must not be empty"
expect "all three errors" 3 "$(grep -c '^jobshim: ' "$ERR")"

run_check -- --config "$BROKEN" -o json
expect "broken file json exits 2" 2 "$RC"
check "broken json parses" json_is "$OUT" True
check "broken json valid:false" json_is "$OUT" 'd["valid"] is False and type(d["errors"][0]) is str'
check "broken json lists the errors" json_is "$OUT" 'any("workerJobs[1].size: unknown size \"huge\"" in e for e in d["errors"])'
check "broken json errors on stderr too" has "$ERR" "workerJobs[2].name"

printf 'size: mini\nworkerJobs:\n  - name: a\n    comand: x\n' >"$TMP/typo.yaml"
run_check -- --config "$TMP/typo.yaml"
expect "unknown key exits 2" 2 "$RC"
check "unknown key suggests" has "$ERR" "jobshim: $TMP/typo.yaml:4:5: workerJobs[0].comand: unknown key (did you mean \"command\"?)"
check "missing command reported too" has "$ERR" "jobshim: $TMP/typo.yaml:3:5: workerJobs[0].command: required"

run_check JOBSHIM_CONFIG="$TMP/missing.yaml" --
expect "JOBSHIM_CONFIG naming a missing file exits 2" 2 "$RC"
check "missing file message" has "$ERR" "jobshim: unable to read $TMP/missing.yaml: No such file or directory"

run_check JOBSHIM_JOB=nope -- --config "$EXAMPLE"
expect "unknown job exits 2" 2 "$RC"
check "unknown job lists the names" has "$ERR" 'jobshim: unknown job "nope" (known jobs: sidekiq, mailer, release, nightly-cleanup, reports, @all, @cron)'
# Many long names (64 scheduled jobs of 63 characters) do not fit one
# message: whole names are listed, the rest counted, @all and @cron named.
long=$(printf 'x%.0s' $(seq 60))
{
	echo "scheduledJobs:"
	for i in $(seq 10 73); do
		printf '  - name: s%s%s\n    command: "true"\n    schedule: "0 3 * * *"\n' "$i" "$long"
	done
} >"$TMP/many.yaml"
run_check JOBSHIM_JOB=nope -- --config "$TMP/many.yaml"
expect "unknown job, 64 long names: exits 2" 2 "$RC"
check "unknown job, 64 long names: ends with the count and @all, @cron" \
	grep -qE "^jobshim: unknown job \"nope\" \(known jobs: s10$long, (s[0-9]{2}$long, )+and [0-9]+ more, @all, @cron\)$" "$ERR"

# One-shot jobs: retries and timeout; scheduled jobs: zone, next three times.
run_check JOBSHIM_JOB=release -- --config "$EXAMPLE"
expect "deploy job selected exits 0" 0 "$RC"
check "deploy job runs here" grep -qzF $'release\n  kind: deploy (runs here)' "$OUT"
check "deploy retries" has "$OUT" "retries: 2"
check "default retries" has "$OUT" "retries: 0 (the default)"
check "default timeout" has "$OUT" "timeout: 5m (the default)"
run_check TZ=America/New_York -- --config "$EXAMPLE"
expect "zone from TZ exits 0" 0 "$RC"
check "zone shown" has "$OUT" "zone: America/New_York"
next=$(grep -A1 -F 'zone: America/New_York' "$OUT" | sed -n 's/^  next: //p' | head -n 1)
n_times=$(tr ',' '\n' <<<"$next" | grep -cE '^ ?20[0-9]{2}-[0-9]{2}-[0-9]{2} 03:00 E[SD]T$')
expect "three next times at 03:00 New York time" 3 "$n_times"
run_check TZ=Mars/Base -- --config "$EXAMPLE"
expect "unknown zone exits 2" 2 "$RC"
check "unknown zone names the file looked for" has "$ERR" 'jobshim: TZ: unknown time zone "Mars/Base" (looked for the zone file /usr/share/zoneinfo/Mars/Base'
# A FIFO as the zone file (TZ, or /etc/localtime, which libc reads itself)
# would block the read: refused as not a zone file, never a hang.
mkfifo "$TMP/zone.fifo"
t0=$SECONDS
TZ=$TMP/zone.fifo timeout -s KILL 30 "$JOBSHIM" check --config "$EXAMPLE" >"$OUT" 2>"$ERR"
expect "TZ naming a FIFO: exits 2, no hang" "2 yes" "$? $([ $((SECONDS - t0)) -lt 20 ] && echo yes)"
check "TZ naming a FIFO: not a zone file" has "$ERR" "jobshim: TZ: \"$TMP/zone.fifo\" is not a zone file"
t0=$SECONDS
# shellcheck disable=SC2016 # expanded by the inner shell
env -u TZ timeout -s KILL 30 unshare --mount --propagation private sh -c \
	'mount --bind "$1" /etc/localtime && shift && exec "$@"' sh "$TMP/zone.fifo" \
	"$JOBSHIM" check --config "$EXAMPLE" >"$OUT" 2>"$ERR"
expect "/etc/localtime a FIFO: exits 2, no hang" "2 yes" "$? $([ $((SECONDS - t0)) -lt 20 ] && echo yes)"
check "/etc/localtime a FIFO: not a zone file" has "$ERR" "jobshim: /etc/localtime is not a zone file (not a regular file)"
cat >"$TMP/ext.yaml" <<'EOF'
scheduledJobs:
  - name: fast
    command: "true"
    schedule: "*/2 * * * * *"
  - name: every
    command: "true"
    schedule: "@every 90s"
    retries: 6
EOF
run_check TZ=UTC -- --config "$TMP/ext.yaml"
expect "retries out of range exits 2" 2 "$RC"
check "retries out of range message" has "$ERR" "ext.yaml:8:14: scheduledJobs[1].retries: must be between 0 and 5, found 6"
sed -i '$d' "$TMP/ext.yaml"
run_check TZ=UTC -- --config "$TMP/ext.yaml"
expect "extensions are valid" 0 "$RC"
check "seconds field flagged" has "$OUT" "schedule: */2 * * * * * (a seconds field: an extension, not accepted by Deploio)"
check "@every flagged" has "$OUT" "schedule: @every 90s (@every: an extension, not accepted by Deploio)"
check "seconds shown in next times" grep -qE '^  next: [0-9-]+ [0-9:]{8} UTC, ' "$OUT"
run_check TZ=UTC -- --config "$TMP/ext.yaml" -o json
check "json is valid" json_is "$OUT" True
check "json flags the extension" json_is "$OUT" 'find(d["jobs"], name="fast", extension="a seconds field", deploio_accepts=False, zone="UTC")["next"][0]["local"]'
run_check TZ=UTC -- --config "$EXAMPLE" -o json
check "json retries and timeout" json_is "$OUT" 'find(d["jobs"], name="release", retries=2, timeout="10m", timeout_ms=600000)'
check "json accepted schedule" json_is "$OUT" 'find(d["jobs"], name="nightly-cleanup", extension=None, deploio_accepts=True, zone="UTC")'
printf 'scheduledJobs:\n  - name: n\n    command: x\n    schedule: "0 0 30 2 *"\n' >"$TMP/never.yaml"
run_check -- --config "$TMP/never.yaml"
expect "a schedule that never fires exits 2" 2 "$RC"
check "never fires message" has "$ERR" "never.yaml:4:15: scheduledJobs[0].schedule: invalid cron schedule: day of month and month never meet"

# Hostile input: bounded, quick, exit 2.
{
	echo 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
	prev=a
	for l in b c d e f g h i; do
		printf '%s: &%s [' "$l" "$l"
		for _ in 1 2 3 4 5 6 7 8; do printf '*%s,' "$prev"; done
		printf '*%s]\n' "$prev"
		prev=$l
	done
} >"$TMP/laughs.yaml"
start=$SECONDS
run_check -- --config "$TMP/laughs.yaml"
expect "billion laughs exits 2" 2 "$RC"
check "billion laughs refused" has "$ERR" "aliases are not supported"
check "billion laughs is quick" test $((SECONDS - start)) -le 2

head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' '#' >"$TMP/big.yaml"
run_check -- --config "$TMP/big.yaml"
expect "2 MiB file exits 2" 2 "$RC"
check "2 MiB file refused" has "$ERR" "jobshim: $TMP/big.yaml: file is larger than 1 MiB"

printf 'port: %s1%s\n' "$(printf '[%.0s' $(seq 100))" "$(printf ']%.0s' $(seq 100))" >"$TMP/deep.yaml"
run_check -- --config "$TMP/deep.yaml"
expect "deep nesting exits 2" 2 "$RC"
check "deep nesting refused" has "$ERR" "nesting deeper than 32"

printf 'size: mi\377ni\n' >"$TMP/latin1.yaml"
run_check -- --config "$TMP/latin1.yaml"
expect "non-UTF-8 exits 2" 2 "$RC"
check "non-UTF-8 located" has "$ERR" "jobshim: $TMP/latin1.yaml:1:9: the file is not valid UTF-8"

# The mistakes newcomers make, each named (SPEC §1's file:line:col: field:).
printf 'scheduledJobs:\n  - name: n\n    command: c\n    schedule: */15 * * * *\n' >"$TMP/star.yaml"
run_check -- --config "$TMP/star.yaml"
expect "unquoted */15 schedule exits 2" 2 "$RC"
check "unquoted */15 schedule: says to quote it" has "$ERR" "jobshim: $TMP/star.yaml:4:16: scheduledJobs[0].schedule: invalid YAML: a plain scalar cannot start with \"*\" (YAML reads an alias): quote the schedule"
printf 'workerJobs:\n\t- name: a\n\t  command: x\n' >"$TMP/tab.yaml"
run_check -- --config "$TMP/tab.yaml"
expect "tab in column 1 exits 2" 2 "$RC"
check "tab in column 1: names the tab" has "$ERR" "jobshim: $TMP/tab.yaml:2:1: workerJobs: invalid YAML: a tab: tabs cannot indent YAML; use spaces"
printf 'scheduledJobs:\n  - name: n\n    command: c\n    schedule: "0 3 * * monday"\n' >"$TMP/monday.yaml"
run_check -- --config "$TMP/monday.yaml"
expect "weekday monday exits 2" 2 "$RC"
check "weekday monday: lists the names" has "$ERR" "jobshim: $TMP/monday.yaml:4:15: scheduledJobs[0].schedule: invalid cron schedule: day of week: unknown name \"monday\" (expected sun mon tue wed thu fri sat, or 0-7)"
printf 'scheduledJobs:\n  - name: n\n    command: c\n    schedule: "0 3 1 sept *"\n' >"$TMP/sept.yaml"
run_check -- --config "$TMP/sept.yaml"
check "month sept: lists the names" has "$ERR" "month: unknown name \"sept\" (expected jan feb mar apr may jun jul aug sep oct nov dec, or 1-12)"

# @all runs the main app (as web) and every worker: check says so.
run_check JOBSHIM_JOB=@all -- --config "$EXAMPLE"
expect "@all: check exits 0" 0 "$RC"
expect "@all: web, sidekiq and mailer run here" "web:main (runs here) sidekiq:worker (runs here) mailer:worker (runs here)" \
	"$(awk '/^[a-z]/ { name = $1 } /^  kind: / { sub(/^  kind: /, ""); if ($0 ~ /^(main|worker)/) printf "%s%s:%s", sep, name, $0; sep = " " }' "$OUT")"
run_check JOBSHIM_JOB=@all -- --config "$EXAMPLE" -o json
check "@all json: web selected" json_is "$OUT" 'find(d["jobs"], name="web", kind="main", selected=True)'

# ------------------------------------------- errors as JSON log lines, output errors
# JOBSHIM_LOG_FORMAT=json covers check's own messages too: every stderr line
# is one JSON object of stream "jobshim" carrying the plain message.
json_messages() {
	python3 - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    assert o["stream"] == "jobshim" and o["job"] == "jobshim", o
    print(o["message"])
PY
}
run_check JOBSHIM_LOG_FORMAT=json -- --config "$BROKEN"
expect "json log: broken file exits 2" 2 "$RC"
check "json log: every stderr line is a JSON object" json_messages "$ERR"
expect "json log: the three errors, as messages" 3 "$(json_messages "$ERR" | grep -c "^$BROKEN:")"
check "json log: the unknown size" grep -qxF "$BROKEN:7:11: workerJobs[1].size: unknown size \"huge\" (expected micro, mini, standard-1, standard-2, standard-4)" <(json_messages "$ERR")
check "json log: no plain line" test "$(grep -c '^jobshim' "$ERR")" -eq 0

# A check whose report cannot be written fails (exit 1), and says so.
for fmt in table json; do
	"$JOBSHIM" check --config "$EXAMPLE" -o "$fmt" >/dev/full 2>"$ERR"
	expect "check -o $fmt >/dev/full: exit 1" 1 "$?"
	expect "check -o $fmt >/dev/full: the message" "jobshim check: unable to write the output: No space left on device" "$(cat "$ERR")"
done
JOBSHIM_LOG_FORMAT=json "$JOBSHIM" check --config "$EXAMPLE" >/dev/full 2>"$ERR"
expect "check >/dev/full, json log: exit 1" 1 "$?"
expect "check >/dev/full, json log: the message" "check: unable to write the output: No space left on device" "$(json_messages "$ERR")"
"$JOBSHIM" check --config "$BROKEN" -o json >/dev/full 2>"$ERR"
expect "invalid and unwritable: still exit 2" 2 "$?"
check "invalid and unwritable: the errors and the write error" grep -qF "jobshim check: unable to write the output" "$ERR"

# ------------------------------------------- a broken file never stops the main app
JOBSHIM_CONFIG=$BROKEN pid1 -- /bin/sh -c 'exit 7' >"$OUT" 2>"$ERR"
expect "main app runs despite a broken file" 7 "$?"
check "the errors are warnings" has "$ERR" "warning: $BROKEN:7:11: workerJobs[1].size"
check "the main app's warning is a whole sentence" has "$ERR" "jobshim: warning: the configuration is not valid (see above); the main app starts anyway, with the settings of the layers that are valid"
JOBSHIM_CONFIG=$BROKEN JOBSHIM_JOB=sidekiq pid1 -- /bin/true >"$OUT" 2>"$ERR"
expect "a worker refuses a broken file" 2 "$?"

finish
