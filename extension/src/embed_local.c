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

#include "ai.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "pgai_model.h"

PG_FUNCTION_INFO_V1(sentence_transformers_embed);
PG_FUNCTION_INFO_V1(sentence_transformers_embed_array);

/* pgvector's on-disk layout of a vector (src/vector.h), which is stable */
typedef struct AiVector
{
	int32		vl_len_;
	int16		dim;
	int16		unused;
	float		x[FLEXIBLE_ARRAY_MEMBER];
} AiVector;

char	   *ai_model_dir = NULL;	/* the ai.model_dir setting */

static pgai_model *backend_model = NULL;
static char *backend_model_path = NULL; /* in TopMemoryContext */

static const char *
model_dir(void)
{
	const char *env = getenv("PGAI_MODEL_DIR");

	if (ai_model_dir != NULL && ai_model_dir[0] != '\0')
		return ai_model_dir;
	if (env != NULL && env[0] != '\0')
		return env;
	return pgai_model_default_dir();
}

static pgai_model *
get_model(const char *name)
{
	const char *dir = model_dir();
	char		msg[PGAI_MODEL_ERRLEN];

	if (strcmp(name, "all-MiniLM-L6-v2") != 0 &&
		strcmp(name, "sentence-transformers/all-MiniLM-L6-v2") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown built-in model \"%s\"", name),
				 errhint("The built-in model is 'all-MiniLM-L6-v2'.")));
	if (backend_model != NULL && strcmp(backend_model_path, dir) == 0)
		return backend_model;
	if (backend_model != NULL)
	{
		pgai_model_close(backend_model);
		backend_model = NULL;
	}
	if (pgai_model_open(dir, &backend_model, msg, sizeof(msg)) != PGAI_MODEL_OK)
	{
		backend_model = NULL;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("could not load the built-in model from \"%s\": %s", dir, msg),
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
		char		msg[PGAI_MODEL_ERRLEN];
		pgai_model_status st;

		st = pgai_model_embed_cancelable(model, texts, lens, n, out, &InterruptPending,
										 msg, sizeof(msg));
		if (st == PGAI_MODEL_OK)
			return;
		if (st != PGAI_MODEL_ECANCELED)
			ereport(ERROR,
					(errcode(st == PGAI_MODEL_ENOMEM ? ERRCODE_OUT_OF_MEMORY : ERRCODE_INTERNAL_ERROR),
					 errmsg("the built-in model failed: %s", msg)));
		/* raises the cancel or timeout error; other interrupts return */
		CHECK_FOR_INTERRUPTS();
	}
}

static Datum
make_vector(const float *x, int dim)
{
	AiVector   *v = palloc0(offsetof(AiVector, x) + sizeof(float) * dim);

	SET_VARSIZE(v, offsetof(AiVector, x) + sizeof(float) * dim);
	v->dim = (int16) dim;
	memcpy(v->x, x, sizeof(float) * dim);
	return PointerGetDatum(v);
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
	PG_RETURN_DATUM(make_vector(out, PGAI_MODEL_DIM));
}

Datum
sentence_transformers_embed_array(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
	pgai_model *model = get_model(name);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	const char **texts;
	size_t	   *lens;
	float	   *out;
	int			m = 0;

	InitMaterializedSRF(fcinfo, 0);
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	texts = palloc(sizeof(char *) * Max(n, 1));
	lens = palloc(sizeof(size_t) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			continue;
		texts[m] = VARDATA_ANY(DatumGetTextPP(elems[i]));
		lens[m] = VARSIZE_ANY_EXHDR(DatumGetTextPP(elems[i]));
		m++;
	}
	out = palloc(sizeof(float) * PGAI_MODEL_DIM * Max(m, 1));
	if (m > 0)
		embed_texts(model, texts, lens, (size_t) m, out);
	for (int i = 0, j = 0; i < n; i++)
	{
		Datum		values[2];
		bool		isnull[2] = {false, false};

		values[0] = Int32GetDatum(i);
		if (nulls[i])
			isnull[1] = true;
		else
			values[1] = make_vector(out + (size_t) j++ * PGAI_MODEL_DIM, PGAI_MODEL_DIM);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
	return (Datum) 0;
}
