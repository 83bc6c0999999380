# seccomp profiles (SPEC §7): tools/seccomp-gen compiles the tables in
# tools/seccomp-profile.c into compact BPF (tools/seccomp-compact.c) at build
# time and prints the programs as a header that runtime/seccomp.c embeds.
# jobshim itself loads the precomputed program (PERF-NOTES). tests/test_seccomp
# links the same code and libseccomp's builder, checks that the embedded
# programs are what the compiler makes now, and runs them and libseccomp's
# through a BPF interpreter over every input class: the same actions.

SECCOMP_GEN     := $(BUILD)/tools/seccomp-gen
SECCOMP_FILTERS := $(BUILD)/gen/seccomp_filters.h
SECCOMP_PROFILE := tools/seccomp-profile.c tools/seccomp-profile.h tools/seccomp-compact.c \
                   tools/seccomp-compact.h
GENERATED       += $(SECCOMP_FILTERS)

$(SECCOMP_GEN): tools/seccomp-gen.c $(SECCOMP_PROFILE) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -D_GNU_SOURCE -Itools $(WARN) -O2 -o $@ tools/seccomp-gen.c tools/seccomp-profile.c \
		tools/seccomp-compact.c -lseccomp

$(SECCOMP_FILTERS): $(SECCOMP_GEN)
	@mkdir -p $(@D)
	$(SECCOMP_GEN) > $@.tmp
	mv $@.tmp $@

$(BUILD)/tests/test_seccomp: tests/test_seccomp.c $(SECCOMP_PROFILE) $(LIB) $(GENERATED) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itools $(CFLAGS) -Wno-missing-prototypes -o $@ tests/test_seccomp.c \
		tools/seccomp-profile.c tools/seccomp-compact.c $(LIB) $(LDFLAGS) $(LDLIBS) -lcmocka
