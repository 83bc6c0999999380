# libFuzzer targets (fuzz/fuzz_NAME.c, seed corpus fuzz/corpus/NAME/).
#
#   make fuzz                   build build/fuzz/fuzz_NAME for every target
#   make fuzz-run               run each for FUZZ_SECONDS (default 60) over a
#                               copy of its seed corpus; fails on any finding
#   make fuzz-run FUZZ_TARGETS=config   only some of them
#
# Built with clang from the runtime sources directly (not the gcc-built
# archive), so that the code under test carries the fuzzer's coverage
# instrumentation and ASan/UBSan.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=undefined
FUZZ_SRC     := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_NAMES   := $(FUZZ_SRC:fuzz/fuzz_%.c=%)
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_BIN     := $(FUZZ_NAMES:%=build/fuzz/fuzz_%)

# The runtime sources each target needs (kept small: no libcap/libseccomp).
FUZZ_DEPS_config := runtime/config.c runtime/cron.c runtime/duration.c runtime/xio.c \
                    runtime/err.c runtime/sizes.c
FUZZ_DEPS_logpfx := runtime/logpfx.c runtime/log.c runtime/outq.c runtime/xio.c
FUZZ_DEPS_control := runtime/control.c runtime/err.c runtime/signame.c runtime/log.c runtime/outq.c runtime/status.c \
                     runtime/rundir.c runtime/procstat.c runtime/xio.c
FUZZ_DEPS_cron   := runtime/cron.c runtime/duration.c runtime/err.c runtime/xio.c
FUZZ_DEPS_status := runtime/status.c runtime/rundir.c runtime/procstat.c runtime/log.c \
                    runtime/outq.c runtime/xio.c
FUZZ_LIBS_config := -lyaml

.PHONY: fuzz fuzz-run
fuzz: $(FUZZ_BIN)

# One rule per target (a template rather than .SECONDEXPANSION, which would
# change how every later rule of the Makefile is read).
define FUZZ_RULE
build/fuzz/fuzz_$(1): fuzz/fuzz_$(1).c $$(FUZZ_DEPS_$(1)) $$(wildcard runtime/*.h) | $$(DEPS_STAMP)
	@mkdir -p $$(@D)
	$$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -Iruntime -Wall -Wextra $$(FUZZ_FLAGS) -o $$@ \
		$$< $$(FUZZ_DEPS_$(1)) $$(FUZZ_LIBS_$(1))
endef
$(foreach t,$(FUZZ_NAMES),$(eval $(call FUZZ_RULE,$(t))))

# Each run works on a copy of the seed corpus (new inputs land there, not in
# the repository); crash/leak/timeout files go to build/fuzz/artifacts-NAME/.
fuzz-run: $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
	@set -e; for t in $(FUZZ_TARGETS); do \
		c=build/fuzz/corpus-$$t; a=build/fuzz/artifacts-$$t/; \
		rm -rf "$$a"; mkdir -p "$$c" "$$a"; \
		if [ -d fuzz/corpus/$$t ]; then cp -r fuzz/corpus/$$t/. "$$c"/; fi; \
		echo "fuzz-run: $$t for $(FUZZ_SECONDS)s"; \
		if ! build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 -max_len=1100000 -print_final_stats=1 \
			-artifact_prefix="$$a" "$$c" > build/fuzz/fuzz_$$t.log 2>&1; then \
			tail -n 40 build/fuzz/fuzz_$$t.log; \
			echo "fuzz-run: $$t FAILED (artifacts in $$a)"; exit 1; \
		fi; \
		grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
			build/fuzz/fuzz_$$t.log | sed "s/^/fuzz-run: $$t /"; \
	done
