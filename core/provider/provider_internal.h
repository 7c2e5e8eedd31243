/*
 * provider_internal.h -- pieces of core/provider shared between its files
 * and exposed to its unit tests; not part of the public API.
 *
 *   providers.c  the provider table (public: pgai_provider.h)
 *   util.c    base64, Retry-After, backoff, error classification and
 *             extraction, key redaction (pure functions)
 *   http.c    one POST over a reusable curl easy+multi pair, cancel polling
 *   wire.c    request bodies and response parsing per provider kind
 *   client.c  options, the client, batching, retries, bisection
 */
#ifndef PROVIDER_INTERNAL_H
#define PROVIDER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "pgai_json.h"
#include "pgai_provider.h"

/* ---- util.c ---- */

/*
 * Decode standard base64 s[0..n) (padding optional) holding little-endian
 * float32 values into out[0..dims).  Returns 1 on success, 0 if s is not
 * base64, -1 if it decodes to a byte count other than dims * 4 (then
 * *got is the number of floats it holds, rounded down).
 */
int			pv_base64_f32(const char *s, size_t n, float *out, size_t dims,
						  size_t *got);

/*
 * Delay in ms asked by a Retry-After value: delta-seconds or an HTTP-date
 * (relative to `now`); -1 if unparsable.  Never negative otherwise.
 */
long		pv_retry_after_ms(const char *value, time_t now);

/* Delay in ms asked by an OpenAI-style retry-after-ms value; -1 if bad. */
long		pv_retry_after_ms_header(const char *value);

/*
 * Full-jitter backoff: uniform in [0, min(cap, base * 2^attempt)].  *rng
 * is the caller's xorshift state (non-zero).
 */
long		pv_backoff_ms(int attempt, long base, long cap, uint64_t *rng);

/* Next value of a xorshift64* generator; *state must be non-zero. */
uint64_t	pv_rand(uint64_t *state);

/* HTTP statuses worth retrying: 408, 409, 425, 429, 5xx. */
bool		pv_status_retryable(long status);

/* Does a provider error (status + message) mean "input/batch too long"? */
bool		pv_is_too_long(long status, const char *message);

/*
 * The provider's error message from a response body: error.message,
 * error (a string), detail (a string or FastAPI's [{msg}]), message; else
 * the start of the body if it is not JSON, sanitised to printable ASCII.
 * Always NUL-terminates buf (empty if nothing useful).
 */
void		pv_error_message(const char *body, size_t len, char *buf, size_t cap);

/* Replace, in place, every run of >= 8 characters of `key` with "[redacted]". */
void		pv_redact(char *msg, size_t cap, const char *key);

/* ---- http.c ---- */

typedef struct http_conn
{
	void	   *multi;			/* CURLM * */
	void	   *easy;			/* CURL * */
	void	   *headers;		/* struct curl_slist *, holds the key */
	char		errbuf[256];
	long		retry_after_ms; /* from the last response, -1 if none */
	json_buf   *sink;			/* where the body goes */
	size_t		max_body;		/* of the request in flight */
	bool		oversized;		/* on_body refused a chunk over max_body */
} http_conn;

typedef struct http_request
{
	const char *url;
	const char *body;
	size_t		body_len;
	long		connect_timeout_ms;
	long		timeout_ms;
	size_t		max_response_bytes; /* decoded body; 0 ->
									 * HTTP_MAX_RESPONSE_BYTES */
	provider_cancel_fn should_cancel;
	void	   *cancel_arg;
} http_request;

typedef struct http_result
{
	long		status;			/* HTTP status, 0 if none */
	long		retry_after_ms; /* -1 if the response had none */
	bool		transient;		/* a transport failure worth retrying */
	bool		oversized;		/* the body passed max_response_bytes */
} http_result;

/* Ceiling of every response body, whatever the request (1 GiB). */
#define HTTP_MAX_RESPONSE_BYTES ((size_t) 1 << 30)

pgai_status http_conn_init(http_conn *c, const char *api_key, pgai_error *err);
void		http_conn_free(http_conn *c);

/*
 * POST req->body to req->url, response body into *resp (reset first).
 * PGAI_OK when a response arrived, whatever its status; PGAI_EHTTP or
 * PGAI_ETIMEOUT on transport failure (res->transient tells whether to
 * retry); PGAI_EPROVIDER (res->oversized, not transient) when the body,
 * as decoded (after Content-Encoding), would pass req->max_response_bytes:
 * the transfer stops there, so *resp never holds more (its allocation at
 * most twice that); PGAI_ECANCELED; PGAI_ENOMEM.
 */
pgai_status http_post(http_conn *c, const http_request *req, json_buf *resp,
					  http_result *res, pgai_error *err);

/* Sleep ms milliseconds, polling the hook every 50 ms; false if canceled. */
bool		pv_sleep(long ms, provider_cancel_fn fn, void *arg);

/* ---- client.c ---- */

/*
 * The size limit of a decoded reply to m inputs of dims dimensions: 1 MiB
 * + m * (4 KiB + 48 bytes a dimension), at most HTTP_MAX_RESPONSE_BYTES.
 */
size_t		pv_max_response_bytes(size_t m, int dims);

/* ---- wire.c ---- */

typedef struct wire_config
{
	provider_kind kind;
	const char *model;
	int			dimensions;
	bool		send_dimensions;
	const char *user;
	const char *input_type;
	const char *keep_alive;
	const char *options_json;
} wire_config;

/* Bytes of a request body besides the inputs (a safe over-estimate). */
size_t		wire_overhead(const wire_config *cfg);

/* Build the body for inputs idx[0..m) into *b (reset first). */
pgai_status wire_build(const wire_config *cfg, const char *const *texts,
					   const size_t *lens, const size_t *idx, size_t m,
					   json_buf *b, pgai_error *err);

/*
 * Parse a 2xx response for inputs idx[0..m): vector k of the response
 * goes to out + idx[k] * dimensions.  Checks count, indexes, dimensions
 * and finiteness.  PGAI_EJSON or PGAI_EPROVIDER on a bad response.
 */
pgai_status wire_parse(const wire_config *cfg, const char *body, size_t len,
					   const size_t *idx, size_t m, float *out, pgai_error *err);

#endif							/* PROVIDER_INTERNAL_H */
