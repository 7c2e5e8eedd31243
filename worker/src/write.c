/*
 * write.c: the write transaction of a batch. One short transaction locks
 * our leases and the claimed source rows, decides each row's outcome (see
 * row_outcome), replaces the store rows of those done through
 * ai._vectorizer_store_replace, and takes keys off the queue, drops
 * leases, backs failures off or moves them aside, all by key sets: one
 * text[] parameter per key column.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy.h"
#include "db.h"
#include "sql.h"
#include "util.h"
#include "write.h"

/*
 * Replaces the store rows of the keys marked in `done` with the encoded
 * chunks, through ai._vectorizer_store_replace: the extension writes the
 * store as its owner, so the owner's triggers never run with our rights.
 * The keys go row by row, one element per key column; the rows as one
 * bytea parameter in binary, so they are sent as they are.
 */
static bool
store_replace(PGconn *conn, const batch *b, const bool *done, const copybuf *rows,
			  bool binary, pgai_error *err)
{
	const vectorizer *v = b->v;
	const char **flat = xcalloc((size_t) b->n_rows * (size_t) v->n_pk + 1, sizeof(char *));
	size_t		m = 0;
	char		id[16];
	char	   *keys;
	const char *values[4];
	int			lengths[4] = {0, 0, (int) rows->len, 0};
	int			formats[4] = {0, 0, 1, 0};
	PGresult   *res;
	bool		ok;

	for (int i = 0; i < b->n_rows; i++)
		for (int k = 0; done[i] && k < v->n_pk; k++)
			flat[m++] = b->rows[i].key[k];
	if (m == 0)
	{
		free(flat);
		return true;
	}
	keys = db_array_literal(flat, m);
	snprintf(id, sizeof(id), "%d", v->id);
	values[0] = id;
	values[1] = keys;
	values[2] = rows->data ? rows->data : "";
	values[3] = binary ? "true" : "false";
	res = PQexecParams(conn, sql_store_replace,
					   4, NULL, values, lengths, formats, 0);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
	{
		const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		pgai_error_set(err, PGAI_EIO, "writing the store failed: %s",
					   msg ? msg : PQerrorMessage(conn));
	}
	PQclear(res);
	free(keys);
	free(flat);
	return ok;
}

/* ---- key sets as parameters ------------------------------------------- */

/*
 * Parameters for the generated statements: one text[] per key column with
 * the keys of the rows marked in `which`, then `extra` more values.
 */
typedef struct key_params
{
	char	  **arrays;
	const char **values;
	int			n;
	int			count;			/* rows selected */
} key_params;

static void
key_params_make(const batch *b, const bool *which, const char *const *extra,
				int n_extra, key_params *kp)
{
	const vectorizer *v = b->v;
	const char **col = xcalloc((size_t) b->n_rows, sizeof(char *));

	kp->arrays = xcalloc((size_t) v->n_pk, sizeof(char *));
	kp->n = v->n_pk + n_extra;
	kp->values = xcalloc((size_t) kp->n, sizeof(char *));
	kp->count = 0;
	for (int k = 0; k < v->n_pk; k++)
	{
		int			m = 0;

		for (int i = 0; i < b->n_rows; i++)
			if (which == NULL || which[i])
				col[m++] = b->rows[i].key[k];
		kp->arrays[k] = db_array_literal(col, (size_t) m);
		kp->values[k] = kp->arrays[k];
		kp->count = m;
	}
	for (int e = 0; e < n_extra; e++)
		kp->values[v->n_pk + e] = extra[e];
	free(col);
}

static void
key_params_free(const vectorizer *v, key_params *kp)
{
	for (int k = 0; k < v->n_pk; k++)
		free(kp->arrays[k]);
	free(kp->arrays);
	free(kp->values);
}

/* Runs a generated statement over the keys marked in `which`. */
static bool
exec_keys(PGconn *conn, const batch *b, const char *sql, const bool *which,
		  const char *const *extra, int n_extra, ExecStatusType expect,
		  PGresult **out, pgai_error *err)
{
	key_params	kp;
	PGresult   *res;

	key_params_make(b, which, extra, n_extra, &kp);
	if (kp.count == 0 && out == NULL)
	{
		key_params_free(b->v, &kp);
		return true;
	}
	res = db_exec_prepared(conn, sql, kp.n, kp.values, expect, err);
	key_params_free(b->v, &kp);
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return res != NULL;
}

/* What the write found for each row. */
typedef struct verdict
{
	bool	   *ours;			/* still leased to us */
	bool	   *present;		/* source row exists */
	bool	   *same;			/* inputs unchanged since the claim */
} verdict;

static bool
lock_and_check(PGconn *conn, batch *b, verdict *vd, pgai_error *err)
{
	const char *extra[1] = {b->token};
	PGresult   *res;

	if (!exec_keys(conn, b, b->v->sql_lock_leases, NULL, extra, 1, PGRES_TUPLES_OK, &res, err))
		return false;
	for (int i = 0; i < PQntuples(res); i++)
		vd->ours[atoi(PQgetvalue(res, i, LOCK_LEASES_ORD)) - 1] = true;
	PQclear(res);
	if (!exec_keys(conn, b, b->v->sql_lock_source, NULL, NULL, 0, PGRES_TUPLES_OK, &res, err))
		return false;
	for (int i = 0; i < PQntuples(res); i++)
	{
		int			idx = atoi(PQgetvalue(res, i, LOCK_SOURCE_ORD)) - 1;

		vd->present[idx] = true;
		vd->same[idx] = strcmp(PQgetvalue(res, i, LOCK_SOURCE_HASH), b->rows[idx].hash) == 0;
	}
	PQclear(res);
	return true;
}

/*
 * What the write does with each claimed row. The statements take the keys
 * of the rows whose outcome is in their set (OUT_* bits below).
 */
typedef enum row_outcome
{
	OUT_NOT_OURS,				/* our lease expired and another took it:
								 * untouched */
	OUT_GONE,					/* deleted: off the queue, lease dropped */
	OUT_CHANGED,				/* changed since the claim: lease dropped,
								 * claim again */
	OUT_RELEASED,				/* stopping cut the embedding short: lease
								 * dropped */
	OUT_RETRY,					/* failed: back off and try again later */
	OUT_GIVE_UP,				/* failed max_attempts times: to the failed
								 * queue */
	OUT_DONE,					/* store rows replaced, off the queue and the
								 * failed queue */
} row_outcome;

#define OUT(o) (1u << (o))
/* off the queue */
#define LEAVES_QUEUE (OUT(OUT_GONE) | OUT(OUT_GIVE_UP) | OUT(OUT_DONE))
/* lease row deleted (a retry's is kept for its backoff, a give-up's moves) */
#define DROPS_LEASE (OUT(OUT_GONE) | OUT(OUT_CHANGED) | OUT(OUT_RELEASED) | OUT(OUT_DONE))

/* The rows whose outcome is in `set`, as a mask exec_keys takes (malloc'd). */
static bool *
rows_in(const row_outcome *out, int n, unsigned set)
{
	bool	   *which = xcalloc((size_t) n, sizeof(bool));

	for (int i = 0; i < n; i++)
		which[i] = (set & OUT(out[i])) != 0;
	return which;
}

/* The outcome of row r by what the locks found (see row_outcome). */
static row_outcome
decide(const batch *b, const batch_row *r, bool ours, bool present, bool same,
	   const worker_options *opt)
{
	if (!ours)
		return OUT_NOT_OURS;
	if (!present)
		return OUT_GONE;
	if (!same)
		return OUT_CHANGED;

	/*
	 * Stopping is not the row's fault: no attempt or backoff is charged; the
	 * key stays queued and the next worker takes it (dropping the lease also
	 * restarts a retried row's count).
	 */
	if (r->state == ROW_FAILED && b->canceled)
		return OUT_RELEASED;
	if (r->state == ROW_FAILED)
		return r->attempts >= opt->max_attempts ? OUT_GIVE_UP : OUT_RETRY;
	return OUT_DONE;
}

/*
 * The store rows of the rows marked in `write`, as COPY data: binary when
 * every key type has a binary form (the common case: vectors go in as
 * pgvector's send format), else text with vector literals.
 */
static void
encode_rows(const batch *b, const bool *write, bool binary, copybuf *c)
{
	const vectorizer *v = b->v;

	copy_begin(c, binary);
	for (int i = 0; i < b->n_rows; i++)
	{
		const batch_row *r = &b->rows[i];

		if (!write[i])
			continue;

		/*
		 * The store keeps the text that was embedded, the chunk as the
		 * template formatted it, as pgai's worker does.
		 */
		for (size_t ch = 0; ch < r->chunks.count; ch++)
		{
			size_t		t = r->first_text + ch;

			copy_row(c, binary, v->pk, v->n_pk, r->key, (int) ch, b->texts[t], b->lens[t],
					 b->vectors + t * (size_t) v->dimensions, v->dimensions);
		}
	}
	copy_end(c, binary);
}

/*
 * The failures, back off or moved aside: one statement per outcome and
 * distinct message keeps each row's message exact.
 */
static bool
write_failures(PGconn *conn, const batch *b, const row_outcome *out,
			   const worker_options *opt, pgai_error *err)
{
	int			n = b->n_rows;
	bool	   *pending = rows_in(out, n, OUT(OUT_RETRY) | OUT(OUT_GIVE_UP));
	bool		ok = true;
	char		backoff[32];

	snprintf(backoff, sizeof(backoff), "%g", opt->retry_backoff);
	for (int i = 0; i < n && ok; i++)
	{
		bool	   *same_msg;
		bool		is_retry = out[i] == OUT_RETRY;
		const char *msg;

		if (!pending[i])
			continue;
		msg = b->rows[i].error ? b->rows[i].error : "embedding failed";
		same_msg = xcalloc((size_t) n, sizeof(bool));
		for (int j = i; j < n; j++)
		{
			const char *mj = b->rows[j].error ? b->rows[j].error : "embedding failed";

			same_msg[j] = pending[j] && out[j] == out[i] && strcmp(mj, msg) == 0;
		}
		{
			const char *extra[3] = {b->token, msg, backoff};

			ok = exec_keys(conn, b, is_retry ? b->v->sql_retry_later : b->v->sql_move_failed,
						   same_msg, extra, is_retry ? 3 : 2, PGRES_COMMAND_OK, NULL, err);
		}
		for (int j = i; j < n; j++)
			if (same_msg[j])
				pending[j] = false;
		free(same_msg);
	}
	free(pending);
	return ok;
}

bool
write_batch(PGconn *conn, batch *b, const worker_options *opt, long *written,
			long *chunks, long *failures, pgai_error *err)
{
	int			n = b->n_rows;
	verdict		vd;
	row_outcome *out = xcalloc((size_t) n, sizeof(row_outcome));
	bool	   *done = NULL,
			   *leave = NULL,
			   *release = NULL;
	bool		ok = false;
	copybuf		cb = {0};
	const char *token[1] = {b->token};

	vd.ours = xcalloc((size_t) n, sizeof(bool));
	vd.present = xcalloc((size_t) n, sizeof(bool));
	vd.same = xcalloc((size_t) n, sizeof(bool));
	*written = *chunks = *failures = 0;

	if (!db_command(conn, "BEGIN", err))
		goto out;
	if (!lock_and_check(conn, b, &vd, err))
		goto rollback;

	for (int i = 0; i < n; i++)
	{
		out[i] = decide(b, &b->rows[i], vd.ours[i], vd.present[i], vd.same[i], opt);
		if (out[i] == OUT_RETRY || out[i] == OUT_GIVE_UP)
			(*failures)++;
		else if (out[i] == OUT_DONE)
		{
			(*written)++;
			*chunks += (long) b->rows[i].chunks.count;
		}
	}
	done = rows_in(out, n, OUT(OUT_DONE));
	leave = rows_in(out, n, LEAVES_QUEUE);
	release = rows_in(out, n, DROPS_LEASE);

	{
		bool		binary = copy_keys_binary(b->v->pk, b->v->n_pk);

		if (*chunks > 0)
			encode_rows(b, done, binary, &cb);
		if (!store_replace(conn, b, done, &cb, binary, err))
			goto rollback;
	}
	if (!exec_keys(conn, b, b->v->sql_delete_queue, leave, NULL, 0, PGRES_COMMAND_OK, NULL, err) ||
		!exec_keys(conn, b, b->v->sql_delete_failed, done, NULL, 0, PGRES_COMMAND_OK, NULL, err) ||
		!exec_keys(conn, b, b->v->sql_delete_leases, release, token, 1, PGRES_COMMAND_OK, NULL, err) ||
		!write_failures(conn, b, out, opt, err))
		goto rollback;

	ok = db_command(conn, "COMMIT", err);
	goto out;

rollback:
	{
		pgai_error	ignored;
		PGresult   *res;

		/* a failed statement may leave results to drain before ROLLBACK */
		while ((res = PQgetResult(conn)) != NULL)
			PQclear(res);
		db_command(conn, "ROLLBACK", &ignored);
	}
out:
	free(cb.data);
	free(out);
	free(done);
	free(leave);
	free(release);
	free(vd.ours);
	free(vd.present);
	free(vd.same);
	return ok;
}
