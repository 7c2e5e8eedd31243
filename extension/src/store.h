/*
 * store.h: the worker's store writes (store.c), and the key-type rule
 * they share with create_vectorizer.
 */
#ifndef AI_STORE_H
#define AI_STORE_H

#include "postgres.h"

/* Refuses key types whose input could run an owner's code. */
extern void check_key_type(const char *column, Oid typid);

#endif							/* AI_STORE_H */
