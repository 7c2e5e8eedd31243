/*
 * cli/retry.c: pgai vectorizer retry: a vectorizer's failed rows back into its
 * queue, with ai.vectorizer_retry_failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../db.h"
#include "../sql.h"
#include "../util.h"
#include "cli.h"

/* ---------------------------------------------------------------------- */
/* pgai vectorizer retry */

static const cmd_spec retry_spec = {
	"vectorizer retry", true, false, false, 0,
	"usage: pgai vectorizer retry ID [-d URL]\n"
	"\n"
	"Moves a vectorizer's failed rows (those set aside after failing too often)\n"
	"back into its queue, with ai.vectorizer_retry_failed, and prints how many\n"
	"went back: \"vectorizer ID: N rows queued again\".\n"
	"\n"
	"  ID, -i, --vectorizer-id ID  the vectorizer (repeatable)\n"
	"  -d, --db-url URL            libpq connection string or URI (default: PG* variables)\n"
	"  -h, --help                  show this help\n"
	"\n"
	"Exit status: 0 done (also when nothing had failed), 1 a vectorizer does not\n"
	"exist or the retry failed, 2 bad usage, 3 cannot connect.\n",
	false, true
};

static int
retry_body(PGconn **connp, const worker_options *o, const char *ids)
{
	PGconn	   *conn = *connp;
	int			rc;

	if ((rc = check_ids(conn, ids)) == 0)
	{
		for (int i = 0; i < o->n_ids; i++)
		{
			char		id[16];
			const char *params[1] = {id};
			pgai_error	err;
			PGresult   *res;

			snprintf(id, sizeof(id), "%d", o->ids[i]);
			res = db_exec(conn, sql_retry_failed, 1, params,
						  PGRES_TUPLES_OK, &err);
			if (res == NULL)
			{
				fprintf(stderr, "pgai: vectorizer %s: %s\n", id, err.message);
				rc = EXIT_FAILED;
				continue;
			}
			printf("vectorizer %s: %s rows queued again\n", id, PQgetvalue(res, 0, 0));
			PQclear(res);
		}
	}
	return rc;
}

static int
retry_check(const worker_options *o)
{
	if (o->n_ids > 0)
		return -1;
	fputs("pgai vectorizer retry: which vectorizer? (an ID is required)\n", stderr);
	return EXIT_USAGE;
}

int
cmd_retry(int argc, char **argv)
{
	return cli_run(&retry_spec, argc, argv, retry_check, retry_body);
}
