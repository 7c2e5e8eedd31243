/*
 * vectorizer.h: helpers shared by the vectorizer DDL and change capture.
 */
#ifndef AI_VECTORIZER_H
#define AI_VECTORIZER_H

#include "ai.h"
#include "nodes/pg_list.h"

#define AI_VERSION "0.1.0"

/* NOTIFY channel the capture triggers signal new work on; payload: the id */
#define AI_NOTIFY_CHANNEL "ai_vectorizer_work"

extern char *pk_list(List *names, const char *prefix);
extern char *pk_join(List *names, const char *left, const char *right);
extern List *template_names(const char *tmpl);
extern void vectorizer_drop_queues(const Vectorizer *v);

#endif							/* AI_VECTORIZER_H */
