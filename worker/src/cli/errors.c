/*
 * cli/errors.c: pgai vectorizer errors: the newest rows of ai.vectorizer_errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../db.h"
#include "../sql.h"
#include "../util.h"
#include "cli.h"
#include "grid.h"

/* ---------------------------------------------------------------------- */
/* pgai vectorizer errors */

static const cmd_spec errors_spec = {
	"vectorizer errors", true, true, true, 20,
	"usage: pgai vectorizer errors [ID] [-d URL] [-i ID]... [-n N] [--json]\n"
	"\n"
	"The most recent rows of ai.vectorizer_errors, newest first: when, which\n"
	"vectorizer, the message and its details.\n"
	"\n"
	"  ID, -i, --vectorizer-id ID  only this vectorizer (repeatable)\n"
	"  -d, --db-url URL            libpq connection string or URI (default: PG* variables)\n"
	"  -n, --limit N               at most N errors (default 20)\n"
	"      --json                  a JSON array of objects\n"
	"  -h, --help                  show this help\n"
	"\n"
	"Not on a terminal: one tab-separated line per error, no header, columns:\n"
	"recorded, vectorizer id, message, details (JSON); \\t \\n \\\\ escaped.\n"
	"Exit status: 0 done (also when there are no errors), 1 a vectorizer does\n"
	"not exist or a query failed, 2 bad usage, 3 cannot connect.\n",
	false, true
};

/* the grid's columns are sql_errors's */
enum
{
	ER_RECORDED = ERRORS_RECORDED, ER_ID = ERRORS_ID, ER_MESSAGE = ERRORS_MESSAGE,
	ER_DETAILS = ERRORS_DETAILS, ER_NCOLS
};

static const grid_column errors_columns[ER_NCOLS] = {
	{"recorded", COL_TEXT, false},
	{"id", COL_NUMBER, false},
	{"message", COL_TEXT, false},
	{"details", COL_JSON, false},
};

/* On a terminal: a heading line per error, then its message and details. */
static void
errors_print_blocks(FILE *f, const grid *g)
{
	bool		colour = colour_on();
	int			term = terminal_width();

	for (int r = 0; r < g->n_rows; r++)
	{
		const char *details = grid_get(g, r, ER_DETAILS);

		if (r > 0)
			fputc('\n', f);
		fprintf(f, "%s%s  vectorizer %s%s\n", colour ? C_DIM : "", grid_get(g, r, ER_RECORDED),
				grid_get(g, r, ER_ID), colour ? C_RESET : "");
		fprintf(f, "  %s", colour ? C_RED : "");
		put_line_text(f, grid_get(g, r, ER_MESSAGE), -1);
		fprintf(f, "%s\n", colour ? C_RESET : "");
		if (details != NULL && strcmp(details, "{}") != 0)
		{
			fputs("  ", f);
			put_line_text(f, details, term > 12 ? term - 2 : 10);
			fputc('\n', f);
		}
	}
}

static int
errors_body(PGconn **connp, const worker_options *o, const char *ids)
{
	PGconn	   *conn = *connp;
	char		limit[24];
	const char *params[2];
	pgai_error	err;
	PGresult   *res;
	int			rc;

	snprintf(limit, sizeof(limit), "%ld", o->limit);
	params[0] = ids;
	params[1] = limit;
	if ((rc = check_ids(conn, ids)) == 0)
	{
		res = db_exec(conn, sql_errors,
					  2, params, PGRES_TUPLES_OK, &err);
		if (res == NULL)
		{
			fprintf(stderr, "pgai: %s\n", err.message);
			rc = EXIT_FAILED;
		}
		else
		{
			grid		g;

			grid_init(&g, errors_columns, ER_NCOLS);
			grid_add_result(&g, res);
			if (o->json || !isatty(STDOUT_FILENO))
				grid_print(&g, o->json);
			else if (g.n_rows == 0)
				puts("no errors recorded");
			else
				errors_print_blocks(stdout, &g);
			grid_free(&g);
			PQclear(res);
		}
	}
	return rc;
}

int
cmd_errors(int argc, char **argv)
{
	return cli_run(&errors_spec, argc, argv, NULL, errors_body);
}
