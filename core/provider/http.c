/*
 * http.c -- one JSON POST at a time over a reusable libcurl easy handle
 * driven by a private multi handle, so the caller's cancel hook can be
 * polled every 50 ms (the easy interface's progress callback may go a
 * second between calls when the peer is silent).
 *
 * Ownership: an http_conn belongs to one provider_client and so to one
 * thread at a time.  It owns the curl handles and the header list, which
 * holds the Authorization header; that list is wiped before it is freed.
 * The multi handle keeps the connection cache, so keep-alive connections
 * survive between requests.  Bodies are not copied: req->body must stay
 * valid during http_post.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "provider_internal.h"

#define POLL_MS 50

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	http_conn  *c = arg;
	size_t		n = size * nmemb;

	/*
	 * libcurl hands over the body already inflated (CURLOPT_ACCEPT_ENCODING),
	 * so this counts what the reply costs in memory, not what it cost on the
	 * wire: a gzip bomb stops here, before the buffer grows.
	 */
	if (n > c->max_body - c->sink->len)
	{
		c->oversized = true;
		return 0;				/* CURLE_WRITE_ERROR */
	}
	json_buf_append(c->sink, data, n);
	return c->sink->failed ? 0 : n;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	http_conn  *c = arg;
	size_t		n = size * nmemb;
	char		value[128];
	size_t		name_len;
	const char *colon;

	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0)
	{
		c->retry_after_ms = -1; /* a new response (after 100, redirects) */
		return n;
	}
	colon = memchr(data, ':', n);
	if (colon == NULL)
		return n;
	name_len = (size_t) (colon - data);
	if (n - name_len - 1 >= sizeof(value))
		return n;
	memcpy(value, colon + 1, n - name_len - 1);
	value[n - name_len - 1] = '\0';
	if (name_len == 11 && strncasecmp(data, "retry-after", 11) == 0)
	{
		long		ms = pv_retry_after_ms(value, time(NULL));

		/* retry-after-ms, when present, is more precise: keep it */
		if (ms >= 0 && c->retry_after_ms < 0)
			c->retry_after_ms = ms;
	}
	else if (name_len == 14 && strncasecmp(data, "retry-after-ms", 14) == 0)
	{
		long		ms = pv_retry_after_ms_header(value);

		if (ms >= 0)
			c->retry_after_ms = ms;
	}
	return n;
}

static void
wipe_headers(struct curl_slist *h)
{
	for (; h != NULL; h = h->next)
		if (h->data)
			explicit_bzero(h->data, strlen(h->data));
}

pgai_status
http_conn_init(http_conn *c, const char *api_key, pgai_error *err)
{
	struct curl_slist *h = NULL;
	struct curl_slist *t;

	memset(c, 0, sizeof(*c));
	c->retry_after_ms = -1;
	c->max_body = HTTP_MAX_RESPONSE_BYTES;
	c->easy = curl_easy_init();
	c->multi = curl_multi_init();
	if (c->easy == NULL || c->multi == NULL)
		goto oom;
	t = curl_slist_append(h, "Content-Type: application/json");
	if (t == NULL)
		goto oom;
	h = t;
	/* no "Expect: 100-continue" round trip for large bodies */
	if ((t = curl_slist_append(h, "Expect:")) == NULL)
		goto oom;
	if ((t = curl_slist_append(h, "Accept: application/json")) == NULL)
		goto oom;
	if (api_key != NULL && api_key[0] != '\0')
	{
		static const char prefix[] = "Authorization: Bearer ";
		size_t		klen = strlen(api_key);
		char	   *line = malloc(sizeof(prefix) + klen);

		if (line == NULL)
			goto oom;
		memcpy(line, prefix, sizeof(prefix) - 1);
		memcpy(line + sizeof(prefix) - 1, api_key, klen + 1);
		t = curl_slist_append(h, line);
		explicit_bzero(line, sizeof(prefix) + klen);
		free(line);
		if (t == NULL)
			goto oom;
	}
	c->headers = h;
	h = NULL;

	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, (struct curl_slist *) c->headers);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c->easy, CURLOPT_USERAGENT, "pgai-c/0.1");
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	return PGAI_OK;

oom:
	wipe_headers(h);
	curl_slist_free_all(h);
	http_conn_free(c);
	return pgai_error_set(err, PGAI_ENOMEM, "out of memory creating HTTP client");
}

void
http_conn_free(http_conn *c)
{
	if (c->easy)
		curl_easy_cleanup(c->easy);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	wipe_headers(c->headers);
	curl_slist_free_all(c->headers);
	c->easy = c->multi = c->headers = NULL;
}

static bool
curl_code_transient(CURLcode rc)
{
	switch (rc)
	{
		case CURLE_COULDNT_RESOLVE_PROXY:
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_CONNECT:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
			return true;
		default:
			return false;
	}
}

pgai_status
http_post(http_conn *c, const http_request *req, json_buf *resp,
		  http_result *res, pgai_error *err)
{
	CURL	   *easy = c->easy;
	CURLM	   *multi = c->multi;
	CURLMcode	mc;
	CURLcode	rc = CURLE_OK;
	int			running = 1;
	bool		canceled = false;
	CURLMsg    *msg;
	int			left;

	res->status = 0;
	res->retry_after_ms = -1;
	res->transient = false;
	res->oversized = false;
	json_buf_reset(resp);
	c->sink = resp;
	c->oversized = false;
	c->max_body = req->max_response_bytes > 0 && req->max_response_bytes < HTTP_MAX_RESPONSE_BYTES
		? req->max_response_bytes : HTTP_MAX_RESPONSE_BYTES;
	c->retry_after_ms = -1;
	c->errbuf[0] = '\0';

	curl_easy_setopt(easy, CURLOPT_URL, req->url);
	curl_easy_setopt(easy, CURLOPT_POST, 1L);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, req->timeout_ms);

	if (curl_multi_add_handle(multi, easy) != CURLM_OK)
		return pgai_error_set(err, PGAI_EHTTP, "could not start HTTP request");
	while (running)
	{
		mc = curl_multi_perform(multi, &running);
		if (mc != CURLM_OK)
			break;
		if (!running)
			break;
		if (req->should_cancel && req->should_cancel(req->cancel_arg))
		{
			canceled = true;
			break;
		}
		mc = curl_multi_poll(multi, NULL, 0, POLL_MS, NULL);
		if (mc != CURLM_OK)
			break;
	}
	rc = CURLE_OK;
	if (!canceled && mc == CURLM_OK)
	{
		rc = CURLE_GOT_NOTHING;
		while ((msg = curl_multi_info_read(multi, &left)) != NULL)
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy)
				rc = msg->data.result;
	}
	curl_multi_remove_handle(multi, easy);
	c->sink = NULL;

	if (canceled)
		return pgai_error_set(err, PGAI_ECANCELED, "HTTP request canceled");
	if (mc != CURLM_OK)
		return pgai_error_set(err, PGAI_EHTTP, "HTTP client failure: %s",
							  curl_multi_strerror(mc));
	if (resp->failed)
		return pgai_error_set(err, PGAI_ENOMEM, "out of memory reading HTTP response");
	if (rc != CURLE_OK)
	{
		const char *detail = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);

		res->transient = curl_code_transient(rc);
		if (rc == CURLE_WRITE_ERROR && c->oversized)
		{
			/* the same reply would come again: not worth a retry */
			res->transient = false;
			res->oversized = true;
			return pgai_error_set(err, PGAI_EPROVIDER, "response larger than %zu bytes",
								  c->max_body);
		}
		if (rc == CURLE_OPERATION_TIMEDOUT)
			return pgai_error_set(err, PGAI_ETIMEOUT, "HTTP request timed out: %s", detail);
		return pgai_error_set(err, PGAI_EHTTP, "HTTP request failed: %s", detail);
	}
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &res->status);
	res->retry_after_ms = c->retry_after_ms;
	return PGAI_OK;
}

bool
pv_sleep(long ms, provider_cancel_fn fn, void *arg)
{
	struct timespec start,
				now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;)
	{
		long		elapsed,
					step;
		struct timespec ts;

		if (fn && fn(arg))
			return false;
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (now.tv_sec - start.tv_sec) * 1000 +
			(now.tv_nsec - start.tv_nsec) / 1000000;
		if (elapsed >= ms)
			return true;
		step = ms - elapsed < POLL_MS ? ms - elapsed : POLL_MS;
		ts.tv_sec = step / 1000;
		ts.tv_nsec = (step % 1000) * 1000000L;
		/* a signal cuts the nap short: the hook is checked again at once */
		(void) nanosleep(&ts, NULL);
	}
}
