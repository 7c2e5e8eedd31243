/*
 * embed_local.c: the built-in model inside PostgreSQL.
 *
 *   ai.sentence_transformers_embed(model text, input_text text) -> vector
 *   ai.sentence_transformers_embed(model text, input_texts text[])
 *       -> TABLE (index int, embedding vector)
 *
 * The same core/model code the worker runs, so a query text embedded here
 * lands in the same space as the stored chunks. The model is opened once
 * per backend and kept: its weights are mapped read-only, so every backend
 * shares one copy in the page cache. It is looked for in the setting
 * ai.model_dir, else $PGAI_MODEL_DIR, else the directory make setup fills.
 *
 * Interrupts: the model checks InterruptPending between sub-batches; when
 * it stops early we let CHECK_FOR_INTERRUPTS() act (a cancel or a
 * statement_timeout raises its error there) and otherwise resume.
 * Scratch memory is malloc'd and freed by the model on every return path.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "ai.h"
#include "embed.h"
#include "guc.h"
#include "pgai_model.h"
#include "sqlstate.h"

PG_FUNCTION_INFO_V1(sentence_transformers_embed);
PG_FUNCTION_INFO_V1(sentence_transformers_embed_array);

static pgai_model *backend_model = NULL;
static char *backend_model_path = NULL; /* in TopMemoryContext */

static const char *
model_dir(void)
{
	if (ai_model_dir != NULL && ai_model_dir[0] != '\0')
		return ai_model_dir;
	/* $PGAI_MODEL_DIR, else the directory make setup fills */
	return pgai_model_default_dir();
}

static pgai_model *
get_model(const char *name)
{
	const char *dir = model_dir();
	pgai_error	err;
	pgai_status st;

	if (strcmp(name, "all-MiniLM-L6-v2") != 0 &&
		strcmp(name, "sentence-transformers/all-MiniLM-L6-v2") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown built-in model \"%s\"", ai_bounded(name)),
				 errhint("The built-in model is 'all-MiniLM-L6-v2'.")));
	if (backend_model != NULL && strcmp(backend_model_path, dir) == 0)
		return backend_model;
	if (backend_model != NULL)
	{
		pgai_model_close(backend_model);
		backend_model = NULL;
	}
	st = pgai_model_open(dir, &backend_model, &err);
	if (st != PGAI_OK)
	{
		backend_model = NULL;
		ereport(ERROR,
				(errcode(ai_sqlstate(st, AI_FAILED_MODEL_LOAD)),
				 errmsg("could not load the built-in model from \"%s\": %s", dir, err.message),
				 errhint("Install it with \"make setup\", or point ai.model_dir or PGAI_MODEL_DIR at its folder.")));
	}
	/* one thread per backend: parallelism comes from concurrent queries */
	pgai_model_set_threads(backend_model, 1);
	if (backend_model_path != NULL)
		pfree(backend_model_path);
	backend_model_path = MemoryContextStrdup(TopMemoryContext, dir);
	return backend_model;
}

/* Embeds n texts into out[n * 384], honouring cancel and timeouts. */
static void
embed_texts(pgai_model *model, const char **texts, const size_t *lens, size_t n, float *out)
{
	for (;;)
	{
		pgai_error	err;
		pgai_status st;

		st = pgai_model_embed_cancelable(model, texts, lens, n, out, &InterruptPending, &err);
		if (st == PGAI_OK)
			return;
		if (st != PGAI_ECANCELED)
			ereport(ERROR,
					(errcode(ai_sqlstate(st, AI_FAILED_MODEL)),
					 errmsg("the built-in model failed: %s", err.message)));
		/* raises the cancel or timeout error; other interrupts return */
		CHECK_FOR_INTERRUPTS();
	}
}

Datum
sentence_transformers_embed(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	text	   *input = PG_GETARG_TEXT_PP(1);
	pgai_model *model = get_model(name);
	const char *texts[1] = {VARDATA_ANY(input)};
	size_t		lens[1] = {VARSIZE_ANY_EXHDR(input)};
	float	   *out = palloc(sizeof(float) * PGAI_MODEL_DIM);

	embed_texts(model, texts, lens, 1, out);
	PG_RETURN_DATUM(ai_make_vector(out, PGAI_MODEL_DIM));
}

static void
embed_with_model(void *arg, const char **texts, const size_t *lens, size_t n, float *out)
{
	embed_texts((pgai_model *) arg, texts, lens, n, out);
}

Datum
sentence_transformers_embed_array(PG_FUNCTION_ARGS)
{
	pgai_model *model = get_model(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	return embed_text_array(fcinfo, PGAI_MODEL_DIM, embed_with_model, model);
}
