/*
 * cli/cli.h: the operator commands: vectorizer status, errors, retry and
 * search (the files of cli/).
 */
#ifndef PGAI_WORKER_CLI_CLI_H
#define PGAI_WORKER_CLI_CLI_H

#include "../worker.h"

/*
 * Runs an operator command (cli.c). argv[0] is the command word; returns the exit status, or -1
 * when argv names no such command.
 */
extern int	run_command(int argc, char **argv);


#endif							/* PGAI_WORKER_CLI_CLI_H */
