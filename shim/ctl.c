#include "ctl.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "xio.h"

/* A restart waits for the stop (grace, SIGKILL) and the new start; jobshim
 * always answers within its own bounds, this only guards against a jobshim
 * that is stopped or wedged. */
#define CTL_TIMEOUT_MS (10 * 60 * 1000)

static const char *verb_of(enum command c)
{
	return c == CMD_RESTART ? "restart" : c == CMD_SIGNAL ? "signal" : "reload";
}

/* The request from argv, checked by the very parser the server uses. */
static int build_request(const struct cli *c, struct control_req *req)
{
	char line[CONTROL_REQ_MAX + 1];
	struct err why;
	size_t len;

	len = (size_t)snprintf(line, sizeof(line), "%s", verb_of(c->cmd));
	for (int i = 0; i < c->ctl_argc && len < sizeof(line); i++) {
		if (c->ctl_args[i][0] == '\0' || strpbrk(c->ctl_args[i], " \t\r\n") != NULL) {
			log_cmd_msg(verb_of(c->cmd), "bad argument \"%s\"", c->ctl_args[i]);
			return -EINVAL;
		}
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s", c->ctl_args[i]);
	}
	if (len >= sizeof(line) - 1 || control_parse(line, len, req, &why) < 0) {
		log_cmd_msg(verb_of(c->cmd), "%s",
			    len >= sizeof(line) - 1 ? "arguments too long" : why.msg);
		return -EINVAL;
	}
	return 0;
}

static void say_not_running(const char *verb, const char *dir)
{
	if (dir != NULL)
		log_cmd_msg(verb,
			    "no jobshim is running in this container (nothing listens on "
			    "%s/" CONTROL_SOCKET ")",
			    dir);
	else
		log_cmd_msg(verb,
			    "no jobshim of uid %u is running in this container (no control socket "
			    "in /run/jobshim, $TMPDIR/jobshim-%u or /tmp/jobshim-%u; --run-dir "
			    "names another; a jobshim answers only its own user: run this as that "
			    "user, e.g. docker exec --user UID)",
			    (unsigned)geteuid(), (unsigned)geteuid(), (unsigned)geteuid());
}

int ctl_command(const struct cli *c)
{
	const struct options *o = &c->o;
	const char *verb = verb_of(c->cmd);
	static char reply[CONTROL_REPLY_MAX];
	char dir[PATH_MAX];
	struct control_req req;
	int r;

	if (build_request(c, &req) < 0)
		return CONTROL_BAD;
	if (control_find_dir(o->run_dir, dir, sizeof(dir)) < 0) {
		say_not_running(verb, NULL);
		return CONTROL_CANNOT;
	}
	r = control_request(dir, &req, CTL_TIMEOUT_MS, reply, sizeof(reply));
	switch (r) {
	case CONTROL_DONE:
		/* The action is done whatever happens to its answer: a lost
		 * answer is said, and the status stays 0 so that a script does
		 * not repeat a restart that happened. */
		if ((r = xwrite_all(STDOUT_FILENO, reply, strlen(reply))) < 0)
			log_cmd_msg(verb, "done, but the answer could not be written: %s",
				    strerror(-r));
		return CONTROL_DONE;
	case CONTROL_CANNOT:
	case CONTROL_BAD:
		fputs(reply, stderr);
		return r;
	case -ENOENT:
	case -ECONNREFUSED:
		say_not_running(verb, dir);
		return CONTROL_CANNOT;
	case -ENOTSOCK:
	case -ELOOP:
		log_cmd_msg(verb,
			    "%s/" CONTROL_SOCKET
			    " is not a socket (a symlink, FIFO or file is never "
			    "followed); no jobshim can be reached there",
			    dir);
		return CONTROL_CANNOT;
	case -EPERM:
	case -EACCES:
		log_cmd_msg(
		    verb,
		    "%s/" CONTROL_SOCKET ": %s: only the user jobshim runs as may operate it "
		    "(you are uid %u)",
		    dir, r == -EPERM ? "owned by another user" : strerror(-r), (unsigned)geteuid());
		return CONTROL_BAD;
	case -ETIMEDOUT:
		log_cmd_msg(verb, "no answer from jobshim within %ds", CTL_TIMEOUT_MS / 1000);
		return CONTROL_CANNOT;
	case -ECONNRESET:
		log_cmd_msg(verb,
			    "jobshim closed the connection without an answer (it is stopping)");
		return CONTROL_CANNOT;
	default:
		log_cmd_msg(verb, "unable to reach jobshim at %s/" CONTROL_SOCKET ": %s", dir,
			    strerror(-r));
		return CONTROL_CANNOT;
	}
}
