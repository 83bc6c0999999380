# The web app of the @all and deploy tests: answers with its pid (so the
# suite sees whether the worker process is still the same) and whether the
# migration ran before it started.
import os

MIGRATED_AT_START = os.path.exists("/tmp/migrated")


def app(environ, start_response):
    body = "web pid %d migrated %s\n" % (os.getppid(), MIGRATED_AT_START)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body.encode()]
