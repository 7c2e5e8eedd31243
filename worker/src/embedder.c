/*
 * embedder.c: turns formatted chunks into vectors, whatever the provider.
 *
 * The built-in model (sentence_transformers) is opened once per process
 * and shared by every thread: its weights are mapped read-only and its
 * embed call is thread-safe (see pgai_model.h). HTTP providers (OpenAI,
 * Ollama, Voyage) get one client per thread, so each keeps its own
 * connection alive. API keys come from the environment variable the
 * vectorizer names (api_key_name) and never leave this file but in the
 * Authorization header.
 *
 * The network and secrets policy: base_url and api_key_name are written by
 * whoever created the vectorizer, the environment belongs to the worker's
 * operator. So, as the extension does for its SQL functions (core's
 * policy.c), a request may go only to a provider's public endpoint, to
 * what the operator configured (OPENAI_BASE_URL, OLLAMA_HOST) or under a
 * prefix listed in PGAI_ALLOWED_BASE_URLS; and only a variable named like
 * an API key (or listed in PGAI_API_KEY_NAMES) is read. Both are checked
 * before the key is read and before any connection is made.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pgai_model.h"
#include "pgai_provider.h"
#include "embedder.h"
#include "util.h"

struct embedder
{
	char	   *config;			/* everything that shapes a request: reuse key */
	pgai_model *model;			/* built-in model: shared, not owned */
	provider_client *client;	/* HTTP providers: owned */
	char	   *base_url;		/* owned copies the client options point at */
	char	   *api_key;
};

static pthread_mutex_t model_lock = PTHREAD_MUTEX_INITIALIZER;
static pgai_model *shared_model = NULL;

static pgai_status
open_model(const worker_options *opt, pgai_model **out, pgai_error *err)
{
	pgai_status st = PGAI_OK;

	pthread_mutex_lock(&model_lock);
	if (shared_model == NULL)
	{
		pgai_error	merr;

		if (pgai_model_open(pgai_model_default_dir(), &shared_model, &merr) != PGAI_OK)
		{
			pgai_error_set(err, PGAI_EIO, "%s (install it with: make setup)", merr.message);
			shared_model = NULL;
			st = PGAI_EIO;
		}
		else
		{
			/*
			 * the cores are shared between the worker threads: no
			 * oversubscription
			 */
			long		cores = sysconf(_SC_NPROCESSORS_ONLN);
			int			per_thread = (int) (cores > 0 ? cores : 1) / (opt->concurrency > 0 ? opt->concurrency : 1);

			pgai_model_set_threads(shared_model, per_thread > 0 ? per_thread : 1);
		}
	}
	*out = shared_model;
	pthread_mutex_unlock(&model_lock);
	return st;
}

static bool
stop_requested(void *arg)
{
	(void) arg;
	return worker_stop != 0;
}

/* Ollama hosts may be written without a scheme ("gpu-box:11434"). */
static char *
with_scheme(const char *host)
{
	if (host == NULL || host[0] == '\0')
		return NULL;
	return strstr(host, "://") != NULL ? xstrdup(host) : xasprintf("http://%s", host);
}

/*
 * Where an HTTP provider lives: the vectorizer's base_url, else the
 * provider's environment variable (OPENAI_BASE_URL, OLLAMA_HOST), else the
 * provider's public endpoint (NULL: the client's default).
 */
static char *
provider_url(const vectorizer *v, provider_kind kind)
{
	if (v->base_url != NULL && v->base_url[0] != '\0')
		return xstrdup(v->base_url);
	if (kind == PROVIDER_OPENAI && getenv("OPENAI_BASE_URL") != NULL &&
		getenv("OPENAI_BASE_URL")[0] != '\0')
		return xstrdup(getenv("OPENAI_BASE_URL"));
	if (kind == PROVIDER_OLLAMA)
		return with_scheme(getenv("OLLAMA_HOST"));
	return NULL;
}

static const char *
default_url(provider_kind kind)
{
	return provider_info_of(kind)->default_url;
}

/*
 * A value the vectorizer's creator wrote, fit for an error row and a log
 * line: at most 64 bytes (cut at a UTF-8 character boundary, "..." when
 * cut) and no control characters.
 */
static void
bounded(char *dst, size_t size, const char *s)
{
	size_t		n = strlen(s),
				cut = n > 64 ? 64 : n;

	while (cut > 0 && cut < n && ((unsigned char) s[cut] & 0xC0) == 0x80)
		cut--;
	snprintf(dst, size, "%.*s%s", (int) cut, s, cut < n ? "..." : "");
	for (char *p = dst; *p; p++)
		if ((unsigned char) *p < 0x20 || *p == 0x7f)
			*p = '?';
}

/*
 * The network policy: the provider's public endpoint, the URL the
 * operator gave this worker for the provider (OPENAI_BASE_URL for OpenAI,
 * OLLAMA_HOST for Ollama; not for another provider, whose key must not go
 * there), or a URL under a prefix of PGAI_ALLOWED_BASE_URLS. Matching is
 * core's, the same as ai.allowed_base_urls: scheme, host, port and path
 * as libcurl parses them, never a URL with a user name in it.
 */
static pgai_status
check_url(const char *url, provider_kind kind, pgai_error *err)
{
	char	   *ollama = kind == PROVIDER_OLLAMA ? with_scheme(getenv("OLLAMA_HOST")) : NULL;
	const char *fixed[] = {
		default_url(kind),
		kind == PROVIDER_OPENAI ? getenv("OPENAI_BASE_URL") : NULL,
		ollama,
	};
	bool		ok = provider_url_allowed(url, fixed, sizeof(fixed) / sizeof(fixed[0])) ||
	provider_url_allowed_csv(url, getenv("PGAI_ALLOWED_BASE_URLS"));
	char		shown[80];

	free(ollama);
	if (ok)
		return PGAI_OK;
	bounded(shown, sizeof(shown), url);
	return pgai_error_set(err, PGAI_EINVAL,
						  "the worker may not call \"%s\" (hint: the worker's operator can "
						  "allow it by adding its prefix to PGAI_ALLOWED_BASE_URLS)", shown);
}

/*
 * Is `name` one entry of the comma-separated `list`? Spaces and tabs
 * around an entry are not part of it.
 */
static bool
listed(const char *list, const char *name)
{
	size_t		n = strlen(name);

	while (*list != '\0')
	{
		size_t		len = strcspn(list, ",");
		size_t		start = 0,
					end = len;

		while (start < end && (list[start] == ' ' || list[start] == '\t'))
			start++;
		while (end > start && (list[end - 1] == ' ' || list[end - 1] == '\t'))
			end--;
		if (n > 0 && end - start == n && strncmp(list + start, name, n) == 0)
			return true;
		list += len;
		if (*list == ',')
			list++;
	}
	return false;
}

/*
 * The secrets policy: which environment variable a vectorizer may have the
 * worker send as its key. When the operator sets PGAI_API_KEY_NAMES, the
 * names listed there exactly and no others (so one team's key can be kept
 * from another team's vectorizers); else core's rule, a name ending in
 * _API_KEY, so PGDATA or AWS_SECRET_ACCESS_KEY are never read.
 */
bool
worker_key_name_allowed(const char *name)
{
	const char *list = getenv("PGAI_API_KEY_NAMES");

	if (name == NULL)
		return false;
	if (list != NULL && list[0] != '\0')
		return listed(list, name);
	return provider_key_name_allowed(name);
}

static pgai_status
check_key_name(const char *name, pgai_error *err)
{
	char		shown[80];
	const char *list = getenv("PGAI_API_KEY_NAMES");

	if (worker_key_name_allowed(name))
		return PGAI_OK;
	bounded(shown, sizeof(shown), name);
	if (list != NULL && list[0] != '\0')
		return pgai_error_set(err, PGAI_EINVAL,
							  "api_key_name \"%s\" is not one the worker may read (hint: the "
							  "worker's operator can add it to PGAI_API_KEY_NAMES)", shown);
	return pgai_error_set(err, PGAI_EINVAL,
						  "api_key_name \"%s\" is not the name of an API key (hint: name a "
						  "variable ending in _API_KEY, or the worker's operator can list it "
						  "in PGAI_API_KEY_NAMES)", shown);
}

static pgai_status
open_provider(embedder *e, const vectorizer *v, const worker_options *opt,
			  provider_kind kind, pgai_error *err)
{
	provider_options opts;
	const char *key_name = v->api_key_name;

	provider_options_init(&opts, kind);
	e->base_url = provider_url(v, kind);
	/* before anything is read or contacted */
	if (check_url(e->base_url != NULL ? e->base_url : default_url(kind), kind, err) != PGAI_OK)
		return PGAI_EINVAL;
	if (key_name != NULL && key_name[0] != '\0' && check_key_name(key_name, err) != PGAI_OK)
		return PGAI_EINVAL;
	if (key_name != NULL && getenv(key_name) != NULL && getenv(key_name)[0] != '\0')
		e->api_key = xstrdup(getenv(key_name));
	/* OpenAI itself and Voyage need a key; compatible servers may not */
	if (e->api_key == NULL && kind != PROVIDER_OLLAMA &&
		(e->base_url == NULL || kind == PROVIDER_VOYAGE))
		return pgai_error_set(err, PGAI_EINVAL,
							  "the API key is missing: set the environment variable %s",
							  key_name ? key_name : "OPENAI_API_KEY");
	opts.base_url = e->base_url;
	opts.api_key = e->api_key;
	opts.model = v->model;
	opts.dimensions = v->dimensions;
	/* as pgai does: every OpenAI model but ada-002 takes "dimensions" */
	opts.send_dimensions = provider_sends_dimensions(kind, v->model);
	opts.user = v->chat_user;
	opts.input_type = v->input_type;
	opts.keep_alive = v->keep_alive;
	opts.options_json = v->options_json;
	opts.should_cancel = stop_requested;
	if (opt->request_timeout > 0)
		opts.request_timeout_ms = (long) (opt->request_timeout * 1000);
	if (opt->http_retries >= 0)
		opts.max_retries = opt->http_retries;
	return provider_client_new(&opts, &e->client, err);
}

/*
 * Every setting of a vectorizer's embedding config, as one string: two
 * vectorizers share a client only if all of them agree (a "user" or a
 * base URL must not carry over from one to the other).
 */
static char *
config_key(const vectorizer *v)
{
#define S(x) ((x) ? (x) : "")
	return xasprintf("%s|%s|%d|%s|%s|%s|%s|%s|%s", S(v->embedding_impl), S(v->model),
					 v->dimensions, S(v->base_url), S(v->api_key_name), S(v->chat_user),
					 S(v->input_type), S(v->keep_alive), S(v->options_json));
#undef S
}

bool
embedder_matches(const embedder *e, const vectorizer *v)
{
	char	   *key = config_key(v);
	bool		same = strcmp(e->config, key) == 0;

	free(key);
	return same;
}

pgai_status
embedder_open(const vectorizer *v, const worker_options *opt, embedder **out,
			  pgai_error *err)
{
	embedder   *e;

	provider_kind kind;
	pgai_status st;

	*out = NULL;
	e = xcalloc(1, sizeof(embedder));
	e->config = config_key(v);
	if (strcmp(v->embedding_impl, "sentence_transformers") == 0)
		st = open_model(opt, &e->model, err);
	else if (provider_kind_parse(v->embedding_impl, &kind))
		st = open_provider(e, v, opt, kind, err);
	else
		st = pgai_error_set(err, PGAI_EINVAL, "unknown embedding implementation \"%s\"",
							v->embedding_impl);
	if (st != PGAI_OK)
	{
		embedder_close(e);
		return st;
	}
	*out = e;
	return PGAI_OK;
}

pgai_status
embedder_embed(embedder *e, const char *const *texts, const size_t *lens,
			   size_t n, float *out, pgai_error *row_errors, pgai_error *err)
{
	pgai_error	merr;
	pgai_status st;

	if (e->client != NULL)
		return provider_client_embed(e->client, texts, lens, n, out, row_errors, err);
	/* the model embeds every input or none: no row errors */
	st = pgai_model_embed_cancelable(e->model, texts, lens, n, out, &worker_stop, &merr);
	if (st == PGAI_ECANCELED)
		return pgai_error_set(err, PGAI_ECANCELED, "embedding canceled: the worker is stopping");
	if (st != PGAI_OK)
		return pgai_error_set(err, PGAI_EPROVIDER, "%s", merr.message);
	return PGAI_OK;
}

void
embedder_close(embedder *e)
{
	if (e == NULL)
		return;
	provider_client_free(e->client);
	free(e->config);
	free(e->base_url);
	free(e->api_key);
	free(e);
}
