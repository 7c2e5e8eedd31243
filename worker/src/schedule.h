/*
 * schedule.h: the timescaledb scheduling settings, read from the server
 * (schedule.c).
 */
#ifndef PGAI_WORKER_SCHEDULE_H
#define PGAI_WORKER_SCHEDULE_H

#include "worker.h"

typedef struct schedule_info
{
	int			id;
	bool		waiting;		/* initial_start is ahead */
	bool		fixed;			/* runs start at origin + k * interval */
	bool		has_slot;		/* fixed: a run has started (origin passed) */
	double		slot;			/* fixed: the current run's start, epoch s */
	char		next[32];		/* fixed: the next run's start, UTC ISO 8601 */
} schedule_info;

extern int	schedule_load(PGconn *conn, const worker_options *opt, schedule_info **out,
						  int *n, pgai_error *err);
extern const schedule_info *schedule_find(const schedule_info *s, int n, int id);

#endif							/* PGAI_WORKER_SCHEDULE_H */
