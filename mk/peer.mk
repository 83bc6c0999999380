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
peer-test: $(BUILD)/jobshim
	@./integration/peer/run.sh $(abspath $(BUILD)/jobshim)

peer-test-peers:
	@./integration/peer/run.sh --peers
