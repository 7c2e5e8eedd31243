/*
 * main.c: the `pgai` command: finds the command its words name and runs
 * it. The worker is options.c (its command line) and loop.c (its run);
 * the operator commands are in cli/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "loop.h"
#include "options.h"

static int
run_worker(int argc, char **argv)
{
	worker_options opt;
	int			rc = options_worker(argc, argv, &opt);

	if (rc >= 0)
	{
		free(opt.ids);
		return rc;
	}
	return loop_run(&opt);
}

static void
main_usage(FILE *f)
{
	fputs("usage: pgai COMMAND [options]\n"
		  "\n"
		  "  vectorizer worker   embed queued rows and keep the stores in sync\n"
		  "  vectorizer status   each vectorizer's queue, failures and index\n"
		  "  vectorizer errors   recent errors of the vectorizers\n"
		  "  vectorizer retry    put a vectorizer's failed rows back in its queue\n"
		  "  search              semantic search from the shell\n"
		  "\n"
		  "Run pgai COMMAND --help for a command's options.\n", f);
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "vectorizer") == 0 && strcmp(argv[2], "worker") == 0)
		return run_worker(argc - 2, argv + 2);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
	{
		main_usage(stdout);
		return 0;
	}
	if (argc >= 2)
	{
		int			rc = run_command(argc - 1, argv + 1);

		if (rc >= 0)
			return rc;
	}
	main_usage(stderr);
	return 2;
}
