# Release binary: static musl build (make static).
#
# glibc is not meant to be linked statically (NSS, iconv and dlopen surprises,
# and a large binary), so `static` links against musl instead. libyaml,
# libseccomp and libcap are rebuilt with musl-gcc from Debian's source
# packages by mk/build-musl-deps.sh, so the release binary carries the same
# library versions and Debian patches as the dynamic development build.
# `make static-glibc` (top-level Makefile) remains for comparison.
#
#   make musl-deps     fetch + build the three libraries into build/musl/prefix
#   make static        build/jobshim-static (musl, static, stripped)
#   make static-size   sizes of the musl and glibc static binaries

# Tells the top-level Makefile not to define its glibc `static` fallback.
STATIC_RULE_DEFINED := 1

MUSL_CC      := musl-gcc
MUSL_DIR     := build/musl
MUSL_PREFIX  := $(MUSL_DIR)/prefix
MUSL_STAMP   := $(MUSL_PREFIX)/.done
MUSL_OBJDIR  := build/musl-obj
MUSL_LIBS    := $(addprefix $(MUSL_PREFIX)/lib/,libyaml.a libseccomp.a libcap.a)
# Above this the binary has grown a lot; warn rather than fail.
MUSL_SIZE_BUDGET := 307200

# The same sources as build/jobshim.
MUSL_SRC = $(RUNTIME_SRC) $(SHIM_LIB_SRC) shim/main.c
MUSL_OBJ = $(MUSL_SRC:%.c=$(MUSL_OBJDIR)/%.o)

# musl-gcc's specs use -nostdinc, so /usr/include is invisible: the musl
# builds of the libraries and the kernel UAPI headers (linux/, asm/,
# asm-generic/ symlinked by the script) are added as system dirs.
MUSL_INC     = -isystem $(MUSL_PREFIX)/include -isystem $(MUSL_PREFIX)/kernel-include
# musl has no _FORTIFY_SOURCE support (glibc's __*_chk functions), so it is
# dropped; the stack protector works with musl and stays. -Os and
# per-function sections let --gc-sections keep the binary small; link-time
# optimization inlines across runtime's files again (supervise and its
# sup_*.c parts share small helpers): 8 KiB less.
MUSL_CFLAGS  = $(WARN) $(filter-out -D_FORTIFY_SOURCE%,$(HARDEN)) -Os \
               -ffunction-sections -fdata-sections -flto
MUSL_LDFLAGS := -static -Wl,--gc-sections -s -flto=auto

# What mk/build-musl-deps.sh needs (it checks them itself too), installed
# by `deps` for every goal that builds the release binary, so that a
# non-root user gets one list of packages to install.
MUSL_BUILD_PKGS := musl-tools dpkg-dev gcc make gperf autoconf automake libtool linux-libc-dev
$(foreach g,static musl-deps check docker-test docker-image bench,\
	$(eval DEPS_PKGS_$(g) += $(MUSL_BUILD_PKGS)))

.PHONY: musl-deps static-size
musl-deps: $(MUSL_STAMP)

# No prerequisite on the script: it is a no-op while the stamp exists, so a
# newer script would make every object look stale forever. To rebuild the
# libraries: rm -rf build/musl.
$(MUSL_STAMP): | $(DEPS_STAMP)
	@./mk/build-musl-deps.sh $(MUSL_DIR)

# Fragments sorted after this one (mk/seccomp*.mk, ...) still append to
# GENERATED, so it must be expanded only once all makefiles are read.
.SECONDEXPANSION:
$(MUSL_OBJDIR)/%.o: %.c $$(GENERATED) $(MUSL_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(CPPFLAGS) $(MUSL_INC) $(MUSL_CFLAGS) -MMD -MP -c -o $@ $<

static: build/jobshim-static
build/jobshim-static: $(MUSL_OBJ) $(MUSL_LIBS)
	$(MUSL_CC) $(MUSL_LDFLAGS) -o $@ $(MUSL_OBJ) $(MUSL_LIBS)
	@if readelf -d $@ | grep -q 'no dynamic section'; then :; else \
		echo "not static: $@" >&2; rm -f $@; exit 1; fi
	@size=$$(stat -c %s $@); echo "$@: $$size bytes (static musl, stripped)"; \
	if [ $$size -gt $(MUSL_SIZE_BUDGET) ]; then \
		echo "warning: $@ exceeds the $(MUSL_SIZE_BUDGET)-byte budget" >&2; fi

# The black-box suite against the release binary itself, which CI runs
# besides `make integration` (glibc): musl's stdio and libc differ (a
# failed write of a short answer surfaced in fputs, not in fflush).
.PHONY: integration-static
integration-static: build/jobshim-static $(HELPER_BIN)
	@JOBSHIM=$(abspath build/jobshim-static) HELPERS=$(abspath build/helpers) \
		./integration/run.sh

# The libraries come out of the stamp's recipe.
$(MUSL_LIBS): $(MUSL_STAMP)

static-size:
	@for f in build/jobshim-static build/jobshim-static-glibc; do \
		if [ -f $$f ]; then printf '%-28s %8s bytes\n' $$f $$(stat -c %s $$f); \
		else printf '%-28s %8s\n' $$f '(not built)'; fi; done

-include $(shell find $(MUSL_OBJDIR) -name '*.d' 2>/dev/null)

# The schedules' tests against musl's localtime (the release binary's libc),
# through a minimal cmocka stand-in: zone handling must agree with glibc's.
MUSL_UNIT := test_cron
CHECK_TARGETS += unit-musl
.PHONY: unit-musl
unit-musl: $(MUSL_UNIT:%=build/musl-tests/%)
	@for t in $^; do $$t || exit 1; done
build/musl-tests/test_cron: tests/test_cron.c tests/musl/cmocka.h runtime/cron.c runtime/duration.c runtime/err.c runtime/xio.c $(MUSL_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(CPPFLAGS) -I tests/musl $(MUSL_INC) -std=c11 -O1 -static -o $@ \
		tests/test_cron.c runtime/cron.c runtime/duration.c runtime/err.c runtime/xio.c
