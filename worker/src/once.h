/*
 * once.h: what --once needs beyond the run loop (once.c).
 */
#ifndef PGAI_WORKER_ONCE_H
#define PGAI_WORKER_ONCE_H

#include "worker.h"

/* --once lifts earlier backoff at its start and counts what is left */
typedef struct once_left
{
	long		held;			/* leased by another live worker */
	double		held_for;		/* seconds until the last of those leases ends */
	long		ours;			/* leased by this process's sessions */
	long		failed;			/* backing off after a failure */
	long		ready;			/* claimable, yet not claimed */
	char		last_error[200];	/* the newest failure's message, or "" */
} once_left;

static inline long
once_left_total(const once_left *l)
{
	return l->held + l->ours + l->failed + l->ready;
}

extern long once_lift_backoff(PGconn *conn, const vectorizer *v, pgai_error *err);
extern int	once_leftovers(PGconn *conn, const vectorizer *v, const int *our_pids,
						   int n_pids, once_left *out, pgai_error *err);
extern void once_describe(const vectorizer *v, const once_left *left);

#endif							/* PGAI_WORKER_ONCE_H */
