/*
 * sql.c: every statement the worker sends against a vectorizer's tables
 * and the catalog, and the result columns their readers use (sql.h).
 *
 * Generated per vectorizer (sql_build, once per load): the catalog holds
 * OIDs, so the names in that SQL are the tables' current ones, looked up
 * at every load and quoted (format('%I') on the server, PQescapeIdentifier
 * here); every value is a parameter. The rule of when a lease holds
 * (lease_live) has its one home here: the claim and --once's count share it.
 *
 * Fixed statements follow: the schedules', the indexer's, the commands'.
 * Only the session's own settings (loop.c: SET, LISTEN) and transaction
 * control (BEGIN, COMMIT, ROLLBACK) are written where they are sent.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "sql.h"
#include "util.h"

/* A growing string. */
typedef struct sbuf
{
	char	   *s;
	size_t		len,
				cap;
} sbuf;

static void sb_add(sbuf *b, const char *fmt,...) __attribute__((format(printf, 2, 3)));

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

/*
 * Whether lease row l holds, the one rule of the claim and of --once: a
 * lease holds while it has not expired and its holder's backend still
 * exists (a worker that died frees its keys at once). `also_pids`, an
 * int[] expression or NULL: leases of those backends hold while unexpired
 * even when gone (--once's own sessions). Malloc'd.
 */
static char *
lease_live(const char *also_pids)
{
	return xasprintf("COALESCE(l.lease_until > pg_catalog.now() AND (%s%s%s EXISTS (SELECT 1 FROM "
					 "pg_catalog.pg_stat_get_activity(l.lease_pid))), false)",
					 also_pids ? "l.lease_pid = ANY (" : "", also_pids ? also_pids : "",
					 also_pids ? ") OR" : "");
}

void
sql_build(PGconn *conn, vectorizer *v)
{
	char	   *k = key_list(v, "");
	char	   *kq = key_list(v, "q.");
	char	   *kl = key_list(v, "l.");
	char	   *kc = key_list(v, "c.");
	char	   *hash = inputs_row(conn, v);
	char	   *j_lq = key_join(v, "l", "q", false);
	char	   *j_sc = key_join(v, "s", "c", false);
	sbuf		b = {0};
	int			p = v->n_pk;	/* parameters after the key arrays start at
								 * p+1 */

	/* unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(a, b, ord) */
	sb_add(&b, "unnest(");
	for (int i = 0; i < v->n_pk; i++)
		sb_add(&b, "%s$%d::text[]", i ? ", " : "", i + 1);
	sb_add(&b, ") WITH ORDINALITY AS k(%s, ord)", k);
	v->keys_unnest = b.s;
	memset(&b, 0, sizeof(b));

	/*
	 * claim: one short statement; see docs/design.md "Queues". It never waits
	 * on a lock a write transaction holds: queue rows and existing lease rows
	 * are taken with SKIP LOCKED, new lease rows with ON CONFLICT DO NOTHING.
	 * (A DO UPDATE would wait for a writer holding the lease while that
	 * writer waits for the queue rows this claim locked.)
	 */
	{
		char	   *j_lk = key_join(v, "l2", "k", false);
		char	   *j_lk2 = key_join(v, "l3", "k", false);
		char	   *live = lease_live(NULL);

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

const char *const sql_load =
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
/* a field missing from a stored config means the spec's default (config.c) */
" i->>'implementation', coalesce((i->>'min_rows')::bigint, 100000),"
/* the operator class of pgvector's schema: our search_path holds only pg_catalog */
" (SELECT pg_catalog.format('%I.%I', n.nspname, i->>'opclass') FROM pg_catalog.pg_extension x"
"   JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace WHERE x.extname = 'vector' AND i ? 'opclass'),"
" coalesce((i->>'m')::int, 0), coalesce((i->>'ef_construction')::int, 0),"
" coalesce((i->>'create_when_queue_empty')::bool, true),"
" coalesce((SELECT pg_catalog.string_agg(pg_catalog.format('%s = %L', d.key, d.value), ', ')"
"   FROM pg_catalog.jsonb_each_text(i - 'implementation' - 'config_type' - 'min_rows'"
"   - 'create_when_queue_empty') d), ''),"
" (CASE WHEN s->>'implementation' = 'timescaledb'"
"  THEN coalesce(extract(epoch FROM (s->>'schedule_interval')::interval), 300) ELSE 0 END)::float8,"
" coalesce((p->>'batch_size')::int, 0), coalesce((p->>'concurrency')::int, 0)"
" FROM ai._vectorizer v,"
" LATERAL (SELECT v.config->'embedding', v.config->'chunking', v.config->'formatting',"
"  v.config->'indexing', v.config->'scheduling', v.config->'processing') x(e, c, f, i, s, p)"
" WHERE $1::int[] IS NULL OR v.id = ANY ($1::int[])"
" ORDER BY v.id";

const char *const sql_separators =
"SELECT v.id, t.elem FROM ai._vectorizer v,"
" pg_catalog.jsonb_array_elements_text(v.config->'chunking'->'separators') WITH ORDINALITY t(elem, n)"
" WHERE $1::int[] IS NULL OR v.id = ANY ($1::int[]) ORDER BY v.id, t.n";

/*
 * Key types come from the queue table, which the extension's owner created
 * with types create_vectorizer checked (base or enum types): the worker casts
 * keys only to those, never to a domain a store's owner may have put on the
 * store since, whose checks would run with the worker's rights.
 */
const char *const sql_keys =
"SELECT v.id, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.atttypid"
" FROM ai._vectorizer v,"
" pg_catalog.jsonb_to_recordset(v.source_pk) AS p(attname name, pknum int)"
" JOIN pg_catalog.pg_attribute a ON a.attname = p.attname"
" WHERE a.attrelid = v.queue::pg_catalog.oid"
" AND ($1::int[] IS NULL OR v.id = ANY ($1::int[]))"
" ORDER BY v.id, p.pknum";

char *
sql_lift_backoff(const vectorizer *v)
{
	return xasprintf("UPDATE %s SET retry_after = NULL "
					 "WHERE retry_after > pg_catalog.now() AND lease_token IS NULL",
					 v->lease);
}

/*
 * The keys left in v's queue, by why (the LEFT_* columns); $1 is the
 * int[] of this process's backends. Distinct keys: the queue holds one row
 * per change, the user thinks in source rows. A lease of this process's
 * own sessions is "ours": a sibling thread's batch in flight, or one whose
 * write failed; it counts as live even if its backend is gone.
 */
char *
sql_leftovers(const vectorizer *v)
{
	char	   *on = key_join(v, "l", "q", false);
	char	   *keys = key_list(v, "q.");
	char	   *live = lease_live("COALESCE($1::int[], '{}')");
	char	   *sql;

	sql = xasprintf("SELECT"
					" pg_catalog.count(*) FILTER (WHERE h.live AND NOT h.ours),"
					" pg_catalog.count(*) FILTER (WHERE h.live AND h.ours),"
					" pg_catalog.count(*) FILTER (WHERE NOT h.live AND l.retry_after > pg_catalog.now()),"
					" pg_catalog.count(*) FILTER (WHERE NOT h.live AND (l.retry_after IS NULL"
					"   OR l.retry_after <= pg_catalog.now())),"
					" (pg_catalog.array_agg(l.last_error ORDER BY l.retry_after DESC)"
					"   FILTER (WHERE NOT h.live AND l.retry_after > pg_catalog.now()"
					"   AND l.last_error IS NOT NULL))[1],"
					" coalesce(extract(epoch FROM pg_catalog.max(l.lease_until) FILTER (WHERE h.live"
					"   AND NOT h.ours) - pg_catalog.now()), 0)::float8"
					" FROM (SELECT DISTINCT %s FROM %s q) q LEFT JOIN %s l ON %s,"
					" LATERAL (SELECT %s,"
					"   COALESCE(l.lease_pid = ANY (COALESCE($1::int[], '{}')), false)) h(live, ours)",
					keys, v->queue, v->lease, on, live);
	free(on);
	free(keys);
	free(live);
	return sql;
}

/* ---- the other statements, each beside its readers' columns in sql.h ---- */

/*
 * The current run's start of a fixed schedule is the latest origin + k * iv
 * not after now, counted in the zone's local time (timestamp without time
 * zone, where a day is a day). k is estimated from the interval's length in
 * seconds; months vary in length, so with months the estimate is widened.
 */
const char *const sql_schedule =
"SELECT v.id, s.start IS NOT NULL AND s.start > pg_catalog.now(), s.fixed,"
" extract(epoch FROM pg_catalog.timezone(s.tz, c.cur)),"
" pg_catalog.to_char(pg_catalog.timezone('UTC', pg_catalog.timezone(s.tz, c.nxt)),"
"   'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
" FROM ai._vectorizer v,"
" LATERAL (SELECT (v.config->'scheduling'->>'schedule_interval')::interval,"
"   (v.config->'scheduling'->>'initial_start')::timestamptz,"
"   coalesce((v.config->'scheduling'->>'fixed_schedule')::bool, true),"
"   coalesce(v.config->'scheduling'->>'timezone', 'UTC')) s(iv, start, fixed, tz),"
" LATERAL (SELECT pg_catalog.timezone(s.tz, coalesce(s.start, v.created_at)),"
"   pg_catalog.timezone(s.tz, pg_catalog.now())) l(origin, here),"
" LATERAL (SELECT pg_catalog.floor(extract(epoch FROM l.here - l.origin)"
"   / extract(epoch FROM s.iv))::bigint,"
"   extract(year FROM s.iv) * 12 + extract(month FROM s.iv) <> 0) e(n, months),"
" LATERAL (SELECT pg_catalog.max(t.at) FILTER (WHERE t.at <= l.here),"
"   pg_catalog.min(t.at) FILTER (WHERE t.at > l.here)"
"   FROM pg_catalog.generate_series(GREATEST(e.n - CASE WHEN e.months THEN e.n / 20 + 2"
"   ELSE 2 END, 0), GREATEST(e.n + 2, 0)) k, LATERAL (SELECT l.origin + s.iv * k) t(at)) c(cur, nxt)"
" WHERE v.config->'scheduling'->>'implementation' = 'timescaledb'"
" AND ($1::int[] IS NULL OR v.id = ANY ($1::int[]))";

const char *const sql_status =
"SELECT v.id,"
" ai._vectorizer_relname(v.source),"
" ai._vectorizer_relname(v.target),"
" ai.vectorizer_queue_pending(v.id, true),"
" ai.vectorizer_queue_failed(v.id),"
" v.disabled,"
" e.recorded::timestamptz(0)::text,"
" e.message"
" FROM ai._vectorizer v"
" LEFT JOIN LATERAL (SELECT e.message, e.recorded FROM ai.vectorizer_errors e"
"  WHERE e.id = v.id ORDER BY e.recorded DESC, e.ctid DESC LIMIT 1) e ON true"
" WHERE $1::int[] IS NULL OR v.id = ANY ($1::int[])"
" ORDER BY v.id";

const char *const sql_errors =
"SELECT e.recorded::timestamptz(0)::text, e.id, e.message, e.details::text"
" FROM ai.vectorizer_errors e"
" WHERE $1::int[] IS NULL OR e.id = ANY ($1::int[])"
" ORDER BY e.recorded DESC, e.ctid DESC LIMIT $2::int";

const char *const sql_search_info =
"SELECT ai._vectorizer_relname(v.target),"
" e->>'implementation', e->>'model', e->>'dimensions', e->>'api_key_name',"
" e->>'base_url', e->>'keep_alive', (e->'options')::text,"
" (SELECT CASE WHEN pg_catalog.count(*) = 1 THEN pg_catalog.min(pg_catalog.format('s.%I', p.attname)) || '::text'"
"  ELSE 'ROW(' || pg_catalog.string_agg(pg_catalog.format('s.%I', p.attname), ', ' ORDER BY p.pknum) || ')::text' END"
"  FROM pg_catalog.jsonb_to_recordset(v.source_pk) AS p(attname name, pknum int)),"
/* pgvector's schema, wherever it was installed: our search_path has only pg_catalog */
" (SELECT pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_extension x"
"  JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace WHERE x.extname = 'vector')"
" FROM ai._vectorizer v, LATERAL (SELECT v.config->'embedding') x(e)"
" WHERE v.id = $1::int";

const char *const sql_embed_sentence_transformers =
"SELECT ai.sentence_transformers_embed($2::text, $1::text)::text";

const char *const sql_embed_openai =
"SELECT ai.openai_embed($2::text, $1::text, api_key => $3::text,"
" api_key_name => $4::text, dimensions => $5::int, base_url => $6::text)::text";

const char *const sql_embed_ollama =
"SELECT ai.ollama_embed($2::text, $1::text, host => $3::text,"
" keep_alive => $4::text, embedding_options => $5::jsonb, dimensions => $6::int)::text";

const char *const sql_embed_voyageai =
"SELECT ai.voyageai_embed($2::text, $1::text, input_type => 'query',"
" api_key => $3::text, api_key_name => $4::text, dimensions => $5::int)::text";

/*
 * The nearest chunks of the store to the vector $1, at most $2: distance,
 * key, chunk. Every name was quoted by the server (sql_search_info).
 */
char *
sql_search(const char *vector_schema, const char *key_expr, const char *store)
{
	return xasprintf("SELECT pg_catalog.round((s.embedding OPERATOR(%s.<=>) $1::%s.vector)::numeric, 4),"
					 " %s, s.chunk FROM %s s"
					 " ORDER BY s.embedding OPERATOR(%s.<=>) $1::%s.vector LIMIT $2::int",
					 vector_schema, vector_schema, key_expr, store, vector_schema, vector_schema);
}

const char *const sql_missing_ids =
"SELECT i FROM pg_catalog.unnest($1::int[]) i"
" WHERE NOT EXISTS (SELECT 1 FROM ai.vectorizer v WHERE v.id = i)";

/* one column: the rows queued again */
const char *const sql_retry_failed = "SELECT ai.vectorizer_retry_failed($1::int)";

const char *const sql_pending =
"SELECT coalesce(sum(ai.vectorizer_queue_pending(id)), 0)::bigint "
"FROM ai.vectorizer WHERE $1::int[] IS NULL OR id = ANY ($1::int[])";

const char *const sql_record_error = "SELECT ai._vectorizer_record_error($1::int, $2::text, $3::jsonb)";

const char *const sql_store_replace = "SELECT ai._vectorizer_store_replace($1::int, $2::text[], $3::bytea, $4::bool)";

const char *const sql_index_found =
"SELECT a.amname FROM pg_catalog.pg_index i"
" JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid"
" JOIN pg_catalog.pg_am a ON a.oid = c.relam"
" JOIN pg_catalog.pg_attribute t ON t.attrelid = i.indrelid AND t.attnum = ANY (i.indkey)"
" WHERE i.indrelid = $1::regclass AND t.attname = 'embedding'"
" AND a.amname IN ('hnsw', 'diskann', 'ivfflat')"
" ORDER BY c.relname LIMIT 1";

/*
 * Rows in v's store, counted up to min_rows ($1), and whether any key is
 * queued (asked only with create_when_queue_empty). Malloc'd.
 */
char *
sql_index_due(const vectorizer *v)
{
	return xasprintf("SELECT (SELECT pg_catalog.count(*) FROM (SELECT 1 FROM %s LIMIT $1::bigint) s),"
					 " %s%s%s", v->store,
					 v->index_when_queue_empty ? "EXISTS (SELECT 1 FROM " : "false",
					 v->index_when_queue_empty ? v->queue : "",
					 v->index_when_queue_empty ? ")" : "");
}

/* v's ANN index, with its indexing options. Malloc'd. */
char *
sql_create_index(const vectorizer *v)
{
	char	   *with;
	char	   *sql;

	if (strcmp(v->index_impl, "diskann") == 0)
		return xasprintf("CREATE INDEX CONCURRENTLY ON %s USING diskann (embedding)%s%s%s",
						 v->store, v->diskann_with[0] ? " WITH (" : "", v->diskann_with,
						 v->diskann_with[0] ? ")" : "");
	if (v->hnsw_m > 0 && v->hnsw_ef_construction > 0)
		with = xasprintf(" WITH (m = %d, ef_construction = %d)", v->hnsw_m, v->hnsw_ef_construction);
	else if (v->hnsw_m > 0)
		with = xasprintf(" WITH (m = %d)", v->hnsw_m);
	else if (v->hnsw_ef_construction > 0)
		with = xasprintf(" WITH (ef_construction = %d)", v->hnsw_ef_construction);
	else
		with = xstrdup("");
	sql = xasprintf("CREATE INDEX CONCURRENTLY ON %s USING hnsw (embedding %s)%s",
					v->store, v->opclass, with);
	free(with);
	return sql;
}

const char *const sql_diskann_exists =
"SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_am WHERE amname = 'diskann')";

const char *const sql_error_recorded =
"SELECT EXISTS (SELECT 1 FROM ai.vectorizer_errors WHERE id = $1::int AND message = $2)";

/* one builder per vectorizer ($1), across workers: a session lock (see indexer.c) */
const char *const sql_index_lock = "SELECT pg_catalog.pg_try_advisory_lock(2053597, $1::int)";
const char *const sql_index_unlock = "SELECT pg_catalog.pg_advisory_unlock(2053597, $1::int)";
