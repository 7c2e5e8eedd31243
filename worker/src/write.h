/*
 * write.h: the write transaction of a batch (write.c).
 */
#ifndef PGAI_WORKER_WRITE_H
#define PGAI_WORKER_WRITE_H

#include "batch.h"

/*
 * Writes what the batch holds: true when committed, with the rows and
 * chunks written and the rows that failed counted; false (rolled back)
 * with err set.
 */
extern bool write_batch(PGconn *conn, batch *b, const worker_options *opt, long *written,
						long *chunks, long *failures, pgai_error *err);

#endif							/* PGAI_WORKER_WRITE_H */
