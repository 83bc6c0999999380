# The peers' own test suites against jobshim under their names (issue 17,
# SPEC §11; integration/peer/run.sh says how).
#
#   make peer-test         dumb-init's and tini's suites, jobshim standing in
#   make peer-test-peers   the same suites against the peers' own binaries
#                          (Debian's tini and dumb-init), to validate the rig
#
# Not part of `make check` (it fetches two source packages and takes about
# two minutes); .ci/run runs it as a step of its own.

.PHONY: peer-test peer-test-peers
# Under build/helpers/sigreset, as the integration tests: GNU make leaves
# signals 32 and 33 ignored, jobshim (like tini) passes dispositions on, and
# tini's signal-configuration test has no name for them.
peer-test: $(BUILD)/jobshim build/helpers/sigreset
	@build/helpers/sigreset ./integration/peer/run.sh $(abspath $(BUILD)/jobshim)

peer-test-peers: build/helpers/sigreset
	@build/helpers/sigreset ./integration/peer/run.sh --peers
