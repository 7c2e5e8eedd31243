/*
 * copy.h: the COPY data encoder (copy.c), the rows ai._vectorizer_store_replace
 * takes: PostgreSQL's binary COPY format when every key column has a binary
 * encoding here, else the text format with vector literals.
 */
#ifndef PGAI_WORKER_COPY_H
#define PGAI_WORKER_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker.h"

/* A growing byte buffer; data is malloc'd, free it when done. */
typedef struct copybuf
{
	char	   *data;
	size_t		len,
				cap;
} copybuf;

extern void cb_put(copybuf *c, const void *p, size_t n);

/* true when every key type has a binary encoding here */
extern bool copy_keys_binary(const pk_column *pk, int n_pk);

/* the header (binary) before the first row, the trailer after the last */
extern void copy_begin(copybuf *c, bool binary);
extern void copy_end(copybuf *c, bool binary);

/*
 * One store row: the key's columns (their text forms), chunk_seq, the
 * chunk's text and its vector of `dims` floats. A key that does not fit
 * its type's binary form (a malformed uuid) returns false; the row is
 * written all the same and the server rejects it.
 */
extern bool copy_row(copybuf *c, bool binary, const pk_column *pk, int n_pk,
					 char *const *key, int chunk_seq, const char *text, size_t len,
					 const float *vec, int dims);

#endif							/* PGAI_WORKER_COPY_H */
