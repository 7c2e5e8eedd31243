/*
 * event.c: the sql_drop event trigger that keeps the catalog whole.
 *
 * Dropping a source table drops its capture triggers with it and, with
 * CASCADE, the store's foreign key and the view. What PostgreSQL cannot know
 * to drop are the vectorizer's catalog row and queue tables: this trigger
 * removes them. The store table keeps its rows: it is the user's data. A
 * store, view or queue dropped on its own leaves the vectorizer with NULL
 * in its place.
 * Dropped tables are matched by OID: whatever the source is called now, and
 * never a table another role made under a name the source once had.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "ai.h"
#include "catalog.h"
#include "vectorizer_drop.h"

PG_FUNCTION_INFO_V1(_vectorizer_handle_drops);

Datum
_vectorizer_handle_drops(PG_FUNCTION_ARGS)
{
	int			guc_level;
	List	   *ids = NIL;
	List	   *names = NIL;
	ListCell   *lc,
			   *ln;
	RoleSwitch	rs;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("ai._vectorizer_handle_drops() must be called as an event trigger")));

	SPI_connect();
	guc_level = ai_pin_search_path();
	/* DROP EXTENSION ai takes the catalog with it: nothing left to tidy */
	spi_exec("SELECT pg_catalog.to_regclass('ai._vectorizer') IS NOT NULL", SPI_OK_SELECT);
	if (SPI_processed == 1)
	{
		bool		isnull;

		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		{
			ai_restore_search_path(guc_level);
			SPI_finish();
			PG_RETURN_VOID();
		}
	}

	/* the source is gone from pg_class by now: its name comes from here */
	spi_exec("SELECT v.id, pg_catalog.format('%I.%I', d.schema_name, d.object_name) "
			 "FROM ai._vectorizer v "
			 "JOIN pg_catalog.pg_event_trigger_dropped_objects() d "
			 "ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
			 "AND d.objid = v.source::pg_catalog.oid AND d.objsubid = 0 "
			 "AND d.object_type = 'table' "
			 "ORDER BY v.id",
			 SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		ids = lappend_int(ids, DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 1, &isnull)));
		names = lappend(names, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
	}

	role_switch_begin(&rs, ai_extension_owner());
	forboth(lc, ids, ln, names)
	{
		Vectorizer *v = vectorizer_fetch(lfirst_int(lc));
		Oid			types[1] = {INT4OID};
		Datum		values[1] = {Int32GetDatum(v->id)};

		vectorizer_drop_queues(v);
		spi_exec_params("DELETE FROM ai._vectorizer WHERE id = $1", 1, types, values,
						NULL, SPI_OK_DELETE);
		if (v->target_name != NULL)
			ereport(NOTICE,
					(errmsg("dropped vectorizer %d of table %s", v->id, (char *) lfirst(ln)),
					 errdetail("Its store table %s keeps its rows.", v->target_name)));
		else
			ereport(NOTICE,
					(errmsg("dropped vectorizer %d of table %s", v->id, (char *) lfirst(ln))));
	}

	/*
	 * A store, view or queue dropped on its own: forget its OID, so that an
	 * OID the server hands out again (after the counter wraps) can never make
	 * another relation this vectorizer's.
	 */
	spi_exec("WITH d AS (SELECT d.objid FROM pg_catalog.pg_event_trigger_dropped_objects() d "
			 "WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0) "
			 "UPDATE ai._vectorizer v SET "
			 "target = CASE WHEN v.target::pg_catalog.oid IN (SELECT objid FROM d) THEN NULL ELSE v.target END, "
			 "\"view\" = CASE WHEN v.\"view\"::pg_catalog.oid IN (SELECT objid FROM d) THEN NULL ELSE v.\"view\" END, "
			 "queue = CASE WHEN v.queue::pg_catalog.oid IN (SELECT objid FROM d) THEN NULL ELSE v.queue END, "
			 "queue_lease = CASE WHEN v.queue_lease::pg_catalog.oid IN (SELECT objid FROM d) "
			 "THEN NULL ELSE v.queue_lease END, "
			 "queue_failed = CASE WHEN v.queue_failed::pg_catalog.oid IN (SELECT objid FROM d) "
			 "THEN NULL ELSE v.queue_failed END, "
			 "updated_at = pg_catalog.now() "
			 "WHERE ARRAY[v.target, v.\"view\", v.queue, v.queue_lease, v.queue_failed]::pg_catalog.oid[] "
			 "OPERATOR(pg_catalog.&&) ARRAY(SELECT objid FROM d)",
			 SPI_OK_UPDATE);
	role_switch_end(&rs);
	ai_restore_search_path(guc_level);
	SPI_finish();
	PG_RETURN_VOID();
}
