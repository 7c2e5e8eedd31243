/*
 * util.c: allocation that gives up cleanly, and log lines.
 *
 * Like PostgreSQL's own client programs (pg_malloc), the worker treats an
 * allocation failure as fatal: it exits, and since every claim is a lease
 * and every write a transaction, nothing is lost; another run resumes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

static void
out_of_memory(void)
{
	fputs("pgai: out of memory\n", stderr);
	exit(3);
}

void *
xcalloc(size_t n, size_t size)
{
	void	   *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		out_of_memory();
	return p;
}

void *
xrealloc(void *p, size_t size)
{
	void	   *q = realloc(p, size ? size : 1);

	if (q == NULL)
		out_of_memory();
	return q;
}

char *
xstrdup(const char *s)
{
	char	   *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		out_of_memory();
	return d;
}

char *
xasprintf(const char *fmt,...)
{
	va_list		ap;
	int			len;
	char	   *buf;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		out_of_memory();
	buf = xcalloc((size_t) len + 1, 1);
	va_start(ap, fmt);
	vsnprintf(buf, (size_t) len + 1, fmt, ap);
	va_end(ap);
	return buf;
}

/* One line on stderr, prefixed with the time. */
void
log_line(const char *fmt,...)
{
	char		stamp[32];
	time_t		now = time(NULL);
	struct tm	tm;
	va_list		ap;
	char		line[2048];

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s pgai: %s\n", stamp, line);
}
