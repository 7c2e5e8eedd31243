/*
 * error_record.c: ai.vectorizer_errors, written only through one function.
 *
 * The table is the operators' record of what failed. Nobody but the
 * extension's owner may INSERT into it directly: a grant_to role could
 * otherwise forge error rows for any vectorizer. The worker records through
 * ai._vectorizer_record_error(id, message, details), which checks that the
 * caller may write that vectorizer's store (the right the worker needs to
 * do its job at all), bounds the message, and inserts as the extension's
 * owner. Reading goes through a row-level security policy (see the SQL
 * script): a role sees the errors of the vectorizers whose store it may
 * read.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "ai.h"
#include "catalog.h"

PG_FUNCTION_INFO_V1(vectorizer_record_error);

/* Longest message kept: enough for any provider's or server's error. */
#define ERROR_MESSAGE_MAX 2000

Datum
vectorizer_record_error(PG_FUNCTION_ARGS)
{
	Oid			caller = GetUserId();
	Vectorizer *v;
	Oid			relid = InvalidOid;
	char	   *message;
	int			guc_level;
	RoleSwitch	rs;
	Oid			types[3] = {INT4OID, TEXTOID, JSONBOID};
	Datum		values[3];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ai._vectorizer_record_error needs a vectorizer id and a message"),
				 errhint("details may be NULL; the other two may not.")));
	message = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (strlen(message) > ERROR_MESSAGE_MAX)
		message[pg_mbcliplen(message, strlen(message), ERROR_MESSAGE_MAX)] = '\0';

	SPI_connect();
	guc_level = ai_pin_search_path();
	v = vectorizer_fetch(PG_GETARG_INT32(0));
	/* the store by OID, never a table that took its old name */
	if (v->target_name != NULL)
		relid = v->target;
	if (!OidIsValid(relid) || pg_class_aclcheck(relid, caller, ACL_INSERT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to record errors of vectorizer %d", v->id),
				 errhint("Errors are recorded by roles that may write the vectorizer's store "
						 "(its owner and its grant_to roles).")));

	values[0] = Int32GetDatum(v->id);
	values[1] = CStringGetTextDatum(message);
	values[2] = PG_ARGISNULL(2) ? DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")) :
		PG_GETARG_DATUM(2);
	role_switch_begin(&rs, ai_extension_owner());
	spi_exec_params("INSERT INTO ai.vectorizer_errors (id, message, details) VALUES ($1, $2, $3)",
					3, types, values, NULL, SPI_OK_INSERT);
	role_switch_end(&rs);

	ai_restore_search_path(guc_level);
	SPI_finish();
	PG_RETURN_VOID();
}
