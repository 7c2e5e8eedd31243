/*
 * util.h: allocation that gives up cleanly, and log lines (util.c).
 */
#ifndef PGAI_WORKER_UTIL_H
#define PGAI_WORKER_UTIL_H

#include <stddef.h>

#define Min(a, b) ((a) < (b) ? (a) : (b))
#define Max(a, b) ((a) > (b) ? (a) : (b))

extern char *xstrdup(const char *s);
extern char *xasprintf(const char *fmt,...) __attribute__((format(printf, 1, 2)));
extern void *xcalloc(size_t n, size_t size);
extern void *xrealloc(void *p, size_t size);
extern void log_line(const char *fmt,...) __attribute__((format(printf, 1, 2)));

#endif							/* PGAI_WORKER_UTIL_H */
