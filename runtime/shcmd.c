/* Deliberately conservative: a string is simple only when the scan below
 * proves it; anything it does not understand keeps the shell (which is
 * what jobshim did before, and is only less transparent, never wrong). */
#include "shcmd.h"

#include <stddef.h>
#include <string.h>

/* Words that mean something else than a program in the first place:
 * POSIX and bash reserved words, and every dash builtin (`exec exit 1`
 * would look for a program called exit; `cd`, `export`, `ulimit` must
 * change the shell; `echo`, `kill`, `true` may have no program in a
 * minimal image). */
static const char *const not_programs[] = {
    "!",	"{",	  "}",	   "[[",       "]]",	   "case",  "do",      "done",	 "elif",
    "else",	"esac",	  "fi",	   "for",      "if",	   "in",    "then",    "until",	 "while",
    "function", "select", "time",  "coproc",   ".",	   ":",	    "[",       "alias",	 "bg",
    "break",	"cd",	  "chdir", "command",  "continue", "echo",  "eval",    "exec",	 "exit",
    "export",	"false",  "fc",	   "fg",       "getopts",  "hash",  "jobs",    "kill",	 "local",
    "printf",	"pwd",	  "read",  "readonly", "return",   "set",   "shift",   "source", "test",
    "times",	"trap",	  "true",  "type",     "ulimit",   "umask", "unalias", "unset",	 "wait",
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_name_char(char c, bool first)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (!first && c >= '0' && c <= '9');
}

/* The first word, unquoted (it is checked before the quote scan). */
static bool first_word_ok(const char *w, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return false;
	for (size_t k = 0; k < sizeof(not_programs) / sizeof(not_programs[0]); k++)
		if (strlen(not_programs[k]) == n && strncmp(not_programs[k], w, n) == 0)
			return false;
	/* NAME=value: an assignment, not a program. */
	while (i < n && is_name_char(w[i], i == 0))
		i++;
	if (i > 0 && i < n && w[i] == '=')
		return false;
	return w[0] != '#';
}

bool shcmd_is_simple(const char *cmd)
{
	const char *p = cmd, *w;
	bool word_start = true;

	if (cmd == NULL)
		return false;
	while (is_blank(*p))
		p++;
	w = p;
	while (*p != '\0' && !is_blank(*p) && strchr(";&|<>()\n'\"\\`$", *p) == NULL)
		p++;
	/* The program's name must be a plain word, so that it is known not to
	 * be a builtin or reserved word; a name from a variable ($APP_BIN/x)
	 * is taken as a program. */
	if (*w != '$' &&
	    (p == w || (*p != '\0' && !is_blank(*p)) || !first_word_ok(w, (size_t)(p - w))))
		return false;
	for (p = w; *p != '\0'; p++) {
		char c = *p;
		if (word_start && c == '#')
			return false; /* a comment */
		word_start = is_blank(c);
		if (strchr(";&|<>()\n\r`", c) != NULL)
			return false;
		if (c == '$' && p[1] == '(')
			return false;
		if (c == '\\') {
			if (p[1] == '\0' || p[1] == '\n')
				return false;
			p++;
		} else if (c == '\'') {
			p = strchr(p + 1, '\'');
			if (p == NULL)
				return false;
		} else if (c == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0' || *p == '`' || (*p == '$' && p[1] == '('))
					return false;
				if (*p == '\\' && p[1] != '\0')
					p++;
			}
		}
	}
	return true;
}
