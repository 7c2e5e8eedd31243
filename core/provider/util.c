/*
 * util.c -- pure helpers of the provider clients: base64 float decoding,
 * Retry-After parsing, jittered backoff, classification of provider
 * errors, extraction of a provider's error message and key redaction.
 *
 * No allocation except inside pv_error_message (a parsed document freed
 * before returning); no global state (the backoff generator's state
 * belongs to the client).
 */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "provider_internal.h"

/* 0..63 for base64 characters, 64 for '=', 255 for anything else. */
static const unsigned char b64_table[256] = {
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 62, 255, 255, 255, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 255, 255, 255, 64, 255, 255,
	255, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 255, 255, 255, 255, 255,
	255, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};

int
pv_base64_f32(const char *s, size_t n, float *out, size_t dims, size_t *got)
{
	const unsigned char *u = (const unsigned char *) s;
	unsigned char *o = (unsigned char *) out;
	size_t		pad = 0;
	size_t		chars;
	size_t		bytes;
	size_t		full;
	size_t		i,
				w = 0;

	/* strip up to two '=' */
	while (n > 0 && pad < 2 && s[n - 1] == '=')
	{
		n--;
		pad++;
	}
	chars = n;
	if (chars % 4 == 1 || (pad > 0 && (chars + pad) % 4 != 0))
		return 0;
	bytes = chars / 4 * 3 + (chars % 4 == 0 ? 0 : chars % 4 - 1);
	if (got)
		*got = bytes / 4;
	if (bytes != dims * 4)
	{
		/* still tell "not base64" apart from "wrong size" */
		for (i = 0; i < chars; i++)
			if (b64_table[u[i]] > 63)
				return 0;
		return -1;
	}
	full = chars / 4 * 4;
	for (i = 0; i < full; i += 4)
	{
		unsigned	a = b64_table[u[i]],
					b = b64_table[u[i + 1]],
					c = b64_table[u[i + 2]],
					d = b64_table[u[i + 3]];

		if ((a | b | c | d) > 63)
			return 0;
		o[w++] = (unsigned char) ((a << 2) | (b >> 4));
		o[w++] = (unsigned char) ((b << 4) | (c >> 2));
		o[w++] = (unsigned char) ((c << 6) | d);
	}
	if (chars - full >= 2)
	{
		unsigned	a = b64_table[u[full]],
					b = b64_table[u[full + 1]],
					c = chars - full == 3 ? b64_table[u[full + 2]] : 0;

		if ((a | b | c) > 63)
			return 0;
		o[w++] = (unsigned char) ((a << 2) | (b >> 4));
		if (chars - full == 3)
			o[w++] = (unsigned char) ((b << 4) | (c >> 2));
	}
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	for (i = 0; i < dims; i++)
	{
		uint32_t	v;

		memcpy(&v, o + 4 * i, 4);
		v = __builtin_bswap32(v);
		memcpy(o + 4 * i, &v, 4);
	}
#endif
	return 1;
}

long
pv_retry_after_ms(const char *value, time_t now)
{
	const char *p = value;
	size_t		n;
	char		tmp[64];
	time_t		t;

	while (*p == ' ' || *p == '\t')
		p++;
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
		n--;
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	if (isdigit((unsigned char) tmp[0]))
	{
		long		secs = 0;
		size_t		i;

		for (i = 0; i < n && isdigit((unsigned char) tmp[i]); i++)
			if (secs < 100000000)
				secs = secs * 10 + (tmp[i] - '0');
		/* tolerate "1.5" (not standard, but seen) by rounding up */
		if (i < n && tmp[i] == '.')
		{
			for (i++; i < n && isdigit((unsigned char) tmp[i]); i++)
				;
			if (i == n)
				return secs * 1000 + 1000;
		}
		if (i != n)
			return -1;
		return secs * 1000;
	}
	t = curl_getdate(tmp, NULL);
	if (t == (time_t) -1)
		return -1;
	if (t <= now)
		return 0;
	if (t - now > 100000000)
		return 100000000L * 1000;
	return (long) (t - now) * 1000;
}

long
pv_retry_after_ms_header(const char *value)
{
	const char *p = value;
	long		ms = 0;
	bool		any = false;

	while (*p == ' ' || *p == '\t')
		p++;
	while (isdigit((unsigned char) *p))
	{
		any = true;
		if (ms < 100000000000L / 10)
			ms = ms * 10 + (*p - '0');
		p++;
	}
	if (*p == '.')				/* fraction: round up */
	{
		p++;
		while (isdigit((unsigned char) *p))
			p++;
		ms++;
	}
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return any && *p == '\0' ? ms : -1;
}

uint64_t
pv_rand(uint64_t *state)
{
	uint64_t	x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(2685821657736338717);
}

long
pv_backoff_ms(int attempt, long base, long cap, uint64_t *rng)
{
	long		ceiling = base;

	if (base <= 0 || cap <= 0)
		return 0;
	for (int i = 0; i < attempt && ceiling < cap; i++)
		ceiling = ceiling > LONG_MAX / 2 ? LONG_MAX : ceiling * 2;
	if (ceiling > cap)
		ceiling = cap;
	return (long) (pv_rand(rng) % ((uint64_t) ceiling + 1));
}

bool
pv_status_retryable(long status)
{
	return status == 408 || status == 409 || status == 425 || status == 429 ||
		(status >= 500 && status <= 599);
}

/* Case-insensitive substring search. */
static bool
contains_ci(const char *hay, const char *needle)
{
	size_t		n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

bool
pv_is_too_long(long status, const char *message)
{
	/* wording of OpenAI, vLLM, llama.cpp, Ollama, Voyage and others */
	static const char *const phrases[] = {
		"maximum context length",	/* OpenAI (older), vLLM */
		"maximum input length", /* OpenAI */
		"context length",		/* Ollama "input length exceeds the context
								 * length", vLLM, TEI */
		"context window",		/* Voyage */
		"too many tokens",		/* Voyage, Mistral */
		"tokens per request",	/* OpenAI per-request budget */
		"tokens per submitted batch",	/* Voyage batch budget */
		"input is too large",	/* llama.cpp server */
		"input is too long",
		"too long",
		"reduce the length",
	};

	if (status != 400 && status != 413 && status != 422)
		return false;
	if (status == 413)
		return true;			/* Payload Too Large */
	for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
		if (contains_ci(message, phrases[i]))
			return true;
	return false;
}

static void
sanitize_copy(const char *s, size_t n, char *buf, size_t cap)
{
	size_t		w = 0;

	for (size_t i = 0; i < n && w + 1 < cap; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		if (c < 0x20 || c >= 0x7f)
			c = '?';
		if (c == ' ' && (w == 0 || buf[w - 1] == ' '))
			continue;
		buf[w++] = (char) c;
	}
	while (w > 0 && buf[w - 1] == ' ')
		w--;
	buf[w] = '\0';
}

void
pv_error_message(const char *body, size_t len, char *buf, size_t cap)
{
	json_doc   *doc;
	json_ref	root,
				e;

	if (cap == 0)
		return;
	buf[0] = '\0';
	if (len == 0)
		return;
	if (json_parse(body, len, &doc, NULL) != PGAI_OK)
	{
		sanitize_copy(body, len < 200 ? len : 200, buf, cap);
		return;
	}
	root = json_root(doc);
	e = json_get(doc, root, "error");
	if (json_type_of(doc, e) == JSON_OBJECT)
		e = json_get(doc, e, "message");
	if (json_type_of(doc, e) != JSON_STRING)
		e = json_get(doc, root, "detail");
	if (json_type_of(doc, e) == JSON_ARRAY && json_size(doc, e) > 0)
	{
		json_iter	it;
		json_ref	k,
					v;

		json_iter_init(&it, doc, e);
		json_iter_next(&it, &k, &v);
		e = json_get(doc, v, "msg");
	}
	if (json_type_of(doc, e) != JSON_STRING)
		e = json_get(doc, root, "message");
	if (json_type_of(doc, e) == JSON_STRING)
	{
		char		tmp[PGAI_ERROR_MESSAGE_SIZE];

		json_string_copy(doc, e, tmp, sizeof(tmp));
		/* keep UTF-8 but drop control characters */
		for (char *p = tmp; *p; p++)
			if ((unsigned char) *p < 0x20)
				*p = ' ';
		strncpy(buf, tmp, cap - 1);
		buf[cap - 1] = '\0';
	}
	json_doc_free(doc);
}

void
pv_redact(char *msg, size_t cap, const char *key)
{
	static const char mark[] = "[redacted]";
	size_t		klen;
	size_t		minrun;

	if (key == NULL || (klen = strlen(key)) == 0)
		return;
	minrun = klen < 8 ? klen : 8;
	for (size_t i = 0; msg[i] != '\0'; i++)
	{
		size_t		best = 0;

		for (size_t j = 0; j < klen; j++)
		{
			size_t		l = 0;

			while (msg[i + l] != '\0' && j + l < klen && msg[i + l] == key[j + l])
				l++;
			if (l > best)
				best = l;
		}
		if (best >= minrun)
		{
			size_t		mlen = strlen(msg);
			size_t		ml = sizeof(mark) - 1;
			size_t		tail = mlen - (i + best);

			/* msg[i..i+best) -> mark, truncating at cap */
			if (i + ml + tail + 1 > cap)
				tail = cap > i + ml + 1 ? cap - i - ml - 1 : 0;
			if (i + ml + 1 > cap)
			{
				msg[i] = '\0';
				return;
			}
			memmove(msg + i + ml, msg + i + best, tail);
			memcpy(msg + i, mark, ml);
			msg[i + ml + tail] = '\0';
			i += ml - 1;
		}
	}
}
