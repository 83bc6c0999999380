#!/usr/bin/env bash
# Runs every integration/test_*.sh (or those given as arguments) with all
# signal dispositions reset, and prints one closing summary line.
set -u
cd "$(dirname "$0")/.." || exit 1
: "${JOBSHIM:?}" "${HELPERS:?}"
# Each run gets its own /run (a tmpfs in a private mount namespace), so that
# the default run dir /run/jobshim of one run (another clone's, or a real
# jobshim's on this machine) can never hold the locks of another.
if [ -z "${JOBSHIM_IT_PRIVATE_RUN:-}" ]; then
	# shellcheck disable=SC2016 # expanded by the inner bash
	JOBSHIM_IT_PRIVATE_RUN=1 exec unshare --mount --propagation private \
		bash -c 'mount -t tmpfs -o mode=0755 jobshim-it /run && exec "$0" "$@"' "$0" "$@"
fi
export JOBSHIM HELPERS
passed=0
failed=0
scripts=("$@")
[ ${#scripts[@]} -gt 0 ] || mapfile -t scripts < <(ls integration/test_*.sh)
for t in "${scripts[@]}"; do
	log=$(mktemp)
	"$HELPERS/sigreset" bash "$t" >"$log" 2>&1
	rc=$?
	grep -E '^(not ok|ok) - ' "$log" | grep -v '^ok - ' || true
	summary=$(grep -E ': [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	p=$(sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' <<<"$summary")
	f=$(sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' <<<"$summary")
	if [ -z "$summary" ] || { [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; }; then
		echo "$t: exited $rc without a summary; last lines:"
		tail -n 15 "$log"
		f=$((${f:-0} + 1))
	fi
	echo "${summary:-$t: no summary}"
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	rm -f "$log"
done
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
