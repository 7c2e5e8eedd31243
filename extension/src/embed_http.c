/*
 * embed_http.c: embedding providers callable from SQL.
 *
 *   ai.openai_embed(model, input_text | input_texts, api_key, api_key_name,
 *                   dimensions, openai_user, base_url)
 *   ai.ollama_embed(model, input_text | input_texts, host, keep_alive,
 *                   embedding_options, dimensions)
 *   ai.voyageai_embed(model, input_text | input_texts, input_type, api_key,
 *                     api_key_name, dimensions)
 *
 * The single form returns a vector, the text[] form (index, embedding)
 * rows. The HTTP clients are core/provider's, the worker's own, so a query
 * embedded here matches stored embeddings exactly.
 *
 * Keys: the api_key argument, else the setting ai.<api_key_name> in lower
 * case (ai.openai_api_key, ai.voyage_api_key), else the server's
 * environment variable api_key_name. They are never shown in messages
 * (the provider layer also redacts any echo of them).
 *
 * Interrupts: the provider polls a hook every 50 ms that reports
 * InterruptPending; the call then returns early and CHECK_FOR_INTERRUPTS()
 * raises the cancel or timeout error. Other interrupts are serviced and the
 * call is made again. The client, which malloc's, is owned by a memory
 * context reset callback, so it is freed on every path; replies are
 * palloc'd (see ClientHolder).
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "ai.h"
#include "embed.h"
#include "guc.h"
#include "keys.h"
#include "pgai_json.h"
#include "pgai_provider.h"
#include "sqlstate.h"

PG_FUNCTION_INFO_V1(openai_embed);
PG_FUNCTION_INFO_V1(openai_embed_array);
PG_FUNCTION_INFO_V1(ollama_embed);
PG_FUNCTION_INFO_V1(ollama_embed_array);
PG_FUNCTION_INFO_V1(voyageai_embed);
PG_FUNCTION_INFO_V1(voyageai_embed_array);

static bool
interrupt_pending(void *arg)
{
	(void) arg;
	return InterruptPending != 0;
}

static char *
arg_text(FunctionCallInfo fcinfo, int n)
{
	if (PG_NARGS() <= n || PG_ARGISNULL(n))
		return NULL;
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

static int
arg_dims(FunctionCallInfo fcinfo, int n, const char *model, bool *given)
{
	*given = PG_NARGS() > n && !PG_ARGISNULL(n);
	if (*given)
	{
		int			d = PG_GETARG_INT32(n);

		if (d < 1 || d > AI_VECTOR_MAX_DIM)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("dimensions %d is out of range", d),
					 errhint("Use between 1 and %d dimensions.", AI_VECTOR_MAX_DIM)));
		return d;
	}
	/* models whose size a caller need not state: core's provider table */
	if (provider_model_dimensions(model) > 0)
		return provider_model_dimensions(model);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("the dimensions of model \"%s\" are not known", model),
			 errhint("Pass dimensions => N, the size of the model's vectors.")));
	pg_unreachable();
}

/*
 * The key: the argument, else the setting ai.<name> in lower case, else the
 * server's environment variable <name>. NULL when none is set.
 */
static char *
resolve_key(const char *key, const char *key_name)
{
	char	   *setting;
	const char *value;

	if (key != NULL && key[0] != '\0')
		return pstrdup(key);
	if (key_name == NULL || key_name[0] == '\0')
		return NULL;
	/* only names of API keys: never PGDATA or another secret's variable */
	if (!provider_key_name_allowed(key_name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("api_key_name \"%s\" is not the name of an API key", ai_bounded(key_name)),
				 errhint("Name a variable of upper-case letters, digits and underscores ending in _API_KEY.")));
	setting = psprintf("ai.%s", key_name);
	for (char *p = setting; *p; p++)
		*p = (char) tolower((unsigned char) *p);
	value = ai_key_from_setting(setting, key_name);
	if (value != NULL)
		return pstrdup(value);
	value = getenv(key_name);
	return (value != NULL && value[0] != '\0') ? pstrdup(value) : NULL;
}

/* Ollama hosts may be written without a scheme ("gpu-box:11434"). */
static char *
with_scheme(const char *host)
{
	if (host == NULL || host[0] == '\0')
		return NULL;
	return strstr(host, "://") ? pstrdup(host) : psprintf("http://%s", host);
}

/*
 * The network policy: a request may go to a provider's public endpoint,
 * to a URL the superuser configured (the PGC_SUSET settings
 * ai.openai_base_url, ai.ollama_host, the server's OLLAMA_HOST), or to a
 * prefix listed in ai.allowed_base_urls. Anything else is refused before
 * a connection is made, so no role can make the server call a URL of its
 * choosing, nor send it a key the server holds.
 */
static void
check_url_allowed(const char *url, provider_kind kind)
{
	const char *fixed[] = {
		provider_info_of(kind)->default_url,
		kind == PROVIDER_OPENAI ? ai_openai_base_url : NULL,
		kind == PROVIDER_OLLAMA ? with_scheme(ai_ollama_host) : NULL,
		kind == PROVIDER_OLLAMA ? with_scheme(getenv("OLLAMA_HOST")) : NULL,
	};
	const char *u = (url == NULL || url[0] == '\0') ? fixed[0] : url;

	if (provider_url_allowed(u, fixed, lengthof(fixed)))
		return;
	if (ai_allowed_base_urls != NULL && provider_url_allowed_csv(u, ai_allowed_base_urls))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("the server may not call \"%s\"", ai_bounded(u)),
			 errhint("A superuser can allow it: ALTER SYSTEM SET ai.allowed_base_urls = '<url prefix>'.")));
}

/* The model argument: required. */
static char *
arg_model(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model must not be null"),
				 errhint("Name the embedding model, for example 'text-embedding-3-small'.")));
	return text_to_cstring(PG_GETARG_TEXT_PP(0));
}

/*
 * A client handle owned by a memory context: freed when the context goes,
 * by the reset callback, so an error anywhere still releases it. Reply
 * bodies are kept in a child context of their own, "ai provider reply",
 * so the backend counts them (MemoryContextStats,
 * pg_backend_memory_contexts) and a reset returns them; core/provider
 * bounds their size to the request's. The callback sits on that child
 * context, so it runs while the bodies it releases are still there: a
 * parent's reset deletes its children before calling its own callbacks.
 */
typedef struct ClientHolder
{
	provider_client *client;
	MemoryContext reply_cxt;
	json_allocator reply_alloc;
	MemoryContextCallback cb;
} ClientHolder;

static void
free_held_client(void *arg)
{
	ClientHolder *h = arg;

	provider_client_free(h->client);
	h->client = NULL;
}

/*
 * The reply's allocator. It runs inside libcurl's write callback, where an
 * ereport's longjmp would leave libcurl in an undefined state: so NO_OOM,
 * and core/provider reports PGAI_ENOMEM once the transfer is over.
 */
static void *
reply_grow(void *arg, void *p, size_t used, size_t n)
{
	void	   *q = MemoryContextAllocExtended((MemoryContext) arg, n,
											   MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);

	if (q == NULL)
		return NULL;
	if (p != NULL)
	{
		memcpy(q, p, used);
		pfree(p);
	}
	return q;
}

static void
reply_release(void *arg, void *p)
{
	(void) arg;
	pfree(p);
}

/*
 * Embeds n texts with a client built from `opts`; fills out[n * dims].
 * Raises errors with ereport.
 */
static void
embed_with(const provider_options *opts_in, const char **texts, const size_t *lens, size_t n,
		   float *out)
{
	ClientHolder *h = palloc0(sizeof(ClientHolder));
	provider_options local = *opts_in;
	const provider_options *opts = &local;
	pgai_error	err;
	pgai_status st;

	h->reply_cxt = AllocSetContextCreate(CurrentMemoryContext, "ai provider reply",
										 ALLOCSET_DEFAULT_SIZES);
	h->reply_alloc.grow = reply_grow;
	h->reply_alloc.release = reply_release;
	h->reply_alloc.arg = h->reply_cxt;
	local.response_allocator = &h->reply_alloc;
	h->cb.func = free_held_client;
	h->cb.arg = h;
	MemoryContextRegisterResetCallback(h->reply_cxt, &h->cb);
	check_url_allowed(opts->base_url, opts->kind);
	if (provider_client_new(opts, &h->client, &err) != PGAI_OK)
		ereport(ERROR,
				(errcode(ai_sqlstate(err.code, AI_FAILED_PROVIDER)),
				 errmsg("could not set up the %s client: %s",
						provider_kind_name(opts->kind), err.message),
				 errhidestmt(opts->api_key != NULL)));
	for (;;)
	{
		st = provider_client_embed(h->client, texts, lens, n, out, NULL, &err);
		if (st == PGAI_OK)
			break;
		if (st != PGAI_ECANCELED)
		{
			provider_stats stats;

			/*
			 * A reply over its size limit (core/provider stops the transfer
			 * there) is the provider's failure like any other, so 38000 as
			 * the README's Errors bullet says, not 54000: no limit of the
			 * caller's was passed, and shorter inputs would not help.
			 */
			provider_client_stats(h->client, &stats);
			ereport(ERROR,
					(errcode(ai_sqlstate(err.code, AI_FAILED_PROVIDER)),
					 errmsg("%s embedding failed: %s", provider_kind_name(opts->kind),
							err.message),

			/*
			 * the statement may hold an api_key argument: keep it out of the
			 * log
			 */
					 errhidestmt(opts->api_key != NULL),
					 stats.oversized > 0 ?
					 errhint("No embeddings reply is that large: check that %s is an embeddings API.",
							 ai_bounded(opts->base_url && opts->base_url[0] ? opts->base_url :
										provider_info_of(opts->kind)->default_url)) :
					 opts->kind == PROVIDER_OLLAMA ?
					 errhint("Is Ollama running at %s? Set ai.ollama_host or pass host =>.",
							 opts->base_url ? opts->base_url : PROVIDER_OLLAMA_DEFAULT_URL) : 0));
		}
		/* a cancel or timeout raises here; other interrupts come back */
		CHECK_FOR_INTERRUPTS();
	}
	free_held_client(h);
	MemoryContextDelete(h->reply_cxt);
}

static void
embed_with_options(void *arg, const char **texts, const size_t *lens, size_t n, float *out)
{
	embed_with((const provider_options *) arg, texts, lens, n, out);
}

/* Either form: one text (returns a vector) or text[] (returns rows). */
static Datum
embed_call(FunctionCallInfo fcinfo, provider_options *opts, bool array)
{
	text	   *input;
	const char *texts[1];
	size_t		lens[1];
	float	   *out;

	if (array)
		return embed_text_array(fcinfo, opts->dimensions, embed_with_options, opts);
	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	input = PG_GETARG_TEXT_PP(1);
	texts[0] = VARDATA_ANY(input);
	lens[0] = VARSIZE_ANY_EXHDR(input);
	out = palloc(sizeof(float) * opts->dimensions);
	embed_with(opts, texts, lens, 1, out);
	PG_RETURN_DATUM(ai_make_vector(out, opts->dimensions));
}

static void
base_options(provider_options *opts, provider_kind kind, FunctionCallInfo fcinfo)
{
	provider_options_init(opts, kind);
	opts->model = arg_model(fcinfo);
	opts->should_cancel = interrupt_pending;
}

/* (model, input, api_key, api_key_name, dimensions, openai_user, base_url) */
static Datum
openai_common(FunctionCallInfo fcinfo, bool array)
{
	provider_options opts;
	char	   *key_name = arg_text(fcinfo, 3);
	bool		given;

	base_options(&opts, PROVIDER_OPENAI, fcinfo);
	opts.api_key = resolve_key(arg_text(fcinfo, 2), key_name ? key_name : "OPENAI_API_KEY");
	opts.dimensions = arg_dims(fcinfo, 4, opts.model, &given);
	opts.send_dimensions = given;	/* as pgai: only when asked for */
	opts.user = arg_text(fcinfo, 5);
	opts.base_url = arg_text(fcinfo, 6);
	if (opts.base_url == NULL && ai_openai_base_url != NULL && ai_openai_base_url[0] != '\0')
		opts.base_url = ai_openai_base_url;
	if (opts.api_key == NULL && opts.base_url == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no API key for OpenAI"),
				 errhint("Pass api_key =>, SET ai.openai_api_key, or set %s in the server's environment.",
						 key_name ? key_name : "OPENAI_API_KEY")));
	return embed_call(fcinfo, &opts, array);
}

Datum
openai_embed(PG_FUNCTION_ARGS)
{
	return openai_common(fcinfo, false);
}

Datum
openai_embed_array(PG_FUNCTION_ARGS)
{
	return openai_common(fcinfo, true);
}

/* (model, input, host, keep_alive, embedding_options jsonb, dimensions) */
static Datum
ollama_common(FunctionCallInfo fcinfo, bool array)
{
	provider_options opts;
	bool		given;
	char	   *host = arg_text(fcinfo, 2);

	base_options(&opts, PROVIDER_OLLAMA, fcinfo);
	if (host == NULL && ai_ollama_host != NULL && ai_ollama_host[0] != '\0')
		host = ai_ollama_host;
	if (host == NULL && getenv("OLLAMA_HOST") != NULL && getenv("OLLAMA_HOST")[0] != '\0')
		host = getenv("OLLAMA_HOST");
	opts.base_url = with_scheme(host);
	opts.keep_alive = arg_text(fcinfo, 3);
	if (PG_NARGS() > 4 && !PG_ARGISNULL(4))
	{
		Jsonb	   *o = PG_GETARG_JSONB_P(4);

		opts.options_json = JsonbToCString(NULL, &o->root, VARSIZE(o));
	}
	opts.dimensions = arg_dims(fcinfo, 5, opts.model, &given);
	return embed_call(fcinfo, &opts, array);
}

Datum
ollama_embed(PG_FUNCTION_ARGS)
{
	return ollama_common(fcinfo, false);
}

Datum
ollama_embed_array(PG_FUNCTION_ARGS)
{
	return ollama_common(fcinfo, true);
}

/* (model, input, input_type, api_key, api_key_name, dimensions, base_url) */
static Datum
voyageai_common(FunctionCallInfo fcinfo, bool array)
{
	provider_options opts;
	char	   *key_name = arg_text(fcinfo, 4);
	bool		given;

	base_options(&opts, PROVIDER_VOYAGE, fcinfo);
	opts.input_type = arg_text(fcinfo, 2);
	opts.api_key = resolve_key(arg_text(fcinfo, 3), key_name ? key_name : "VOYAGE_API_KEY");
	opts.dimensions = arg_dims(fcinfo, 5, opts.model, &given);
	opts.send_dimensions = given;
	opts.base_url = arg_text(fcinfo, 6);
	if (opts.api_key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no API key for Voyage AI"),
				 errhint("Pass api_key =>, SET ai.voyage_api_key, or set %s in the server's environment.",
						 key_name ? key_name : "VOYAGE_API_KEY")));
	return embed_call(fcinfo, &opts, array);
}

Datum
voyageai_embed(PG_FUNCTION_ARGS)
{
	return voyageai_common(fcinfo, false);
}

Datum
voyageai_embed_array(PG_FUNCTION_ARGS)
{
	return voyageai_common(fcinfo, true);
}
