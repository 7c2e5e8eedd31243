/*
 * embed.h: what the SQL embedding functions share: building pgvector
 * values and the text[] form's (index, embedding) rows.
 */
#ifndef AI_EMBED_H
#define AI_EMBED_H

#include "postgres.h"

#include "fmgr.h"

/* Embeds n texts into out[n * dims]; raises errors with ereport. */
typedef void (*embed_fn) (void *arg, const char **texts, const size_t *lens,
						  size_t n, float *out);

/* A pgvector `vector` of dim floats, palloc'd. */
extern Datum ai_make_vector(const float *x, int dim);

/*
 * The text[] form: embeds the non-NULL elements of argument 1 in one call
 * and returns a row (index, embedding) per element, NULL for NULL inputs.
 */
extern Datum embed_text_array(FunctionCallInfo fcinfo, int dims, embed_fn embed, void *arg);

#endif							/* AI_EMBED_H */
