/*
 * embed.c: pgvector values and the text[] form of the embedding functions,
 * shared by embed_local.c (the built-in model) and embed_http.c (providers).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "embed.h"

/* pgvector's on-disk layout of a vector (src/vector.h), which is stable */
typedef struct AiVector
{
	int32		vl_len_;
	int16		dim;
	int16		unused;
	float		x[FLEXIBLE_ARRAY_MEMBER];
} AiVector;

Datum
ai_make_vector(const float *x, int dim)
{
	AiVector   *v = palloc0(offsetof(AiVector, x) + sizeof(float) * dim);

	SET_VARSIZE(v, offsetof(AiVector, x) + sizeof(float) * dim);
	v->dim = (int16) dim;
	memcpy(v->x, x, sizeof(float) * dim);
	return PointerGetDatum(v);
}

Datum
embed_text_array(FunctionCallInfo fcinfo, int dims, embed_fn embed, void *arg)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				m = 0;
	const char **texts;
	size_t	   *lens;
	float	   *out;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(1))
		return (Datum) 0;		/* no texts, no rows */
	arr = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("input_texts must be a one-dimensional array"),
				 errhint("Pass ARRAY['first text', 'second text'].")));
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
	out = palloc(sizeof(float) * dims * Max(m, 1));
	if (m > 0)
		embed(arg, texts, lens, (size_t) m, out);
	for (int i = 0, j = 0; i < n; i++)
	{
		Datum		values[2];
		bool		isnull[2] = {false, false};

		values[0] = Int32GetDatum(i);
		if (nulls[i])
			isnull[1] = true;
		else
			values[1] = ai_make_vector(out + (size_t) j++ * dims, dims);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
	return (Datum) 0;
}
