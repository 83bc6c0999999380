# jobshim with real third-party workers in Docker (make real-test).
#
#   make real-test   Sidekiq, Celery, nginx, gunicorn and Redis from Debian 12,
#                    in an image whose ENTRYPOINT is build/jobshim-static
#
# The root file system is built with debootstrap (integration/real/rootfs.sh)
# into REAL_CACHE, outside the clone so that CI on this machine reuses it,
# keyed by a hash of that script (which holds the package list); it is
# imported with `docker import` (the ENTRYPOINT set there), and this tree's
# jobshim and the test app are layered on top at each run. Network: none.
# Every container shares the network namespace of one started with
# `--network none` (Redis's), so all traffic stays on 127.0.0.1.

REAL_CACHE  ?= /var/cache/jobshim/real
REAL_PREFIX ?= jobshim-real

.PHONY: real-test
real-test: build/jobshim-static docker-ensure
	@./.ci/ensure-packages debootstrap
	@JOBSHIM=build/jobshim-static REAL_CACHE=$(REAL_CACHE) REAL_PREFIX=$(REAL_PREFIX) \
		./integration/real/run.sh
