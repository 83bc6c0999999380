# jobshim — build, test and release.
#
#   make            build/jobshim (dynamic, for development and tests)
#   make static     build/jobshim-static (the release binary, statically linked)
#   make check      unit + integration tests (installs what is missing first)
#   make check SAN=1  the same built with ASan+UBSan (into build-san/)
#   make demo       run the bundled example under jobshim as PID 1
#   make fresh-check  make demo + make check on a fresh Debian 12 (chroot)
#
# Every target installs the Debian packages it needs first (as root; else
# it prints the apt-get command). Fragments in mk/*.mk add targets (seccomp
# tables, fuzzing, musl, docker, bench, fresh); each appends what
# `make check` needs to CHECK_TARGETS.

SHELL      := /bin/bash
CC         := gcc
SAN        ?=
BUILD      ?= $(if $(SAN),build-san,build)
VERSION    := 0.1.0

PKGS       := yaml-0.1 libcap libseccomp
WARN       := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
              -Wmissing-prototypes -Wformat=2 -Wvla
HARDEN     := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
comma      := ,
SANFLAGS   := $(if $(SAN),-fsanitize=address$(comma)undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
OPT        ?= -O2 -g
CPPFLAGS   += -D_GNU_SOURCE -DJOBSHIM_VERSION='"$(VERSION)"' -iquote runtime -iquote shim -I$(BUILD)/gen
CFLAGS     += $(WARN) $(HARDEN) $(OPT) $(SANFLAGS)
LDFLAGS    += $(SANFLAGS)
LDLIBS     += -lyaml -lcap -lseccomp

RUNTIME_SRC := $(sort $(wildcard runtime/*.c))
RUNTIME_OBJ := $(RUNTIME_SRC:%.c=$(BUILD)/obj/%.o)
SHIM_LIB_SRC := $(filter-out shim/main.c,$(sort $(wildcard shim/*.c)))
SHIM_LIB_OBJ := $(SHIM_LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB         := $(BUILD)/libjobshim.a
TEST_SRC    := $(sort $(wildcard tests/test_*.c))
TEST_BIN    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
HELPER_SRC  := $(sort $(wildcard integration/helpers/*.c))
HELPER_BIN  := $(HELPER_SRC:integration/helpers/%.c=build/helpers/%)

# Generated headers (mk/*.mk add to it); every object waits for them.
GENERATED   :=
CHECK_TARGETS := unit integration

.PHONY: all static check unit integration demo clean deps format format-check shellcheck help
all: $(BUILD)/jobshim

# ---------------------------------------------------------------- deps
# The build needs Debian packages; `deps` installs the missing ones (as
# root), or says the one command to run and fails, before any compiler runs.
# Defined before the fragments are included: their rules name $(DEPS_STAMP)
# as an order-only prerequisite, and make expands prerequisites as it reads
# them. A phony order-only prerequisite runs once per make and rebuilds
# nothing; the check is one dpkg-query. Fragments add what their targets
# need: DEPS_PKGS_<goal> += PKG... (e.g. DEPS_PKGS_bench), used when that
# goal is on the command line.
DEB_BUILD_PKGS := gcc make pkg-config libyaml-dev libcap-dev libseccomp-dev \
                  libcmocka-dev clang libclang-rt-14-dev clang-format shellcheck \
                  util-linux procps bsdutils python3 file git strace tzdata tmux
DEPS_GOALS  = $(or $(MAKECMDGOALS),all)
DEPS_PKGS   = $(sort $(DEB_BUILD_PKGS) $(foreach g,$(DEPS_GOALS),$(DEPS_PKGS_$(g))))
DEPS_STAMP  := deps
.PHONY: deps
deps:
	@./.ci/ensure-packages $(DEPS_PKGS)

include $(sort $(wildcard mk/*.mk))

# ---------------------------------------------------------------- build
$(BUILD)/obj/%.o: %.c $(GENERATED) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(RUNTIME_OBJ) $(SHIM_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/jobshim: $(BUILD)/obj/shim/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Static glibc release build (make static-glibc); mk/musl.mk may redefine
# `static` to build with musl.
build/jobshim-static-glibc: build/obj/shim/main.o build/libjobshim.a | $(DEPS_STAMP)
	$(CC) -static -o $@ $^ $(LDLIBS)
	@file $@ | grep -q 'statically linked' || { echo "not static: $@"; exit 1; }
	@strip $@
.PHONY: static-glibc
static-glibc: build/jobshim-static-glibc
ifndef STATIC_RULE_DEFINED
static: build/jobshim-static
build/jobshim-static: build/jobshim-static-glibc
	cp $< $@
endif

-include $(shell find $(BUILD)/obj $(BUILD)/tests -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------- tests
# The tests check JSON with integration/jsonq.py (python3, in DEB_BUILD_PKGS).
TEST_CPPFLAGS := -DJSONQ='"$(abspath integration/jsonq.py)"'
$(BUILD)/tests/%: tests/%.c $(LIB) $(GENERATED) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(TEST_CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -MMD -MP -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS) -lcmocka

# Static test helpers run inside PID namespaces and FROM-scratch images.
build/helpers/%: integration/helpers/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -static -o $@ $< -lpthread

unit: $(TEST_BIN)
	@./tests/run-unit.sh $(TEST_BIN)

integration: $(BUILD)/jobshim $(HELPER_BIN)
	@JOBSHIM=$(abspath $(BUILD)/jobshim) HELPERS=$(abspath build/helpers) \
		./integration/run.sh

check: $(CHECK_TARGETS)

# ---------------------------------------------------------------- demo
demo: $(BUILD)/jobshim $(HELPER_BIN)
	@./examples/demo/run.sh $(abspath $(BUILD)/jobshim)

# ---------------------------------------------------------------- style
C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
SH_FILES = $(shell git ls-files '*.sh' .ci/run .ci/ensure-packages .ci/ensure-docker .ci/fresh-check 2>/dev/null)
format: | $(DEPS_STAMP)
	clang-format -i $(C_FILES)
format-check: | $(DEPS_STAMP)
	clang-format --dry-run --Werror $(C_FILES)
shellcheck: | $(DEPS_STAMP)
	shellcheck -x $(SH_FILES)

clean:
	rm -rf build build-san

help:
	@sed -n '3,14p' Makefile
