# jobshim in real containers (Docker).
#
#   make docker-image   the test image jobshim-test, FROM scratch
#   make docker-test    black-box tests of it under dockerd (part of `make check`)
#   build/yamlcheck     parses YAML files with libyaml (integration/test_examples.sh)
#
# No image registry is needed: the image holds only what is built here or
# installed from Debian. Its root file system is prepared under
# build/docker-ctx/rootfs and copied in whole (COPY keeps the symlinks and
# modes):
#   /usr/local/bin/jobshim              build/jobshim-static (the release binary)
#   /usr/local/bin/{sigprobe,sysprobe}  the static test helpers
#   /bin/busybox + a symlink per applet Debian's busybox-static (/bin/sh, ...)
#   /etc/passwd, /etc/group             root, app (1000), nobody (65534)
#   /tmp (1777), /run, /app/.deploio.yaml (a `worker` job)
# `make docker-test` fails when no docker daemon can be started: it is never
# skipped.

DOCKER_IMAGE   ?= jobshim-test
DOCKER_CTX     := build/docker-ctx
DOCKER_ROOTFS  := $(DOCKER_CTX)/rootfs
DOCKER_HELPERS := build/helpers/sigprobe build/helpers/sysprobe
BUSYBOX        := /bin/busybox
YAMLCHECK      := build/yamlcheck

CHECK_TARGETS += docker-test
$(foreach g,check docker-test docker-image docker-ctx,$(eval DEPS_PKGS_$(g) += docker.io busybox-static))

.PHONY: docker-test docker-image docker-ctx docker-ensure

docker-ensure: | $(DEPS_STAMP)
	@./.ci/ensure-docker

$(BUSYBOX): | $(DEPS_STAMP)
	@./.ci/ensure-packages busybox-static

# Rebuilt from scratch each time (a few MB): a stale file can never linger.
docker-ctx: build/jobshim-static $(DOCKER_HELPERS) $(BUSYBOX) Dockerfile.test \
		integration/docker/deploio.yaml
	@rm -rf $(DOCKER_CTX)
	@mkdir -p $(DOCKER_ROOTFS)/bin $(DOCKER_ROOTFS)/etc $(DOCKER_ROOTFS)/usr/local/bin \
		$(DOCKER_ROOTFS)/tmp $(DOCKER_ROOTFS)/run $(DOCKER_ROOTFS)/app
	@cp Dockerfile.test $(DOCKER_CTX)/Dockerfile
	@cp build/jobshim-static $(DOCKER_ROOTFS)/usr/local/bin/jobshim
	@cp $(DOCKER_HELPERS) $(DOCKER_ROOTFS)/usr/local/bin/
	@cp $(BUSYBOX) $(DOCKER_ROOTFS)/bin/busybox
	@# busybox --install -s cannot run at build time in a FROM scratch image
	@# (no shell to RUN it), so the applet links are made here.
	@for a in $$($(BUSYBOX) --list); do \
		[ "$$a" = busybox ] || ln -s busybox $(DOCKER_ROOTFS)/bin/$$a; done
	@printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'app:x:1000:1000:app:/app:/bin/sh' \
		'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' > $(DOCKER_ROOTFS)/etc/passwd
	@printf '%s\n' 'root:x:0:' 'app:x:1000:' 'nogroup:x:65534:' > $(DOCKER_ROOTFS)/etc/group
	@cp integration/docker/deploio.yaml $(DOCKER_ROOTFS)/app/.deploio.yaml
	@chmod 1777 $(DOCKER_ROOTFS)/tmp
	@chmod 755 $(DOCKER_ROOTFS)/run $(DOCKER_ROOTFS)/app

# Always asks docker: its layer cache makes an unchanged context a no-op, and
# a removed image is rebuilt. The classic builder: the Debian docker.io has
# no buildx plugin.
docker-image: docker-ctx docker-ensure
	@echo "docker build -t $(DOCKER_IMAGE) $(DOCKER_CTX)"
	@out=$$(DOCKER_BUILDKIT=0 docker build -q -t $(DOCKER_IMAGE) $(DOCKER_CTX) 2>&1) || \
		{ echo "$$out" >&2; exit 1; }

docker-test: docker-image
	@DOCKER_IMAGE=$(DOCKER_IMAGE) ./integration/docker/test_docker.sh

# ---------------------------------------------------------------- examples
# A dynamic build is fine: it only runs on the build machine.
$(YAMLCHECK): integration/docker/yamlcheck.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(WARN) -D_GNU_SOURCE -O2 -o $@ $< -lyaml

# integration/test_examples.sh (run by `make integration`) needs it.
integration: $(YAMLCHECK)
