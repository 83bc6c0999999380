"""PID 1 of the peer suites' fresh PID namespace: runs the command given as
its arguments, reaps every orphan that is re-parented to it (as a real init
would, so that zombies never pile up between tests), and exits with the
command's status."""
import os
import sys


def main():
    pid = os.fork()
    if pid == 0:
        os.execvp(sys.argv[1], sys.argv[1:])
    while True:
        try:
            wpid, status = os.wait()
        except ChildProcessError:
            sys.exit(1)
        if wpid == pid:
            sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)


if __name__ == "__main__":
    main()
