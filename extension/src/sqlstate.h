/*
 * sqlstate.h: how core/'s failures become PostgreSQL errors (sqlstate.c):
 * the one map from a core status to a SQLSTATE, and bounded user values
 * for messages.
 */
#ifndef AI_SQLSTATE_H
#define AI_SQLSTATE_H

#include "pgai_error.h"

/* What the extension asked core/ to do when it failed. */
typedef enum AiFailure
{
	AI_FAILED_INPUT,			/* check a value the caller gave (template,
								 * regex) */
	AI_FAILED_PROVIDER,			/* embed through a provider over HTTP */
	AI_FAILED_MODEL_LOAD,		/* open the built-in model's files */
	AI_FAILED_MODEL,			/* embed with the built-in model */
	AI_FAILED_SETUP				/* process-wide setup (libcurl) */
} AiFailure;

/* The SQLSTATE (an ERRCODE_*) for core status `code` failing at `what`. */
extern int	ai_sqlstate(pgai_status code, AiFailure what);

/* At most 64 bytes of a user's value, with "...", for messages. */
extern char *ai_bounded(const char *s);

#endif							/* AI_SQLSTATE_H */
