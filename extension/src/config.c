/*
 * config.c: checks and completes the jsonb configurations of a vectorizer.
 *
 * Every configuration is an object {"implementation": ..., "config_type":
 * ..., fields...}. One table below describes, per config type and
 * implementation, which fields exist, their JSON types, ranges and defaults.
 * config_check() rejects unknown implementations, unknown fields, wrong
 * types and values out of range, and returns a new object holding every
 * field in a fixed order with defaults filled in, so that a configuration
 * written by hand and one made by a builder function are stored alike.
 * Cross-field rules (overlap below size, ef_construction against m) follow.
 * All results are palloc'd in the caller's memory context.
 *
 * The table is the one source of truth for the configuration schema:
 * ai._vectorizer_config_spec() exports it as rows, and
 * python/tests/test_config_spec.py checks the SQL builders' defaults, the
 * Python configuration classes and the worker's reading against it.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "nodes/value.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "ai.h"
#include "config.h"
#include "pgai_json.h"
#include "pgai_text.h"
#include "sqlstate.h"

PG_FUNCTION_INFO_V1(_vectorizer_config);
PG_FUNCTION_INFO_V1(_vectorizer_config_spec);

typedef enum FieldType
{
	FT_STRING,					/* any JSON string */
	FT_INT,						/* JSON number holding an integer */
	FT_FLOAT,					/* any JSON number */
	FT_BOOL,
	FT_OBJECT,
	FT_STRING_ARRAY,
	FT_INTERVAL,				/* string that parses as a positive interval */
	FT_TIMESTAMPTZ,				/* string that parses as a timestamptz */
	FT_TIMEZONE					/* string naming a known time zone */
} FieldType;

typedef struct FieldSpec
{
	const char *key;
	FieldType	type;
	bool		required;
	const char *default_json;	/* JSON text, or NULL for no default */
	double		min;			/* numeric range, when min < max */
	double		max;
	const char *const *choices; /* allowed strings, NULL-terminated */
} FieldSpec;

typedef struct ImplSpec
{
	const char *config_type;
	const char *implementation;
	const FieldSpec *fields;
} ImplSpec;

static const char *const sentence_transformer_models[] =
{"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", NULL};
static const char *const voyage_input_types[] = {"document", "query", NULL};
static const char *const hnsw_opclasses[] =
{"vector_cosine_ops", "vector_l2_ops", "vector_ip_ops", "vector_l1_ops", NULL};
static const char *const diskann_layouts[] = {"memory_optimized", "plain", NULL};

#define END_FIELDS {NULL, 0, false, NULL, 0, 0, NULL}

/*
 * Fields several implementations share, written once so that their
 * defaults and ranges cannot differ between them.
 */
#define MODEL_AND_DIMENSIONS_FIELDS \
	{"model", FT_STRING, true, NULL, 0, 0, NULL}, \
	{"dimensions", FT_INT, true, NULL, 1, AI_VECTOR_MAX_DIM, NULL}
#define CHUNK_SIZE_FIELDS \
	{"chunk_column", FT_STRING, true, NULL, 0, 0, NULL}, \
	{"chunk_size", FT_INT, false, "800", 1, PG_INT32_MAX, NULL}, \
	{"chunk_overlap", FT_INT, false, "400", 0, PG_INT32_MAX, NULL}
#define IS_SEPARATOR_REGEX_FIELD \
	{"is_separator_regex", FT_BOOL, false, "false", 0, 0, NULL}
#define MIN_ROWS_FIELD \
	{"min_rows", FT_INT, false, "100000", 0, PG_INT32_MAX, NULL}
#define CREATE_WHEN_QUEUE_EMPTY_FIELD \
	{"create_when_queue_empty", FT_BOOL, false, "true", 0, 0, NULL}

static const FieldSpec openai_fields[] = {
	MODEL_AND_DIMENSIONS_FIELDS,
	{"chat_user", FT_STRING, false, NULL, 0, 0, NULL},
	{"api_key_name", FT_STRING, false, "\"OPENAI_API_KEY\"", 0, 0, NULL},
	{"base_url", FT_STRING, false, NULL, 0, 0, NULL},
	END_FIELDS
};
static const FieldSpec ollama_fields[] = {
	MODEL_AND_DIMENSIONS_FIELDS,
	{"base_url", FT_STRING, false, NULL, 0, 0, NULL},
	{"options", FT_OBJECT, false, NULL, 0, 0, NULL},
	{"keep_alive", FT_STRING, false, NULL, 0, 0, NULL},
	END_FIELDS
};
static const FieldSpec voyageai_fields[] = {
	MODEL_AND_DIMENSIONS_FIELDS,
	{"input_type", FT_STRING, false, "\"document\"", 0, 0, voyage_input_types},
	{"api_key_name", FT_STRING, false, "\"VOYAGE_API_KEY\"", 0, 0, NULL},
	END_FIELDS
};
static const FieldSpec sentence_transformers_fields[] = {
	{"model", FT_STRING, false, "\"all-MiniLM-L6-v2\"", 0, 0, sentence_transformer_models},
	{"dimensions", FT_INT, false, "384", 384, 384, NULL},
	END_FIELDS
};
static const FieldSpec character_fields[] = {
	CHUNK_SIZE_FIELDS,
	{"separator", FT_STRING, false, "\"\\n\\n\"", 0, 0, NULL},
	IS_SEPARATOR_REGEX_FIELD,
	END_FIELDS
};
static const FieldSpec recursive_fields[] = {
	CHUNK_SIZE_FIELDS,
	{"separators", FT_STRING_ARRAY, false,
	"[\"\\n\\n\", \"\\n\", \".\", \"?\", \"!\", \" \", \"\"]", 0, 0, NULL},
	IS_SEPARATOR_REGEX_FIELD,
	END_FIELDS
};
static const FieldSpec template_fields[] = {
	{"template", FT_STRING, false, "\"$chunk\"", 0, 0, NULL},
	END_FIELDS
};
static const FieldSpec no_fields[] = {END_FIELDS};
static const FieldSpec hnsw_fields[] = {
	MIN_ROWS_FIELD,
	{"opclass", FT_STRING, false, "\"vector_cosine_ops\"", 0, 0, hnsw_opclasses},
	{"m", FT_INT, false, NULL, 2, 100, NULL},
	{"ef_construction", FT_INT, false, NULL, 4, 1000, NULL},
	CREATE_WHEN_QUEUE_EMPTY_FIELD,
	END_FIELDS
};
static const FieldSpec diskann_fields[] = {
	MIN_ROWS_FIELD,
	{"storage_layout", FT_STRING, false, NULL, 0, 0, diskann_layouts},
	{"num_neighbors", FT_INT, false, NULL, 10, 1000, NULL},
	{"search_list_size", FT_INT, false, NULL, 10, 1000, NULL},
	{"max_alpha", FT_FLOAT, false, NULL, 1.0, 5.0, NULL},
	{"num_dimensions", FT_INT, false, NULL, 0, AI_VECTOR_MAX_DIM, NULL},
	{"num_bits_per_dimension", FT_INT, false, NULL, 1, 8, NULL},
	CREATE_WHEN_QUEUE_EMPTY_FIELD,
	END_FIELDS
};
static const FieldSpec timescaledb_fields[] = {
	{"schedule_interval", FT_INTERVAL, false, "\"00:05:00\"", 0, 0, NULL},
	{"initial_start", FT_TIMESTAMPTZ, false, NULL, 0, 0, NULL},
	{"fixed_schedule", FT_BOOL, false, NULL, 0, 0, NULL},
	{"timezone", FT_TIMEZONE, false, NULL, 0, 0, NULL},
	END_FIELDS
};
static const FieldSpec processing_fields[] = {
	{"batch_size", FT_INT, false, NULL, 1, 2048, NULL},
	{"concurrency", FT_INT, false, NULL, 1, 50, NULL},
	END_FIELDS
};

static const ImplSpec impls[] = {
	{"embedding", "openai", openai_fields},
	{"embedding", "ollama", ollama_fields},
	{"embedding", "voyageai", voyageai_fields},
	{"embedding", "sentence_transformers", sentence_transformers_fields},
	{"chunking", "character_text_splitter", character_fields},
	{"chunking", "recursive_character_text_splitter", recursive_fields},
	{"formatting", "python_template", template_fields},
	{"indexing", "none", no_fields},
	{"indexing", "default", no_fields},
	{"indexing", "hnsw", hnsw_fields},
	{"indexing", "diskann", diskann_fields},
	{"scheduling", "none", no_fields},
	{"scheduling", "default", no_fields},
	{"scheduling", "timescaledb", timescaledb_fields},
	{"processing", "default", processing_fields},
};

/* The value of a key in a jsonb object, or NULL when absent or JSON null. */
static JsonbValue *
get_key(Jsonb *config, const char *key)
{
	JsonbValue *v;

	v = getKeyJsonValueFromContainer(&config->root, key, strlen(key), NULL);
	if (v != NULL && v->type == jbvNull)
		return NULL;
	return v;
}

static char *
jbv_string(JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static char *
jbv_to_text(JsonbValue *v)
{
	Jsonb	   *jb = JsonbValueToJsonb(v);

	return JsonbToCString(NULL, &jb->root, VARSIZE(jb));
}

static const char *
type_name(FieldType t)
{
	switch (t)
	{
		case FT_STRING:
		case FT_INTERVAL:
		case FT_TIMESTAMPTZ:
		case FT_TIMEZONE:
			return "a string";
		case FT_INT:
			return "an integer";
		case FT_FLOAT:
			return "a number";
		case FT_BOOL:
			return "a boolean";
		case FT_OBJECT:
			return "an object";
		case FT_STRING_ARRAY:
			return "an array of strings";
	}
	return "?";
}

static void
bad_type(const ImplSpec *impl, const FieldSpec *f, JsonbValue *v)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s config: \"%s\" must be %s, not %s",
					impl->config_type, f->key, type_name(f->type), ai_bounded(jbv_to_text(v))),
			 errhint("Build the %s config with its ai.%s_* function.",
					 impl->config_type, impl->config_type)));
}

static double
jbv_number(JsonbValue *v)
{
	/* overflow gives +-infinity, for the range checks to report (bounded) */
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
											  NumericGetDatum(v->val.numeric)));
}

/* Errors raised by PostgreSQL's own parsers name the field being checked. */
typedef struct FieldContext
{
	const ImplSpec *impl;
	const FieldSpec *field;
} FieldContext;

static void
field_error_context(void *arg)
{
	FieldContext *fc = (FieldContext *) arg;

	errcontext("checking \"%s\" of %s config \"%s\"",
			   fc->field->key, fc->impl->config_type, fc->impl->implementation);
}

/*
 * An interval as "[N mons ][N days ]HH:MM:SS[.ffffff]", which interval_in
 * reads back under every IntervalStyle.
 */
static char *
interval_canonical(const Interval *iv)
{
	StringInfoData buf;
	int64		usec = iv->time;
	int64		secs = usec / USECS_PER_SEC;

	initStringInfo(&buf);
	if (iv->month != 0)
		appendStringInfo(&buf, "%d mons ", iv->month);
	if (iv->day != 0)
		appendStringInfo(&buf, "%d days ", iv->day);
	appendStringInfo(&buf, "%s%02lld:%02lld:%02lld", usec < 0 ? "-" : "",
					 (long long) (Abs(secs) / 3600), (long long) (Abs(secs) / 60 % 60),
					 (long long) (Abs(secs) % 60));
	if (usec % USECS_PER_SEC != 0)
		appendStringInfo(&buf, ".%06lld", (long long) Abs(usec % USECS_PER_SEC));
	return buf.data;
}

/*
 * Checks one present field; raises an error on a wrong type or value.
 * May rewrite `v` into the field's canonical spelling.
 */
static void
check_field(const ImplSpec *impl, const FieldSpec *f, JsonbValue *v)
{
	ErrorContextCallback cb;
	FieldContext fc = {impl, f};

	cb.callback = field_error_context;
	cb.arg = &fc;
	cb.previous = error_context_stack;
	error_context_stack = &cb;

	switch (f->type)
	{
		case FT_STRING:
		case FT_INTERVAL:
		case FT_TIMESTAMPTZ:
		case FT_TIMEZONE:
			if (v->type != jbvString)
				bad_type(impl, f, v);
			break;
		case FT_INT:
		case FT_FLOAT:
			if (v->type != jbvNumeric)
				bad_type(impl, f, v);
			break;
		case FT_BOOL:
			if (v->type != jbvBool)
				bad_type(impl, f, v);
			break;
		case FT_OBJECT:
			if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
				bad_type(impl, f, v);
			break;
		case FT_STRING_ARRAY:
			{
				JsonbIterator *it;
				JsonbValue	elem;
				JsonbIteratorToken tok;

				if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
					bad_type(impl, f, v);
				it = JsonbIteratorInit(v->val.binary.data);
				while ((tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
				{
					if (tok == WJB_ELEM && elem.type != jbvString)
						bad_type(impl, f, v);
				}
				if (JsonContainerSize(v->val.binary.data) == 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid %s config: \"%s\" must not be empty",
									impl->config_type, f->key),
							 errhint("Give at least one separator, for example array[' '].")));
				break;
			}
	}

	if (f->type == FT_INT)
	{
		double		d = jbv_number(v);

		/* beyond int64 the cast is undefined; the range check says it */
		if (fabs(d) < 9e18 && d != (double) (int64) d)
			bad_type(impl, f, v);
	}
	if ((f->type == FT_INT || f->type == FT_FLOAT) && f->min < f->max + 0.5)
	{
		double		d = jbv_number(v);

		if (d < f->min || d > f->max)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid %s config: \"%s\" is %s, out of range",
							impl->config_type, f->key, ai_bounded(jbv_to_text(v))),
					 f->min == f->max ?
					 errhint("\"%s\" must be %g for \"%s\".", f->key, f->min,
							 impl->implementation) :
					 f->max >= PG_INT32_MAX ?
					 errhint("\"%s\" must be at least %g.", f->key, f->min) :
					 errhint("\"%s\" must be between %g and %g.", f->key, f->min, f->max)));
	}
	if (f->type == FT_STRING && f->choices != NULL)
	{
		char	   *s = jbv_string(v);
		StringInfoData allowed;
		int			i;

		for (i = 0; f->choices[i] != NULL; i++)
			if (strcmp(s, f->choices[i]) == 0)
				break;
		if (f->choices[i] == NULL)
		{
			initStringInfo(&allowed);
			for (i = 0; f->choices[i] != NULL; i++)
				appendStringInfo(&allowed, "%s\"%s\"", i ? ", " : "", f->choices[i]);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid %s config: \"%s\" cannot be \"%s\"",
							impl->config_type, f->key, ai_bounded(s)),
					 errhint("Use one of %s.", allowed.data)));
		}
	}
	if (f->type == FT_STRING && strcmp(f->key, "model") == 0 && v->val.string.len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s config: \"model\" must not be empty", impl->config_type),
				 errhint("Name the embedding model, for example 'text-embedding-3-small'.")));
	if (f->type == FT_STRING && strcmp(f->key, "chunk_column") == 0 && v->val.string.len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid chunking config: \"chunk_column\" must not be empty"),
				 errhint("Name the source column that holds the text to embed.")));
	if (f->type == FT_INTERVAL)
	{
		Interval   *iv = DatumGetIntervalP(DirectFunctionCall3(interval_in,
															   CStringGetDatum(jbv_string(v)),
															   ObjectIdGetDatum(InvalidOid),
															   Int32GetDatum(-1)));
		Interval	zero = {0};

		if (DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(iv),
											  IntervalPGetDatum(&zero))) <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid scheduling config: \"%s\" must be positive, not \"%s\"",
							f->key, ai_bounded(jbv_string(v))),
					 errhint("Use an interval such as '5m' or '1h'.")));
		/* stored in one spelling, whatever the session's IntervalStyle */
		v->val.string.val = interval_canonical(iv);
		v->val.string.len = strlen(v->val.string.val);
	}
	if (f->type == FT_TIMESTAMPTZ)
	{
		Datum		ts = DirectFunctionCall3(timestamptz_in,
											 CStringGetDatum(jbv_string(v)),
											 ObjectIdGetDatum(InvalidOid),
											 Int32GetDatum(-1));

		/* the worker's schedule arithmetic needs a point in time */
		if (TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(ts)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid scheduling config: \"%s\" must be a finite time, not \"%s\"",
							f->key, ai_bounded(jbv_string(v))),
					 errhint("Use a time such as '2025-01-01 00:00 UTC'.")));

		/*
		 * Stored as the instant in ISO 8601, as the builder stores it: a word
		 * such as 'tomorrow', or a spelling read by the session's DateStyle,
		 * would mean another time whenever the worker reads it.
		 */
		v->val.string.val = JsonEncodeDateTime(NULL, ts, TIMESTAMPTZOID, NULL);
		v->val.string.len = strlen(v->val.string.val);
	}
	if (f->type == FT_TIMEZONE && pg_tzset(jbv_string(v)) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid scheduling config: time zone \"%s\" is not recognized",
						ai_bounded(jbv_string(v))),
				 errhint("Use a name from pg_timezone_names, such as 'UTC' or 'Europe/Paris'.")));

	error_context_stack = cb.previous;
}

static int64
field_int(Jsonb *cfg, const char *key, int64 dflt)
{
	int64		v;

	return config_get_int(cfg, key, &v) ? v : dflt;
}

/*
 * Separator regexes must compile now, not fail every row in the worker
 * later: core/text compiles each one as the worker's splitter would
 * (the same translation from Python's syntax and PCRE2 options, and the
 * grouped form the recursive splitter uses to keep separators), without
 * splitting any text.
 */
static void
check_separator_regexes(const ImplSpec *impl, Jsonb *cfg)
{
	JsonbValue *regex = get_key(cfg, "is_separator_regex");
	bool		recursive = strcmp(impl->implementation, "recursive_character_text_splitter") == 0;
	List	   *list = config_get_string_list(cfg, "separators");
	const char *one = config_get_string(cfg, "separator");
	const char **seps;
	chunk_config cc = {0};
	pgai_error	err;
	pgai_status st;
	int			n = 0;
	ListCell   *lc;

	if (regex == NULL || regex->type != jbvBool || !regex->val.boolean)
		return;
	seps = palloc(sizeof(char *) * (list_length(list) + 1));
	if (recursive)
		foreach(lc, list)
			seps[n++] = lfirst(lc);
	else if (one != NULL)
		seps[n++] = one;
	if (n == 0)
		return;
	/* sizes are checked elsewhere: any that splitter_init accepts */
	cc.chunk_size = 1;
	cc.separators = seps;
	cc.n_separators = n;
	cc.is_separator_regex = true;
	st = chunk_check_separators(&cc, recursive, NULL, &err);
	if (st != PGAI_OK)
		ereport(ERROR,
				(errcode(ai_sqlstate(st, AI_FAILED_INPUT)),
				 errmsg("invalid chunking config: %s", err.message),
				 errhint("Separators with is_separator_regex => true are Python regular expressions.")));
}

/*
 * The worker reads a vectorizer's stored config (ai.vectorizer.config,
 * where each section sits one level below the root) with core/json's
 * reader, which refuses more than JSON_MAX_DEPTH levels: Ollama's
 * "options", for one, are parsed there for every batch. A section nested
 * deeper than JSON_MAX_DEPTH - 1 levels would so fail every row; it is
 * refused here, naming the top-level field that holds the nesting.
 */
static void
check_depth(const ImplSpec *impl, Jsonb *config)
{
	JsonbIterator *it = JsonbIteratorInit(&config->root);
	JsonbIteratorToken tok;
	JsonbValue	v;
	int			depth = 0;
	int			max_depth = 0;
	char	   *field = NULL;
	char	   *deepest = NULL;
	JsonbValue *value;

	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		if (tok == WJB_KEY && depth == 1)
			field = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_BEGIN_OBJECT || tok == WJB_BEGIN_ARRAY)
		{
			if (++depth > max_depth)
			{
				max_depth = depth;
				deepest = field;
			}
		}
		else if (tok == WJB_END_OBJECT || tok == WJB_END_ARRAY)
			depth--;
	}
	if (max_depth <= JSON_MAX_DEPTH - 1 || deepest == NULL)
		return;
	value = get_key(config, deepest);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s config: \"%s\" is nested too deeply: %s",
					impl->config_type, ai_bounded(deepest),
					value ? ai_bounded(jbv_to_text(value)) : "null"),
			 errdetail("A vectorizer's stored config may be nested %d levels deep, the limit of the worker's JSON reader; this %s config would make it %d.",
					   JSON_MAX_DEPTH, impl->config_type, max_depth + 1),
			 errhint("Nest \"%s\" at most %d levels deep.", ai_bounded(deepest),
					 JSON_MAX_DEPTH - 2)));
}

/* Rules that involve more than one field. */
static void
check_cross_fields(const ImplSpec *impl, Jsonb *cfg)
{
	if (strcmp(impl->config_type, "chunking") == 0)
	{
		int64		size = field_int(cfg, "chunk_size", 0);
		int64		overlap = field_int(cfg, "chunk_overlap", 0);

		check_separator_regexes(impl, cfg);
		if (overlap >= size)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid chunking config: chunk_overlap %lld is not less than chunk_size %lld",
							(long long) overlap, (long long) size),
					 errhint("Choose chunk_overlap between 0 and chunk_size - 1.")));
	}
	if (strcmp(impl->implementation, "hnsw") == 0)
	{
		int64		m = field_int(cfg, "m", 16);
		int64		efc = field_int(cfg, "ef_construction", 64);

		if (efc < 2 * m)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid indexing config: ef_construction %lld is less than twice m %lld",
							(long long) efc, (long long) m),
					 errhint("pgvector's HNSW needs ef_construction >= 2 * m.")));
	}
}

static const ImplSpec *
find_impl(const char *config_type, Jsonb *config)
{
	JsonbValue *impl;
	char	   *name;
	StringInfoData known;
	bool		type_known = false;

	/* the type first: the messages below repeat it unbounded */
	for (size_t i = 0; i < lengthof(impls) && !type_known; i++)
		type_known = strcmp(impls[i].config_type, config_type) == 0;
	if (!type_known)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown config type \"%s\"", ai_bounded(config_type)),
				 errhint("Use embedding, chunking, formatting, indexing, scheduling or processing.")));
	if (!JB_ROOT_IS_OBJECT(config) || JB_ROOT_IS_SCALAR(config))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s config: expected a JSON object, got %s", config_type,
						ai_bounded(JsonbToCString(NULL, &config->root, VARSIZE(config)))),
				 errhint("Build it with an ai.%s_* function.", config_type)));

	impl = get_key(config, "implementation");
	if (impl == NULL || impl->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s config: \"implementation\" is missing or not a string",
						config_type),
				 errhint("Build it with an ai.%s_* function.", config_type)));
	name = jbv_string(impl);

	initStringInfo(&known);
	for (size_t i = 0; i < lengthof(impls); i++)
	{
		if (strcmp(impls[i].config_type, config_type) != 0)
			continue;
		if (strcmp(impls[i].implementation, name) == 0)
			return &impls[i];
		appendStringInfo(&known, "%s\"%s\"", known.len ? ", " : "",
						 impls[i].implementation);
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s config: unknown implementation \"%s\"", config_type, ai_bounded(name)),
			 errhint("Use one of %s.", known.data)));
	pg_unreachable();
}

/*
 * Checks a configuration of the given type and returns it completed: the
 * implementation, the config type, then every field with its value or
 * default, absent fields without defaults left out.
 */
Jsonb *
config_check(const char *config_type, Jsonb *config)
{
	const ImplSpec *impl = find_impl(config_type, config);
	JsonbParseState *state = NULL;
	JsonbValue	key;
	JsonbValue	val;
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue *ct;
	Jsonb	   *result;

	check_depth(impl, config);

	/* config_type, when given, must agree with where the config is used */
	ct = get_key(config, "config_type");
	if (ct != NULL && (ct->type != jbvString ||
					   strcmp(jbv_string(ct), config_type) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a %s config was given where a %s config belongs",
						ct->type == jbvString ? jbv_string(ct) : "malformed",
						config_type),
				 errhint("Pass the result of an ai.%s_* function here.", config_type)));

	/* no field the implementation does not know */
	it = JsonbIteratorInit(&config->root);
	while ((tok = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		char	   *k;
		const FieldSpec *f;

		if (tok != WJB_KEY)
			continue;
		k = jbv_string(&key);
		if (strcmp(k, "implementation") == 0 || strcmp(k, "config_type") == 0)
			continue;
		for (f = impl->fields; f->key != NULL; f++)
			if (strcmp(f->key, k) == 0)
				break;
		if (f->key == NULL)
		{
			StringInfoData allowed;

			initStringInfo(&allowed);
			for (f = impl->fields; f->key != NULL; f++)
				appendStringInfo(&allowed, "%s\"%s\"", allowed.len ? ", " : "", f->key);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid %s config: unknown field \"%s\" for \"%s\"",
							config_type, ai_bounded(k), impl->implementation),
					 allowed.len ?
					 errhint("Fields of \"%s\" are %s.", impl->implementation, allowed.data) :
					 errhint("\"%s\" takes no fields.", impl->implementation)));
		}
	}

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	key.type = jbvString;
	key.val.string.val = "implementation";
	key.val.string.len = strlen("implementation");
	pushJsonbValue(&state, WJB_KEY, &key);
	val.type = jbvString;
	val.val.string.val = (char *) impl->implementation;
	val.val.string.len = strlen(impl->implementation);
	pushJsonbValue(&state, WJB_VALUE, &val);
	key.val.string.val = "config_type";
	key.val.string.len = strlen("config_type");
	pushJsonbValue(&state, WJB_KEY, &key);
	val.val.string.val = (char *) impl->config_type;
	val.val.string.len = strlen(impl->config_type);
	pushJsonbValue(&state, WJB_VALUE, &val);

	for (const FieldSpec *f = impl->fields; f->key != NULL; f++)
	{
		JsonbValue *v = get_key(config, f->key);
		JsonbValue	dv;

		if (v == NULL && f->default_json != NULL)
		{
			Jsonb	   *d = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
															   CStringGetDatum(f->default_json)));

			if (JB_ROOT_IS_SCALAR(d))
				JsonbExtractScalar(&d->root, &dv);
			else
			{
				dv.type = jbvBinary;
				dv.val.binary.data = &d->root;
				dv.val.binary.len = VARSIZE(d) - VARHDRSZ;
			}
			v = &dv;
		}
		if (v == NULL)
		{
			if (f->required)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid %s config: \"%s\" is required for \"%s\"",
								config_type, f->key, impl->implementation),
						 errhint("Build it with ai.%s_%s().", config_type,
								 impl->implementation)));
			continue;
		}
		check_field(impl, f, v);
		key.val.string.val = (char *) f->key;
		key.val.string.len = strlen(f->key);
		pushJsonbValue(&state, WJB_KEY, &key);
		pushJsonbValue(&state, WJB_VALUE, v);
	}
	result = JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
	check_cross_fields(impl, result);
	return result;
}

/* config_check of a configuration written as JSON text. */
Jsonb *
config_from_text(const char *config_type, const char *json)
{
	return config_check(config_type,
						DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(json))));
}

/* A string field of a config, or NULL when absent. */
const char *
config_get_string(Jsonb *config, const char *key)
{
	JsonbValue *v = get_key(config, key);

	return (v != NULL && v->type == jbvString) ? jbv_string(v) : NULL;
}

/* An integer field of a config; false when absent. */
bool
config_get_int(Jsonb *config, const char *key, int64 *value)
{
	JsonbValue *v = get_key(config, key);

	if (v == NULL || v->type != jbvNumeric)
		return false;
	*value = (int64) jbv_number(v);
	return true;
}

/* A nested object (one section of ai.vectorizer.config), or NULL. */
Jsonb *
config_get_object(Jsonb *config, const char *key)
{
	JsonbValue *v = get_key(config, key);

	if (v == NULL || v->type != jbvBinary)
		return NULL;
	return JsonbValueToJsonb(v);
}

/* A string array field as a List of palloc'd C strings (NIL if absent). */
List *
config_get_string_list(Jsonb *config, const char *key)
{
	JsonbValue *v = get_key(config, key);
	JsonbIterator *it;
	JsonbValue	elem;
	JsonbIteratorToken tok;
	List	   *result = NIL;

	if (v == NULL || v->type != jbvBinary)
		return NIL;
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
		if (tok == WJB_ELEM && elem.type == jbvString)
			result = lappend(result, jbv_string(&elem));
	return result;
}

/*
 * ai._vectorizer_config(config_type text, config jsonb) returns jsonb
 * The check behind every builder function.
 */
Datum
_vectorizer_config(PG_FUNCTION_ARGS)
{
	char	   *config_type;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	config_type = text_to_cstring(PG_GETARG_TEXT_PP(0));
	PG_RETURN_JSONB_P(config_check(config_type, PG_GETARG_JSONB_P(1)));
}

/*
 * The names a formatting template uses, `chunk` included, in order of first
 * appearance, for checking and for change capture. The template is parsed
 * by core/'s parser, the one the worker formats with, so both agree on what
 * a placeholder is (Python's string.Template rules). An invalid template is
 * reported here.
 */
List *
template_names(const char *src)
{
	tmpl	   *t = NULL;
	pgai_error	err;
	List	   *volatile names = NIL;

	if (tmpl_parse(src, strlen(src), &t, &err) != PGAI_OK)
		ereport(ERROR,
				(errcode(ai_sqlstate(err.code, AI_FAILED_INPUT)),
				 errmsg("invalid formatting template \"%s\": %s", ai_bounded(src), err.message),
				 errhint("Write $name or ${name} with an ASCII name of letters, digits and underscores, and $$ for a dollar sign.")));
	PG_TRY();
	{
		for (size_t i = 0; i < tmpl_name_count(t); i++)
			names = lappend(names, makeString(pstrdup(tmpl_name(t, i))));
	}
	PG_FINALLY();
	{
		tmpl_free(t);
	}
	PG_END_TRY();
	return names;
}

/* The type's name in ai._vectorizer_config_spec(). */
static const char *
spec_type_name(FieldType t)
{
	switch (t)
	{
		case FT_STRING:
			return "string";
		case FT_INT:
			return "integer";
		case FT_FLOAT:
			return "number";
		case FT_BOOL:
			return "boolean";
		case FT_OBJECT:
			return "object";
		case FT_STRING_ARRAY:
			return "string[]";
		case FT_INTERVAL:
			return "interval";
		case FT_TIMESTAMPTZ:
			return "timestamptz";
		case FT_TIMEZONE:
			return "timezone";
	}
	return "?";
}

/*
 * ai._vectorizer_config_spec() returns table (config_type, implementation,
 * field, type, required, "default" jsonb, min, max, choices text[])
 * The field table above, row by row, for tests and tools: one row per
 * field in table order, and one row with a NULL field for an
 * implementation that takes none. min and max are set for numbers with a
 * range; "default" is what config_check fills in for an absent field.
 */
Datum
_vectorizer_config_spec(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (size_t i = 0; i < lengthof(impls); i++)
	{
		const FieldSpec *f = impls[i].fields;

		do
		{
			Datum		values[9] = {0};
			bool		nulls[9] = {false};

			values[0] = CStringGetTextDatum(impls[i].config_type);
			values[1] = CStringGetTextDatum(impls[i].implementation);
			if (f->key == NULL)
			{
				for (int k = 2; k < 9; k++)
					nulls[k] = true;
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
				break;
			}
			values[2] = CStringGetTextDatum(f->key);
			values[3] = CStringGetTextDatum(spec_type_name(f->type));
			values[4] = BoolGetDatum(f->required);
			nulls[5] = f->default_json == NULL;
			if (f->default_json != NULL)
				values[5] = DirectFunctionCall1(jsonb_in, CStringGetDatum(f->default_json));
			/* the range check_field applies */
			nulls[6] = nulls[7] = !((f->type == FT_INT || f->type == FT_FLOAT) &&
									f->min < f->max + 0.5);
			values[6] = Float8GetDatum(f->min);
			values[7] = Float8GetDatum(f->max);
			nulls[8] = f->choices == NULL;
			if (f->choices != NULL)
			{
				int			n = 0;
				Datum	   *elems;

				while (f->choices[n] != NULL)
					n++;
				elems = palloc(sizeof(Datum) * n);
				for (int k = 0; k < n; k++)
					elems[k] = CStringGetTextDatum(f->choices[k]);
				values[8] = PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
															TYPALIGN_INT));
			}
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		} while ((++f)->key != NULL);
	}
	return (Datum) 0;
}
