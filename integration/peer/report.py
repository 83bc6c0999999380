"""pytest plugin (-p report): one line a test, "NODEID<TAB>passed|failed",
into the file named by PEER_REPORT. A test fails when any of its phases
(setup, call, teardown) failed.

Under load (a shared 2-core machine) dumb-init's own bounds are too tight
for the peers' binaries as much as for jobshim: its helper sleep_until
waits 1.5 s by default. PEER_WAIT_S (seconds) raises that default; the
tests' logic is unchanged."""
import os

_outcome = {}


def pytest_configure(config):
    wait = os.environ.get("PEER_WAIT_S")
    if wait:
        import testing  # dumb-init's helpers (python -m puts the cwd on sys.path)

        testing.sleep_until.__defaults__ = (float(wait),)


def pytest_runtest_logreport(report):
    prev = _outcome.get(report.nodeid, "passed")
    if report.failed or prev == "failed":
        _outcome[report.nodeid] = "failed"
    else:
        _outcome[report.nodeid] = "passed"


def pytest_sessionfinish(session, exitstatus):
    with open(os.environ["PEER_REPORT"], "w") as f:
        for nodeid, outcome in _outcome.items():
            f.write("{}\t{}\n".format(nodeid, outcome))
