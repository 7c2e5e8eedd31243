/*
 * cli/status.c: pgai vectorizer status: each vectorizer's queue, failures, index
 * (as indexer.c judges it) and last error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../catalog.h"
#include "../db.h"
#include "../sql.h"
#include "../indexer.h"
#include "../util.h"
#include "cli.h"
#include "grid.h"

/* ---------------------------------------------------------------------- */
/* pgai vectorizer status */

static const cmd_spec status_spec = {
	"vectorizer status", true, false, true, 0,
	"usage: pgai vectorizer status [-d URL] [-i ID]... [--json]\n"
	"\n"
	"One line per vectorizer: its source and store, rows pending in its queue\n"
	"(exact), rows set aside after failing too often, the state of its ANN index,\n"
	"whether it is disabled, and its last error.\n"
	"\n"
	"  -d, --db-url URL        libpq connection string or URI (default: PG* variables)\n"
	"  -i, --vectorizer-id ID  only this vectorizer (repeatable)\n"
	"      --json              a JSON array of objects\n"
	"  -h, --help              show this help\n"
	"\n"
	"On a terminal: an aligned table. Otherwise one tab-separated line per\n"
	"vectorizer, no header, columns: id, source, store, pending, failed, index,\n"
	"disabled (t/f), last error time, last error (\\t \\n \\\\ escaped).\n"
	"Index: \"hnsw index\" / \"diskann index\" (it exists), \"none configured\",\n"
	"\"waiting for N rows (M so far)\", \"waiting for the queue to empty\", or\n"
	"\"hnsw due\" / \"diskann due\" (the next worker pass creates it),\n"
	"\"diskann unavailable (no \\\"diskann\\\" access method)\" (pgvectorscale is\n"
	"not installed: the worker builds none), or \"store missing\".\n"
	"Exit status: 0 done, 1 a vectorizer does not exist or a query failed,\n"
	"2 bad usage, 3 cannot connect.\n",
	false, false
};

enum
{
	ST_ID, ST_SOURCE, ST_STORE, ST_PENDING, ST_FAILED, ST_INDEX, ST_DISABLED,
	ST_ERROR_AT, ST_ERROR, ST_NCOLS
};

static const grid_column status_columns[ST_NCOLS] = {
	{"id", COL_NUMBER, false},
	{"source", COL_TEXT, false},
	{"store", COL_TEXT, false},
	{"pending", COL_NUMBER, false},
	{"failed", COL_NUMBER, false},
	{"index", COL_TEXT, false},
	{"disabled", COL_BOOL, false},
	{"last_error_at", COL_TEXT, false},
	{"last_error", COL_TEXT, true},
};

static const char *
status_colour(const grid *g, int row, int col)
{
	const char *v = grid_get(g, row, col);

	if (v == NULL)
		return C_DIM;
	switch (col)
	{
		case ST_PENDING:
			return strcmp(v, "0") != 0 ? C_YELLOW : NULL;
		case ST_FAILED:
			return strcmp(v, "0") != 0 ? C_RED : NULL;
		case ST_ERROR:
			return C_RED;
		case ST_INDEX:
			return strstr(v, " index") ? C_GREEN : NULL;
		case ST_DISABLED:
			return v[0] == 't' ? C_YELLOW : NULL;
		default:
			return NULL;
	}
}



/*
 * The index state of vectorizer `id` as the indexer sees it (indexer.c
 * has the rules), malloc'd.
 */
static char *
index_state_of(PGconn *conn, const vectorizer *vs, int n, int id)
{
	index_state st;
	pgai_error	err;

	for (int i = 0; i < n; i++)
	{
		if (vs[i].id != id)
			continue;
		if (indexer_state(conn, &vs[i], &st, &err) != 0)
			return xasprintf("unknown (%s)", err.message);
		return indexer_state_text(&vs[i], &st);
	}
	/* created since the catalog was read */
	return xstrdup("unknown");
}

static int
status_body(PGconn **connp, const worker_options *o, const char *ids)
{
	PGconn	   *conn = *connp;
	const char *params[1] = {ids};
	pgai_error	err;
	PGresult   *res;
	vectorizer *vs = NULL;
	int			n_vs = 0;
	grid		g;
	int			rc;

	/* an unknown id is said, and the others are shown all the same */
	rc = check_ids(conn, ids);
	res = db_exec(conn, sql_status, 1, params, PGRES_TUPLES_OK, &err);
	if (res == NULL || vectorizers_read(conn, o->ids, o->n_ids, &vs, &n_vs, &err) != 0)
	{
		fprintf(stderr, "pgai: %s\n", err.message);
		rc = EXIT_FAILED;
	}
	else
	{
		grid_init(&g, status_columns, ST_NCOLS);
		g.colour = status_colour;
		for (int r = 0; r < PQntuples(res); r++)
		{
			int			row = grid_add_row(&g);
			char	   *state = index_state_of(conn, vs, n_vs, atoi(PQgetvalue(res, r, SQ_ID)));
			static const struct
			{
				int			from,
							to;
			}			cells[] = {
				{SQ_ID, ST_ID}, {SQ_SOURCE, ST_SOURCE}, {SQ_STORE, ST_STORE},
				{SQ_PENDING, ST_PENDING}, {SQ_FAILED, ST_FAILED}, {SQ_DISABLED, ST_DISABLED},
				{SQ_ERROR_AT, ST_ERROR_AT}, {SQ_ERROR, ST_ERROR},
			};

			for (size_t c = 0; c < sizeof(cells) / sizeof(cells[0]); c++)
				if (!PQgetisnull(res, r, cells[c].from))
					grid_set(&g, row, cells[c].to, PQgetvalue(res, r, cells[c].from));
			grid_set(&g, row, ST_INDEX, state);
			free(state);
		}
		grid_show(&g, o->json, "no vectorizers");
		grid_free(&g);
	}
	PQclear(res);
	vectorizers_free(vs, n_vs);
	return rc;
}

/* no words: "pgai vectorizer status extra" is bad usage */
static int
status_check(const worker_options *o)
{
	if (o->n_args == 0)
		return -1;
	fprintf(stderr, "pgai vectorizer status: unexpected argument \"%s\"\n", o->args[0]);
	return EXIT_USAGE;
}

int
cmd_status(int argc, char **argv)
{
	return cli_run(&status_spec, argc, argv, status_check, status_body);
}
