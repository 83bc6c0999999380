#include "signame.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <strings.h>

struct sig_row {
	int sig;
	const char *name;
};

static const struct sig_row sig_table[] = {
    {SIGHUP, "HUP"},   {SIGINT, "INT"},	      {SIGQUIT, "QUIT"}, {SIGILL, "ILL"},
    {SIGTRAP, "TRAP"}, {SIGABRT, "ABRT"},     {SIGBUS, "BUS"},	 {SIGFPE, "FPE"},
    {SIGKILL, "KILL"}, {SIGUSR1, "USR1"},     {SIGSEGV, "SEGV"}, {SIGUSR2, "USR2"},
    {SIGPIPE, "PIPE"}, {SIGALRM, "ALRM"},     {SIGTERM, "TERM"}, {SIGSTKFLT, "STKFLT"},
    {SIGCHLD, "CHLD"}, {SIGCONT, "CONT"},     {SIGSTOP, "STOP"}, {SIGTSTP, "TSTP"},
    {SIGTTIN, "TTIN"}, {SIGTTOU, "TTOU"},     {SIGURG, "URG"},	 {SIGXCPU, "XCPU"},
    {SIGXFSZ, "XFSZ"}, {SIGVTALRM, "VTALRM"}, {SIGPROF, "PROF"}, {SIGWINCH, "WINCH"},
    {SIGIO, "IO"},     {SIGPWR, "PWR"},	      {SIGSYS, "SYS"},
};

const char *signal_name(int sig)
{
	for (size_t i = 0; i < sizeof(sig_table) / sizeof(sig_table[0]); i++)
		if (sig_table[i].sig == sig)
			return sig_table[i].name;
	return NULL;
}

/* A decimal number 1..999 that is all of s, or -1. */
static int small_number(const char *s)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	return *end == '\0' && v > 0 && v < 1000 ? (int)v : -1;
}

int signal_parse(const char *s)
{
	int sig = -1;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	sig = small_number(s);
	if (sig < 0 && strncasecmp(s, "RTMIN+", 6) == 0 && small_number(s + 6) >= 0)
		sig = SIGRTMIN + small_number(s + 6);
	else if (sig < 0 && strncasecmp(s, "RTMAX-", 6) == 0 && small_number(s + 6) >= 0)
		sig = SIGRTMAX - small_number(s + 6);
	else if (sig < 0 && strcasecmp(s, "RTMIN") == 0)
		sig = SIGRTMIN;
	else if (sig < 0 && strcasecmp(s, "RTMAX") == 0)
		sig = SIGRTMAX;
	for (size_t i = 0; sig < 0 && i < sizeof(sig_table) / sizeof(sig_table[0]); i++)
		if (strcasecmp(sig_table[i].name, s) == 0)
			sig = sig_table[i].sig;
	if (sig <= 0 || sig > SIGRTMAX || sig == SIGKILL || sig == SIGSTOP)
		return -EINVAL;
	return sig;
}
