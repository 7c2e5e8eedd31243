/*
 * once.c: what `pgai vectorizer worker --once` needs beyond the run loop.
 *
 * The contract of --once is "process everything pending, exit 0 only when
 * the queues are empty". Two things stood between a run and that:
 *
 *   backoff   a key that failed in an earlier run waits in its lease row
 *             (retry_after) for up to an hour, and claims skip it. That
 *             backoff paces the retries of workers that keep running; a
 *             --once run is an operator asking for a pass now, so at its
 *             start the backoff of every served key is lifted and each is
 *             tried once more. Keys that fail during the run get their
 *             backoff as usual and are not tried again in it (unless
 *             --retry-backoff 0), so a run against a provider that is down
 *             ends after one attempt per key instead of burning every
 *             attempt and moving the keys to the failed queue.
 *   leftovers nothing claimable is not the same as nothing pending: a key
 *             may be leased by another live worker (wait for it: it is
 *             written, or failed, or its lease lapses and we take it), or
 *             back off after failing (count it, and exit non-zero). The
 *             wait is for the leases seen when it began, so a busy worker
 *             beside us that keeps taking new rows cannot hold a --once
 *             run forever: after the last of them ends, what other
 *             workers hold is counted as left.
 *
 * The lease liveness rule is the claim's (vectorizer.c): a lease holds
 * while it has not expired and its backend still exists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker.h"

/* "q.a = l.a AND q.b = l.b" */
static char *
keys_equal(const vectorizer *v, const char *l, const char *r)
{
	char	   *s = xstrdup("");

	for (int i = 0; i < v->n_pk; i++)
	{
		char	   *next = xasprintf("%s%s%s.%s = %s.%s", s, i ? " AND " : "",
									 l, v->pk[i].ident, r, v->pk[i].ident);

		free(s);
		s = next;
	}
	return s;
}

/* "q.a, q.b" for prefix "q" */
static char *
keys_list(const vectorizer *v, const char *prefix)
{
	char	   *s = xstrdup("");

	for (int i = 0; i < v->n_pk; i++)
	{
		char	   *next = xasprintf("%s%s%s.%s", s, i ? ", " : "", prefix, v->pk[i].ident);

		free(s);
		s = next;
	}
	return s;
}

long
once_lift_backoff(PGconn *conn, const vectorizer *v, pgai_error *err)
{
	char	   *sql = xasprintf("UPDATE %s SET retry_after = NULL "
								"WHERE retry_after > pg_catalog.now() AND lease_token IS NULL",
								v->lease);
	PGresult   *res = db_exec(conn, sql, 0, NULL, PGRES_COMMAND_OK, err);
	long		n = res != NULL ? atol(PQcmdTuples(res)) : -1;

	PQclear(res);
	free(sql);
	return n;
}

int
once_leftovers(PGconn *conn, const vectorizer *v, const int *our_pids, int n_pids,
			   once_left *out, pgai_error *err)
{
	char	   *pids = db_ids_literal(our_pids, n_pids);
	const char *params[1] = {pids};
	char	   *on = keys_equal(v, "l", "q");
	char	   *keys = keys_list(v, "q");
	char	   *sql;
	PGresult   *res;

	/*
	 * Distinct keys: the queue holds one row per change, the user thinks in
	 * source rows. A lease of this process's own sessions is "ours": a
	 * sibling thread's batch in flight, or one whose write failed.
	 */
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
					" LATERAL (SELECT COALESCE(l.lease_until > pg_catalog.now() AND"
					"   (l.lease_pid = ANY (COALESCE($1::int[], '{}')) OR EXISTS (SELECT 1 FROM"
					"   pg_catalog.pg_stat_get_activity(l.lease_pid))), false),"
					"   COALESCE(l.lease_pid = ANY (COALESCE($1::int[], '{}')), false)) h(live, ours)",
					keys, v->queue, v->lease, on);
	res = db_exec(conn, sql, 1, params, PGRES_TUPLES_OK, err);
	free(sql);
	free(keys);
	free(on);
	free(pids);
	memset(out, 0, sizeof(*out));
	if (res == NULL)
		return -1;
	out->held = atol(PQgetvalue(res, 0, 0));
	out->ours = atol(PQgetvalue(res, 0, 1));
	out->failed = atol(PQgetvalue(res, 0, 2));
	out->ready = atol(PQgetvalue(res, 0, 3));
	if (!PQgetisnull(res, 0, 4))
		snprintf(out->last_error, sizeof(out->last_error), "%s", PQgetvalue(res, 0, 4));
	out->held_for = atof(PQgetvalue(res, 0, 5));
	PQclear(res);
	return 0;
}

void
once_describe(const vectorizer *v, const once_left *left)
{
	char		why[sizeof(left->last_error) + 256] = "";
	size_t		n = 0;

#define WHY(...) \
	n += (size_t) snprintf(why + n, n < sizeof(why) ? sizeof(why) - n : 0, __VA_ARGS__)

	if (left->failed > 0)
		WHY("%ld failed and back off%s%s%s", left->failed,
			left->last_error[0] ? " (last error: " : "", left->last_error,
			left->last_error[0] ? ")" : "");
	if (left->held > 0)
		WHY("%s%ld leased by another worker", n ? "; " : "", left->held);
	if (left->ours > 0)
		WHY("%s%ld leased by this run's failed writes until the lease ends", n ? "; " : "",
			left->ours);
	if (left->ready > 0)
		WHY("%s%ld not claimed by this run", n ? "; " : "", left->ready);
#undef WHY
	log_line("vectorizer %d: %ld %s queued: %s", v->id, once_left_total(left),
			 once_left_total(left) == 1 ? "row remains" : "rows remain", why);
}
