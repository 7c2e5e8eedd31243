/*
 * pgai_error.h -- status codes and the error record shared by core/
 * (implemented in core/common/error.c).
 *
 * Every core function that can fail returns a pgai_status and fills a
 * pgai_error that the CALLER owns (usually on its stack).  Core never
 * prints, logs or aborts; the caller decides how to report (ereport in the
 * extension, a log line in the worker).  Out of memory is an ordinary
 * status, PGAI_ENOMEM.
 *
 * Codes are stable: new ones are only ever appended before PGAI_STATUS_MAX,
 * so a table mapping codes to SQLSTATEs stays valid.
 */
#ifndef PGAI_ERROR_H
#define PGAI_ERROR_H

#include <stddef.h>

typedef enum pgai_status
{
	PGAI_OK = 0,
	PGAI_ENOMEM,				/* an allocation failed */
	PGAI_EINVAL,				/* invalid argument or configuration */
	PGAI_ETEMPLATE_SYNTAX,		/* invalid $ placeholder in a template */
	PGAI_ETEMPLATE_NAME,		/* template names a value nobody supplied */
	PGAI_EREGEX,				/* separator regex does not compile or fails */
	PGAI_EUTF8,					/* input is not valid UTF-8 */
	PGAI_EIO,					/* read/write/socket failure */
	PGAI_EHTTP,					/* HTTP transport or status failure */
	PGAI_EPROVIDER,				/* an embedding provider reported an error */
	PGAI_EJSON,					/* malformed JSON */
	PGAI_ECANCELED,				/* interrupted by the caller */
	PGAI_ETIMEOUT,				/* a deadline passed */
	PGAI_EINTERNAL,				/* a bug: an invariant did not hold */
	PGAI_ENOENT,				/* a file or directory is missing */
	PGAI_ECORRUPT,				/* a file is malformed or inconsistent */
	PGAI_STATUS_MAX
} pgai_status;

#define PGAI_ERROR_MESSAGE_SIZE 512

/*
 * The error record.  `code` is a pgai_status (int so other components can
 * store it without the enum); `message` is a NUL-terminated, lower-case
 * primary message without a trailing period (PostgreSQL style), truncated
 * to fit.  Messages never contain keys or request bodies.
 */
typedef struct pgai_error
{
	int			code;
	char		message[PGAI_ERROR_MESSAGE_SIZE];
} pgai_error;

/*
 * Set err->code to `code` and format the message (printf-style).  err may
 * be NULL (then nothing happens).  Returns `code` so callers can write
 * `return pgai_error_set(err, PGAI_EINVAL, "...")`.
 */
pgai_status pgai_error_set(pgai_error *err, pgai_status code, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Reset to PGAI_OK with an empty message.  err may be NULL. */
void		pgai_error_clear(pgai_error *err);

/* Short constant name of a status ("PGAI_ENOMEM"); never NULL; static. */
const char *pgai_status_name(pgai_status code);

#endif							/* PGAI_ERROR_H */
