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
#include "sql.h"
#include "util.h"


int
schedule_load(PGconn *conn, const worker_options *opt, schedule_info **out, int *n,
			  pgai_error *err)
{
	char	   *ids = db_ids_literal(opt->ids, opt->n_ids);
	const char *params[1] = {ids};
	PGresult   *res = db_exec(conn, sql_schedule, 1, params, PGRES_TUPLES_OK, err);
	schedule_info *s;

	free(ids);
	*out = NULL;
	*n = 0;
	if (res == NULL)
		return -1;
	s = xcalloc((size_t) PQntuples(res) + 1, sizeof(schedule_info));
	for (int r = 0; r < PQntuples(res); r++)
	{
		s[r].id = atoi(PQgetvalue(res, r, SCHED_ID));
		s[r].waiting = PQgetvalue(res, r, SCHED_WAITING)[0] == 't';
		s[r].fixed = PQgetvalue(res, r, SCHED_FIXED)[0] == 't';
		/* no current run: the origin is still ahead */
		s[r].has_slot = !PQgetisnull(res, r, SCHED_SLOT);
		s[r].slot = s[r].has_slot ? atof(PQgetvalue(res, r, SCHED_SLOT)) : 0;
		snprintf(s[r].next, sizeof(s[r].next), "%s", PQgetvalue(res, r, SCHED_NEXT));
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
