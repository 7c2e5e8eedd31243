/*
 * batch.h: one claim-embed-write cycle of a vectorizer (batch.c), and the
 * batch it works on, which claim.c fills and write.c writes.
 *
 * Ownership: the batch owns everything it allocates and frees it before
 * batch_run returns.
 */
#ifndef PGAI_WORKER_BATCH_H
#define PGAI_WORKER_BATCH_H

#include "embedder.h"
#include "worker.h"

typedef enum row_state
{
	ROW_PENDING,				/* claimed, being worked on */
	ROW_GONE,					/* source row deleted */
	ROW_FAILED,					/* this row could not be embedded */
} row_state;

typedef struct batch_row
{
	char	  **key;			/* n_pk text values */
	int			attempts;
	row_state	state;
	char	   *hash;			/* md5 of the inputs when claimed */
	char	  **values;			/* n_inputs text values, NULL for SQL NULL */
	chunk_list	chunks;
	size_t		first_text;		/* index of its first chunk in the batch */
	char	   *error;			/* why it failed, when ROW_FAILED */
} batch_row;

typedef struct batch
{
	const vectorizer *v;
	batch_row  *rows;
	int			n_rows;
	char		token[37];
	/* every chunk of every row, formatted, in row order */
	char	  **texts;
	size_t	   *lens;
	size_t		n_texts;
	float	   *vectors;
	bool		canceled;		/* embedding cut short: the worker is stopping */
} batch;

/* one claim-embed-write cycle; returns keys claimed, -1 on error */
extern long batch_run(PGconn *conn, const vectorizer *v, embedder **emb,
					  const worker_options *opt, worker_stats *stats,
					  pgai_error *err);

#endif							/* PGAI_WORKER_BATCH_H */
