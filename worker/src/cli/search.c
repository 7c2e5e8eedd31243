/*
 * cli/search.c: pgai search: semantic search from the shell, the query embedded
 * by the database with the vectorizer's own model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../db.h"
#include "../sql.h"
#include "../embedder.h"
#include "../util.h"
#include "cli.h"
#include "grid.h"

/* ---------------------------------------------------------------------- */
/*
 * The startup option that sets ai.<key name> (lower case) to the key from
 * this environment, the setting ai.openai_embed and ai.voyageai_embed read:
 * so the key never travels as a statement parameter a server might log.
 * NULL when the environment has no key, or when the vectorizer names a
 * variable the worker's policy refuses (another secret such as
 * AWS_SECRET_ACCESS_KEY must not leave this machine). Spaces and
 * backslashes are escaped as libpq's options syntax wants.
 */
static char *
key_option(const char *key_name)
{
	const char *key = key_name && worker_key_name_allowed(key_name) ? getenv(key_name) : NULL;
	size_t		n;
	char	   *out,
			   *p;

	if (key == NULL || key[0] == '\0')
		return NULL;
	n = strlen("-c ai.") + 2 * strlen(key_name) + 1 + 2 * strlen(key) + 1;
	out = p = xcalloc(n, 1);
	p += sprintf(p, "-c ai.");
	for (const char *k = key_name; *k; k++)
		*p++ = (char) ((*k >= 'A' && *k <= 'Z') ? *k - 'A' + 'a' : *k);
	*p++ = '=';
	for (const char *k = key; *k; k++)
	{
		if (*k == ' ' || *k == '\\')
			*p++ = '\\';
		*p++ = *k;
	}
	return out;
}

/* pgai search */

static const cmd_spec search_spec = {
	"search", true, true, true, 5,
	"usage: pgai search -i ID [-d URL] [-n N] [--json] QUERY TEXT...\n"
	"\n"
	"Embeds the query text in the database with the vectorizer's own embedding\n"
	"model (ai.sentence_transformers_embed, ai.openai_embed, ai.ollama_embed or\n"
	"ai.voyageai_embed) and prints the nearest chunks of its store by cosine\n"
	"distance: distance, the source row's primary key, the chunk.\n"
	"\n"
	"  -i, --vectorizer-id ID  the vectorizer to search (required)\n"
	"  -d, --db-url URL        libpq connection string or URI (default: PG* variables)\n"
	"  -n, --limit N           at most N chunks (default 5)\n"
	"      --json              a JSON array of objects\n"
	"  -h, --help              show this help\n"
	"\n"
	"The words of the query are joined by spaces. The API key named by the\n"
	"vectorizer's api_key_name is read from this environment when set (else the\n"
	"server's settings apply), as are OPENAI_BASE_URL and OLLAMA_HOST; only a\n"
	"name ending in _API_KEY, or listed in PGAI_API_KEY_NAMES when that is set.\n"
	"Not on a terminal: one tab-separated line per chunk, no header, columns:\n"
	"distance, key, chunk; \\t \\n \\\\ escaped. A key of several columns is a row\n"
	"literal such as (1,en).\n"
	"Exit status: 0 done (also with no results), 1 the vectorizer does not\n"
	"exist or embedding/searching failed, 2 bad usage, 3 cannot connect.\n",
	false, false
};

enum
{
	SE_DISTANCE, SE_KEY, SE_CHUNK, SE_NCOLS
};

static const grid_column search_columns[SE_NCOLS] = {
	{"distance", COL_NUMBER, false},
	{"key", COL_TEXT, false},
	{"chunk", COL_TEXT, true},
};



/* A value from the client's environment, or NULL. */
static const char *
env_or_null(const char *name)
{
	const char *v = name ? getenv(name) : NULL;

	return v && v[0] ? v : NULL;
}

/*
 * Embeds the query text on the server; returns the vector's text (malloc'd)
 * or NULL with the error printed. `info` is row 0 of sql_search_info.
 */
static char *
embed_query(PGconn *conn, PGresult *info, const char *query)
{
	const char *impl = PQgetvalue(info, 0, SI_IMPL);
	const char *model = PQgetvalue(info, 0, SI_MODEL);
	const char *dims = PQgetisnull(info, 0, SI_DIMS) ? NULL : PQgetvalue(info, 0, SI_DIMS);
	const char *key_name = PQgetisnull(info, 0, SI_KEY_NAME) ? NULL : PQgetvalue(info, 0, SI_KEY_NAME);
	const char *base_url = PQgetisnull(info, 0, SI_BASE_URL) ? NULL : PQgetvalue(info, 0, SI_BASE_URL);
	const char *keep_alive = PQgetisnull(info, 0, SI_KEEP_ALIVE) ? NULL : PQgetvalue(info, 0, SI_KEEP_ALIVE);
	const char *options = PQgetisnull(info, 0, SI_OPTIONS) ? NULL : PQgetvalue(info, 0, SI_OPTIONS);
	const char *params[6] = {query, model, NULL, NULL, NULL, NULL};
	int			n = 2;
	const char *sql;
	pgai_error	err;
	PGresult   *res;
	char	   *vec;

	if (strcmp(impl, "sentence_transformers") == 0)
		sql = sql_embed_sentence_transformers;
	else if (strcmp(impl, "openai") == 0)
	{
		sql = sql_embed_openai;
		params[2] = NULL;		/* the key came as a startup option */
		params[3] = key_name;
		params[4] = dims;
		params[5] = base_url ? base_url : env_or_null("OPENAI_BASE_URL");
		n = 6;
	}
	else if (strcmp(impl, "ollama") == 0)
	{
		sql = sql_embed_ollama;
		params[2] = base_url ? base_url : env_or_null("OLLAMA_HOST");
		params[3] = keep_alive;
		params[4] = options;
		params[5] = dims;
		n = 6;
	}
	else if (strcmp(impl, "voyageai") == 0)
	{
		sql = sql_embed_voyageai;
		params[2] = NULL;		/* the key came as a startup option */
		params[3] = key_name;
		params[4] = dims;
		n = 5;
	}
	else
	{
		fprintf(stderr, "pgai: cannot search: unknown embedding implementation \"%s\"\n", impl);
		return NULL;
	}
	res = db_exec(conn, sql, n, params, PGRES_TUPLES_OK, &err);
	if (res == NULL)
	{
		fprintf(stderr, "pgai: cannot embed the query: %s\n", err.message);
		return NULL;
	}
	vec = PQgetisnull(res, 0, 0) ? NULL : xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (vec == NULL)
		fputs("pgai: cannot embed the query: the model returned no vector\n", stderr);
	return vec;
}

static int
search_body(PGconn **connp, const worker_options *o, const char *ids)
{
	PGconn	   *conn = *connp;
	char		id[16];
	char		limit[24];
	const char *params[2];
	char	   *query;
	size_t		len = 1;
	pgai_error	err;
	PGresult   *info;
	int			rc;

	(void) ids;
	for (int i = 0; i < o->n_args; i++)
		len += strlen(o->args[i]) + 1;
	query = xcalloc(len, 1);
	for (int i = 0; i < o->n_args; i++)
	{
		if (i > 0)
			strcat(query, " ");
		strcat(query, o->args[i]);
	}
	snprintf(id, sizeof(id), "%d", o->ids[0]);
	snprintf(limit, sizeof(limit), "%ld", o->limit);
	params[0] = id;
	info = db_exec(conn, sql_search_info, 1, params, PGRES_TUPLES_OK, &err);
	if (info == NULL)
	{
		fprintf(stderr, "pgai: %s\n", err.message);
		rc = EXIT_FAILED;
	}
	else if (PQntuples(info) == 0)
	{
		fprintf(stderr, "pgai: vectorizer %s does not exist\n", id);
		rc = EXIT_FAILED;
	}
	else
	{
		const char *impl = PQgetvalue(info, 0, SI_IMPL);
		const char *key_name = PQgetisnull(info, 0, SI_KEY_NAME) ?
		(strcmp(impl, "voyageai") == 0 ? "VOYAGE_API_KEY" : "OPENAI_API_KEY") :
		PQgetvalue(info, 0, SI_KEY_NAME);
		char	   *opt = (strcmp(impl, "openai") == 0 || strcmp(impl, "voyageai") == 0) ?
		key_option(key_name) : NULL;
		char	   *vec = NULL;

		/* a key from this environment: reconnect with it as a startup option */
		if (opt != NULL)
		{
			PQfinish(conn);
			conn = connect_with(o->db_url, opt);
			free(opt);
		}
		if (conn != NULL)
			vec = embed_query(conn, info, query);

		rc = EXIT_FAILED;
		if (vec != NULL)
		{
			/*
			 * The store's name, the key expression and pgvector's schema were
			 * quoted by the server (format('%I'), quote_ident).
			 */
			const char *vs = PQgetvalue(info, 0, SI_VECTOR_SCHEMA);
			char	   *sql = sql_search(vs, PQgetvalue(info, 0, SI_KEY_EXPR),
										 PQgetvalue(info, 0, SI_STORE));
			PGresult   *res;

			params[0] = vec;
			params[1] = limit;
			res = db_exec(conn, sql, 2, params, PGRES_TUPLES_OK, &err);
			if (res == NULL)
				fprintf(stderr, "pgai: cannot search: %s\n", err.message);
			else
			{
				grid		g;

				grid_init(&g, search_columns, SE_NCOLS);
				grid_add_result(&g, res);
				grid_show(&g, o->json, "no results (is the store empty?)");
				grid_free(&g);
				PQclear(res);
				rc = 0;
			}
			free(sql);
			free(vec);
		}
	}
	PQclear(info);
	free(query);
	*connp = conn;
	return rc;
}

static int
search_check(const worker_options *o)
{
	if (o->n_ids == 1 && o->n_args > 0)
		return -1;
	fputs(o->n_ids != 1 ? "pgai search: name one vectorizer with -i ID\n"
		  : "pgai search: the query text is missing\n", stderr);
	return EXIT_USAGE;
}

int
cmd_search(int argc, char **argv)
{
	return cli_run(&search_spec, argc, argv, search_check, search_body);
}
