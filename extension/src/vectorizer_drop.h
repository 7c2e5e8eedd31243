/*
 * vectorizer_drop.h: removing a vectorizer's objects (vectorizer_drop.c).
 */
#ifndef AI_VECTORIZER_DROP_H
#define AI_VECTORIZER_DROP_H

#include "ai.h"

/* Drops the queue tables still there; the caller acts as the owner. */
extern void vectorizer_drop_queues(const Vectorizer *v);

#endif							/* AI_VECTORIZER_DROP_H */
