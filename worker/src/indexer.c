/*
 * indexer.c: creates a vectorizer's ANN index once its store is big enough.
 *
 * Conditions (pgai's): an index is wanted (indexing not "none"), none
 * exists yet on the store's embedding column, the store has at least
 * min_rows rows, and with create_when_queue_empty the queue is empty. One
 * worker builds it, under a session advisory lock per vectorizer (CREATE
 * INDEX CONCURRENTLY cannot run inside a transaction, so a transaction lock
 * would not cover it); CONCURRENTLY keeps the store writable meanwhile.
 * Whether an index exists is asked again once the lock is held: another
 * worker may have built one and let the lock go after our first look, and
 * pgvector would build a second, identical index without a word. DiskANN
 * needs a "diskann" access method (pgvectorscale); without one the problem
 * is recorded once and the vectorizer goes on without an index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "indexer.h"
#include "sql.h"
#include "util.h"

static bool
query_bool(PGconn *conn, const char *sql, int n, const char *const *params)
{
	pgai_error	err;
	PGresult   *res = db_exec(conn, sql, n, params, PGRES_TUPLES_OK, &err);
	bool		yes = res != NULL && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';

	PQclear(res);
	return yes;
}

/*
 * The access method of an ANN index on the store's embedding column (the
 * first by name), "" when there is none; false when the question failed.
 */
static bool
index_found(PGconn *conn, const vectorizer *v, char *am, size_t am_size, pgai_error *err)
{
	const char *store[1] = {v->store};
	PGresult   *res;

	res = db_exec(conn, sql_index_found, 1, store, PGRES_TUPLES_OK, err);
	if (res == NULL)
		return false;
	snprintf(am, am_size, "%s", PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return true;
}

/*
 * Where v's index stands, by the rules the worker builds it by (the order
 * of the checks is the order `pgai vectorizer status` reports them in):
 * an index exists; none is wanted; the store is gone; the store has fewer
 * than min_rows rows; with create_when_queue_empty, the queue is not
 * empty; a DiskANN index cannot be built here; else it is due. Returns 0,
 * or -1 with err set when a question failed.
 */
int
indexer_state(PGconn *conn, const vectorizer *v, index_state *out, pgai_error *err)
{
	char		min_rows[32];
	const char *params[1] = {min_rows};
	char	   *sql;
	PGresult   *res;
	bool		queued;

	memset(out, 0, sizeof(*out));
	out->min_rows = v->min_rows;
	if (v->store == NULL)
	{
		out->kind = INDEX_NO_STORE;
		return 0;
	}
	if (!index_found(conn, v, out->am, sizeof(out->am), err))
		return -1;
	if (out->am[0] != '\0')
	{
		out->kind = INDEX_BUILT;
		return 0;
	}
	if (v->index_impl == NULL || strcmp(v->index_impl, "none") == 0)
	{
		out->kind = INDEX_NOT_WANTED;
		return 0;
	}
	if (v->index_when_queue_empty && v->queue == NULL)
	{
		pgai_error_set(err, PGAI_EIO, "its queue table is missing");
		return -1;
	}
	/* rows in the store, counted up to min_rows, and whether any is queued */
	snprintf(min_rows, sizeof(min_rows), "%lld", (long long) v->min_rows);
	sql = sql_index_due(v);
	res = db_exec(conn, sql, 1, params, PGRES_TUPLES_OK, err);
	free(sql);
	if (res == NULL)
		return -1;
	out->rows = strtoll(PQgetvalue(res, 0, DUE_ROWS), NULL, 10);
	queued = PQgetvalue(res, 0, DUE_QUEUED)[0] == 't';
	PQclear(res);
	if (out->rows < v->min_rows)
		out->kind = INDEX_WAITING_ROWS;
	else if (queued)
		out->kind = INDEX_WAITING_QUEUE;
	else if (strcmp(v->index_impl, "diskann") == 0 &&
			 !query_bool(conn, sql_diskann_exists, 0, NULL))
		out->kind = INDEX_UNAVAILABLE;
	else
		out->kind = INDEX_DUE;
	return 0;
}

char *
indexer_state_text(const vectorizer *v, const index_state *s)
{
	switch (s->kind)
	{
		case INDEX_BUILT:
			return xasprintf("%s index", s->am);
		case INDEX_NOT_WANTED:
			return xstrdup("none configured");
		case INDEX_NO_STORE:
			return xstrdup("store missing");
		case INDEX_WAITING_ROWS:
			return xasprintf("waiting for %lld rows (%lld so far)", (long long) s->min_rows,
							 (long long) s->rows);
		case INDEX_WAITING_QUEUE:
			return xstrdup("waiting for the queue to empty");
		case INDEX_UNAVAILABLE:
			return xasprintf("%s unavailable (no \"%s\" access method)", v->index_impl,
							 v->index_impl);
		case INDEX_DUE:
			break;
	}
	return xasprintf("%s due", v->index_impl);
}

/* Said once: the vectorizer goes on without an index. */
static void
note_no_diskann(PGconn *conn, const vectorizer *v, const char *id)
{
	const char *msg = "cannot create the DiskANN index: no \"diskann\" access method "
	"(install pgvectorscale, or use ai.indexing_hnsw())";
	const char *p[2] = {id, msg};

	if (!query_bool(conn, sql_error_recorded, 2, p))
		db_record_error(conn, v->id, msg, "{\"indexing\": \"diskann\"}");
}

static void
build(PGconn *conn, const vectorizer *v, bool diskann)
{
	char	   *sql = sql_create_index(v);
	pgai_error	err;

	log_line("vectorizer %d: creating the %s index on %s", v->id,
			 diskann ? "DiskANN" : "HNSW", v->store);
	if (!db_command(conn, sql, &err))
	{
		log_line("vectorizer %d: index creation failed: %s", v->id, err.message);
		db_record_error(conn, v->id, err.message, "{\"phase\": \"index\"}");
	}
	free(sql);
}

void
indexer_maybe_create(PGconn *conn, const vectorizer *v)
{
	char		id[16];
	const char *idp[1] = {id};
	index_state st;
	pgai_error	err;

	/* a vectorizer without indexing costs no question */
	if (strcmp(v->index_impl, "none") == 0)
		return;
	if (indexer_state(conn, v, &st, &err) != 0 ||
		(st.kind != INDEX_DUE && st.kind != INDEX_UNAVAILABLE))
		return;

	snprintf(id, sizeof(id), "%d", v->id);

	/*
	 * One builder per vectorizer, across workers and machines; the note that
	 * DiskANN is missing is looked for and written under the lock too, or
	 * threads arriving together would each write it.
	 */
	if (!query_bool(conn, sql_index_lock, 1, idp))
		return;
	/* the holder before us may have built it since our first look */
	if (index_found(conn, v, st.am, sizeof(st.am), &err) && st.am[0] == '\0')
	{
		if (st.kind == INDEX_UNAVAILABLE)
			note_no_diskann(conn, v, id);
		else
			build(conn, v, strcmp(v->index_impl, "diskann") == 0);
	}
	query_bool(conn, sql_index_unlock, 1, idp);
}
