/*
 * schedule.c: when a vectorizer with ai.scheduling_timescaledb() is due.
 *
 * pgai hands these settings to TimescaleDB's job scheduler; here the worker
 * keeps the schedule, with the same meaning:
 *
 *   schedule_interval  time between runs
 *   initial_start      no run before it; the origin of a fixed schedule
 *   fixed_schedule     (default true, as TimescaleDB's) runs start at
 *                      origin + k * schedule_interval, the origin being
 *                      initial_start or else the vectorizer's creation;
 *                      false: a run starts schedule_interval after the
 *                      thread's last run of the vectorizer
 *   timezone           (default UTC) the zone whose wall clock the fixed
 *                      schedule follows, so '1 day' keeps its local hour
 *                      across daylight saving changes
 *
 * The times come from the server's clock, so every worker on every machine
 * agrees on a fixed schedule's runs. A thread that starts runs each due
 * vectorizer once at once (it cannot know whether the current run was
 * made), then on the schedule; --once ignores schedules altogether.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "schedule.h"
#include "util.h"

/*
 * The current run's start of a fixed schedule is the latest origin + k * iv
 * not after now, counted in the zone's local time (timestamp without time
 * zone, where a day is a day). k is estimated from the interval's length in
 * seconds; months vary in length, so with months the estimate is widened.
 */
static const char *const schedule_sql =
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

int
schedule_load(PGconn *conn, const worker_options *opt, schedule_info **out, int *n,
			  pgai_error *err)
{
	char	   *ids = db_ids_literal(opt->ids, opt->n_ids);
	const char *params[1] = {ids};
	PGresult   *res = db_exec(conn, schedule_sql, 1, params, PGRES_TUPLES_OK, err);
	schedule_info *s;

	free(ids);
	*out = NULL;
	*n = 0;
	if (res == NULL)
		return -1;
	s = xcalloc((size_t) PQntuples(res) + 1, sizeof(schedule_info));
	for (int r = 0; r < PQntuples(res); r++)
	{
		s[r].id = atoi(PQgetvalue(res, r, 0));
		s[r].waiting = PQgetvalue(res, r, 1)[0] == 't';
		s[r].fixed = PQgetvalue(res, r, 2)[0] == 't';
		/* no current run: the origin is still ahead */
		s[r].has_slot = !PQgetisnull(res, r, 3);
		s[r].slot = s[r].has_slot ? atof(PQgetvalue(res, r, 3)) : 0;
		snprintf(s[r].next, sizeof(s[r].next), "%s", PQgetvalue(res, r, 4));
	}
	*n = PQntuples(res);
	*out = s;
	PQclear(res);
	return 0;
}

const schedule_info *
schedule_find(const schedule_info *s, int n, int id)
{
	for (int i = 0; i < n; i++)
		if (s[i].id == id)
			return &s[i];
	return NULL;
}
