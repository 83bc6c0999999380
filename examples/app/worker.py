"""The example app's worker job (JOBSHIM_JOB=worker).

jobshim runs it as `/bin/sh -c "python3 worker.py"`, prefixes each line it
prints with `worker | `, restarts it when it exits, and on shutdown forwards
SIGTERM: the worker finishes the task in hand and exits 0 within
JOBSHIM_GRACE.
"""
import os
import signal
import sys
import time

stopping = False


def on_term(signum, _frame):
    global stopping
    print(f"got signal {signum}: finishing the current task", flush=True)
    stopping = True


def main():
    signal.signal(signal.SIGTERM, on_term)
    queue = os.environ.get("QUEUE", "default")
    print(f"working on queue {queue}", flush=True)
    n = 0
    while not stopping:
        n += 1
        print(f"task {n} done", flush=True)
        time.sleep(2)
    print("stopped cleanly", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
