#include "reload.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool strv_eq(char *const *a, char *const *b)
{
	size_t i = 0;

	if (a == NULL || b == NULL)
		return a == b;
	for (; a[i] != NULL && b[i] != NULL; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return a[i] == NULL && b[i] == NULL;
}

static bool size_eq(const struct size_spec *a, const struct size_spec *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a == b || str_eq(a->name, b->name);
}

unsigned job_plan_diff(const struct job_plan *a, const struct job_plan *b)
{
	const struct sandbox_opts *x = &a->sandbox, *y = &b->sandbox;
	unsigned f = 0;

	if (a->kind != b->kind)
		f |= JF_KIND;
	if (!str_eq(a->command, b->command) || !strv_eq(a->argv, b->argv))
		f |= JF_COMMAND;
	if (!size_eq(a->size, b->size))
		f |= JF_SIZE;
	if (!strv_eq(a->envp, b->envp))
		f |= JF_ENV;
	if (!str_eq(a->schedule, b->schedule))
		f |= JF_SCHEDULE;
	if (a->attempts != b->attempts || a->timeout_ms != b->timeout_ms)
		f |= JF_RUNS;
	if (x->seccomp != y->seccomp || !str_eq(x->caps, y->caps) || !str_eq(x->user, y->user) ||
	    !str_eq(x->rlimits, y->rlimits) || !str_eq(x->cgroup_root, y->cgroup_root) ||
	    !str_eq(x->etc_dir, y->etc_dir))
		f |= JF_SANDBOX;
	return f;
}

static const struct job_plan *find(const struct run_plan *p, const char *name, size_t *at)
{
	for (size_t i = 0; i < p->n_jobs; i++)
		if (strcmp(p->jobs[i].name, name) == 0)
			return *at = i, &p->jobs[i];
	return NULL;
}

int plan_diff(const struct run_plan *old, const struct run_plan *new, struct plan_diff *d)
{
	memset(d, 0, sizeof(*d));
	if (old->n_jobs > RELOAD_JOBS_MAX || new->n_jobs > RELOAD_JOBS_MAX)
		return -E2BIG;
	for (size_t i = 0; i < old->n_jobs; i++) {
		const struct job_plan *b = find(new, old->jobs[i].name, &d->to_new[i]);

		if (b == NULL) {
			d->old[i] = JC_REMOVED;
			d->n_removed++;
			continue;
		}
		d->fields[i] = job_plan_diff(&old->jobs[i], b);
		d->old[i] = d->fields[i] != 0 ? JC_CHANGED : JC_SAME;
		if (d->fields[i] != 0)
			d->n_changed++;
	}
	for (size_t i = 0; i < new->n_jobs; i++) {
		size_t at;

		if (find(old, new->jobs[i].name, &at) == NULL)
			d->added[d->n_added++] = i;
	}
	return 0;
}

void job_fields_describe(unsigned f, char *buf, size_t cap)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
	    {JF_KIND, "kind"},
	    {JF_COMMAND, "command"},
	    {JF_SIZE, "size"},
	    {JF_ENV, "env"},
	    {JF_SANDBOX, "sandbox"},
	    {JF_SCHEDULE, "schedule"},
	    {JF_RUNS, "retries/timeout"},
	};
	size_t len = 0;

	if (cap == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(f & names[i].bit))
			continue;
		int n = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", names[i].name);
		if (n < 0 || (size_t)n >= cap - len)
			return;
		len += (size_t)n;
	}
}
