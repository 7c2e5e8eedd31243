/*
 * vectorizer.c: reads the vectorizers from ai._vectorizer and builds, once
 * per vectorizer, the SQL the worker runs against its tables. The catalog
 * holds OIDs: the names in that SQL are the tables' current ones, looked up
 * at every load, so a renamed source or store is served at the next pass.
 *
 * The catalog's jsonb is taken apart by the server (->>, casts), so the
 * worker needs no JSON parser for its configuration. Every identifier in
 * generated SQL is quoted (format('%I') on the server, PQescapeIdentifier
 * here); every value is a parameter.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker.h"

/* A growing string. */
typedef struct sbuf
{
	char	   *s;
	size_t		len,
				cap;
} sbuf;

static void
sb_add(sbuf *b, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void
sb_add(sbuf *b, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (b->len + (size_t) n + 1 > b->cap)
	{
		b->cap = (b->len + (size_t) n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

/* "p.a, p.b" */
static char *
key_list(const vectorizer *v, const char *prefix)
{
	sbuf		b = {0};

	for (int i = 0; i < v->n_pk; i++)
		sb_add(&b, "%s%s%s", i ? ", " : "", prefix, v->pk[i].ident);
	return b.s;
}

/* "l.a = r.a AND ...", the right side cast from text when `cast` */
static char *
key_join(const vectorizer *v, const char *l, const char *r, bool cast)
{
	sbuf		b = {0};

	for (int i = 0; i < v->n_pk; i++)
	{
		if (cast)
			sb_add(&b, "%s%s.%s = %s.%s::%s", i ? " AND " : "", l, v->pk[i].ident,
				   r, v->pk[i].ident, v->pk[i].type_sql);
		else
			sb_add(&b, "%s%s.%s = %s.%s", i ? " AND " : "", l, v->pk[i].ident,
				   r, v->pk[i].ident);
	}
	return b.s;
}

/* ROW(s.a, s.b): the inputs whose hash tells whether content changed */
static char *
inputs_row(PGconn *conn, const vectorizer *v)
{
	sbuf		b = {0};

	sb_add(&b, "pg_catalog.md5(ROW(");
	for (int i = 0; i < v->n_inputs; i++)
	{
		char	   *q = db_ident(conn, v->inputs[i]);

		sb_add(&b, "%ss.%s", i ? ", " : "", q);
		free(q);
	}
	sb_add(&b, ")::text)");
	return b.s;
}

static void
build_sql(PGconn *conn, vectorizer *v)
{
	char	   *k = key_list(v, "");
	char	   *kq = key_list(v, "q.");
	char	   *kl = key_list(v, "l.");
	char	   *kc = key_list(v, "c.");
	char	   *hash = inputs_row(conn, v);
	char	   *j_lq = key_join(v, "l", "q", false);
	char	   *j_sc = key_join(v, "s", "c", false);
	sbuf		b = {0};
	int			p = v->n_pk;	/* parameters after the key arrays start at p+1 */

	/* unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(a, b, ord) */
	sb_add(&b, "unnest(");
	for (int i = 0; i < v->n_pk; i++)
		sb_add(&b, "%s$%d::text[]", i ? ", " : "", i + 1);
	sb_add(&b, ") WITH ORDINALITY AS k(%s, ord)", k);
	v->keys_unnest = b.s;
	memset(&b, 0, sizeof(b));

	/*
	 * claim: one short statement; see docs/design.md "Queues". It never
	 * waits on a lock a write transaction holds: queue rows and existing
	 * lease rows are taken with SKIP LOCKED, new lease rows with ON
	 * CONFLICT DO NOTHING. (A DO UPDATE would wait for a writer holding the
	 * lease while that writer waits for the queue rows this claim locked.)
	 */
	{
		char	   *j_lk = key_join(v, "l2", "k", false);
		char	   *j_lk2 = key_join(v, "l3", "k", false);
		/* a lease is live until it expires or its holder's backend is gone */
		char	   *live = xasprintf("COALESCE(l.lease_until > now() AND EXISTS (SELECT 1 FROM "
									 "pg_catalog.pg_stat_get_activity(l.lease_pid)), false)");

		sb_add(&b,
			   "WITH cand AS ("
			   " SELECT %s FROM %s q WHERE NOT EXISTS (SELECT 1 FROM %s l WHERE %s AND"
			   " (%s OR l.retry_after > now()))"
			   " LIMIT $1 FOR UPDATE OF q SKIP LOCKED),"
			   " keys AS (SELECT DISTINCT %s FROM cand),"
			   " relet AS (UPDATE %s l SET lease_token = $2::uuid,"
			   " lease_until = now() + pg_catalog.make_interval(secs => $3::float8),"
			   " lease_pid = pg_catalog.pg_backend_pid(), attempts = l.attempts + 1"
			   " FROM (SELECT l2.ctid AS row_id FROM %s l2 JOIN keys k ON %s"
			   " FOR UPDATE OF l2 SKIP LOCKED) x"
			   " WHERE l.ctid = x.row_id AND NOT %s"
			   " AND (l.retry_after IS NULL OR l.retry_after <= now())"
			   " RETURNING %s, l.attempts),"
			   " fresh AS (INSERT INTO %s AS l (%s, lease_token, lease_until, lease_pid, attempts)"
			   " SELECT %s, $2::uuid, now() + pg_catalog.make_interval(secs => $3::float8),"
			   " pg_catalog.pg_backend_pid(), 1 FROM keys k"
			   " WHERE NOT EXISTS (SELECT 1 FROM %s l3 WHERE %s)"
			   " ON CONFLICT DO NOTHING RETURNING %s, l.attempts),"
			   " claimed AS (SELECT * FROM relet UNION ALL SELECT * FROM fresh)"
			   " SELECT ",
			   kq, v->queue, v->lease, j_lq, live, k,
			   v->lease, v->lease, j_lk, live, kl,
			   v->lease, k, k, v->lease, j_lk2, kl);
		free(j_lk);
		free(j_lk2);
		free(live);
	}
	for (int i = 0; i < v->n_pk; i++)
		sb_add(&b, "c.%s::text, ", v->pk[i].ident);
	sb_add(&b, "c.attempts, s.%s IS NULL, %s", v->pk[0].ident, hash);
	for (int i = 0; i < v->n_inputs; i++)
	{
		char	   *q = db_ident(conn, v->inputs[i]);

		sb_add(&b, ", s.%s::text", q);
		free(q);
	}
	sb_add(&b, " FROM claimed c LEFT JOIN %s s ON %s", v->source, j_sc);
	v->sql_claim = b.s;
	memset(&b, 0, sizeof(b));

	{
		char	   *j_lk = key_join(v, "l", "k", true);
		char	   *j_sk = key_join(v, "s", "k", true);
		char	   *j_qk = key_join(v, "q", "k", true);
		char	   *j_fk = key_join(v, "f", "k", true);

		v->sql_lock_leases = xasprintf("SELECT k.ord FROM %s JOIN %s l ON %s "
									   "WHERE l.lease_token = $%d::uuid FOR UPDATE OF l",
									   v->keys_unnest, v->lease, j_lk, p + 1);
		v->sql_lock_source = xasprintf("SELECT k.ord, %s FROM %s JOIN %s s ON %s FOR SHARE OF s",
									   hash, v->keys_unnest, v->source, j_sk);
		v->sql_delete_queue = xasprintf("DELETE FROM %s q USING %s WHERE %s",
										v->queue, v->keys_unnest, j_qk);
		v->sql_delete_failed = xasprintf("DELETE FROM %s f USING %s WHERE %s",
										 v->failed, v->keys_unnest, j_fk);
		v->sql_delete_leases = xasprintf("DELETE FROM %s l USING %s WHERE %s "
										 "AND l.lease_token = $%d::uuid",
										 v->lease, v->keys_unnest, j_lk, p + 1);
		/* backoff doubles from the base with each attempt, up to an hour */
		v->sql_retry_later = xasprintf("UPDATE %s l SET lease_token = NULL, lease_until = NULL, "
									   "lease_pid = NULL, last_error = $%d, retry_after = now() + "
									   "pg_catalog.make_interval(secs => LEAST($%d::float8 * "
									   "pg_catalog.power(2, LEAST(l.attempts - 1, 20)), 3600)) "
									   "FROM %s WHERE %s AND l.lease_token = $%d::uuid",
									   v->lease, p + 2, p + 3, v->keys_unnest, j_lk, p + 1);
		v->sql_move_failed = xasprintf("WITH moved AS (DELETE FROM %s l USING %s WHERE %s "
									   "AND l.lease_token = $%d::uuid RETURNING %s, l.attempts) "
									   "INSERT INTO %s AS f (%s, attempts, last_error) "
									   "SELECT %s, attempts, $%d FROM moved ON CONFLICT (%s) DO UPDATE "
									   "SET attempts = excluded.attempts, failed_at = now(), "
									   "last_error = excluded.last_error",
									   v->lease, v->keys_unnest, j_lk, p + 1, kl,
									   v->failed, k, k, p + 2, k);
		free(j_lk);
		free(j_sk);
		free(j_qk);
		free(j_fk);
	}
	free(k);
	free(kq);
	free(kl);
	free(kc);
	free(hash);
	free(j_lq);
	free(j_sc);
}

static char *
get(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : xstrdup(PQgetvalue(res, row, col));
}

static const char *const load_sql =
"SELECT v.id, v.disabled,"
/* the tables' current names, from the catalog's OIDs; NULL once gone */
" ai._vectorizer_relname(v.source),"
" ai._vectorizer_relname(v.target),"
" ai._vectorizer_relname(v.queue),"
" ai._vectorizer_relname(v.queue_lease),"
" ai._vectorizer_relname(v.queue_failed),"
" ai._vectorizer_relname(v.source),"
" e->>'implementation', e->>'model', (e->>'dimensions')::int, e->>'api_key_name',"
" e->>'base_url', e->>'chat_user', e->>'input_type', e->>'keep_alive', (e->'options')::text,"
" c->>'implementation', c->>'chunk_column', (c->>'chunk_size')::bigint,"
" (c->>'chunk_overlap')::bigint, c->>'separator', (c->>'is_separator_regex')::bool,"
" f->>'template',"
" i->>'implementation', coalesce((i->>'min_rows')::bigint, 0),"
/* the operator class of pgvector's schema: our search_path holds only pg_catalog */
" (SELECT pg_catalog.format('%I.%I', n.nspname, i->>'opclass') FROM pg_catalog.pg_extension x"
"   JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace WHERE x.extname = 'vector' AND i ? 'opclass'),"
" coalesce((i->>'m')::int, 0), coalesce((i->>'ef_construction')::int, 0),"
" coalesce((i->>'create_when_queue_empty')::bool, true),"
" coalesce((SELECT pg_catalog.string_agg(pg_catalog.format('%s = %L', d.key, d.value), ', ')"
"   FROM pg_catalog.jsonb_each_text(i - 'implementation' - 'config_type' - 'min_rows'"
"   - 'create_when_queue_empty') d), ''),"
" coalesce(extract(epoch FROM (s->>'schedule_interval')::interval), 0)::float8,"
" coalesce((p->>'batch_size')::int, 0), coalesce((p->>'concurrency')::int, 0)"
" FROM ai._vectorizer v,"
" LATERAL (SELECT v.config->'embedding', v.config->'chunking', v.config->'formatting',"
"  v.config->'indexing', v.config->'scheduling', v.config->'processing') x(e, c, f, i, s, p)"
" WHERE $1::int[] IS NULL OR v.id = ANY ($1::int[])"
" ORDER BY v.id";

static const char *const separators_sql =
"SELECT v.id, t.elem FROM ai._vectorizer v,"
" pg_catalog.jsonb_array_elements_text(v.config->'chunking'->'separators') WITH ORDINALITY t(elem, n)"
" WHERE $1::int[] IS NULL OR v.id = ANY ($1::int[]) ORDER BY v.id, t.n";

/*
 * Key types come from the queue table, which the extension's owner created
 * with types create_vectorizer checked (base or enum types): the worker casts
 * keys only to those, never to a domain a store's owner may have put on the
 * store since, whose checks would run with the worker's rights.
 */
static const char *const keys_sql =
"SELECT v.id, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.atttypid"
" FROM ai._vectorizer v,"
" pg_catalog.jsonb_to_recordset(v.source_pk) AS p(attname name, pknum int)"
" JOIN pg_catalog.pg_attribute a ON a.attname = p.attname"
" WHERE a.attrelid = v.queue::pg_catalog.oid"
" AND ($1::int[] IS NULL OR v.id = ANY ($1::int[]))"
" ORDER BY v.id, p.pknum";

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

	res = db_exec(conn, load_sql, 1, params, PGRES_TUPLES_OK, err);
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
		int			c = 0;
		char	   *chunk_impl,
				   *chunk_column,
				   *separator,
				   *template_src;

		v->id = atoi(PQgetvalue(res, r, c++));
		v->disabled = PQgetvalue(res, r, c++)[0] == 't';
		v->source = get(res, r, c++);
		v->store = get(res, r, c++);
		v->queue = get(res, r, c++);
		v->lease = get(res, r, c++);
		v->failed = get(res, r, c++);
		v->source_name = get(res, r, c++);
		v->embedding_impl = get(res, r, c++);
		v->model = get(res, r, c++);
		v->dimensions = atoi(PQgetvalue(res, r, c++));
		v->api_key_name = get(res, r, c++);
		v->base_url = get(res, r, c++);
		v->chat_user = get(res, r, c++);
		v->input_type = get(res, r, c++);
		v->keep_alive = get(res, r, c++);
		v->options_json = get(res, r, c++);
		chunk_impl = get(res, r, c++);
		chunk_column = get(res, r, c++);
		v->chunking.chunk_size = atoll(PQgetvalue(res, r, c++));
		v->chunking.chunk_overlap = atoll(PQgetvalue(res, r, c++));
		separator = get(res, r, c++);
		v->chunking.is_separator_regex = PQgetvalue(res, r, c++)[0] == 't';
		template_src = get(res, r, c++);
		v->index_impl = get(res, r, c++);
		v->min_rows = atoll(PQgetvalue(res, r, c++));
		v->opclass = get(res, r, c++);
		v->hnsw_m = atoi(PQgetvalue(res, r, c++));
		v->hnsw_ef_construction = atoi(PQgetvalue(res, r, c++));
		v->index_when_queue_empty = PQgetvalue(res, r, c++)[0] == 't';
		v->diskann_with = get(res, r, c++);
		v->schedule_interval = atof(PQgetvalue(res, r, c++));
		v->batch_size = atoi(PQgetvalue(res, r, c++));
		v->concurrency = atoi(PQgetvalue(res, r, c++));

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
			pgai_error terr;

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

	res = db_exec(conn, separators_sql, 1, params, PGRES_TUPLES_OK, err);
	if (res == NULL)
		goto fail;
	for (int r = 0; r < PQntuples(res); r++)
	{
		vectorizer *v = find(vs, count, atoi(PQgetvalue(res, r, 0)));

		if (v == NULL || !v->recursive)
			continue;
		v->separators = xrealloc(v->separators, (v->chunking.n_separators + 1) * sizeof(char *));
		v->separators[v->chunking.n_separators++] = get(res, r, 1);
	}
	PQclear(res);

	res = db_exec(conn, keys_sql, 1, params, PGRES_TUPLES_OK, err);
	if (res == NULL)
		goto fail;
	for (int r = 0; r < PQntuples(res); r++)
	{
		vectorizer *v = find(vs, count, atoi(PQgetvalue(res, r, 0)));
		pk_column  *col;

		if (v == NULL)
			continue;
		v->pk = xrealloc(v->pk, (size_t) (v->n_pk + 1) * sizeof(pk_column));
		col = &v->pk[v->n_pk++];
		col->name = get(res, r, 1);
		col->ident = db_ident(conn, col->name);
		col->type_sql = get(res, r, 2);
		col->type_oid = (unsigned) strtoul(PQgetvalue(res, r, 3), NULL, 10);
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
			/* a source being dropped, or a queue the extension's owner dropped */
			if (loud)
				log_line("vectorizer %d: its source or a queue table is missing; skipping it", v->id);
			v->disabled = true;
			continue;
		}
		if (v->template != NULL)
			build_sql(conn, v);
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
