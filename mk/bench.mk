# Benchmarks against tini, dumb-init and catatonit (issue 7; bench/README.md).
# Not part of `make check`: it takes minutes and needs a quiet machine.
#
#   make bench                 everything; prints a Markdown table
#   make bench BENCH_QUICK=1   256 MiB instead of 1 GiB per throughput run
#   make bench BENCH_README=1  also write the table into bench/README.md
# (bench/run.sh lists the other BENCH_* knobs; make passes them through the
# environment.)

BENCH_PKGS  := tini dumb-init catatonit
BENCH_TOOLS := spawnloop pid1run orphans linegen drain measure linelat stamp
BENCH_BIN   := $(BENCH_TOOLS:%=build/bench/%) build/bench/mininit build/bench/filterload

DEPS_PKGS_bench += $(BENCH_PKGS) musl-tools

.PHONY: bench bench-deps bench-tools
# The packages come with `deps` (DEPS_PKGS_bench), so that a non-root user
# gets one list.
bench-deps: | $(DEPS_STAMP)

bench-tools: $(BENCH_BIN)

# Static like the integration helpers: they run inside fresh PID namespaces.
$(BENCH_TOOLS:%=build/bench/%): build/bench/%: bench/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(WARN) -D_GNU_SOURCE -O2 -static -o $@ $<

# The floor for start-up and memory: built like the release binary (musl,
# static, -Os, stripped) so that the comparison is like for like.
build/bench/mininit: bench/mininit.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	musl-gcc $(WARN) -D_GNU_SOURCE -Os -static -s -o $@ $<

# The seccomp filter's load cost: jobshim's compact program against
# libseccomp's of the same table (bench/filterload.c).
build/bench/filterload: bench/filterload.c tools/seccomp-profile.c tools/seccomp-profile.h \
		tools/seccomp-compact.c tools/seccomp-compact.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(WARN) -D_GNU_SOURCE -O2 -Itools -o $@ bench/filterload.c tools/seccomp-profile.c \
		tools/seccomp-compact.c -lseccomp

# The line prefixer alone, in process (bench/logpfx_bench.c), for profiling.
build/bench/logpfx_bench: bench/logpfx_bench.c runtime/logpfx.c runtime/log.c runtime/xio.c runtime/outq.c \
		$(GENERATED) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g -iquote runtime -I$(BUILD)/gen -o $@ $(filter %.c,$^)

bench: bench-deps build/jobshim-static build/jobshim-static-glibc $(BENCH_BIN)
	@./bench/run.sh
