#!/usr/bin/env bash
# The deployment examples (examples/docker-compose.yml, examples/k8s/*.yaml,
# examples/app/) are documentation users copy: they must parse as YAML
# (build/yamlcheck, libyaml), select their jobs with JOBSHIM_JOB names that
# exist in their .deploio.yaml (checked with the jobshim under test), and
# give jobshim its grace period: the orchestrator's stop timeout
# (stop_grace_period, terminationGracePeriodSeconds, minus preStop) must
# be above JOBSHIM_GRACE, or it kills jobshim before jobshim's own SIGKILL
# and the last log lines and the exit status are lost.
# shellcheck source=integration/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.." || exit 1
YAMLCHECK=${YAMLCHECK:-$(dirname "$HELPERS")/yamlcheck}
EX=${EXAMPLES:-examples} # another tree, to see the checks fail on bad copies
COMPOSE=$EX/docker-compose.yml
K8S=("$EX"/k8s/*.yaml)

# ms DURATION: a Go-style duration (10s, 1m30s, 500ms) or plain seconds
# (Kubernetes) in milliseconds; nothing when it is neither.
ms() {
	local d=${1//\"/} total=0 n unit
	[[ $d =~ ^[0-9]+$ ]] && {
		echo $((d * 1000))
		return
	}
	[[ $d =~ ^([0-9]+(ms|h|m|s))+$ ]] || return
	while [[ $d =~ ^([0-9]+)(ms|h|m|s)(.*)$ ]]; do
		n=${BASH_REMATCH[1]}
		unit=${BASH_REMATCH[2]}
		d=${BASH_REMATCH[3]}
		case $unit in
		ms) total=$((total + n)) ;;
		s) total=$((total + n * 1000)) ;;
		m) total=$((total + n * 60000)) ;;
		h) total=$((total + n * 3600000)) ;;
		esac
	done
	echo "$total"
}

# env_value FILE NAME: the value of a Kubernetes env entry `- name: NAME`.
env_value() {
	awk -v n="$2" '$0 ~ "- name: " n "$" { getline; sub(/.*value: */, ""); gsub(/"/, ""); print; exit }' "$1"
}

# yaml_value FILE KEY: the first `KEY: value` of FILE, quotes and comments removed.
yaml_value() {
	sed -n "s/^[[:space:]]*$2:[[:space:]]*\\([^#]*\\).*/\\1/p" "$1" | head -n 1 |
		tr -d '"' | sed 's/[[:space:]]*$//'
}

# first_doc FILE: its first YAML document (the Deployment of each k8s file).
first_doc() {
	awk '/^---/ { exit } { print }' "$1"
}

# job_exists CONFIG JOB: the jobshim under test accepts JOBSHIM_JOB=JOB.
# shellcheck disable=SC2317 # called through check
job_exists() {
	JOBSHIM_JOB=$2 "$JOBSHIM" check --config "$1" >/dev/null 2>&1
}

# valid CONFIG: `jobshim check` accepts it.
# shellcheck disable=SC2317 # called through check
valid() {
	"$JOBSHIM" check --config "$1" >/dev/null 2>&1
}

# ---------------------------------------------------------------- YAML
if [ ! -x "$YAMLCHECK" ]; then
	fail "yamlcheck" "$YAMLCHECK not built (make build/yamlcheck)"
	finish
fi
for f in "$COMPOSE" "${K8S[@]}" "$EX"/app/.deploio.yaml; do
	if out=$("$YAMLCHECK" "$f" 2>&1); then ok "yaml: $f parses"; else fail "yaml: $f parses" "$out"; fi
done
# The checker can fail: a tab in indentation is not YAML.
{
	cat "$EX/k8s/web.yaml"
	printf -- '---\na:\n\tb: 1\n'
} >"$TMP/broken.yaml"
out=$("$YAMLCHECK" "$TMP/broken.yaml" 2>&1)
expect "yaml: a broken file is rejected" 1 $?
if grep -qE "^$TMP/broken.yaml:[0-9]+:[0-9]+: " <<<"$out"; then
	ok "yaml: error names file:line:col"
else
	fail "yaml: error names file:line:col" "$out"
fi
expect "yaml: document counts (Deployment + PDB (+ Service | HPA))" \
	"$(printf '%s: 3\n' "$EX/k8s/sidekiq.yaml" "$EX/k8s/web.yaml")" \
	"$("$YAMLCHECK" -c "$EX/k8s/sidekiq.yaml" "$EX/k8s/web.yaml")"

# ---------------------------------------------------------------- app image
DF=$EX/app/Dockerfile
check "app: ENTRYPOINT is jobshim --" grep -qxF 'ENTRYPOINT ["/usr/local/bin/jobshim", "--"]' "$DF"
check "app: copies the static release binary" grep -qE '^COPY build/jobshim-static /usr/local/bin/jobshim$' "$DF"
check "app: says the tests do not build it" grep -qi 'tests do not build it' "$DF"
read -ra srcs < <(sed -n 's/^COPY \(examples\/[^ ]*\( examples\/[^ ]*\)*\) \/app\/$/\1/p' "$DF")
check "app: COPY of the app files" test "${#srcs[@]}" -eq 3
for f in "${srcs[@]}"; do
	check "app: COPY source $f exists" test -f "$f"
done
check "app: its .deploio.yaml is valid (jobshim check)" valid "$EX/app/.deploio.yaml"
check "k8s: examples/deploio.yaml is valid (jobshim check)" valid "$EX/deploio.yaml"

# ---------------------------------------------------------------- compose
check "compose: service web" grep -qE '^  web:' "$COMPOSE"
check "compose: service worker" grep -qE '^  worker:' "$COMPOSE"
check "compose: builds examples/app/Dockerfile" grep -qE 'dockerfile: examples/app/Dockerfile$' "$COMPOSE"
job=$(awk '/^  worker:/ { w = 1 } w && /JOBSHIM_JOB:/ { print $2; exit }' "$COMPOSE")
expect "compose: worker selected by JOBSHIM_JOB" worker "$job"
check "compose: JOBSHIM_JOB=$job is a job of examples/app/.deploio.yaml" \
	job_exists "$EX/app/.deploio.yaml" "$job"
web_job=$(awk '/^  web:/ { w = 1 } /^  worker:/ { w = 0 } w && /JOBSHIM_JOB:/ { print $2 }' "$COMPOSE")
expect "compose: web runs the main app (no JOBSHIM_JOB)" "" "$web_job"
graces=$(sed -n 's/^[[:space:]]*JOBSHIM_GRACE:[[:space:]]*\([^ #]*\).*/\1/p' "$COMPOSE")
stops=$(sed -n 's/^[[:space:]]*stop_grace_period:[[:space:]]*\([^ #]*\).*/\1/p' "$COMPOSE")
check "compose: every service sets JOBSHIM_GRACE" test "$(wc -l <<<"$graces")" -eq 2
check "compose: stop_grace_period set" test -n "$stops"
for g in $graces; do
	for s in $stops; do
		gm=$(ms "$g")
		sm=$(ms "$s")
		if [ -n "$gm" ] && [ -n "$sm" ] && [ "$sm" -gt "$gm" ]; then
			ok "compose: stop_grace_period $s > JOBSHIM_GRACE $g"
		else
			fail "compose: stop_grace_period $s > JOBSHIM_GRACE $g" "not above (or unparsable)"
		fi
	done
done

# ---------------------------------------------------------------- kubernetes
images=()
deployments=()
for f in "${K8S[@]}"; do
	first_doc "$f" >"$TMP/doc.yaml"
	grep -qx 'kind: Deployment' "$TMP/doc.yaml" || continue
	d=$(yaml_value "$TMP/doc.yaml" name)
	deployments+=("$d")
	images+=("$(yaml_value "$TMP/doc.yaml" image)")
	grace=$(env_value "$TMP/doc.yaml" JOBSHIM_GRACE)
	tgps=$(yaml_value "$TMP/doc.yaml" terminationGracePeriodSeconds)
	# preStop time counts against terminationGracePeriodSeconds.
	prestop=$(sed -n 's/.*command: \["sleep", "\([0-9]*\)"\].*/\1/p' "$TMP/doc.yaml")
	gm=$(ms "$grace")
	tm=$(ms "$tgps")
	pm=$(ms "${prestop:-0}")
	if [ -n "$gm" ] && [ -n "$tm" ] && [ "$tm" -gt $((gm + pm)) ]; then
		ok "k8s $d: terminationGracePeriodSeconds $tgps > preStop ${prestop:-0}s + JOBSHIM_GRACE $grace"
	else
		fail "k8s $d: terminationGracePeriodSeconds > preStop + JOBSHIM_GRACE" \
			"tgps [$tgps], preStop [${prestop:-0}], grace [$grace]"
	fi
	job=$(env_value "$TMP/doc.yaml" JOBSHIM_JOB)
	if [ "$d" = web ]; then
		expect "k8s web: runs the main app (no JOBSHIM_JOB)" "" "$job"
	else
		expect "k8s $d: selected by JOBSHIM_JOB=$d" "$d" "$job"
		check "k8s $d: a job of examples/deploio.yaml" job_exists "$EX/deploio.yaml" "$job"
	fi
	check "k8s $d: PodDisruptionBudget" grep -qx 'kind: PodDisruptionBudget' "$f"
done
expect "k8s: one Deployment per job (web, sidekiq)" "sidekiq web" "$(printf '%s\n' "${deployments[@]}" | sort | xargs)"
expect "k8s: every Deployment runs the same image" 1 "$(printf '%s\n' "${images[@]}" | sort -u | wc -l)"
check "k8s: HPA scales the sidekiq Deployment" \
	grep -qzE 'kind: HorizontalPodAutoscaler.*scaleTargetRef:[[:space:]]+apiVersion: apps/v1[[:space:]]+kind: Deployment[[:space:]]+name: sidekiq' \
	"$EX/k8s/sidekiq.yaml"
check "k8s: the kubectl exec stats example" grep -qF 'kubectl exec deploy/sidekiq -- jobshim stats' "$EX/k8s/sidekiq.yaml"

# ---------------------------------------------------------------- Job, CronJob
# One-shot jobs (SPEC §4): jobshim retries, so Kubernetes must not (backoffLimit
# 0, restartPolicy Never); the deadline leaves room for every attempt; the
# CronJob keeps the file's schedule and never overlaps, like @cron.
# check_json JOB FIELD: a field of JOB in `jobshim check -o json`.
check_json() {
	"$JOBSHIM" check --config "$EX/deploio.yaml" -o json |
		jsonq 'find(d["jobs"], name=args[0]).get(args[1], "")' "$1" "$2"
}
for pair in "release-job.yaml:Job:deploy" "nightly-cleanup-cronjob.yaml:CronJob:scheduled"; do
	IFS=: read -r file kind want_kind <<<"$pair"
	f=$EX/k8s/$file
	check "k8s $file: kind $kind" grep -qx "kind: $kind" "$f"
	job=$(env_value "$f" JOBSHIM_JOB)
	check "k8s $file: JOBSHIM_JOB=$job is a job of examples/deploio.yaml" job_exists "$EX/deploio.yaml" "$job"
	expect "k8s $file: $job is a $want_kind job" "$want_kind" "$(check_json "$job" kind)"
	expect "k8s $file: backoffLimit 0 (jobshim retries)" 0 "$(yaml_value "$f" backoffLimit)"
	expect "k8s $file: restartPolicy Never" Never "$(yaml_value "$f" restartPolicy)"
	attempts=$(($(check_json "$job" retries) + 1))
	timeout_ms=$(check_json "$job" timeout_ms)
	grace_ms=$(ms "$(env_value "$f" JOBSHIM_GRACE)")
	deadline_ms=$(ms "$(yaml_value "$f" activeDeadlineSeconds)")
	need=$((attempts * (timeout_ms + grace_ms)))
	check "k8s $file: activeDeadlineSeconds ${deadline_ms}ms > $attempts × (timeout + grace) = ${need}ms" \
		test "$deadline_ms" -gt "$need"
	tgps_ms=$(ms "$(yaml_value "$f" terminationGracePeriodSeconds)")
	check "k8s $file: terminationGracePeriodSeconds > JOBSHIM_GRACE" test "$tgps_ms" -gt "$grace_ms"
done
C=$EX/k8s/nightly-cleanup-cronjob.yaml
expect "k8s CronJob: the schedule of .deploio.yaml" "$(check_json nightly-cleanup schedule)" "$(yaml_value "$C" schedule)"
expect "k8s CronJob: no overlap" Forbid "$(yaml_value "$C" concurrencyPolicy)"
expect "yaml: Job and CronJob are one document each" \
	"$(printf '%s: 1\n' "$EX/k8s/release-job.yaml" "$C")" \
	"$("$YAMLCHECK" -c "$EX/k8s/release-job.yaml" "$C")"

finish
