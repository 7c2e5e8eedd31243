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

#include "worker.h"

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
 * An ANN index on the store's embedding column: 1 when there is one, 0
 * when not, -1 when the question failed (then build nothing).
 */
static int
index_exists(PGconn *conn, const vectorizer *v)
{
	const char *store[1] = {v->store};
	pgai_error	err;
	PGresult   *res;
	int			found;

	res = db_exec(conn,
				  "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index i"
				  " JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid"
				  " JOIN pg_catalog.pg_am a ON a.oid = c.relam"
				  " JOIN pg_catalog.pg_attribute t ON t.attrelid = i.indrelid AND t.attnum = ANY (i.indkey)"
				  " WHERE i.indrelid = $1::regclass AND t.attname = 'embedding'"
				  " AND a.amname IN ('hnsw', 'diskann', 'ivfflat'))",
				  1, store, PGRES_TUPLES_OK, &err);
	if (res == NULL || PQntuples(res) != 1)
		found = -1;
	else
		found = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return found;
}

/* True when the store holds at least min_rows rows (and the queue is empty, if asked). */
static bool
index_due(PGconn *conn, const vectorizer *v)
{
	char		min_rows[32];
	const char *params[1] = {min_rows};
	char	   *sql;
	bool		due;

	snprintf(min_rows, sizeof(min_rows), "%lld", (long long) v->min_rows);
	sql = xasprintf("SELECT (SELECT pg_catalog.count(*) FROM (SELECT 1 FROM %s LIMIT $1::bigint) s)"
					" >= $1::bigint%s%s", v->store,
					v->index_when_queue_empty ? " AND NOT EXISTS (SELECT 1 FROM " : "",
					v->index_when_queue_empty ? v->queue : "");
	if (v->index_when_queue_empty)
	{
		char	   *closed = xasprintf("%s)", sql);

		free(sql);
		sql = closed;
	}
	due = query_bool(conn, sql, 1, params);
	free(sql);
	return due;
}

static char *
index_sql(const vectorizer *v)
{
	if (strcmp(v->index_impl, "diskann") == 0)
		return xasprintf("CREATE INDEX CONCURRENTLY ON %s USING diskann (embedding)%s%s%s",
						 v->store, v->diskann_with[0] ? " WITH (" : "", v->diskann_with,
						 v->diskann_with[0] ? ")" : "");
	if (v->hnsw_m > 0 && v->hnsw_ef_construction > 0)
		return xasprintf("CREATE INDEX CONCURRENTLY ON %s USING hnsw (embedding %s) "
						 "WITH (m = %d, ef_construction = %d)",
						 v->store, v->opclass, v->hnsw_m, v->hnsw_ef_construction);
	if (v->hnsw_m > 0)
		return xasprintf("CREATE INDEX CONCURRENTLY ON %s USING hnsw (embedding %s) WITH (m = %d)",
						 v->store, v->opclass, v->hnsw_m);
	if (v->hnsw_ef_construction > 0)
		return xasprintf("CREATE INDEX CONCURRENTLY ON %s USING hnsw (embedding %s) "
						 "WITH (ef_construction = %d)",
						 v->store, v->opclass, v->hnsw_ef_construction);
	return xasprintf("CREATE INDEX CONCURRENTLY ON %s USING hnsw (embedding %s)",
					 v->store, v->opclass);
}

/* Said once: the vectorizer goes on without an index. */
static void
note_no_diskann(PGconn *conn, const vectorizer *v, const char *id)
{
	const char *msg = "cannot create the DiskANN index: no \"diskann\" access method "
		"(install pgvectorscale, or use ai.indexing_hnsw())";
	const char *p[2] = {id, msg};

	if (!query_bool(conn, "SELECT EXISTS (SELECT 1 FROM ai.vectorizer_errors "
					"WHERE id = $1::int AND message = $2)", 2, p))
		db_record_error(conn, v->id, msg, "{\"indexing\": \"diskann\"}");
}

static void
build(PGconn *conn, const vectorizer *v, bool diskann)
{
	char	   *sql = index_sql(v);
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
	bool		diskann = strcmp(v->index_impl, "diskann") == 0;

	if (strcmp(v->index_impl, "none") == 0)
		return;
	/* the usual answer, found without taking the lock */
	if (index_exists(conn, v) != 0)
		return;
	if (!index_due(conn, v))
		return;

	snprintf(id, sizeof(id), "%d", v->id);
	/*
	 * One builder per vectorizer, across workers and machines; the note
	 * that DiskANN is missing is looked for and written under the lock too,
	 * or threads arriving together would each write it.
	 */
	if (!query_bool(conn, "SELECT pg_catalog.pg_try_advisory_lock(2053597, $1::int)", 1, idp))
		return;
	/* the holder before us may have built it since our first look */
	if (index_exists(conn, v) == 0)
	{
		if (diskann && !query_bool(conn, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_am "
								   "WHERE amname = 'diskann')", 0, NULL))
			note_no_diskann(conn, v, id);
		else
			build(conn, v, diskann);
	}
	query_bool(conn, "SELECT pg_catalog.pg_advisory_unlock(2053597, $1::int)", 1, idp);
}
