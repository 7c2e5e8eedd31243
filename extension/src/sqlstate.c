/*
 * sqlstate.c: the single map from core/'s statuses to SQLSTATEs, and
 * bounded user values for messages.
 *
 * core/ reports failures as a pgai_status (the built-in model included);
 * every ereport of the extension that
 * passes one on takes its SQLSTATE from here, so one kind of failure has
 * one code whichever SQL function met it. The rules:
 *   - out of memory is 53200 wherever it happens, except while opening the
 *     model's files (below);
 *   - a value the caller gave that core/ rejects (a template, a separator
 *     regex, a provider's input text or option) is 22023;
 *   - failing to reach or to understand a provider is an external
 *     routine's exception, 38000. Never class 08 (connection exception):
 *     drivers read it as a lost database connection, and the database
 *     connection is fine;
 *   - a model that cannot be opened is 58P01 (undefined file), whatever
 *     the cause: the hint sends the DBA to the model's folder;
 *   - anything else (the model failing mid-call, libcurl's setup) is a
 *     bug or an environment failure: XX000.
 * Errors the extension raises on its own checks choose their SQLSTATE at
 * the ereport, as PostgreSQL's own code does.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "sqlstate.h"

int
ai_sqlstate(pgai_status code, AiFailure what)
{
	if (what == AI_FAILED_MODEL_LOAD)
		return ERRCODE_UNDEFINED_FILE;

	/*
	 * Every status is named and there is no default: a status added to core/
	 * fails the build here (-Wswitch) until it is given its place.
	 */
	switch (code)
	{
		case PGAI_ENOMEM:
			return ERRCODE_OUT_OF_MEMORY;
		case PGAI_EINVAL:
		case PGAI_EUTF8:
			/* the caller's text or option, whatever was being done with it */
			if (what == AI_FAILED_PROVIDER)
				return ERRCODE_INVALID_PARAMETER_VALUE;
			break;
		case PGAI_OK:
		case PGAI_ETEMPLATE_SYNTAX:
		case PGAI_ETEMPLATE_NAME:
		case PGAI_EREGEX:
		case PGAI_EIO:
		case PGAI_EHTTP:
		case PGAI_EPROVIDER:
		case PGAI_EJSON:
		case PGAI_ECANCELED:
		case PGAI_ETIMEOUT:
		case PGAI_EINTERNAL:
		case PGAI_ENOENT:
		case PGAI_ECORRUPT:
		case PGAI_STATUS_MAX:
			break;
	}
	switch (what)
	{
		case AI_FAILED_INPUT:
			return ERRCODE_INVALID_PARAMETER_VALUE;
		case AI_FAILED_PROVIDER:
			return ERRCODE_EXTERNAL_ROUTINE_EXCEPTION;
		case AI_FAILED_MODEL_LOAD:
		case AI_FAILED_MODEL:
		case AI_FAILED_SETUP:
			break;
	}
	return ERRCODE_INTERNAL_ERROR;
}

/*
 * A value a user gave, cut to at most 64 bytes (on a character boundary)
 * with "..." after it, for error messages: a 10 MB argument must not
 * become a 10 MB message.
 */
char *
ai_bounded(const char *s)
{
	int			n = (int) strnlen(s, 1024);

	if (n <= 64)
		return pnstrdup(s, n);
	n = pg_mbcliplen(s, n, 64);
	return psprintf("%.*s...", n, s);
}
