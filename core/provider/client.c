/*
 * client.c -- provider_client: options, batching, retries with backoff,
 * and bisection of batches that a provider rejects as too long.
 *
 * Flow of provider_client_embed: check every input's UTF-8 (invalid ones
 * become row errors and are never sent), cut the rest into batches by
 * max_inputs and max_request_bytes, and send each batch (send_batch:
 * build, POST, retry transient failures, parse).  A batch refused as too
 * long is halved recursively (embed_batch) until single inputs remain;
 * those become row errors.
 *
 * Ownership: the client owns copies of all option strings (the api key
 * is wiped on free), the curl handles, two reusable buffers (request and
 * response) and a scratch index array.  One thread at a time.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "pgai_text.h"
#include "provider_internal.h"

struct provider_client
{
	provider_options opts;		/* strings point at the copies below */
	wire_config wire;
	char	   *url;			/* base + path */
	char	   *strings;		/* one block holding every copied string */
	size_t		strings_len;
	http_conn	http;
	json_buf	req;
	json_buf	resp;
	size_t	   *idx;			/* max_inputs entries */
	uint64_t	rng;
	provider_stats stats;
};

pgai_status
provider_global_init(pgai_error *err)
{
	CURLcode	rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc != CURLE_OK)
		return pgai_error_set(err, PGAI_EHTTP, "could not initialize libcurl: %s",
							  curl_easy_strerror(rc));
	return PGAI_OK;
}

void
provider_options_init(provider_options *o, provider_kind kind)
{
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->connect_timeout_ms = 10000;
	o->request_timeout_ms = 120000;
	o->max_retries = 5;
	o->retry_base_ms = 1000;
	o->retry_max_ms = 30000;
	o->retry_after_max_ms = 60000;
	if (provider_info_of(kind) != NULL)
	{
		o->max_inputs = provider_info_of(kind)->max_inputs;
		o->max_request_bytes = provider_info_of(kind)->max_request_bytes;
	}
}

/* Copy s into the string block at *pos; NULL stays NULL. */
static const char *
stash(provider_client *c, size_t *pos, const char *s)
{
	char	   *dst;
	size_t		n;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	dst = c->strings + *pos;
	memcpy(dst, s, n);
	*pos += n;
	return dst;
}

static pgai_status
validate(const provider_options *o, pgai_error *err)
{
	if (provider_info_of(o->kind) == NULL)
		return pgai_error_set(err, PGAI_EINVAL, "unknown embedding provider kind %d",
							  (int) o->kind);
	if (o->model == NULL || o->model[0] == '\0')
		return pgai_error_set(err, PGAI_EINVAL, "embedding model name is required");
	if (o->dimensions <= 0 || o->dimensions > 1000000)
		return pgai_error_set(err, PGAI_EINVAL, "embedding dimensions must be positive, got %d",
							  o->dimensions);
	if (o->max_inputs == 0)
		return pgai_error_set(err, PGAI_EINVAL, "max_inputs must be positive");
	if (o->max_retries < 0 || o->connect_timeout_ms < 0 || o->request_timeout_ms < 0 ||
		o->retry_base_ms < 0 || o->retry_max_ms < 0 || o->retry_after_max_ms < 0)
		return pgai_error_set(err, PGAI_EINVAL, "timeouts and retry settings must not be negative");
	/* a long value is not echoed: it would fill the message, cut anywhere */
	if (o->input_type && strcmp(o->input_type, "document") != 0 &&
		strcmp(o->input_type, "query") != 0)
		return strlen(o->input_type) > 32 ?
			pgai_error_set(err, PGAI_EINVAL, "input_type must be \"document\" or \"query\", "
						   "got %zu bytes", strlen(o->input_type)) :
			pgai_error_set(err, PGAI_EINVAL,
						   "input_type must be \"document\" or \"query\", got \"%s\"",
						   o->input_type);
	if (o->options_json)
	{
		json_doc   *doc;
		pgai_error	jerr;
		bool		ok;

		if (json_parse(o->options_json, strlen(o->options_json), &doc, &jerr) != PGAI_OK)
			return pgai_error_set(err, PGAI_EINVAL, "ollama options are not valid JSON: %s",
								  jerr.message);
		ok = json_type_of(doc, json_root(doc)) == JSON_OBJECT;
		json_doc_free(doc);
		if (!ok)
			return pgai_error_set(err, PGAI_EINVAL, "ollama options must be a JSON object");
	}
	if (o->base_url && strchr(o->base_url, '\n'))
		return pgai_error_set(err, PGAI_EINVAL, "base_url must be one line");
	return PGAI_OK;
}

pgai_status
provider_client_new(const provider_options *opts, provider_client **out,
					pgai_error *err)
{
	provider_client *c;
	const char *base;
	const char *strs[7];
	size_t		total = 0;
	size_t		pos = 0;
	size_t		blen;
	const char *path;
	pgai_status st;

	*out = NULL;
	if ((st = validate(opts, err)) != PGAI_OK)
		return st;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return pgai_error_set(err, PGAI_ENOMEM, "out of memory");
	c->opts = *opts;
	base = (opts->base_url && opts->base_url[0]) ? opts->base_url : provider_info_of(opts->kind)->default_url;
	strs[0] = opts->api_key && opts->api_key[0] ? opts->api_key : NULL;
	strs[1] = opts->model;
	strs[2] = opts->user;
	strs[3] = opts->input_type;
	strs[4] = opts->keep_alive;
	strs[5] = opts->options_json;
	strs[6] = base;
	for (int i = 0; i < 7; i++)
		if (strs[i])
			total += strlen(strs[i]) + 1;
	path = provider_info_of(opts->kind)->path;
	blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	c->strings = malloc(total);
	c->strings_len = total;
	c->url = malloc(blen + strlen(path) + 1);
	c->idx = malloc(opts->max_inputs * sizeof(size_t));
	if (c->strings == NULL || c->url == NULL || c->idx == NULL)
	{
		provider_client_free(c);
		return pgai_error_set(err, PGAI_ENOMEM, "out of memory");
	}
	c->opts.api_key = stash(c, &pos, strs[0]);
	c->opts.model = stash(c, &pos, strs[1]);
	c->opts.user = stash(c, &pos, strs[2]);
	c->opts.input_type = stash(c, &pos, strs[3]);
	c->opts.keep_alive = stash(c, &pos, strs[4]);
	c->opts.options_json = stash(c, &pos, strs[5]);
	c->opts.base_url = stash(c, &pos, strs[6]);
	memcpy(c->url, base, blen);
	strcpy(c->url + blen, path);

	c->wire.kind = c->opts.kind;
	c->wire.model = c->opts.model;
	c->wire.dimensions = c->opts.dimensions;
	c->wire.send_dimensions = c->opts.send_dimensions;
	c->wire.user = c->opts.kind == PROVIDER_OPENAI ? c->opts.user : NULL;
	c->wire.input_type = c->opts.kind == PROVIDER_VOYAGE ? c->opts.input_type : NULL;
	c->wire.keep_alive = c->opts.kind == PROVIDER_OLLAMA ? c->opts.keep_alive : NULL;
	c->wire.options_json = c->opts.kind == PROVIDER_OLLAMA ? c->opts.options_json : NULL;

	json_buf_init(&c->req);
	json_buf_init(&c->resp);
	c->resp.alloc = opts->response_allocator;
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		c->rng = ((uint64_t) ts.tv_nsec << 20) ^ (uint64_t) ts.tv_sec ^
			(uint64_t) (uintptr_t) c;
		if (c->rng == 0)
			c->rng = 0x9E3779B97F4A7C15ULL;
	}
	if ((st = http_conn_init(&c->http, c->opts.api_key, err)) != PGAI_OK)
	{
		provider_client_free(c);
		return st;
	}
	*out = c;
	return PGAI_OK;
}

void
provider_client_free(provider_client *c)
{
	if (c == NULL)
		return;
	http_conn_free(&c->http);
	json_buf_free(&c->req);
	json_buf_free(&c->resp);
	if (c->strings)
		explicit_bzero(c->strings, c->strings_len);
	free(c->strings);
	free(c->url);
	free(c->idx);
	free(c);
}

void
provider_client_stats(const provider_client *c, provider_stats *out)
{
	*out = c->stats;
}

static bool
canceled(const provider_client *c)
{
	return c->opts.should_cancel && c->opts.should_cancel(c->opts.cancel_arg);
}

/*
 * The most bytes a reply to m inputs of `dims` dimensions may take, once
 * decoded; a larger one is refused as it arrives (http.c), so a gzip bomb
 * or a misconfigured base_url pointing at a large file costs memory in
 * proportion to the request, never the ceiling of 1 GiB.  The slack is
 * generous, so no honest reply comes near it:
 *   - 48 bytes a number: the longest JSON spelling of a float32 widened
 *     to a double is 24 characters ("-1.2345678901234567e-05"), so this
 *     is twice it, room for ", " and pretty-printing.  OpenAI and Voyage
 *     are asked for base64 (5.4 bytes a number); compatible servers that
 *     ignore it and Ollama send numbers, typically 10 to 22 bytes.
 *   - 4 KiB an input: the object around each vector ("object", "index",
 *     per-input extras).
 *   - 1 MiB a reply: usage, model names, an error page from a proxy.
 * A single input of 1,536 dimensions so gets 1.1 MiB; the worker's
 * largest OpenAI batch (2,048 inputs of 3,072 dimensions) 297 MiB.
 */
#define REPLY_BYTES_PER_NUMBER 48
#define REPLY_BYTES_PER_INPUT 4096
#define REPLY_BYTES_FIXED ((size_t) 1 << 20)

size_t
pv_max_response_bytes(size_t m, int dims)
{
	size_t		per_input = REPLY_BYTES_PER_INPUT +
	(size_t) (dims > 0 ? dims : 0) * REPLY_BYTES_PER_NUMBER;
	size_t		room = HTTP_MAX_RESPONSE_BYTES - REPLY_BYTES_FIXED;

	if (m > room / per_input)
		return HTTP_MAX_RESPONSE_BYTES;
	return REPLY_BYTES_FIXED + m * per_input;
}

/*
 * Send inputs idx[0..m) once, retrying transient failures.  On a
 * too-long refusal sets *too_long and returns PGAI_EPROVIDER with the
 * provider's message in err.
 */
static pgai_status
send_batch(provider_client *c, const char *const *texts, const size_t *lens,
		   const size_t *idx, size_t m, float *out, bool *too_long,
		   pgai_error *err)
{
	const char *name = provider_kind_name(c->opts.kind);
	http_request req;
	pgai_status st;

	*too_long = false;
	if ((st = wire_build(&c->wire, texts, lens, idx, m, &c->req, err)) != PGAI_OK)
		return st;
	req.url = c->url;
	req.body = c->req.data;
	req.body_len = c->req.len;
	req.connect_timeout_ms = c->opts.connect_timeout_ms;
	req.timeout_ms = c->opts.request_timeout_ms;
	req.max_response_bytes = pv_max_response_bytes(m, c->opts.dimensions);
	req.should_cancel = c->opts.should_cancel;
	req.cancel_arg = c->opts.cancel_arg;

	for (int attempt = 0;; attempt++)
	{
		http_result res;
		bool		retry;
		long		delay;
		char		msg[PGAI_ERROR_MESSAGE_SIZE];

		if (canceled(c))
			return pgai_error_set(err, PGAI_ECANCELED, "%s request canceled", name);
		c->stats.requests++;
		if (attempt > 0)
			c->stats.retries++;
		c->stats.bytes_sent += req.body_len;
		st = http_post(&c->http, &req, &c->resp, &res, err);
		c->stats.bytes_received += c->resp.len;
		if (st == PGAI_ECANCELED || st == PGAI_ENOMEM)
			return st;
		if (res.oversized)
		{
			c->stats.oversized++;
			/* what the refused reply grew the buffer to goes back now */
			json_buf_free(&c->resp);
			return pgai_error_set(err, PGAI_EPROVIDER,
								  "%s sent a response larger than %zu bytes, the limit for %zu input%s of %d dimensions",
								  name, req.max_response_bytes, m, m == 1 ? "" : "s",
								  c->opts.dimensions);
		}
		if (st == PGAI_OK && res.status >= 200 && res.status < 300)
			return wire_parse(&c->wire, c->resp.data ? c->resp.data : "", c->resp.len,
							  idx, m, out, err);
		if (st == PGAI_OK)
		{
			pv_error_message(c->resp.data, c->resp.len, msg, sizeof(msg));
			pv_redact(msg, sizeof(msg), c->opts.api_key);
			if (pv_is_too_long(res.status, msg))
			{
				*too_long = true;
				return pgai_error_set(err, PGAI_EPROVIDER, "%s rejected the input: HTTP %ld: %s",
									  name, res.status, msg[0] ? msg : "(no message)");
			}
			retry = pv_status_retryable(res.status);
			if (!retry || attempt >= c->opts.max_retries)
			{
				/* the provider answered: its refusal, not a transport failure */
				if (attempt > 0)
					return pgai_error_set(err, PGAI_EPROVIDER,
										  "%s embeddings request failed with HTTP %ld after %d attempts: %s",
										  name, res.status, attempt + 1,
										  msg[0] ? msg : "(no message)");
				return pgai_error_set(err, PGAI_EPROVIDER,
									  "%s embeddings request failed with HTTP %ld: %s",
									  name, res.status, msg[0] ? msg : "(no message)");
			}
		}
		else
		{
			/* transport failure; err holds curl's description */
			if (!res.transient || attempt >= c->opts.max_retries)
			{
				char		detail[PGAI_ERROR_MESSAGE_SIZE];

				memcpy(detail, err->message, sizeof(detail));
				pv_redact(detail, sizeof(detail), c->opts.api_key);
				if (attempt > 0)
					return pgai_error_set(err, st, "%s embeddings request failed after %d attempts: %s",
										  name, attempt + 1, detail);
				return pgai_error_set(err, st, "%s embeddings request failed: %s", name, detail);
			}
		}
		if (res.retry_after_ms >= 0)
			delay = res.retry_after_ms < c->opts.retry_after_max_ms
				? res.retry_after_ms : c->opts.retry_after_max_ms;
		else
			delay = pv_backoff_ms(attempt, c->opts.retry_base_ms, c->opts.retry_max_ms, &c->rng);
		if (!pv_sleep(delay, c->opts.should_cancel, c->opts.cancel_arg))
			return pgai_error_set(err, PGAI_ECANCELED, "%s request canceled", name);
	}
}

/* Embed idx[0..m), bisecting on too-long refusals. */
static pgai_status
embed_batch(provider_client *c, const char *const *texts, const size_t *lens,
			size_t *idx, size_t m, float *out, pgai_error *row_errors,
			pgai_error *err)
{
	bool		too_long;
	pgai_status st;
	size_t		half;

	st = send_batch(c, texts, lens, idx, m, out, &too_long, err);
	if (st == PGAI_OK || !too_long)
		return st;
	if (m == 1)
	{
		if (row_errors == NULL)
		{
			char		msg[PGAI_ERROR_MESSAGE_SIZE];

			memcpy(msg, err->message, sizeof(msg));
			return pgai_error_set(err, PGAI_EPROVIDER, "input %zu: %s", idx[0], msg);
		}
		row_errors[idx[0]] = *err;
		pgai_error_clear(err);
		return PGAI_OK;
	}
	c->stats.splits++;
	half = m / 2;
	st = embed_batch(c, texts, lens, idx, half, out, row_errors, err);
	if (st != PGAI_OK)
		return st;
	return embed_batch(c, texts, lens, idx + half, m - half, out, row_errors, err);
}

pgai_status
provider_client_embed(provider_client *c, const char *const *texts,
					  const size_t *lens, size_t n, float *out,
					  pgai_error *row_errors, pgai_error *err)
{
	size_t		overhead = wire_overhead(&c->wire);
	size_t		i = 0;
	bool	   *bad = NULL;
	pgai_status st = PGAI_OK;

	pgai_error	local;

	/* the internals read messages back, so always have a record */
	if (err == NULL)
		err = &local;
	pgai_error_clear(err);
	if (n == 0)
		return PGAI_OK;
	if (texts == NULL || out == NULL)
		return pgai_error_set(err, PGAI_EINVAL, "texts and out must not be NULL");
	for (size_t k = 0; k < n; k++)
		if (texts[k] == NULL)
			return pgai_error_set(err, PGAI_EINVAL, "input %zu is NULL", k);
	if (row_errors)
		for (size_t k = 0; k < n; k++)
			pgai_error_clear(&row_errors[k]);

	/* inputs that are not UTF-8 are never sent */
	for (size_t k = 0; k < n; k++)
	{
		pgai_error	uerr;
		size_t		len = lens ? lens[k] : strlen(texts[k]);

		if (utf8_validate(texts[k], len, &uerr) == PGAI_OK)
			continue;
		if (row_errors == NULL)
		{
			free(bad);
			return pgai_error_set(err, PGAI_EUTF8, "input %zu: %s", k, uerr.message);
		}
		if (bad == NULL && (bad = calloc(n, sizeof(bool))) == NULL)
			return pgai_error_set(err, PGAI_ENOMEM, "out of memory");
		bad[k] = true;
		pgai_error_set(&row_errors[k], PGAI_EUTF8, "input is not valid UTF-8: %s",
					   uerr.message);
	}

	while (i < n && st == PGAI_OK)
	{
		size_t		m = 0;
		size_t		bytes = overhead;

		while (i < n && m < c->opts.max_inputs)
		{
			size_t		sz;

			if (bad && bad[i])
			{
				i++;
				continue;
			}
			sz = json_string_size(texts[i], lens ? lens[i] : strlen(texts[i])) + 1;
			if (m > 0 && c->opts.max_request_bytes > 0 &&
				bytes + sz > c->opts.max_request_bytes)
				break;
			c->idx[m++] = i++;
			bytes += sz;
		}
		if (m > 0)
			st = embed_batch(c, texts, lens, c->idx, m, out, row_errors, err);
	}
	free(bad);
	return st;
}
