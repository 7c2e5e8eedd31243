/*
 * vectorizer_drop.c: ai.drop_vectorizer, and dropping a vectorizer's queues
 * (shared with the sql_drop event trigger, event.c).
 *
 * Every object is the one the catalog holds by OID, under whatever name it
 * has now; the capture triggers are found in pg_trigger by the function
 * and argument they call, whatever they are called.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "ai.h"
#include "catalog.h"
#include "sqlgen.h"
#include "vectorizer_drop.h"

PG_FUNCTION_INFO_V1(drop_vectorizer);

/*
 * Drops the capture triggers of vectorizer `v` on its source: every trigger
 * there that calls ai._vectorizer_capture with this vectorizer's id, found
 * in pg_trigger whatever the source and the triggers are called now.
 */
static void
drop_capture_triggers(const Vectorizer *v)
{
	Oid			types[2] = {OIDOID, TEXTOID};
	Datum		values[2] = {ObjectIdGetDatum(v->source),
	CStringGetTextDatum(psprintf("%d", v->id))};
	List	   *names = NIL;
	ListCell   *lc;

	if (v->source_name == NULL)
		return;					/* gone, and its triggers with it */
	/* tgargs holds each argument followed by a NUL byte */
	spi_exec_params("SELECT t.tgname FROM pg_catalog.pg_trigger t "
					"WHERE t.tgrelid = $1 AND NOT t.tgisinternal "
					"AND t.tgfoid = 'ai._vectorizer_capture()'::pg_catalog.regprocedure "
					"AND t.tgnargs = 1 "
					"AND t.tgargs = pg_catalog.convert_to($2, 'UTF8') "
					"OPERATOR(pg_catalog.||) '\\x00'::pg_catalog.bytea "
					"ORDER BY t.tgname",
					2, types, values, NULL, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
		names = lappend(names, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	foreach(lc, names)
		spi_exec(psprintf("DROP TRIGGER %s ON %s", sqlgen_ident(lfirst(lc)), v->source_name),
				 SPI_OK_UTILITY);
}

/*
 * ai.drop_vectorizer(id int | name text, drop_all boolean DEFAULT false)
 * Removes the triggers, the queues and the catalog row; with drop_all also
 * the view and the store table. Every object is the one the catalog holds
 * by OID, under whatever name it has now.
 */
Datum
drop_vectorizer(PG_FUNCTION_ARGS)
{
	bool		drop_all = PG_GETARG_BOOL(1);
	Vectorizer *v;
	RoleSwitch	rs;
	int			guc_level;

	SPI_connect();
	guc_level = ai_pin_search_path();

	v = vectorizer_arg_fetch(fcinfo, 0);
	vectorizer_check_owner(v);

	drop_capture_triggers(v);
	if (drop_all)
	{
		if (v->view_name != NULL)
			spi_exec(psprintf("DROP VIEW %s", v->view_name), SPI_OK_UTILITY);
		if (v->target_name != NULL)
			spi_exec(psprintf("DROP TABLE %s", v->target_name), SPI_OK_UTILITY);
	}

	role_switch_begin(&rs, ai_extension_owner());
	vectorizer_drop_queues(v);
	{
		Oid			types[1] = {INT4OID};
		Datum		values[1] = {Int32GetDatum(v->id)};

		spi_exec_params("DELETE FROM ai._vectorizer WHERE id = $1", 1, types, values,
						NULL, SPI_OK_DELETE);
	}
	role_switch_end(&rs);

	ai_restore_search_path(guc_level);
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * Drops a vectorizer's queue tables, those that are still there; the caller
 * has switched to the owner.
 */
void
vectorizer_drop_queues(const Vectorizer *v)
{
	const char *const queues[] = {v->queue_name, v->queue_lease_name, v->queue_failed_name};

	for (size_t i = 0; i < lengthof(queues); i++)
		if (queues[i] != NULL)
			spi_exec(psprintf("DROP TABLE %s", queues[i]), SPI_OK_UTILITY);
}
