/*
 * capture.c: change capture, the trigger function ai._vectorizer_capture.
 *
 * Every vectorizer has three statement-level triggers on its source, all
 * calling this function with the vectorizer's id:
 *   AFTER INSERT (new rows as _ai_new): enqueue every new key;
 *   AFTER UPDATE (_ai_old, _ai_new): enqueue the keys whose chunk column or
 *     template columns changed, and keys that are new (a key update);
 *   AFTER TRUNCATE: empty the queues (TRUNCATE ... CASCADE has emptied the
 *     store through its foreign key).
 * Statement-level triggers with transition tables cost a writer a few
 * microseconds a row, against some 16 for a row-level trigger. The queue
 * is append-only, so an enqueue is one plain insert a key: workers collapse
 * duplicates, and a key that failed before is simply claimed again.
 *
 * Queue writes run as the queue's owner, as referential-integrity triggers
 * do, so that anyone allowed to write the source can enqueue. Plans are
 * prepared once per trigger and backend and kept in a hash table in
 * TopMemoryContext, keyed by the trigger's OID, and rebuilt after any
 * change to the source table or the queues (capture_invalidate). The
 * vectorizer is found by the trigger's argument and its tables by OID, so
 * renaming the source or moving it to another schema changes nothing here.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "parser/parse_relation.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#include "ai.h"
#include "catalog.h"
#include "config.h"
#include "queue.h"
#include "sqlgen.h"

PG_FUNCTION_INFO_V1(_vectorizer_capture);

typedef struct CapturePlans
{
	Oid			tgoid;			/* hash key */
	Oid			relid;			/* the source table */
	Oid			queues[3];		/* queue, lease and failed tables */
	bool		stale;			/* the source changed since: rebuild */
	int32		vectorizer_id;
	Oid			queue_owner;
	char	   *truncate_sql;	/* in TopMemoryContext */
	SPIPlanPtr	enqueue;		/* insert the changed keys into the queue */
} CapturePlans;

static HTAB *capture_plans = NULL;

/*
 * The plans' SQL names the source's columns and the queues, so a change to
 * the source (a template column dropped, a column renamed) or a queue (a
 * rename: a kept plan is parsed again by name when invalidated) must
 * rebuild them: a relcache invalidation marks the entries stale. They are
 * freed at the next lookup, never here, where a plan may be running.
 */
static void
capture_invalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS it;
	CapturePlans *entry;

	if (capture_plans == NULL)
		return;
	hash_seq_init(&it, capture_plans);
	while ((entry = hash_seq_search(&it)) != NULL)
		if (relid == InvalidOid || entry->relid == relid || entry->queues[0] == relid ||
			entry->queues[1] == relid || entry->queues[2] == relid)
			entry->stale = true;
}

/*
 * The keys to enqueue, as a query over the transition tables: every new key
 * for an insert; for an update, the new keys whose inputs changed or that
 * have no old row with the same key.
 */
static char *
changed_keys_sql(const Vectorizer *v, Relation rel, bool is_update, List *pknames)
{
	StringInfoData buf;
	Jsonb	   *chunking = config_get_object(v->config, "chunking");
	Jsonb	   *formatting = config_get_object(v->config, "formatting");
	List	   *inputs = NIL;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfo(&buf, "SELECT %s FROM _ai_new n", pk_list(pknames, "n."));
	if (!is_update)
		return buf.data;

	inputs = lappend(inputs, makeString((char *) config_get_string(chunking, "chunk_column")));
	foreach(lc, template_names(config_get_string(formatting, "template")))
	{
		if (strcmp(strVal(lfirst(lc)), "chunk") != 0)
			inputs = list_append_unique(inputs, lfirst(lc));
	}

	appendStringInfo(&buf, " LEFT JOIN _ai_old o ON %s WHERE o.%s IS NULL",
					 pk_join(pknames, "o", "n"), quote_identifier(linitial(pknames)));
	foreach(lc, inputs)
	{
		const char *col = strVal(lfirst(lc));
		AttrNumber	attnum = attnameAttNum(rel, col, false);
		Oid			typid;
		TypeCacheEntry *tc;
		const char *qc = quote_identifier(col);

		if (attnum == InvalidAttrNumber)
			continue;			/* column dropped since: nothing to compare */
		typid = TupleDescAttr(RelationGetDescr(rel), attnum - 1)->atttypid;
		tc = lookup_type_cache(typid, TYPECACHE_EQ_OPR);
		/* types without equality (json, point) compare by their text */
		if (OidIsValid(tc->eq_opr))
			appendStringInfo(&buf, " OR o.%s IS DISTINCT FROM n.%s", qc, qc);
		else
			appendStringInfo(&buf, " OR o.%s::text IS DISTINCT FROM n.%s::text", qc, qc);
	}
	return buf.data;
}

static SPIPlanPtr
prepare_kept(const char *sql)
{
	SPIPlanPtr	plan = SPI_prepare(sql, 0, NULL);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed with %s: %s",
			 SPI_result_code_string(SPI_result), sql);
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

/*
 * The trigger must be on the vectorizer's own source: the function is not
 * executable by PUBLIC, and a trigger attached elsewhere (by anyone) must
 * not fill or empty this vectorizer's queue. By OID, so a renamed or moved
 * source, or a renamed trigger, keeps capturing.
 */
static void
check_own_trigger(TriggerData *td, const Vectorizer *v)
{
	if (v->source != RelationGetRelid(td->tg_relation))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("trigger \"%s\" on table \"%s\" is not a capture trigger of vectorizer %d",
						td->tg_trigger->tgname, RelationGetRelationName(td->tg_relation), v->id),
				 errhint("Capture triggers are created by ai.create_vectorizer; drop this one.")));
}

static CapturePlans *
capture_plans_for(TriggerData *td, int32 id)
{
	Oid			tgoid = td->tg_trigger->tgoid;
	CapturePlans *entry;
	bool		found;
	Vectorizer *v;
	List	   *pknames;
	char	   *queue,
			   *keys;
	bool		is_update = TRIGGER_FIRED_BY_UPDATE(td->tg_event);

	if (capture_plans == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(CapturePlans);
		capture_plans = hash_create("ai capture plans", 16, &ctl, HASH_ELEM | HASH_BLOBS);
		CacheRegisterRelcacheCallback(capture_invalidate, (Datum) 0);
	}
	entry = hash_search(capture_plans, &tgoid, HASH_FIND, &found);
	if (found && !entry->stale)
		return entry;
	if (found)
	{
		if (entry->enqueue != NULL)
			SPI_freeplan(entry->enqueue);
		if (entry->truncate_sql != NULL)
			pfree(entry->truncate_sql);
		hash_search(capture_plans, &tgoid, HASH_REMOVE, NULL);
	}

	v = vectorizer_fetch(id);
	check_own_trigger(td, v);
	pknames = vectorizer_pk_names(v);
	queue = (char *) vectorizer_queue_required(v, v->queue_name);
	keys = pk_list(pknames, "");

	/* build everything before entering it, so an error leaves no half entry */
	{
		CapturePlans tmp = {0};

		tmp.tgoid = tgoid;
		tmp.relid = RelationGetRelid(td->tg_relation);
		tmp.queues[0] = v->queue;
		tmp.queues[1] = v->queue_lease;
		tmp.queues[2] = v->queue_failed;
		tmp.vectorizer_id = id;
		tmp.queue_owner = ai_extension_owner();
		if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
			tmp.truncate_sql = MemoryContextStrdup(TopMemoryContext,
												   psprintf("TRUNCATE %s, %s, %s", queue,
															vectorizer_queue_required(v, v->queue_lease_name),
															vectorizer_queue_required(v, v->queue_failed_name)));
		else
		{
			RoleSwitch	rs;

			role_switch_begin(&rs, tmp.queue_owner);
			tmp.enqueue = prepare_kept(psprintf("INSERT INTO %s (%s) %s", queue, keys,
												changed_keys_sql(v, td->tg_relation,
																 is_update, pknames)));
			role_switch_end(&rs);
		}
		entry = hash_search(capture_plans, &tgoid, HASH_ENTER, &found);
		*entry = tmp;
	}
	return entry;
}

Datum
_vectorizer_capture(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	CapturePlans *plans;
	RoleSwitch	rs;
	int32		id;
	uint64		queued = 0;
	int			guc_level;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("ai._vectorizer_capture() must be called as a trigger")));
	if (!TRIGGER_FIRED_FOR_STATEMENT(td->tg_event) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		td->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("ai._vectorizer_capture() must be an AFTER ... FOR EACH STATEMENT trigger with the vectorizer id as its argument")));
	id = pg_strtoint32(td->tg_trigger->tgargs[0]);

	SPI_connect();
	/* before anything is looked up or parsed as the queue's owner */
	guc_level = ai_pin_search_path();
	/* the transition tables must be known before the plans are prepared */
	SPI_register_trigger_data(td);
	plans = capture_plans_for(td, id);
	if (plans->truncate_sql != NULL)
	{
		role_switch_begin(&rs, plans->queue_owner);
		spi_exec(plans->truncate_sql, SPI_OK_UTILITY);
		role_switch_end(&rs);
	}
	else if (td->tg_newtable != NULL && tuplestore_tuple_count(td->tg_newtable) > 0)
	{
		int			rc;

		role_switch_begin(&rs, plans->queue_owner);
		rc = SPI_execute_plan(plans->enqueue, NULL, NULL, false, 0);
		role_switch_end(&rs);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "enqueue failed with %s", SPI_result_code_string(rc));
		queued = SPI_processed;
	}
	ai_restore_search_path(guc_level);
	SPI_finish();

	if (queued > 0)
		queue_notify_work(id);
	return PointerGetDatum(NULL);
}
