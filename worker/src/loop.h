/*
 * loop.h: the worker's run: threads, waiting, schedules, progress (loop.c).
 */
#ifndef PGAI_WORKER_LOOP_H
#define PGAI_WORKER_LOOP_H

#include "worker.h"

/* Runs the worker with these options; returns the exit status. Frees opt->ids. */
extern int	loop_run(worker_options *opt);

#endif							/* PGAI_WORKER_LOOP_H */
