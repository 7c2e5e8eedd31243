/*
 * error.c -- the pgai_error record (see pgai_error.h).
 *
 * The record is always owned by the caller; these helpers only write into
 * it and never allocate.
 */
#include <stdarg.h>
#include <stdio.h>

#include "pgai_error.h"

pgai_status
pgai_error_set(pgai_error *err, pgai_status code, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return code;
	err->code = (int) code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

void
pgai_error_clear(pgai_error *err)
{
	if (err == NULL)
		return;
	err->code = PGAI_OK;
	err->message[0] = '\0';
}

const char *
pgai_status_name(pgai_status code)
{
	static const char *const names[PGAI_STATUS_MAX] = {
		[PGAI_OK] = "PGAI_OK",
		[PGAI_ENOMEM] = "PGAI_ENOMEM",
		[PGAI_EINVAL] = "PGAI_EINVAL",
		[PGAI_ETEMPLATE_SYNTAX] = "PGAI_ETEMPLATE_SYNTAX",
		[PGAI_ETEMPLATE_NAME] = "PGAI_ETEMPLATE_NAME",
		[PGAI_EREGEX] = "PGAI_EREGEX",
		[PGAI_EUTF8] = "PGAI_EUTF8",
		[PGAI_EIO] = "PGAI_EIO",
		[PGAI_EHTTP] = "PGAI_EHTTP",
		[PGAI_EPROVIDER] = "PGAI_EPROVIDER",
		[PGAI_EJSON] = "PGAI_EJSON",
		[PGAI_ECANCELED] = "PGAI_ECANCELED",
		[PGAI_ETIMEOUT] = "PGAI_ETIMEOUT",
		[PGAI_EINTERNAL] = "PGAI_EINTERNAL",
		[PGAI_ENOENT] = "PGAI_ENOENT",
		[PGAI_ECORRUPT] = "PGAI_ECORRUPT",
	};

	if ((int) code < 0 || code >= PGAI_STATUS_MAX || names[code] == NULL)
		return "PGAI_UNKNOWN";
	return names[code];
}
