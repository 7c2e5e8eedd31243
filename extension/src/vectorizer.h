/*
 * vectorizer.h: what vectorizer.c shares with the event trigger (event.c).
 */
#ifndef AI_VECTORIZER_H
#define AI_VECTORIZER_H

#include "ai.h"

/* Drops the queue tables still there; the caller acts as the owner. */
extern void vectorizer_drop_queues(const Vectorizer *v);

#endif							/* AI_VECTORIZER_H */
