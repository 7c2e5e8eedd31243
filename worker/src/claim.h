/*
 * claim.h: leasing a batch of keys and reading their rows (claim.c).
 */
#ifndef PGAI_WORKER_CLAIM_H
#define PGAI_WORKER_CLAIM_H

#include "batch.h"

/* fills b->rows and b->token; returns the keys claimed, -1 with err set */
extern int	claim_batch(PGconn *conn, batch *b, const worker_options *opt, pgai_error *err);

#endif							/* PGAI_WORKER_CLAIM_H */
