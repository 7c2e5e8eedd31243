/*
 * worker.h: the `pgai` program's shared types.
 *
 * Ownership: a vectorizer (vectorizer.c) owns every string and the SQL it
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

/* Command-line settings of `pgai vectorizer worker`. */
typedef struct worker_options
{
	const char *db_url;			/* libpq connection string or URI; NULL: PG* env */
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

/* A vectorizer's configuration and the SQL built for it (vectorizer.c). */
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

/* vectorizer.c */
extern int	vectorizers_load(PGconn *conn, const worker_options *opt,
							 vectorizer **out, int *n, pgai_error *err);
/* the same for the operator commands: the ids to read, nothing logged */
extern int	vectorizers_read(PGconn *conn, const int *ids, int n_ids, vectorizer **out,
							 int *n, pgai_error *err);
extern void vectorizers_free(vectorizer *v, int n);

/* embedder.c: one per thread and vectorizer kind */
typedef struct embedder embedder;
extern pgai_status embedder_open(const vectorizer *v, const worker_options *opt,
								 embedder **out, pgai_error *err);
extern bool embedder_matches(const embedder *e, const vectorizer *v);
extern pgai_status embedder_embed(embedder *e, const char *const *texts,
								  const size_t *lens, size_t n, float *out,
								  pgai_error *row_errors, pgai_error *err);
extern void embedder_close(embedder *e);
/* may the worker read the environment variable `name` as an API key? */
extern bool worker_key_name_allowed(const char *name);

/* batch.c: one claim-embed-write cycle; returns keys claimed, -1 on error */
extern long batch_run(PGconn *conn, const vectorizer *v, embedder **emb,
					  const worker_options *opt, worker_stats *stats,
					  pgai_error *err);

/*
 * commands.c: the operator commands (vectorizer status/errors/retry,
 * search). argv[0] is the command word; returns the exit status, or -1
 * when argv names no such command.
 */
extern int	run_command(int argc, char **argv);

/* once.c: --once lifts earlier backoff at its start and counts what is left */
typedef struct once_left
{
	long		held;			/* leased by another live worker */
	double		held_for;		/* seconds until the last of those leases ends */
	long		ours;			/* leased by this process's sessions */
	long		failed;			/* backing off after a failure */
	long		ready;			/* claimable, yet not claimed */
	char		last_error[200];	/* the newest failure's message, or "" */
} once_left;

static inline long
once_left_total(const once_left *l)
{
	return l->held + l->ours + l->failed + l->ready;
}

extern long once_lift_backoff(PGconn *conn, const vectorizer *v, pgai_error *err);
extern int	once_leftovers(PGconn *conn, const vectorizer *v, const int *our_pids,
						   int n_pids, once_left *out, pgai_error *err);
extern void once_describe(const vectorizer *v, const once_left *left);

/* schedule.c: the timescaledb scheduling settings, read from the server */
typedef struct schedule_info
{
	int			id;
	bool		waiting;		/* initial_start is ahead */
	bool		fixed;			/* runs start at origin + k * interval */
	bool		has_slot;		/* fixed: a run has started (origin passed) */
	double		slot;			/* fixed: the current run's start, epoch s */
	char		next[32];		/* fixed: the next run's start, UTC ISO 8601 */
} schedule_info;

extern int	schedule_load(PGconn *conn, const worker_options *opt, schedule_info **out,
						  int *n, pgai_error *err);
extern const schedule_info *schedule_find(const schedule_info *s, int n, int id);

/* indexer.c: the ANN index rules, for the worker and for `status` */
typedef enum index_kind
{
	INDEX_BUILT,				/* an ANN index exists (am names it) */
	INDEX_NOT_WANTED,			/* indexing none */
	INDEX_NO_STORE,				/* the store table is gone */
	INDEX_WAITING_ROWS,			/* fewer than min_rows rows in the store */
	INDEX_WAITING_QUEUE,		/* create_when_queue_empty, and rows queued */
	INDEX_UNAVAILABLE,			/* DiskANN without a "diskann" access method */
	INDEX_DUE,					/* the next worker pass builds it */
} index_kind;

typedef struct index_state
{
	index_kind	kind;
	char		am[64];			/* INDEX_BUILT: its access method */
	int64_t		rows;			/* rows in the store, counted up to min_rows */
	int64_t		min_rows;
} index_state;

extern int	indexer_state(PGconn *conn, const vectorizer *v, index_state *out,
						  pgai_error *err);
extern char *indexer_state_text(const vectorizer *v, const index_state *s);
extern void indexer_maybe_create(PGconn *conn, const vectorizer *v);

/* db.c */
extern PGresult *db_exec(PGconn *conn, const char *sql, int nparams,
						 const char *const *values, ExecStatusType expect,
						 pgai_error *err);
extern PGresult *db_exec_prepared(PGconn *conn, const char *sql, int nparams,
								  const char *const *values, ExecStatusType expect,
								  pgai_error *err);
extern void db_forget_prepared(void);
extern bool db_command(PGconn *conn, const char *sql, pgai_error *err);
extern char *db_ident(PGconn *conn, const char *name);
extern char *db_array_literal(const char *const *values, size_t n);
extern char *db_ids_literal(const int *ids, int n);
extern void db_record_error(PGconn *conn, int vectorizer_id, const char *message,
							const char *details_json);

/* util.c */
extern char *xstrdup(const char *s);
extern char *xasprintf(const char *fmt,...) __attribute__((format(printf, 1, 2)));
extern void *xcalloc(size_t n, size_t size);
extern void *xrealloc(void *p, size_t size);
extern void log_line(const char *fmt,...) __attribute__((format(printf, 1, 2)));

#endif							/* PGAI_WORKER_H */
