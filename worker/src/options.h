/*
 * options.h: the option parser of every command (options.c).
 */
#ifndef PGAI_WORKER_OPTIONS_H
#define PGAI_WORKER_OPTIONS_H

#include "worker.h"

/* the exit statuses every command shares (0: done) */
#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_CONNECT 3

/* Which options a command takes, and its usage text. */
typedef struct cmd_spec
{
	const char *name;			/* for messages: "vectorizer status" */
	bool		ids;			/* -i */
	bool		limit;			/* -n */
	bool		json;			/* --json */
	long		default_limit;
	const char *usage;
	bool		worker;			/* the worker's options, with their defaults */
	bool		word_ids;		/* its words are vectorizer ids too */
} cmd_spec;

/*
 * Parses argv (argv[0] is the command's last word) into `o`. Returns -1
 * when the command should go on, else the exit status (0 after --help, 2
 * on bad usage, the reason printed); nothing is left to free then.
 */
extern int	parse_options(const cmd_spec *spec, int argc, char **argv, worker_options *o);
extern void options_free(worker_options *o);

/* after a usage error, on stderr: where the full usage is */
extern void usage_hint(const cmd_spec *spec);

/* a vectorizer id: a positive int (false, the reason printed, if not) */
extern bool parse_id(const char *s, int *out);
extern void add_id(worker_options *o, int id);

/*
 * The worker's command line: fills *opt from argv (argv[0] is "worker") with the defaults for what is
 * not given. Returns -1 when the worker should run, else the exit status
 * (0 after --help, 2 on bad usage, the message printed).
 */
extern int	options_worker(int argc, char **argv, worker_options *opt);

#endif							/* PGAI_WORKER_OPTIONS_H */
