/*
 * catalog.c: reads the vectorizers from ai._vectorizer (the statements are
 * sql.c's) and has sql.c build, once per vectorizer, the SQL the worker
 * runs against its tables. The catalog holds OIDs: the names are the
 * tables' current ones, looked up at every load, so a renamed source or
 * store is served at the next pass.
 *
 * The catalog's jsonb is taken apart by the server (->>, casts), so the
 * worker needs no JSON parser for its configuration.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "db.h"
#include "sql.h"
#include "util.h"

static char *
get(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : xstrdup(PQgetvalue(res, row, col));
}

static vectorizer *
find(vectorizer *vs, int n, int id)
{
	for (int i = 0; i < n; i++)
		if (vs[i].id == id)
			return &vs[i];
	return NULL;
}

/* The chunk column first, then every other name the template uses. */
static void
set_inputs(vectorizer *v, const char *chunk_column)
{
	size_t		n = tmpl_name_count(v->template);

	v->inputs = xcalloc(n + 1, sizeof(char *));
	v->inputs[v->n_inputs++] = xstrdup(chunk_column);
	for (size_t i = 0; i < n; i++)
	{
		const char *name = tmpl_name(v->template, i);
		bool		seen = strcmp(name, "chunk") == 0;

		for (int j = 0; j < v->n_inputs && !seen; j++)
			seen = strcmp(v->inputs[j], name) == 0;
		if (!seen)
			v->inputs[v->n_inputs++] = xstrdup(name);
	}
}

/*
 * Reads the vectorizers `ids` names (all when n_ids is 0). Returns 0 and
 * sets *out and *n (free with vectorizers_free), or -1 with err set. A
 * vectorizer whose configuration cannot be used (a bad template, a table
 * gone) is marked disabled: the worker skips it, and with `loud` says why
 * in its log.
 */
static int
load(PGconn *conn, const int *ids_in, int n_ids, bool loud, vectorizer **out, int *n,
	 pgai_error *err)
{
	char	   *ids;
	const char *params[1];
	PGresult   *res;
	vectorizer *vs;
	int			count;

	ids = db_ids_literal(ids_in, n_ids);
	params[0] = ids;

	res = db_exec(conn, sql_load, 1, params, PGRES_TUPLES_OK, err);
	if (res == NULL)
	{
		free(ids);
		return -1;
	}
	count = PQntuples(res);
	vs = xcalloc((size_t) count, sizeof(vectorizer));
	for (int r = 0; r < count; r++)
	{
		vectorizer *v = &vs[r];
		char	   *chunk_impl,
				   *chunk_column,
				   *separator,
				   *template_src;

		v->id = atoi(PQgetvalue(res, r, LOAD_ID));
		v->disabled = PQgetvalue(res, r, LOAD_DISABLED)[0] == 't';
		v->source = get(res, r, LOAD_SOURCE);
		v->store = get(res, r, LOAD_STORE);
		v->queue = get(res, r, LOAD_QUEUE);
		v->lease = get(res, r, LOAD_LEASE);
		v->failed = get(res, r, LOAD_FAILED);
		v->source_name = get(res, r, LOAD_SOURCE_NAME);
		v->embedding_impl = get(res, r, LOAD_EMBEDDING_IMPL);
		v->model = get(res, r, LOAD_MODEL);
		v->dimensions = atoi(PQgetvalue(res, r, LOAD_DIMENSIONS));
		v->api_key_name = get(res, r, LOAD_API_KEY_NAME);
		v->base_url = get(res, r, LOAD_BASE_URL);
		v->chat_user = get(res, r, LOAD_CHAT_USER);
		v->input_type = get(res, r, LOAD_INPUT_TYPE);
		v->keep_alive = get(res, r, LOAD_KEEP_ALIVE);
		v->options_json = get(res, r, LOAD_OPTIONS_JSON);
		chunk_impl = get(res, r, LOAD_CHUNK_IMPL);
		chunk_column = get(res, r, LOAD_CHUNK_COLUMN);
		v->chunking.chunk_size = atoll(PQgetvalue(res, r, LOAD_CHUNK_SIZE));
		v->chunking.chunk_overlap = atoll(PQgetvalue(res, r, LOAD_CHUNK_OVERLAP));
		separator = get(res, r, LOAD_SEPARATOR);
		v->chunking.is_separator_regex = PQgetvalue(res, r, LOAD_IS_SEPARATOR_REGEX)[0] == 't';
		template_src = get(res, r, LOAD_TEMPLATE_SRC);
		v->index_impl = get(res, r, LOAD_INDEX_IMPL);
		v->min_rows = atoll(PQgetvalue(res, r, LOAD_MIN_ROWS));
		v->opclass = get(res, r, LOAD_OPCLASS);
		v->hnsw_m = atoi(PQgetvalue(res, r, LOAD_HNSW_M));
		v->hnsw_ef_construction = atoi(PQgetvalue(res, r, LOAD_HNSW_EF_CONSTRUCTION));
		v->index_when_queue_empty = PQgetvalue(res, r, LOAD_INDEX_WHEN_QUEUE_EMPTY)[0] == 't';
		v->diskann_with = get(res, r, LOAD_DISKANN_WITH);
		v->schedule_interval = atof(PQgetvalue(res, r, LOAD_SCHEDULE_INTERVAL));
		v->batch_size = atoi(PQgetvalue(res, r, LOAD_BATCH_SIZE));
		v->concurrency = atoi(PQgetvalue(res, r, LOAD_CONCURRENCY));

		v->recursive = chunk_impl && strcmp(chunk_impl, "recursive_character_text_splitter") == 0;
		if (!v->recursive && separator != NULL)
		{
			v->separators = xcalloc(1, sizeof(char *));
			v->separators[0] = separator;
			separator = NULL;
			v->chunking.n_separators = 1;
		}
		v->chunking.keep_separator = CHUNK_KEEP_DEFAULT;
		{
			pgai_error	terr;

			if (tmpl_parse(template_src ? template_src : "$chunk",
						   template_src ? strlen(template_src) : 6, &v->template, &terr) != PGAI_OK)
			{
				if (loud)
					log_line("vectorizer %d: invalid template: %s", v->id, terr.message);
				v->disabled = true;
			}
		}
		if (v->template != NULL && chunk_column != NULL)
			set_inputs(v, chunk_column);
		else
			v->disabled = true;
		free(chunk_impl);
		free(chunk_column);
		free(separator);
		free(template_src);
	}
	PQclear(res);

	res = db_exec(conn, sql_separators, 1, params, PGRES_TUPLES_OK, err);
	if (res == NULL)
		goto fail;
	for (int r = 0; r < PQntuples(res); r++)
	{
		vectorizer *v = find(vs, count, atoi(PQgetvalue(res, r, SEPARATORS_ID)));

		if (v == NULL || !v->recursive)
			continue;
		v->separators = xrealloc(v->separators, (v->chunking.n_separators + 1) * sizeof(char *));
		v->separators[v->chunking.n_separators++] = get(res, r, SEPARATORS_ELEM);
	}
	PQclear(res);

	res = db_exec(conn, sql_keys, 1, params, PGRES_TUPLES_OK, err);
	if (res == NULL)
		goto fail;
	for (int r = 0; r < PQntuples(res); r++)
	{
		vectorizer *v = find(vs, count, atoi(PQgetvalue(res, r, KEYS_ID)));
		pk_column  *col;

		if (v == NULL)
			continue;
		v->pk = xrealloc(v->pk, (size_t) (v->n_pk + 1) * sizeof(pk_column));
		col = &v->pk[v->n_pk++];
		col->name = get(res, r, KEYS_NAME);
		col->ident = db_ident(conn, col->name);
		col->type_sql = get(res, r, KEYS_TYPE_SQL);
		col->type_oid = (unsigned) strtoul(PQgetvalue(res, r, KEYS_TYPE_OID), NULL, 10);
	}
	PQclear(res);

	for (int i = 0; i < count; i++)
	{
		vectorizer *v = &vs[i];

		v->chunking.separators = (const char *const *) v->separators;
		if (v->store == NULL)
		{
			/* the store is gone: nothing can be written */
			if (loud)
				log_line("vectorizer %d: its store table is missing; skipping it", v->id);
			v->disabled = true;
			continue;
		}
		if (v->n_pk == 0 || v->source == NULL || v->queue == NULL || v->lease == NULL ||
			v->failed == NULL)
		{
			/*
			 * a source being dropped, or a queue the extension's owner
			 * dropped
			 */
			if (loud)
				log_line("vectorizer %d: its source or a queue table is missing; skipping it", v->id);
			v->disabled = true;
			continue;
		}
		if (v->template != NULL)
			sql_build(conn, v);
	}
	free(ids);
	*out = vs;
	*n = count;
	return 0;

fail:
	free(ids);
	vectorizers_free(vs, count);
	return -1;
}

int
vectorizers_load(PGconn *conn, const worker_options *opt, vectorizer **out, int *n,
				 pgai_error *err)
{
	return load(conn, opt->ids, opt->n_ids, true, out, n, err);
}

int
vectorizers_read(PGconn *conn, const int *ids, int n_ids, vectorizer **out, int *n,
				 pgai_error *err)
{
	return load(conn, ids, n_ids, false, out, n, err);
}

void
vectorizers_free(vectorizer *vs, int n)
{
	for (int i = 0; i < n; i++)
	{
		vectorizer *v = &vs[i];
		char	   *strings[] = {v->source, v->store, v->queue, v->lease, v->failed,
			v->source_name, v->embedding_impl, v->model, v->api_key_name, v->base_url,
			v->chat_user, v->input_type, v->keep_alive, v->options_json, v->index_impl,
			v->opclass, v->diskann_with, v->sql_claim, v->sql_lock_leases,
			v->sql_lock_source,
			v->sql_delete_queue, v->sql_delete_leases, v->sql_delete_failed,
		v->sql_retry_later, v->sql_move_failed, v->keys_unnest};

		for (size_t s = 0; s < sizeof(strings) / sizeof(strings[0]); s++)
			free(strings[s]);
		for (int k = 0; k < v->n_pk; k++)
		{
			free(v->pk[k].name);
			free(v->pk[k].ident);
			free(v->pk[k].type_sql);
		}
		free(v->pk);
		for (size_t s = 0; s < v->chunking.n_separators; s++)
			free(v->separators[s]);
		free(v->separators);
		for (int k = 0; k < v->n_inputs; k++)
			free(v->inputs[k]);
		free(v->inputs);
		tmpl_free(v->template);
	}
	free(vs);
}
