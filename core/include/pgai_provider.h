/*
 * pgai_provider.h -- embedding provider clients over HTTP (libcurl):
 * OpenAI and OpenAI-compatible servers, Ollama, Voyage AI.
 *
 * Threading: provider_global_init() must be called once per process
 * before any client is created and before other threads start (it runs
 * curl_global_init, which is not thread-safe): the worker calls it in
 * main(), the extension in _PG_init().  After that each provider_client
 * belongs to one thread at a time; clients share nothing, so different
 * threads may use different clients freely.  A client keeps one curl
 * handle and its connection cache, so successive calls reuse keep-alive
 * connections.
 *
 * Memory: malloc/free, except reply bodies when the caller passes an
 * allocator (response_allocator, which must outlive the client).
 * provider_client_new copies every string of the options, so the options
 * struct and its strings may be freed as soon as it returns.  The api key
 * copy is wiped when the client is freed.  No function prints, logs,
 * aborts or keeps global mutable state.
 *
 * Errors: functions return a pgai_status and fill a caller-owned
 * pgai_error.  Messages name the provider, the HTTP status and the
 * provider's own error message when it sent one; they never contain the
 * api key (it is redacted if a provider echoes it) or a request body.
 *   PGAI_EINVAL    bad options
 *   PGAI_EHTTP     transport failure or an HTTP error status
 *   PGAI_ETIMEOUT  a request timed out (after the retries)
 *   PGAI_EPROVIDER the provider rejected a request or answered something
 *                  inconsistent (wrong count, wrong dimensions, bad index)
 *   PGAI_EJSON     the response was not the JSON expected
 *   PGAI_ECANCELED the should_cancel hook returned true
 *   PGAI_EUTF8     an input is not valid UTF-8 (row error)
 *   PGAI_ENOMEM    out of memory
 */
#ifndef PGAI_PROVIDER_H
#define PGAI_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pgai_error.h"

typedef enum provider_kind
{
	PROVIDER_OPENAI = 1,		/* POST {base}/embeddings; base64 floats */
	PROVIDER_OLLAMA,			/* POST {base}/api/embed */
	PROVIDER_VOYAGE				/* POST {base}/embeddings; base64 floats */
} provider_kind;

/*
 * Polled at least every 50 ms while a request is in flight and during
 * backoff sleeps.  Return true to abandon the call: the client returns
 * PGAI_ECANCELED cleanly.  It must not longjmp (the extension's hook only
 * looks at InterruptPending).
 */
typedef bool (*provider_cancel_fn) (void *arg);

/* Default base URLs (used when base_url is NULL or empty). */
#define PROVIDER_OPENAI_DEFAULT_URL "https://api.openai.com/v1"
#define PROVIDER_OLLAMA_DEFAULT_URL "http://localhost:11434"
#define PROVIDER_VOYAGE_DEFAULT_URL "https://api.voyageai.com/v1"

typedef struct provider_options
{
	provider_kind kind;
	const char *base_url;		/* NULL or "" -> default for the kind; a
								 * trailing '/' is ignored */
	const char *api_key;		/* NULL or "" -> no Authorization header
								 * (Ollama, keyless compatible servers) */
	const char *model;			/* required */
	int			dimensions;		/* required (> 0): every vector must have it */
	bool		send_dimensions;	/* send "dimensions" (OpenAI, Ollama) or
									 * "output_dimension" (Voyage); OpenAI's
									 * text-embedding-3-* accept it, older
									 * models reject it */
	const char *user;			/* OpenAI "user"; NULL -> omitted */
	const char *input_type;		/* Voyage "input_type" ("document", "query");
								 * NULL -> omitted */
	const char *keep_alive;		/* Ollama "keep_alive": a number is sent as a
								 * number (seconds), other text as a duration
								 * string ("5m"); NULL -> omitted */
	const char *options_json;	/* Ollama "options": a JSON object's text,
								 * validated; NULL -> omitted */

	long		connect_timeout_ms; /* default 10 s */
	long		request_timeout_ms; /* whole request incl. body; default 120 s */
	int			max_retries;	/* retries after the first attempt; default 5 */
	long		retry_base_ms;	/* backoff base; default 1000 */
	long		retry_max_ms;	/* backoff cap; default 30000 */
	long		retry_after_max_ms; /* cap on a server's Retry-After; default
									 * 60000 */
	size_t		max_inputs;		/* inputs per request; default from the
								 * provider table (OpenAI 2048, Ollama 512,
								 * Voyage 128) */
	size_t		max_request_bytes;	/* request body budget; default from the
									 * table (OpenAI 1 MiB, Ollama 4 MiB,
									 * Voyage 512 KiB); a single larger input
									 * is still sent alone */

	provider_cancel_fn should_cancel;	/* NULL -> never canceled */
	void	   *cancel_arg;

	/*
	 * Where reply bodies are kept (pgai_json.h's json_allocator); NULL ->
	 * malloc.  Not copied: it must outlive the client.
	 */
	const struct json_allocator *response_allocator;
} provider_options;

typedef struct provider_client provider_client;

/* Counters since the client was created (for logs and benchmarks). */
typedef struct provider_stats
{
	uint64_t	requests;		/* HTTP requests sent, retries included */
	uint64_t	retries;		/* attempts that were retries */
	uint64_t	splits;			/* batches bisected over a too-long input */
	uint64_t	bytes_sent;		/* request bodies */
	uint64_t	bytes_received; /* response bodies */
	uint64_t	oversized;		/* replies refused as larger than their limit
								 * (see provider_client_embed) */
} provider_stats;

/*
 * Call once per process before creating clients and before starting
 * threads (runs curl_global_init(CURL_GLOBAL_DEFAULT)): the worker from
 * main(), the extension from _PG_init().  Calling it again is harmless
 * (libcurl counts) but must not race with other threads.  Returns
 * PGAI_OK or PGAI_EHTTP.
 */
pgai_status provider_global_init(pgai_error *err);

/*
 * The provider table (providers.c): what the client, the extension and
 * the worker know about each provider, kept in one place.
 */
typedef struct provider_info
{
	provider_kind kind;
	const char *name;			/* "openai", "ollama", "voyageai": the
								 * embedding implementation's name */
	const char *alias;			/* another accepted name ("voyage"), or NULL */
	const char *default_url;	/* the public endpoint */
	const char *path;			/* appended to the base URL */
	const char *key_env;		/* variable holding the key when the caller
								 * names none; NULL: keyless (Ollama) */
	const char *url_env;		/* variable an operator sets for the base URL
								 * (OPENAI_BASE_URL, OLLAMA_HOST), or NULL */
	size_t		max_inputs;		/* default provider_options.max_inputs */
	size_t		max_request_bytes;	/* default max_request_bytes */
	bool		sends_dimensions;	/* the worker sends "dimensions" unless
									 * the model refuses it (see
									 * provider_sends_dimensions) */
} provider_info;

/* The row of `kind`; NULL for a value that is no provider_kind.  Static. */
const provider_info *provider_info_of(provider_kind kind);

/* Short name of a kind ("openai", "ollama", "voyageai"); static. */
const char *provider_kind_name(provider_kind kind);

/* Parse a name or alias ("openai", "ollama", "voyageai", "voyage"); false if unknown. */
bool		provider_kind_parse(const char *name, provider_kind *kind);

/*
 * Native dimensions of a known model ("text-embedding-3-small" -> 1536),
 * whichever provider serves it; 0 when unknown or NULL.
 */
int			provider_model_dimensions(const char *model);

/*
 * Whether the worker sends "dimensions" for `model` of `kind`: as pgai
 * does, for every OpenAI model but text-embedding-ada-002, which rejects
 * it; never for Ollama or Voyage.  (The SQL functions send it only when
 * the caller passes dimensions.)
 */
bool		provider_sends_dimensions(provider_kind kind, const char *model);

/*
 * Fill *opts with zeros and the defaults of `kind` (timeouts, retries,
 * batch limits; strings NULL).  Callers then set model, dimensions, etc.
 */
void		provider_options_init(provider_options *opts, provider_kind kind);

/*
 * Create a client.  Validates and copies the options.  On success *out
 * is owned by the caller (free with provider_client_free); on failure it
 * is NULL.
 */
pgai_status provider_client_new(const provider_options *opts,
								provider_client **out, pgai_error *err);

/*
 * Embed n texts (texts[i] of lens[i] bytes, UTF-8, need not be
 * NUL-terminated; lens may be NULL for NUL-terminated texts) and write
 * vector i to out[i * dimensions .. (i + 1) * dimensions).  `out` is
 * caller-owned, n * dimensions floats.
 *
 * Inputs are split into requests of at most max_inputs inputs and
 * max_request_bytes of body; results land in input order.  Transient
 * failures (HTTP 408, 409, 429, 5xx, connection errors, timeouts) are
 * retried with exponential backoff and full jitter, honouring
 * Retry-After / retry-after-ms (capped); other 4xx are not retried, nor
 * are 2xx responses that are malformed or inconsistent (those fail the
 * call with PGAI_EJSON / PGAI_EPROVIDER).
 *
 * Row errors.  When a request fails with HTTP 400/413/422 whose message
 * says an input or the batch is too long (OpenAI "maximum context
 * length", "maximum input length", "tokens per request"; Ollama "input
 * length exceeds the context length"; Voyage "too many tokens", "max
 * allowed tokens per submitted batch"; vLLM wording likewise), the batch
 * is bisected until the offending inputs stand alone.  Inputs that are
 * not valid UTF-8 are never sent.  If row_errors is non-NULL (an array
 * of n, caller-owned), every row_errors[i] is set: code PGAI_OK for an
 * embedded row, else PGAI_EPROVIDER (message from the provider) or
 * PGAI_EUTF8; the call then still returns PGAI_OK and the out slices of
 * failed rows are left untouched (undefined).  If row_errors is NULL,
 * any such row makes the whole call fail with that error.
 *
 * Reply size.  A reply is refused as it arrives, and the call fails with
 * PGAI_EPROVIDER (not retried), once its body as decoded (gzip inflated)
 * passes 1 MiB + m * (4 KiB + 48 bytes a dimension) for a request of m
 * inputs, at most 1 GiB: generous for any honest reply, whether vectors
 * come as base64 or as JSON numbers, and it bounds what a gzip bomb or a
 * base_url serving something else can make the caller allocate.
 *
 * On any other failure the call returns the error and the contents of
 * `out` are undefined (some batches may have been written).
 */
pgai_status provider_client_embed(provider_client *client,
								  const char *const *texts, const size_t *lens,
								  size_t n, float *out, pgai_error *row_errors,
								  pgai_error *err);

/* Copy of the client's counters. */
void		provider_client_stats(const provider_client *client,
								  provider_stats *out);

/* Free the client, its curl handles and its copies.  client may be NULL. */
void		provider_client_free(provider_client *client);

/*
 * The network and secrets policy (policy.c), shared by the extension and
 * the worker so that both judge a URL and a key name the same way.
 *
 * provider_url_allowed: true when `url` (http or https, no user:password
 * part) matches one of the n_allowed entries: same scheme, host (case-
 * insensitive) and port (the scheme's default when none is written), and
 * a path at or under the entry's path, segment by segment. Both are parsed
 * with libcurl's URL parser, the one that makes the request. NULL or
 * empty entries match nothing. provider_url_allowed_csv takes the entries
 * as one comma-separated list (the ai.allowed_base_urls and
 * PGAI_ALLOWED_BASE_URLS form); false on NULL or out of memory.
 *
 * provider_key_name_allowed: true for the names a vectorizer or a caller
 * may name as api_key_name: an upper-case letter, then upper-case letters,
 * digits and underscores, ending in "_API_KEY", at most 64 bytes
 * (OPENAI_API_KEY, VOYAGE_API_KEY, MY_TEAM_API_KEY; not PGDATA, not
 * AWS_SECRET_ACCESS_KEY).
 */
bool		provider_url_allowed(const char *url, const char *const *allowed,
								 size_t n_allowed);
bool		provider_url_allowed_csv(const char *url, const char *allowed_csv);
bool		provider_key_name_allowed(const char *name);

#endif							/* PGAI_PROVIDER_H */
