/*
 * embedder.h: chunks to vectors, whatever the provider (embedder.c).
 */
#ifndef PGAI_WORKER_EMBEDDER_H
#define PGAI_WORKER_EMBEDDER_H

#include "worker.h"

/* one per thread and vectorizer kind */
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

#endif							/* PGAI_WORKER_EMBEDDER_H */
