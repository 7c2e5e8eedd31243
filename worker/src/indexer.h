/*
 * indexer.h: the ANN index rules, for the worker and for `status`
 * (indexer.c).
 */
#ifndef PGAI_WORKER_INDEXER_H
#define PGAI_WORKER_INDEXER_H

#include "worker.h"

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

#endif							/* PGAI_WORKER_INDEXER_H */
