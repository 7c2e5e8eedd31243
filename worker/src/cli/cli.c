/*
 * cli/cli.c: the operator commands of the `pgai` program, and what they
 * share: options, connection, the check of the ids named.
 *
 *   pgai vectorizer status [-d URL] [-i ID]... [--json]
 *   pgai vectorizer errors [ID] [-d URL] [-i ID]... [-n N] [--json]
 *   pgai vectorizer retry ID [-d URL]
 *   pgai search -i ID [-d URL] [-n N] [--json] QUERY TEXT...
 *
 * Each command opens one connection, runs a few read statements (retry
 * calls ai.vectorizer_retry_failed), prints, and exits. Output is a grid
 * of strings (cli/grid.c). Each command has its file: status.c, errors.c,
 * retry.c, search.c.
 *
 * Exit status: 0 done, 1 the database reported a failure or a vectorizer
 * does not exist, 2 bad usage, 3 cannot connect.
 *
 * Ownership: everything a command allocates is freed before it returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../db.h"
#include "../sql.h"
#include "../util.h"
#include "cli.h"

/* ---------------------------------------------------------------------- */
/* Options and connection */

/*
 * Connects; `options` (or NULL) goes in the startup packet, which servers
 * do not log, unlike statement parameters.
 */
PGconn *
connect_with(const char *db_url, const char *options)
{
	const char *keys[] = {"dbname", "fallback_application_name", "options", NULL};
	const char *values[] = {db_url, "pgai", options, NULL};
	PGconn	   *conn;

	if (options == NULL)
		keys[2] = NULL;
	conn = PQconnectdbParams(keys, values, 1);

	if (PQstatus(conn) != CONNECTION_OK)
	{
		const char *msg = PQerrorMessage(conn);
		size_t		len = strlen(msg);

		while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
			len--;
		fprintf(stderr, "pgai: cannot connect: %.*s\n", (int) len, msg);
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

PGconn *
connect_db(const char *db_url)
{
	return connect_with(db_url, NULL);
}

/*
 * Checks that every id names a vectorizer; says which one does not.
 * Returns 0, or the exit status.
 */
int
check_ids(PGconn *conn, const char *ids)
{
	const char *params[1] = {ids};
	pgai_error	err;
	PGresult   *res;
	int			rc = 0;

	if (ids == NULL)
		return 0;
	res = db_exec(conn, sql_missing_ids, 1, params, PGRES_TUPLES_OK, &err);
	if (res == NULL)
	{
		fprintf(stderr, "pgai: %s\n", err.message);
		return EXIT_FAILED;
	}
	for (int r = 0; r < PQntuples(res); r++)
	{
		fprintf(stderr, "pgai: vectorizer %s does not exist\n", PQgetvalue(res, r, 0));
		rc = EXIT_FAILED;
	}
	PQclear(res);
	return rc;
}

/*
 * The skeleton of every operator command: its options (by its spec), a
 * check that what it needs was given (check, or NULL: -1 to go on, else
 * the exit status with the reason printed), the connection, the ids named
 * as an int[] literal (NULL: all), then its body, which may replace the
 * connection; everything is freed here.
 */
int
cli_run(const cmd_spec *spec, int argc, char **argv, cmd_check check, cmd_body body)
{
	worker_options o;
	PGconn	   *conn;
	char	   *ids;
	int			rc;

	if ((rc = parse_options(spec, argc, argv, &o)) >= 0)
		return rc;
	if (check != NULL && (rc = check(&o)) >= 0)
	{
		usage_hint(spec);
		options_free(&o);
		return rc;
	}
	if ((conn = connect_db(o.db_url)) == NULL)
	{
		options_free(&o);
		return EXIT_CONNECT;
	}
	ids = db_ids_literal(o.ids, o.n_ids);
	rc = body(&conn, &o, ids);
	free(ids);
	PQfinish(conn);
	options_free(&o);
	return rc;
}

/* ---------------------------------------------------------------------- */

static void
vectorizer_usage(FILE *f)
{
	fputs("usage: pgai vectorizer {worker|status|errors|retry} [options]\n"
		  "\n"
		  "  worker   embed queued rows and keep the stores in sync\n"
		  "  status   each vectorizer's queue, failures, index and last error\n"
		  "  errors   recent errors of the vectorizers\n"
		  "  retry    put a vectorizer's failed rows back in its queue\n"
		  "\n"
		  "Run pgai vectorizer COMMAND --help for a command's options.\n", f);
}

int
run_command(int argc, char **argv)
{
	if (strcmp(argv[0], "search") == 0)
		return cmd_search(argc, argv);
	if (strcmp(argv[0], "vectorizer") != 0)
		return -1;
	if (argc < 2)
	{
		vectorizer_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
	{
		vectorizer_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "status") == 0)
		return cmd_status(argc - 1, argv + 1);
	if (strcmp(argv[1], "errors") == 0)
		return cmd_errors(argc - 1, argv + 1);
	if (strcmp(argv[1], "retry") == 0)
		return cmd_retry(argc - 1, argv + 1);
	return -1;
}
