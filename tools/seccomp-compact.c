/* See seccomp-compact.h. The program:
 *
 *   arch != AUDIT_ARCH_X86_64              -> KILL_PROCESS (i386 int 0x80 too)
 *   nr >= 0x40000000 && nr != 0xffffffff   -> KILL_PROCESS (x32)
 *   a balanced tree of `nr >= start` over the runs; each leaf is the run's
 *   action, or for a syscall with an argument rule, that rule on the low
 *   32 bits of args[0]
 *   the four returns (KILL_PROCESS, ALLOW, EPERM, ENOSYS), shared: every
 *   leaf is a jump to one of them, so a run costs one comparison
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

/* Jump targets: a position in the program, or one of the shared returns
 * placed after all the code. */
enum { L_KILL = -1, L_ALLOW = -2, L_EPERM = -3, L_ENOSYS = -4, SHARED = 4 };

struct fixup {
	size_t at;  /* the jump instruction */
	int jt, jf; /* targets: positions (>= 0) or L_* */
};

struct prog {
	struct run runs[SCPROF_MAX_NR + 1];
	size_t nruns;
	struct sock_filter *out;
	size_t cap, n;
	struct fixup fix[2 * (SCPROF_MAX_NR + 1) + 64];
	size_t nfix;
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

/* A conditional jump whose targets are resolved at the end. */
static void emit_jump(struct prog *g, uint16_t code, uint32_t k, int jt, int jf)
{
	if (g->nfix < sizeof(g->fix) / sizeof(g->fix[0]))
		g->fix[g->nfix] = (struct fixup){g->n, jt, jf};
	g->nfix++;
	emit(g, (struct sock_filter)BPF_JUMP(code, k, 0, 0));
}

static int label_of(enum cls c)
{
	return c == CL_ALLOW ? L_ALLOW : c == CL_EPERM ? L_EPERM : L_ENOSYS;
}

/* An argument rule on the low half of args[0] (x86_64 is little-endian),
 * ending in the shared returns. */
static void emit_rule(struct prog *g, const struct scprof_argrule *a)
{
	int match = a->kind == SCA_ALLOW_VALUES ? L_ALLOW : L_EPERM;
	int other = a->kind == SCA_ALLOW_VALUES ? L_EPERM : L_ALLOW;

	emit(g, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					     offsetof(struct seccomp_data, args[0])));
	if (a->kind == SCA_REFUSE_FLAGS) {
		emit_jump(g, BPF_JMP | BPF_JSET | BPF_K, a->flags, L_EPERM, L_ALLOW);
		return;
	}
	for (size_t i = 0; i < a->n; i++) {
		int next = i + 1 < a->n ? (int)(g->n + 1) : other;
		emit_jump(g, BPF_JMP | BPF_JEQ | BPF_K, a->values[i], match, next);
	}
}

/* Emits the subtree of runs lo..hi and returns where it starts: a shared
 * return when it is a single run with a plain action (no code at all), else
 * the position of its code: [JGE start(mid)] [left] [right]. */
static int emit_tree(struct prog *g, size_t lo, size_t hi)
{
	if (lo == hi && g->runs[lo].cls != CL_ARGS)
		return label_of(g->runs[lo].cls);
	int here = (int)g->n;
	if (lo == hi) {
		emit_rule(g, &g->runs[lo].rule);
		return here;
	}
	size_t mid = (lo + hi + 1) / 2, jge = g->nfix;
	emit_jump(g, BPF_JMP | BPF_JGE | BPF_K, g->runs[mid].start, 0, 0);
	int left = emit_tree(g, lo, mid - 1);
	int right = emit_tree(g, mid, hi);
	if (jge < sizeof(g->fix) / sizeof(g->fix[0])) {
		g->fix[jge].jt = right;
		g->fix[jge].jf = left;
	}
	return here;
}

/* Resolves the jumps: an 8-bit forward offset each. */
static int resolve(struct prog *g, size_t shared_at)
{
	if (g->nfix > sizeof(g->fix) / sizeof(g->fix[0]) || g->n > g->cap)
		return -E2BIG;
	for (size_t i = 0; i < g->nfix; i++) {
		const struct fixup *f = &g->fix[i];
		int t[2] = {f->jt, f->jf};
		size_t off[2];
		for (int k = 0; k < 2; k++) {
			size_t pos = t[k] >= 0 ? (size_t)t[k] : shared_at + (size_t)(-t[k] - 1);
			if (pos <= f->at || pos - f->at - 1 > JMP_MAX)
				return -E2BIG; /* backwards, or too far for 8 bits */
			off[k] = pos - f->at - 1;
		}
		g->out[f->at].jt = (uint8_t)off[0];
		g->out[f->at].jf = (uint8_t)off[1];
	}
	return 0;
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
	g.nfix = 0;
	emit(&g, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch)));
	emit_jump(&g, BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, (int)g.n + 1, L_KILL);
	emit(&g, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr)));
	/* x32: the x86_64 arch with bit 30 in the number; -1 is no syscall
	 * (ptrace's "skip"), which goes on to the tree as unknown. */
	emit_jump(&g, BPF_JMP | BPF_JGE | BPF_K, X32_BIT, (int)g.n + 1, (int)g.n + 2);
	emit_jump(&g, BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffU, (int)g.n + 1, L_KILL);
	int tree = emit_tree(&g, 0, g.nruns - 1);
	if (tree < 0) /* a table of one action: no tree, just that return */
		emit_jump(&g, BPF_JMP | BPF_JEQ | BPF_K, 0, tree, tree);
	size_t shared_at = g.n;
	/* in the order of the L_* values: -1 first */
	emit(&g, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, RET_KILL));
	emit(&g, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, RET_ALLOW));
	emit(&g, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, RET_EPERM));
	emit(&g, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, RET_ENOSYS));
	if (g.n > BPF_MAXINSNS || (rc = resolve(&g, shared_at)) < 0)
		return -E2BIG;
	return (int)g.n;
}
