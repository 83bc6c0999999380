/* `jobshim check` rendered (SPEC §9): the plan report of runtime/plan.c and
 * each job's sandbox view, as text or JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "commands.h"
#include "cron.h"
#include "fmt.h"
#include "jsonw.h"
#include "log.h"

/* ------------------------------------------------------------ rlimits */

static void rlimit_value_text(FILE *out, rlim_t v)
{
	if (v == RLIM_INFINITY)
		fputs("unlimited", out);
	else
		fprintf(out, "%llu", (unsigned long long)v);
}

/* "nofile=4096 core=0 fsize=1024:2048": the listed order, soft:hard when
 * they differ. Writes nothing for an empty set. */
void check_rlimits_text(FILE *out, const struct rlimit_set *rs)
{
	bool first = true;
	int res;

	for (size_t i = 0; (res = rlimit_listed(i)) >= 0; i++) {
		const struct rlimit_entry *e = &rs->r[res];

		if (!e->set)
			continue;
		fprintf(out, "%s%s=", first ? "" : " ", rlimit_name(res));
		rlimit_value_text(out, e->soft);
		if (e->soft != e->hard) {
			fputc(':', out);
			rlimit_value_text(out, e->hard);
		}
		first = false;
	}
}

static void rlimit_value_json(struct jw *w, rlim_t v)
{
	if (v == RLIM_INFINITY)
		jw_str(w, "unlimited");
	else
		jw_uint(w, (uint64_t)v);
}

/* {"nofile":{"soft":4096,"hard":4096},"fsize":{"soft":1024,"hard":"unlimited"}} */
void check_rlimits_json(struct jw *w, const struct rlimit_set *rs)
{
	int res;

	jw_obj_begin(w);
	for (size_t i = 0; (res = rlimit_listed(i)) >= 0; i++) {
		const struct rlimit_entry *e = &rs->r[res];

		if (!e->set)
			continue;
		jw_key(w, rlimit_name(res));
		jw_obj_begin(w);
		jw_key(w, "soft");
		rlimit_value_json(w, e->soft);
		jw_key(w, "hard");
		rlimit_value_json(w, e->hard);
		jw_obj_end(w);
	}
	jw_obj_end(w);
}

static bool rlimits_empty(const struct rlimit_set *rs)
{
	for (int i = 0; i < RLIMITS_COUNT; i++)
		if (rs->r[i].set)
			return false;
	return true;
}

/* ------------------------------------------------------------ sandbox */

/* The capability set as ["CHOWN","KILL"]. */
static void caps_json(struct jw *w, uint64_t set)
{
	char buf[1024], *save = NULL;

	jw_arr_begin(w);
	caps_format(set, buf, sizeof(buf));
	for (char *c = set ? strtok_r(buf, ",", &save) : NULL; c; c = strtok_r(NULL, ",", &save))
		jw_str(w, c);
	jw_arr_end(w);
}

void check_sandbox_text(FILE *out, const struct sandbox_view *v, const struct sandbox_opts *o)
{
	char caps[1024];

	if (v->error[0] != '\0') {
		fprintf(out, "  sandbox: invalid: %s\n", v->error);
		return;
	}
	fputs("  rlimits: ", out);
	if (rlimits_empty(&v->rlimits))
		fputs("none (the container's own)", out);
	else
		check_rlimits_text(out, &v->rlimits);
	fputc('\n', out);
	if (v->rlimits_lowered[0] != '\0')
		fprintf(out, "  rlimits lowered: %s\n", v->rlimits_lowered);
	if (!v->has_size)
		fputs("  cgroup: none (no size)\n", out);
	else if (v->cgroup_enforced)
		fprintf(out,
			"  cgroup: %s memory.max=%llu memory.swap.max=%llu pids.max=%llu "
			"cpu.weight=%u\n",
			v->cgroup_path, (unsigned long long)v->cgroup.memory_max,
			(unsigned long long)v->cgroup.swap_max,
			(unsigned long long)v->cgroup.pids_max, v->cgroup.cpu_weight);
	else
		fprintf(out, "  cgroup: not enforced: %s\n", v->cgroup_why);
	if (v->seccomp == SECCOMP_PROFILE_OFF)
		fputs("  seccomp: off (no filter)\n", out);
	else
		fprintf(out,
			"  seccomp: %s (%u syscalls allowed; other known ones EPERM, unknown "
			"ENOSYS)\n",
			seccomp_profile_name(v->seccomp), v->seccomp_allowed);
	caps_format(v->caps_bounding, caps, sizeof(caps));
	fprintf(out, "  capabilities: %s", caps);
	if (v->nonroot && v->caps_explicit && v->caps_bounding)
		fputs(" (ambient: the non-root job has them effective)\n", out);
	else if (v->nonroot && v->caps_bounding)
		fputs(" (bounding set; none effective for a non-root job)\n", out);
	else
		fputc('\n', out);
	if (!v->user_set && v->user.uid == 0) {
		fputs("  user: root (inherited)\n", out);
	} else if (!v->user_set) {
		fprintf(out, "  user: uid %u (inherited)\n", (unsigned)v->user.uid);
	} else {
		fprintf(out, "  user: %s (uid %u, gid %u, groups ", o->user, (unsigned)v->user.uid,
			(unsigned)v->user.gid);
		if (v->user.ngroups == 0)
			fputs("none", out);
		for (size_t i = 0; i < v->user.ngroups; i++)
			fprintf(out, "%s%u", i ? "," : "", (unsigned)v->user.groups[i]);
		fputs(")\n", out);
	}
	fputs("  no_new_privs: on\n", out);
}

/* The sandbox's members of a job's object. */
void check_sandbox_json(struct jw *w, const struct sandbox_view *v, const struct sandbox_opts *o)
{
	if (v->error[0] != '\0') {
		jw_key(w, "sandbox_error");
		jw_str(w, v->error);
		return;
	}
	jw_key(w, "rlimits");
	check_rlimits_json(w, &v->rlimits);
	if (v->rlimits_lowered[0] != '\0') {
		jw_key(w, "rlimits_lowered");
		jw_str(w, v->rlimits_lowered);
	}
	jw_key(w, "cgroup");
	if (!v->has_size) {
		jw_null(w);
	} else {
		jw_obj_begin(w);
		jw_key(w, "enforced");
		jw_bool(w, v->cgroup_enforced);
		if (v->cgroup_enforced) {
			jw_key(w, "path");
			jw_str(w, v->cgroup_path);
			jw_key(w, "memory.max");
			jw_uint(w, v->cgroup.memory_max);
			jw_key(w, "memory.swap.max");
			jw_uint(w, v->cgroup.swap_max);
			jw_key(w, "pids.max");
			jw_uint(w, v->cgroup.pids_max);
			jw_key(w, "cpu.weight");
			jw_uint(w, v->cgroup.cpu_weight);
		} else {
			jw_key(w, "reason");
			jw_str(w, v->cgroup_why);
		}
		jw_obj_end(w);
	}
	jw_key(w, "seccomp");
	jw_obj_begin(w);
	jw_key(w, "profile");
	jw_str(w, seccomp_profile_name(v->seccomp));
	jw_key(w, "allowed");
	jw_uint(w, v->seccomp_allowed);
	jw_obj_end(w);
	jw_key(w, "capabilities");
	jw_obj_begin(w);
	jw_key(w, "bounding");
	caps_json(w, v->caps_bounding);
	jw_key(w, "effective");
	caps_json(w, v->caps_effective);
	jw_key(w, "ambient");
	caps_json(w, v->caps_ambient);
	jw_obj_end(w);
	jw_key(w, "user");
	jw_obj_begin(w);
	jw_key(w, "inherited");
	jw_bool(w, !v->user_set);
	if (v->user_set) {
		jw_key(w, "spec");
		jw_str(w, o->user);
	}
	jw_key(w, "uid");
	jw_uint(w, v->user.uid);
	if (v->user_set) {
		jw_key(w, "gid");
		jw_uint(w, v->user.gid);
		jw_key(w, "groups");
		jw_arr_begin(w);
		for (size_t i = 0; i < v->user.ngroups; i++)
			jw_uint(w, v->user.groups[i]);
		jw_arr_end(w);
	}
	jw_obj_end(w);
	jw_key(w, "no_new_privs");
	jw_bool(w, true);
}

/* ------------------------------------------------------------ jobs */

static void oneshot_text(FILE *out, const struct plan_report *r, const struct plan_report_job *j)
{
	char dur[32], when[64];

	if (j->schedule != NULL) {
		fprintf(out, "  schedule: %s", j->schedule);
		if (j->extension != NULL)
			fprintf(out, " (%s: an extension, not accepted by Deploio)", j->extension);
		fputc('\n', out);
	}
	fprintf(out, "  retries: %d%s\n", j->retries, j->retries_default ? " (the default)" : "");
	fmt_duration(dur, sizeof(dur), (int64_t)j->timeout_ms, DURATION_EXACT);
	fprintf(out, "  timeout: %s", dur);
	if (j->timeout_from != NULL)
		fprintf(out, " (%s)", j->timeout_from);
	fputc('\n', out);
	if (!j->scheduled)
		return;
	fprintf(out, "  zone: %s\n  next:", r->zone);
	for (int i = 0; i < CHECK_NEXT_TIMES && j->next[i] >= 0; i++) {
		cron_format_local(j->next[i], j->with_seconds, when, sizeof(when));
		fprintf(out, "%s %s", i ? "," : "", when);
	}
	fputc('\n', out);
}

static void oneshot_json(struct jw *w, const struct plan_report *r, const struct plan_report_job *j)
{
	char dur[32], when[64];

	if (j->schedule != NULL) {
		jw_key(w, "schedule");
		jw_str(w, j->schedule);
	}
	jw_key(w, "retries");
	jw_int(w, j->retries);
	fmt_duration(dur, sizeof(dur), (int64_t)j->timeout_ms, DURATION_EXACT);
	jw_key(w, "timeout");
	jw_str(w, dur);
	jw_key(w, "timeout_ms");
	jw_uint(w, j->timeout_ms);
	if (!j->scheduled)
		return;
	jw_key(w, "extension");
	jw_str(w, j->extension);
	jw_key(w, "deploio_accepts");
	jw_bool(w, j->extension == NULL);
	jw_key(w, "zone");
	jw_str(w, r->zone);
	jw_key(w, "next");
	jw_arr_begin(w);
	for (int i = 0; i < CHECK_NEXT_TIMES && j->next[i] >= 0; i++) {
		cron_format_local(j->next[i], j->with_seconds, when, sizeof(when));
		jw_obj_begin(w);
		jw_key(w, "local");
		jw_str(w, when);
		jw_key(w, "unix");
		jw_int(w, j->next[i]);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void job_text(FILE *out, const struct plan_report *r, const struct plan_report_job *j,
		     struct sandbox_view *v)
{
	char mem[32];

	fprintf(out, "\n%s\n", j->name);
	fprintf(out, "  kind: %s%s\n", j->kind, j->selected ? " (runs here)" : "");
	if (j->command != NULL) {
		fprintf(out, "  command: %s\n", j->command);
	} else if (j->argv != NULL && j->argv[0] != NULL) {
		fputs("  command:", out);
		for (size_t i = 0; j->argv[i] != NULL; i++)
			fprintf(out, " %s", j->argv[i]);
		fputc('\n', out);
	} else {
		fputs("  command: (image CMD)\n", out);
	}
	if (j->oneshot)
		oneshot_text(out, r, j);
	if (j->size == NULL) {
		fputs("  size: none (jobshim changes no limit; the platform sizes the container)\n",
		      out);
	} else {
		fmt_bytes(mem, sizeof(mem), (int64_t)j->size->memory_bytes);
		fprintf(out, "  size: %s (memory %s, cpu %um, pids %u, nofile %u)\n", j->size->name,
			mem, j->size->cpu_millis, j->size->pids, j->size->nofile);
	}
	sandbox_view(&j->sandbox, v);
	check_sandbox_text(out, v, &j->sandbox);
}

static void job_json(struct jw *w, const struct plan_report *r, const struct plan_report_job *j,
		     struct sandbox_view *v)
{
	jw_obj_begin(w);
	jw_key(w, "name");
	jw_str(w, j->name);
	jw_key(w, "kind");
	jw_str(w, j->kind);
	jw_key(w, "selected");
	jw_bool(w, j->selected);
	jw_key(w, "command");
	jw_str(w, j->command);
	if (j->argv != NULL) {
		jw_key(w, "argv");
		jw_arr_begin(w);
		for (size_t i = 0; j->argv[i] != NULL; i++)
			jw_str(w, j->argv[i]);
		jw_arr_end(w);
	}
	if (j->oneshot)
		oneshot_json(w, r, j);
	jw_key(w, "size");
	if (j->size == NULL) {
		jw_null(w);
	} else {
		jw_obj_begin(w);
		jw_key(w, "name");
		jw_str(w, j->size->name);
		jw_key(w, "memory_bytes");
		jw_uint(w, j->size->memory_bytes);
		jw_key(w, "cpu_millis");
		jw_uint(w, j->size->cpu_millis);
		jw_key(w, "pids");
		jw_uint(w, j->size->pids);
		jw_key(w, "nofile");
		jw_uint(w, j->size->nofile);
		jw_obj_end(w);
	}
	sandbox_view(&j->sandbox, v);
	check_sandbox_json(w, v, &j->sandbox);
	jw_obj_end(w);
}

/* ------------------------------------------------------------ the report */

int check_print_table(FILE *out, const struct plan_report *r)
{
	struct sandbox_view *v = malloc(sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	errno = 0;
	if (r->valid) {
		fprintf(out, "config: %s\n", r->config_path != NULL ? r->config_path : "(none)");
		fputs("valid: yes\n", out);
		for (size_t i = 0; i < r->n_jobs; i++)
			job_text(out, r, &r->jobs[i], v);
	}
	free(v);
	return out_flush(out);
}

int check_print_json(FILE *out, const struct plan_report *r)
{
	struct sandbox_view *v = malloc(sizeof(*v));
	struct jw w;

	if (v == NULL)
		return -ENOMEM;
	errno = 0;
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_key(&w, "config");
	jw_str(&w, r->config_path);
	jw_key(&w, "valid");
	jw_bool(&w, r->valid);
	if (r->valid) {
		jw_key(&w, "jobs");
		jw_arr_begin(&w);
		for (size_t i = 0; i < r->n_jobs; i++)
			job_json(&w, r, &r->jobs[i], v);
		jw_arr_end(&w);
	} else {
		jw_key(&w, "errors");
		jw_arr_begin(&w);
		for (size_t i = 0; i < r->errors.n; i++)
			jw_str(&w, r->errors.item[i].msg);
		jw_arr_end(&w);
	}
	jw_obj_end(&w);
	free(v);
	return jw_finish(&w);
}

int check_command(const struct options *o, enum output_format fmt, char *const *env, FILE *out)
{
	struct plan_report *r = malloc(sizeof(*r));
	int rc, code;

	if (r == NULL) {
		log_msg("out of memory");
		return EXIT_CHECK_INVALID;
	}
	(void)plan_report_build(o, env, r);
	if (!r->valid) {
		for (size_t i = 0; i < r->errors.n; i++)
			log_msg("%s", r->errors.item[i].msg);
		if (r->errors.dropped > 0)
			log_msg("... and %zu more errors", r->errors.dropped);
	}
	/* Invalid: the errors are on stderr; JSON also lists them on stdout. */
	rc = fmt == OUT_JSON ? check_print_json(out, r) : check_print_table(out, r);
	code = !r->valid ? EXIT_CHECK_INVALID : rc < 0 ? EXIT_CHECK_OUTPUT : EXIT_CHECK_VALID;
	if (rc < 0)
		log_cmd_msg("check", "unable to write the output: %s", strerror(-rc));
	plan_report_free(r);
	free(r);
	return code;
}
