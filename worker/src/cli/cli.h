/*
 * cli/cli.h: the operator commands: vectorizer status, errors, retry and
 * search (the files of cli/).
 */
#ifndef PGAI_WORKER_CLI_CLI_H
#define PGAI_WORKER_CLI_CLI_H

#include "../options.h"

/*
 * Runs an operator command (cli.c). argv[0] is the command word; returns the exit status, or -1
 * when argv names no such command.
 */
extern int	run_command(int argc, char **argv);

/* the skeleton (cli.c) */
typedef int (*cmd_check) (const worker_options *o);
typedef int (*cmd_body) (PGconn **conn, const worker_options *o, const char *ids);
extern int	cli_run(const cmd_spec *spec, int argc, char **argv, cmd_check check,
					cmd_body body);
extern PGconn *connect_with(const char *db_url, const char *options);
extern PGconn *connect_db(const char *db_url);
extern int	check_ids(PGconn *conn, const char *ids);

/* the commands: argv[0] is the command's last word; return the exit status */
extern int	cmd_status(int argc, char **argv);
extern int	cmd_errors(int argc, char **argv);
extern int	cmd_retry(int argc, char **argv);
extern int	cmd_search(int argc, char **argv);

#endif							/* PGAI_WORKER_CLI_CLI_H */
