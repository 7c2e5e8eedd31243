/*
 * worker.h: the `pgai` program's shared types.
 *
 * Ownership: a vectorizer (catalog.c, sql.c) owns every string and the SQL it
 * builds; it lives for one pass over the catalog. A batch (batch.c) owns
 * the rows it claimed, their chunks and vectors, and is freed after its
 * write. Each worker thread owns one PGconn and one embedder; nothing but
 * the options, the stop flag and the counters is shared between threads.
 */
#ifndef PGAI_WORKER_H
#define PGAI_WORKER_H

#include <libpq-fe.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pgai_error.h"
#include "pgai_text.h"

/*
 * Command-line settings of every `pgai` command (options.c parses them):
 * those of `pgai vectorizer worker`, then the operator commands' few.
 */
typedef struct worker_options
{
	const char *db_url;			/* libpq connection string or URI; NULL: PG*
								 * env */
	bool		once;			/* process what is pending, then exit */
	int		   *ids;			/* vectorizers to serve (NULL: all) */
	int			n_ids;
	double		poll_interval;	/* seconds between polls when idle */
	int			concurrency;	/* worker threads, each with a connection */
	int			batch_size;		/* rows per claim; 0: the vectorizer's */
	int			max_attempts;	/* failures before a key moves aside */
	double		retry_backoff;	/* seconds before the first retry, doubling */
	double		lease_seconds;	/* how long a claim holds its keys */
	double		request_timeout;	/* seconds per HTTP request; 0: default */
	int			http_retries;	/* HTTP retries per request; -1: default */
	bool		progress;		/* a live progress line (stderr is a tty) */

	/* the operator commands' */
	long		limit;			/* -n: at most this many rows */
	bool		json;			/* --json */
	char	  **args;			/* positional words (point into argv) */
	int			n_args;
} worker_options;

/* Totals shared by the threads, for progress and the exit status. */
typedef struct worker_stats
{
	atomic_long rows;			/* source rows written */
	atomic_long chunks;			/* chunks embedded and stored */
	atomic_long errors;			/* batches or rows that failed */
} worker_stats;

extern volatile sig_atomic_t worker_stop;

/* One primary-key column of a source, as the store and queues have it. */
typedef struct pk_column
{
	char	   *name;			/* the column name */
	char	   *ident;			/* quoted for SQL */
	char	   *type_sql;		/* format_type() of the store's column */
	unsigned	type_oid;		/* decides how COPY encodes it */
} pk_column;

/* A vectorizer: its configuration (catalog.c) and its SQL (sql.c). */
typedef struct vectorizer
{
	int			id;
	bool		disabled;
	char	   *source;			/* qualified, quoted names */
	char	   *store;
	char	   *queue;
	char	   *lease;
	char	   *failed;
	char	   *source_name;	/* schema.table for messages */

	pk_column  *pk;
	int			n_pk;

	/* embedding */
	char	   *embedding_impl;
	char	   *model;
	int			dimensions;
	char	   *api_key_name;
	char	   *base_url;
	char	   *chat_user;
	char	   *input_type;
	char	   *keep_alive;
	char	   *options_json;

	/* chunking and formatting */
	bool		recursive;
	chunk_config chunking;
	char	  **separators;
	tmpl	   *template;
	char	  **inputs;			/* columns read: [0] the chunk column, then
								 * the template's other names */
	int			n_inputs;

	/* indexing */
	char	   *index_impl;		/* "none", "hnsw", "diskann" */
	int64_t		min_rows;
	char	   *opclass;
	int			hnsw_m;
	int			hnsw_ef_construction;
	bool		index_when_queue_empty;
	char	   *diskann_with;	/* WITH (...) options for DiskANN, or "" */

	/* scheduling and processing */
	double		schedule_interval;	/* seconds; 0: continuous */
	int			batch_size;
	int			concurrency;	/* threads of a process at once; 0: any */

	/* SQL, built once per vectorizer */
	char	   *sql_claim;
	char	   *sql_lock_leases;
	char	   *sql_lock_source;
	char	   *sql_delete_queue;
	char	   *sql_delete_leases;
	char	   *sql_delete_failed;
	char	   *sql_retry_later;
	char	   *sql_move_failed;
	char	   *keys_unnest;	/* unnest($1::text[], ...) AS k(...) */
} vectorizer;

#endif							/* PGAI_WORKER_H */
