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

/* schedule.c: the timescaledb schedules; $1 the int[] of ids, NULL for all */
extern const char *const sql_schedule;

enum sql_schedule_column
{
	SCHED_ID, SCHED_WAITING, SCHED_FIXED, SCHED_SLOT, SCHED_NEXT
};

/* cli/status.c: a row per vectorizer; $1 the int[] of ids, NULL for all */
extern const char *const sql_status;

enum sql_status_column
{
	SQ_ID, SQ_SOURCE, SQ_STORE, SQ_PENDING, SQ_FAILED, SQ_DISABLED, SQ_ERROR_AT, SQ_ERROR
};

/* cli/errors.c: newest first; $1 the int[] of ids (NULL: all), $2 the limit */
extern const char *const sql_errors;

enum sql_errors_column
{
	ERRORS_RECORDED, ERRORS_ID, ERRORS_MESSAGE, ERRORS_DETAILS
};

/* cli/search.c: what search needs of vectorizer $1 */
extern const char *const sql_search_info;

enum sql_search_info_column
{
	SI_STORE, SI_IMPL, SI_MODEL, SI_DIMS, SI_KEY_NAME, SI_BASE_URL, SI_KEEP_ALIVE,
	SI_OPTIONS, SI_KEY_EXPR, SI_VECTOR_SCHEMA
};

/*
 * The query text embedded by the server: $1 the text, $2 the model, then
 * per provider: openai $3 api_key, $4 api_key_name, $5 dimensions,
 * $6 base_url; ollama $3 host, $4 keep_alive, $5 options, $6 dimensions;
 * voyageai $3 api_key, $4 api_key_name, $5 dimensions. One column: the
 * vector as text.
 */
extern const char *const sql_embed_sentence_transformers;
extern const char *const sql_embed_openai;
extern const char *const sql_embed_ollama;
extern const char *const sql_embed_voyageai;

/* the search itself (malloc'd): columns as search's grid, SE_* */
extern char *sql_search(const char *vector_schema, const char *key_expr, const char *store);

/* cli/cli.c: the ids of the int[] $1 that name no vectorizer */
extern const char *const sql_missing_ids;

/* cli/retry.c: vectorizer $1's failed rows back in its queue; one column, how many */
extern const char *const sql_retry_failed;

/* loop.c: rows queued for the int[] $1 of ids (NULL: all); one column */
extern const char *const sql_pending;

/* db.c: records message $2 with details $3 (jsonb) for vectorizer $1 */
extern const char *const sql_record_error;

/*
 * write.c: replaces the store rows of vectorizer $1's keys $2 (text[], the
 * key columns of each row in turn) with the COPY data $3 (bytea), binary
 * when $4
 */
extern const char *const sql_store_replace;

/* indexer.c: $1 the store; one column, the first ANN index's access method */
extern const char *const sql_index_found;
extern char *sql_index_due(const vectorizer *v);

enum sql_index_due_column
{
	DUE_ROWS, DUE_QUEUED
};

extern char *sql_create_index(const vectorizer *v);
extern const char *const sql_diskann_exists;

/* whether vectorizer $1 has an error with message $2 */
extern const char *const sql_error_recorded;
extern const char *const sql_index_lock;
extern const char *const sql_index_unlock;

#endif							/* PGAI_WORKER_SQL_H */
