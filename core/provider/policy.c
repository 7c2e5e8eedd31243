/*
 * policy.c -- which URLs a client may call and which key names a caller
 * may ask for: the network and secrets policy shared by the extension and
 * the worker (see the README's "Security model").
 *
 * A URL is allowed when it matches one entry of an allow list: the same
 * scheme, the same host (case-insensitive), the same port (the scheme's
 * default when none is written) and a path that starts with the entry's
 * path at a segment boundary. Both sides are parsed by libcurl's own URL
 * parser, the one that will make the request, so tricks such as
 * "https://api.openai.com@evil.example/" or "https://api.openai.com.evil/"
 * are judged by what curl would connect to, not by their spelling.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "pgai_provider.h"

/* The parts of a URL that decide where a request goes. */
typedef struct url_parts
{
	char	   *scheme;
	char	   *host;
	char	   *port;
	char	   *path;
	bool		has_userinfo;
} url_parts;

static void
url_parts_free(url_parts *p)
{
	curl_free(p->scheme);
	curl_free(p->host);
	curl_free(p->port);
	curl_free(p->path);
	memset(p, 0, sizeof(*p));
}

/* Parses `url` (http or https only); false when it is not such a URL. */
static bool
url_parse(const char *url, url_parts *out)
{
	CURLU	   *h = curl_url();
	char	   *user = NULL;
	bool		ok = false;

	memset(out, 0, sizeof(*out));
	if (h == NULL)
		return false;
	if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto done;
	if (curl_url_get(h, CURLUPART_SCHEME, &out->scheme, 0) != CURLUE_OK ||
		curl_url_get(h, CURLUPART_HOST, &out->host, 0) != CURLUE_OK ||
		curl_url_get(h, CURLUPART_PORT, &out->port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
		curl_url_get(h, CURLUPART_PATH, &out->path, 0) != CURLUE_OK)
		goto done;
	out->has_userinfo = curl_url_get(h, CURLUPART_USER, &user, 0) == CURLUE_OK;
	curl_free(user);
	ok = strcmp(out->scheme, "http") == 0 || strcmp(out->scheme, "https") == 0;
done:
	curl_url_cleanup(h);
	if (!ok)
		url_parts_free(out);
	return ok;
}

static bool
host_equal(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char) *a) != tolower((unsigned char) *b))
			return false;
	return *a == *b;
}

/* Does path `p` lie under `prefix` ("/v1" covers "/v1" and "/v1/x")? */
static bool
path_under(const char *p, const char *prefix)
{
	size_t		n = strlen(prefix);

	while (n > 0 && prefix[n - 1] == '/')
		n--;
	if (strncmp(p, prefix, n) != 0)
		return false;
	return p[n] == '\0' || p[n] == '/';
}

static bool
url_matches(const url_parts *u, const char *entry)
{
	url_parts	e;
	bool		ok;

	if (!url_parse(entry, &e))
		return false;
	ok = strcmp(u->scheme, e.scheme) == 0 && host_equal(u->host, e.host) &&
		strcmp(u->port, e.port) == 0 && path_under(u->path, e.path);
	url_parts_free(&e);
	return ok;
}

bool
provider_url_allowed(const char *url, const char *const *allowed, size_t n_allowed)
{
	url_parts	u;
	bool		ok = false;

	if (url == NULL || !url_parse(url, &u))
		return false;
	/* credentials in a URL are never ours to send */
	if (!u.has_userinfo)
		for (size_t i = 0; i < n_allowed && !ok; i++)
			ok = allowed[i] != NULL && allowed[i][0] != '\0' && url_matches(&u, allowed[i]);
	url_parts_free(&u);
	return ok;
}

bool
provider_url_allowed_csv(const char *url, const char *allowed_csv)
{
	char	   *copy;
	char	   *save = NULL;
	bool		ok = false;

	if (url == NULL || allowed_csv == NULL)
		return false;
	copy = strdup(allowed_csv);
	if (copy == NULL)
		return false;
	for (char *tok = strtok_r(copy, ",", &save); tok != NULL && !ok;
		 tok = strtok_r(NULL, ",", &save))
	{
		const char *one[1];
		char	   *end;

		while (isspace((unsigned char) *tok))
			tok++;
		end = tok + strlen(tok);
		while (end > tok && isspace((unsigned char) end[-1]))
			*--end = '\0';
		one[0] = tok;
		ok = provider_url_allowed(url, one, 1);
	}
	free(copy);
	return ok;
}

bool
provider_key_name_allowed(const char *name)
{
	static const char suffix[] = "_API_KEY";
	size_t		n,
				s = sizeof(suffix) - 1;

	if (name == NULL)
		return false;
	n = strlen(name);
	if (n <= s || n > 64 || strcmp(name + n - s, suffix) != 0)
		return false;
	if (!isupper((unsigned char) name[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isupper((unsigned char) name[i]) || isdigit((unsigned char) name[i]) ||
			  name[i] == '_'))
			return false;
	return true;
}
