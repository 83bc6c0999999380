"""pytest plugin (-p report): one line a test, "NODEID<TAB>passed|failed",
into the file named by PEER_REPORT. A test fails when any of its phases
(setup, call, teardown) failed."""
import os

_outcome = {}


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
