/* See seccomp-compact.h. The program:
 *
 *   arch != AUDIT_ARCH_X86_64              -> KILL_PROCESS (i386 int 0x80 too)
 *   nr >= 0x40000000 && nr != 0xffffffff   -> KILL_PROCESS (x32)
 *   a balanced tree of `nr >= start` over the runs; each leaf is the run's
 *   action, or for a syscall with an argument rule, that rule on the low
 *   32 bits of args[0]
 *
 * which is what libseccomp decides for the same table (its attributes:
 * SCMP_FLTATR_ACT_BADARCH = KILL_PROCESS, default action ENOSYS). */
#include "seccomp-compact.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>

#define X32_BIT	   0x40000000U
#define RET_KILL   SECCOMP_RET_KILL_PROCESS
#define RET_ALLOW  SECCOMP_RET_ALLOW
#define RET_EPERM  (SECCOMP_RET_ERRNO | EPERM)
#define RET_ENOSYS (SECCOMP_RET_ERRNO | ENOSYS)
#define JMP_MAX	   255 /* jt and jf are 8 bits */

enum cls { CL_ALLOW, CL_EPERM, CL_ENOSYS, CL_ARGS };

struct run {
	uint32_t start; /* the first number of the run; it ends where the next starts */
	enum cls cls;
	struct scprof_argrule rule; /* CL_ARGS: a run of one syscall */
};

struct prog {
	struct run runs[SCPROF_MAX_NR + 1];
	size_t nruns;
	struct sock_filter *out;
	size_t cap, n;
};

static enum cls classify(enum scprof p, int nr)
{
	switch (scprof_verdict(p, nr)) {
	case SCV_ALLOW:
		return CL_ALLOW;
	case SCV_EPERM:
		return CL_EPERM;
	case SCV_ARGS:
		return CL_ARGS;
	case SCV_UNKNOWN:
	case SCV_ENOSYS:
		break;
	}
	return CL_ENOSYS;
}

static int make_runs(enum scprof p, struct prog *g)
{
	g->nruns = 0;
	for (int nr = 0; nr <= SCPROF_MAX_NR; nr++) {
		/* past the table: unknown, the default action */
		enum cls c = nr < SCPROF_MAX_NR ? classify(p, nr) : CL_ENOSYS;
		struct run *last = g->nruns ? &g->runs[g->nruns - 1] : NULL;
		if (last && c != CL_ARGS && last->cls == c)
			continue;
		struct run *r = &g->runs[g->nruns++];
		r->start = (uint32_t)nr;
		r->cls = c;
		if (c == CL_ARGS && scprof_argrule(nr, &r->rule) < 0)
			return -EINVAL;
	}
	return 0;
}

static void emit(struct prog *g, struct sock_filter f)
{
	if (g->n < g->cap)
		g->out[g->n] = f;
	g->n++;
}

static size_t leaf_size(const struct run *r)
{
	if (r->cls != CL_ARGS)
		return 1;
	/* load, one comparison a value (or one JSET), two returns */
	return 1 + (r->rule.kind == SCA_REFUSE_FLAGS ? 1 : r->rule.n) + 2;
}

static size_t tree_size(const struct prog *g, size_t lo, size_t hi)
{
	if (lo == hi)
		return leaf_size(&g->runs[lo]);
	size_t mid = (lo + hi + 1) / 2, left = tree_size(g, lo, mid - 1);
	return 1 + (left > JMP_MAX) + left + tree_size(g, mid, hi);
}

static uint32_t action(enum cls c)
{
	return c == CL_ALLOW ? RET_ALLOW : c == CL_EPERM ? RET_EPERM : RET_ENOSYS;
}

static void emit_leaf(struct prog *g, const struct run *r)
{
	const struct scprof_argrule *a = &r->rule;

	if (r->cls != CL_ARGS) {
		emit(g, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action(r->cls)));
		return;
	}
	/* The low half of args[0] (x86_64 is little-endian). */
	emit(g, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					     offsetof(struct seccomp_data, args[0])));
	if (a->kind == SCA_REFUSE_FLAGS) {
		emit(g, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, a->flags, 1, 0));
	} else {
		/* a match jumps over the remaining comparisons and the first
		 * return, to the second */
		for (size_t i = 0; i < a->n; i++)
			emit(g,
			     (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, a->values[i],
							  (uint8_t)(a->n - 1 - i + 1), 0));
	}
	bool match_allowed = a->kind == SCA_ALLOW_VALUES;
	emit(g,
	     (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, match_allowed ? RET_EPERM : RET_ALLOW));
	emit(g,
	     (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, match_allowed ? RET_ALLOW : RET_EPERM));
}

/* [JGE start(mid)] [left] [right], with a JA after the JGE when the left
 * subtree is too long for an 8-bit jump. */
static void emit_tree(struct prog *g, size_t lo, size_t hi)
{
	if (lo == hi) {
		emit_leaf(g, &g->runs[lo]);
		return;
	}
	size_t mid = (lo + hi + 1) / 2, left = tree_size(g, lo, mid - 1);
	uint32_t k = g->runs[mid].start;
	if (left <= JMP_MAX) {
		emit(g,
		     (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, k, (uint8_t)left, 0));
	} else {
		emit(g, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, k, 0, 1));
		emit(g, (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)left));
	}
	emit_tree(g, lo, mid - 1);
	emit_tree(g, mid, hi);
}

size_t scprof_compact_runs(enum scprof p)
{
	static struct prog g;
	return make_runs(p, &g) < 0 ? 0 : g.nruns;
}

int scprof_compact(enum scprof p, struct sock_filter *out, size_t cap)
{
	static struct prog g;
	int rc = make_runs(p, &g);
	if (rc < 0)
		return rc;
	g.out = out;
	g.cap = cap;
	g.n = 0;
	emit(&g, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch)));
	emit(&g, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
	emit(&g, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, RET_KILL));
	emit(&g, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr)));
	/* x32: the x86_64 arch with bit 30 in the number; -1 is no syscall
	 * (ptrace's "skip"), which falls to the tree as unknown. */
	emit(&g, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_BIT, 0, 2));
	emit(&g, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffU, 1, 0));
	emit(&g, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, RET_KILL));
	emit_tree(&g, 0, g.nruns - 1);
	if (g.n > cap || g.n > BPF_MAXINSNS)
		return -E2BIG;
	return (int)g.n;
}
