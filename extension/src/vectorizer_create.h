/*
 * vectorizer_create.h: the checks ai.create_vectorizer applies that
 * ai.alter_vectorizer applies too (vectorizer_create.c).
 */
#ifndef AI_VECTORIZER_CREATE_H
#define AI_VECTORIZER_CREATE_H

#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

extern Jsonb *resolve_indexing(Jsonb *indexing);
extern Jsonb *resolve_scheduling(Jsonb *scheduling);
extern void check_index_dimensions(Jsonb *indexing, int64 dims);
extern List *grantees(FunctionCallInfo fcinfo, int argno);

#endif							/* AI_VECTORIZER_CREATE_H */
