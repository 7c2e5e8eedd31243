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
 * The lease liveness rule is the claim's; both take it from sql.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "once.h"
#include "sql.h"
#include "util.h"

long
once_lift_backoff(PGconn *conn, const vectorizer *v, pgai_error *err)
{
	char	   *sql = sql_lift_backoff(v);
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
	char	   *sql = sql_leftovers(v);
	PGresult   *res;

	res = db_exec(conn, sql, 1, params, PGRES_TUPLES_OK, err);
	free(sql);
	free(pids);
	memset(out, 0, sizeof(*out));
	if (res == NULL)
		return -1;
	out->held = atol(PQgetvalue(res, 0, LEFT_HELD));
	out->ours = atol(PQgetvalue(res, 0, LEFT_OURS));
	out->failed = atol(PQgetvalue(res, 0, LEFT_FAILED));
	out->ready = atol(PQgetvalue(res, 0, LEFT_READY));
	if (!PQgetisnull(res, 0, LEFT_LAST_ERROR))
		snprintf(out->last_error, sizeof(out->last_error), "%s", PQgetvalue(res, 0, LEFT_LAST_ERROR));
	out->held_for = atof(PQgetvalue(res, 0, LEFT_HELD_FOR));
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
