/*
 * embed_http_cli.c -- embed texts through a provider client, for tests
 * and benchmarks.
 *
 *   embed_http_cli --provider openai|ollama|voyageai --model M --dimensions N
 *                  [options] < texts
 *
 * Input: one text per line (the '\n' is removed; the last line may lack
 * it), or with -0 texts each terminated by a NUL byte.  Output: one line per input, a JSON array of its floats (%.9g,
 * exact for float32), or "error: <STATUS>: <message>" when that row
 * failed.  A failed call prints "embed_http_cli: <STATUS>: <message>" to
 * stderr and exits 1; bad usage exits 2.
 *
 * The key comes from the environment variable named by --api-key-env
 * (default OPENAI_API_KEY for openai, VOYAGE_API_KEY for voyageai, none
 * for ollama), never from the command line.  Without --base-url, openai
 * uses $OPENAI_BASE_URL and ollama $OLLAMA_HOST when set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pgai_provider.h"

static void
usage(void)
{
	fprintf(stderr,
			"usage: embed_http_cli --provider openai|ollama|voyageai --model M --dimensions N\n"
			"  [--base-url URL] [--api-key-env NAME] [--send-dimensions] [--user U]\n"
			"  [--input-type document|query] [--keep-alive K] [--options JSON]\n"
			"  [--connect-timeout-ms N] [--timeout-ms N]\n"
			"  [--max-retries N] [--retry-base-ms N] [--retry-max-ms N]\n"
			"  [--retry-after-max-ms N] [--max-inputs N] [--max-bytes N]\n"
			"  [--cancel-after-ms N] [--no-row-errors] [--repeat N] [--quiet]\n"
			"  [--stats] [-0] < texts\n");
	exit(2);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static bool
cancel_after(void *arg)
{
	return now_ms() >= *(double *) arg;
}

/* Read all of stdin, split on `sep`. */
static size_t
read_texts(char sep, char **buf_out, char ***texts_out, size_t **lens_out)
{
	size_t		cap = 1 << 16,
				len = 0,
				n = 0,
				r;
	char	   *buf = malloc(cap);
	char	  **texts;
	size_t	   *lens;
	size_t		start = 0;

	if (buf == NULL)
		exit(1);
	while ((r = fread(buf + len, 1, cap - len, stdin)) > 0)
	{
		len += r;
		if (len == cap)
		{
			cap *= 2;
			if ((buf = realloc(buf, cap)) == NULL)
				exit(1);
		}
	}
	for (size_t i = 0; i < len; i++)
		n += buf[i] == sep;
	if (len > 0 && buf[len - 1] != sep)
		n++;
	texts = malloc((n + 1) * sizeof(char *));
	lens = malloc((n + 1) * sizeof(size_t));
	if (texts == NULL || lens == NULL)
		exit(1);
	n = 0;
	for (size_t i = 0; i <= len; i++)
	{
		if (i == len ? i > start : buf[i] == sep)
		{
			texts[n] = buf + start;
			lens[n] = i - start;
			n++;
			start = i + 1;
		}
		else if (i == len)
			break;
	}
	*buf_out = buf;
	*texts_out = texts;
	*lens_out = lens;
	return n;
}

int
main(int argc, char **argv)
{
	provider_options o;
	provider_kind kind = PROVIDER_OPENAI;
	const char *kind_name = NULL;
	const char *key_env = NULL;
	const char *base_url = NULL;
	char	   *ollama_url = NULL;
	char		sep = '\n';
	bool		row_errs = true,
				quiet = false,
				stats = false;
	long		cancel_ms = -1;
	int			repeat = 1;
	provider_options tmp;
	provider_client *client;
	pgai_error	err;
	char	   *buf;
	char	  **texts;
	size_t	   *lens;
	size_t		n;
	float	   *out;
	pgai_error *rows;
	double		deadline,
				t0;
	int			rc = 0;

	/* first pass for the kind, whose defaults the other flags override */
	for (int i = 1; i < argc - 1; i++)
		if (strcmp(argv[i], "--provider") == 0)
			kind_name = argv[i + 1];
	if (kind_name == NULL || !provider_kind_parse(kind_name, &kind))
		usage();
	provider_options_init(&o, kind);
	for (int i = 1; i < argc; i++)
	{
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

#define ARG(name) (strcmp(a, name) == 0 && (v != NULL || (usage(), 0)) && ++i)
		if (ARG("--provider"))
			;
		else if (ARG("--model"))
			o.model = v;
		else if (ARG("--dimensions"))
			o.dimensions = atoi(v);
		else if (ARG("--base-url"))
			base_url = v;
		else if (ARG("--api-key-env"))
			key_env = v;
		else if (strcmp(a, "--send-dimensions") == 0)
			o.send_dimensions = true;
		else if (ARG("--user"))
			o.user = v;
		else if (ARG("--input-type"))
			o.input_type = v;
		else if (ARG("--keep-alive"))
			o.keep_alive = v;
		else if (ARG("--options"))
			o.options_json = v;
		else if (ARG("--connect-timeout-ms"))
			o.connect_timeout_ms = atol(v);
		else if (ARG("--timeout-ms"))
			o.request_timeout_ms = atol(v);
		else if (ARG("--max-retries"))
			o.max_retries = atoi(v);
		else if (ARG("--retry-base-ms"))
			o.retry_base_ms = atol(v);
		else if (ARG("--retry-max-ms"))
			o.retry_max_ms = atol(v);
		else if (ARG("--retry-after-max-ms"))
			o.retry_after_max_ms = atol(v);
		else if (ARG("--max-inputs"))
			o.max_inputs = (size_t) atol(v);
		else if (ARG("--max-bytes"))
			o.max_request_bytes = (size_t) atol(v);
		else if (ARG("--cancel-after-ms"))
			cancel_ms = atol(v);
		else if (ARG("--repeat"))
			repeat = atoi(v);
		else if (strcmp(a, "--no-row-errors") == 0)
			row_errs = false;
		else if (strcmp(a, "--quiet") == 0)
			quiet = true;
		else if (strcmp(a, "--stats") == 0)
			stats = true;
		else if (strcmp(a, "-0") == 0)
			sep = '\0';
		else
			usage();
#undef ARG
	}
	if (key_env == NULL)
		key_env = kind == PROVIDER_OPENAI ? "OPENAI_API_KEY"
			: kind == PROVIDER_VOYAGE ? "VOYAGE_API_KEY" : NULL;
	o.api_key = key_env ? getenv(key_env) : NULL;
	if (base_url == NULL && kind == PROVIDER_OPENAI)
		base_url = getenv("OPENAI_BASE_URL");
	if (base_url == NULL && kind == PROVIDER_OLLAMA && getenv("OLLAMA_HOST"))
	{
		const char *h = getenv("OLLAMA_HOST");

		if (strstr(h, "://") == NULL)
		{
			ollama_url = malloc(strlen(h) + 8);
			if (ollama_url == NULL)
				return 1;
			sprintf(ollama_url, "http://%s", h);
			h = ollama_url;
		}
		base_url = h;
	}
	o.base_url = base_url;
	t0 = now_ms();
	deadline = t0 + (double) cancel_ms;
	if (cancel_ms >= 0)
	{
		o.should_cancel = cancel_after;
		o.cancel_arg = &deadline;
	}

	if (provider_global_init(&err) != PGAI_OK)
	{
		fprintf(stderr, "embed_http_cli: %s: %s\n", pgai_status_name(err.code), err.message);
		return 1;
	}
	tmp = o;
	if (provider_client_new(&tmp, &client, &err) != PGAI_OK)
	{
		fprintf(stderr, "embed_http_cli: %s: %s\n", pgai_status_name(err.code), err.message);
		free(ollama_url);
		return 1;
	}
	n = read_texts(sep, &buf, &texts, &lens);
	out = malloc((n ? n : 1) * (size_t) o.dimensions * sizeof(float));
	rows = calloc(n ? n : 1, sizeof(pgai_error));
	if (out == NULL || rows == NULL)
		return 1;
	for (int r = 0; r < repeat && rc == 0; r++)
		if (provider_client_embed(client, (const char *const *) texts, lens, n, out,
								  row_errs ? rows : NULL, &err) != PGAI_OK)
		{
			fprintf(stderr, "embed_http_cli: %s: %s\n", pgai_status_name(err.code), err.message);
			rc = 1;
		}
	if (rc == 0 && !quiet)
	{
		for (size_t i = 0; i < n; i++)
		{
			if (row_errs && rows[i].code != PGAI_OK)
			{
				printf("error: %s: %s\n", pgai_status_name(rows[i].code), rows[i].message);
				continue;
			}
			putchar('[');
			for (int d = 0; d < o.dimensions; d++)
				printf(d ? ",%.9g" : "%.9g", (double) out[i * (size_t) o.dimensions + (size_t) d]);
			fputs("]\n", stdout);
		}
	}
	if (stats)
	{
		provider_stats s;

		provider_client_stats(client, &s);
		fprintf(stderr, "stats requests=%llu retries=%llu splits=%llu bytes_sent=%llu bytes_received=%llu elapsed_ms=%.1f\n",
				(unsigned long long) s.requests, (unsigned long long) s.retries,
				(unsigned long long) s.splits, (unsigned long long) s.bytes_sent,
				(unsigned long long) s.bytes_received, now_ms() - t0);
	}
	provider_client_free(client);
	free(out);
	free(rows);
	free(texts);
	free(lens);
	free(buf);
	free(ollama_url);
	return rc;
}
