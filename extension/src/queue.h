/*
 * queue.h: a vectorizer's queues and schedule (queue.c).
 */
#ifndef AI_QUEUE_H
#define AI_QUEUE_H

#include "postgres.h"

/* Tells listening workers, at commit, that vectorizer `id` has work. */
extern void queue_notify_work(int32 id);

#endif							/* AI_QUEUE_H */
