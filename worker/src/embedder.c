/*
 * embedder.c: turns formatted chunks into vectors, whatever the provider.
 *
 * The built-in model (sentence_transformers) is opened once per process
 * and shared by every thread: its weights are mapped read-only and its
 * embed call is thread-safe (see pgai_model.h). HTTP providers (OpenAI,
 * Ollama, Voyage) get one client per thread, so each keeps its own
 * connection alive.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgai_model.h"
#include "worker.h"

struct embedder
{
	char	   *impl;
	char	   *model_name;
	int			dimensions;
	pgai_model *model;			/* shared; not owned */
};

static pthread_mutex_t model_lock = PTHREAD_MUTEX_INITIALIZER;
static pgai_model *shared_model = NULL;

static const char *
model_dir(void)
{
	const char *dir = getenv("PGAI_MODEL_DIR");

	return (dir != NULL && dir[0] != '\0') ? dir : pgai_model_default_dir();
}

static pgai_status
open_model(pgai_model **out, pgai_error *err)
{
	pgai_status st = PGAI_OK;

	pthread_mutex_lock(&model_lock);
	if (shared_model == NULL)
	{
		char		msg[PGAI_MODEL_ERRLEN];

		if (pgai_model_open(model_dir(), &shared_model, msg, sizeof(msg)) != PGAI_MODEL_OK)
		{
			pgai_error_set(err, PGAI_EIO, "%s (install it with: make setup)", msg);
			shared_model = NULL;
			st = PGAI_EIO;
		}
	}
	*out = shared_model;
	pthread_mutex_unlock(&model_lock);
	return st;
}

bool
embedder_matches(const embedder *e, const vectorizer *v)
{
	return strcmp(e->impl, v->embedding_impl) == 0 &&
		strcmp(e->model_name, v->model) == 0 && e->dimensions == v->dimensions;
}

pgai_status
embedder_open(const vectorizer *v, embedder **out, pgai_error *err)
{
	embedder   *e;

	*out = NULL;
	if (strcmp(v->embedding_impl, "sentence_transformers") != 0)
		return pgai_error_set(err, PGAI_EINVAL,
							  "embedding implementation \"%s\" is not available in this worker",
							  v->embedding_impl);
	e = xcalloc(1, sizeof(embedder));
	e->impl = xstrdup(v->embedding_impl);
	e->model_name = xstrdup(v->model);
	e->dimensions = v->dimensions;
	if (open_model(&e->model, err) != PGAI_OK)
	{
		embedder_close(e);
		return PGAI_EIO;
	}
	*out = e;
	return PGAI_OK;
}

pgai_status
embedder_embed(embedder *e, const char *const *texts, const size_t *lens,
			   size_t n, float *out, pgai_error *row_errors, pgai_error *err)
{
	char		msg[PGAI_MODEL_ERRLEN];
	pgai_model_status st;

	(void) row_errors;			/* the model embeds every input or none */
	st = pgai_model_embed_cancelable(e->model, texts, lens, n, out, &worker_stop,
									 msg, sizeof(msg));
	if (st == PGAI_MODEL_ECANCELED)
		return pgai_error_set(err, PGAI_ECANCELED, "embedding canceled: the worker is stopping");
	if (st != PGAI_MODEL_OK)
		return pgai_error_set(err, PGAI_EPROVIDER, "%s", msg);
	return PGAI_OK;
}

void
embedder_close(embedder *e)
{
	if (e == NULL)
		return;
	free(e->impl);
	free(e->model_name);
	free(e);
}
