/*
 * catalog.h: loading the vectorizers from ai._vectorizer (catalog.c).
 */
#ifndef PGAI_WORKER_CATALOG_H
#define PGAI_WORKER_CATALOG_H

#include "worker.h"

extern int	vectorizers_load(PGconn *conn, const worker_options *opt,
							 vectorizer **out, int *n, pgai_error *err);

/* the same for the operator commands: the ids to read, nothing logged */
extern int	vectorizers_read(PGconn *conn, const int *ids, int n_ids, vectorizer **out,
							 int *n, pgai_error *err);
extern void vectorizers_free(vectorizer *v, int n);

#endif							/* PGAI_WORKER_CATALOG_H */
