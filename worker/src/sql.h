/*
 * sql.h: the statements the worker sends (sql.c), and the columns of
 * their results. Readers in other files use these names, never a column's
 * position, so a statement and its readers change together.
 */
#ifndef PGAI_WORKER_SQL_H
#define PGAI_WORKER_SQL_H

#include "worker.h"

/* The catalog (catalog.c): $1 the int[] of ids, NULL for all. */
extern const char *const sql_load;
extern const char *const sql_separators;
extern const char *const sql_keys;

enum sql_load_column
{
	LOAD_ID,
	LOAD_DISABLED,
	LOAD_SOURCE,
	LOAD_STORE,
	LOAD_QUEUE,
	LOAD_LEASE,
	LOAD_FAILED,
	LOAD_SOURCE_NAME,
	LOAD_EMBEDDING_IMPL,
	LOAD_MODEL,
	LOAD_DIMENSIONS,
	LOAD_API_KEY_NAME,
	LOAD_BASE_URL,
	LOAD_CHAT_USER,
	LOAD_INPUT_TYPE,
	LOAD_KEEP_ALIVE,
	LOAD_OPTIONS_JSON,
	LOAD_CHUNK_IMPL,
	LOAD_CHUNK_COLUMN,
	LOAD_CHUNK_SIZE,
	LOAD_CHUNK_OVERLAP,
	LOAD_SEPARATOR,
	LOAD_IS_SEPARATOR_REGEX,
	LOAD_TEMPLATE_SRC,
	LOAD_INDEX_IMPL,
	LOAD_MIN_ROWS,
	LOAD_OPCLASS,
	LOAD_HNSW_M,
	LOAD_HNSW_EF_CONSTRUCTION,
	LOAD_INDEX_WHEN_QUEUE_EMPTY,
	LOAD_DISKANN_WITH,
	LOAD_SCHEDULE_INTERVAL,
	LOAD_BATCH_SIZE,
	LOAD_CONCURRENCY
};

enum sql_separators_column
{
	SEPARATORS_ID, SEPARATORS_ELEM
};

enum sql_keys_column
{
	KEYS_ID, KEYS_NAME, KEYS_TYPE_SQL, KEYS_TYPE_OID
};

/* Builds v's generated statements (the sql_* and keys_unnest of vectorizer). */
extern void sql_build(PGconn *conn, vectorizer *v);

/*
 * v->sql_claim's columns: the n_pk key columns (as text), then these,
 * then the n_inputs input columns (as text); claim_column gives the index.
 */
enum sql_claim_column
{
	CLAIM_ATTEMPTS, CLAIM_GONE, CLAIM_HASH, CLAIM_INPUTS
};

static inline int
claim_column(const vectorizer *v, enum sql_claim_column c)
{
	return v->n_pk + (int) c;
}

/* v->sql_lock_leases's and v->sql_lock_source's columns */
enum
{
	LOCK_LEASES_ORD = 0
};
enum
{
	LOCK_SOURCE_ORD, LOCK_SOURCE_HASH
};

/* --once (once.c): malloc'd statements over v's lease and queue tables */
extern char *sql_lift_backoff(const vectorizer *v);
extern char *sql_leftovers(const vectorizer *v);

enum sql_leftovers_column
{
	LEFT_HELD, LEFT_OURS, LEFT_FAILED, LEFT_READY, LEFT_LAST_ERROR, LEFT_HELD_FOR
};

#endif							/* PGAI_WORKER_SQL_H */
