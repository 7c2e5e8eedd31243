/*
 * model_util.h: small helpers shared by the files of core/model.
 */
#ifndef PGAI_MODEL_UTIL_H
#define PGAI_MODEL_UTIL_H

#include <stdarg.h>
#include <stdio.h>

#include "pgai_model.h"

/* Format a message into the caller's buffer (which may be NULL) and return
 * `status`, so error paths read `return model_fail(st, err, errlen, ...)`. */
static inline pgai_model_status
model_fail(pgai_model_status status, char *err, size_t errlen, const char *fmt,...)
	__attribute__((format(printf, 4, 5)));

static inline pgai_model_status
model_fail(pgai_model_status status, char *err, size_t errlen, const char *fmt,...)
{
	if (err != NULL && errlen > 0)
	{
		va_list		ap;

		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return status;
}

#endif
