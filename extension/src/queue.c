/*
 * queue.c: what operators ask of a vectorizer's queues and schedule.
 *
 * Counting reads the queues with the caller's privileges; retrying failed
 * rows and switching the schedule change catalog state, so they require the
 * caller to own the source and run the writes as the extension's owner.
 * Every "there is work" notification the extension sends goes out from
 * here (queue_notify_work).
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "ai.h"
#include "catalog.h"
#include "queue.h"
#include "sqlgen.h"

PG_FUNCTION_INFO_V1(vectorizer_queue_pending);
PG_FUNCTION_INFO_V1(vectorizer_queue_failed);
PG_FUNCTION_INFO_V1(vectorizer_retry_failed);
PG_FUNCTION_INFO_V1(enable_vectorizer_schedule);
PG_FUNCTION_INFO_V1(disable_vectorizer_schedule);

/*
 * The payload is the id, so a worker serving some vectorizers wakes only
 * for its own; PostgreSQL sends it at commit, and not at all on rollback.
 */
void
queue_notify_work(int32 id)
{
	Async_Notify(AI_NOTIFY_CHANNEL, psprintf("%d", id));
}

/* Below this many rows a count is always exact: it costs next to nothing. */
#define EXACT_COUNT_LIMIT 10000

static int64
count_rows(const char *table, int64 limit)
{
	bool		isnull;
	char	   *sql;

	if (limit > 0)
		sql = psprintf("SELECT pg_catalog.count(*) FROM (SELECT 1 FROM %s LIMIT " INT64_FORMAT ") s",
					   table, limit);
	else
		sql = psprintf("SELECT pg_catalog.count(*) FROM %s", table);

	spi_exec(sql, SPI_OK_SELECT);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * The planner's kind of estimate: tuple density from the last ANALYZE or
 * VACUUM times the table's current size in pages. -1 when never measured.
 */
static int64
estimate_rows(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	BlockNumber pages = RelationGetNumberOfBlocks(rel);
	double		reltuples = rel->rd_rel->reltuples;
	BlockNumber relpages = rel->rd_rel->relpages;

	table_close(rel, AccessShareLock);
	if (reltuples < 0 || relpages == 0)
		return -1;
	return (int64) (reltuples / relpages * pages + 0.5);
}

/*
 * ai.vectorizer_queue_pending(id int | name text, exact_count boolean DEFAULT false)
 * Rows waiting in the queue. Small queues are counted exactly; a large one
 * is estimated unless exact_count asks for a full count, however long.
 */
Datum
vectorizer_queue_pending(PG_FUNCTION_ARGS)
{
	int			guc_level;
	bool		exact = PG_GETARG_BOOL(1);
	Vectorizer *v;
	char	   *queue;
	int64		n;

	SPI_connect();
	guc_level = ai_pin_search_path();
	v = vectorizer_arg_fetch(fcinfo, 0);
	queue = (char *) vectorizer_queue_required(v, v->queue_name);
	if (exact)
		n = count_rows(queue, 0);
	else
	{
		n = count_rows(queue, EXACT_COUNT_LIMIT + 1);
		if (n > EXACT_COUNT_LIMIT)
		{
			int64		est = estimate_rows(v->queue);

			/* the estimate may lag; never report fewer rows than we saw */
			n = Max(n, est);
			if (est < 0)
				n = count_rows(queue, 0);
		}
	}
	ai_restore_search_path(guc_level);
	SPI_finish();
	PG_RETURN_INT64(n);
}

/* ai.vectorizer_queue_failed(id int | name text): rows moved aside after failing. */
Datum
vectorizer_queue_failed(PG_FUNCTION_ARGS)
{
	int			guc_level;
	Vectorizer *v;
	int64		n;

	SPI_connect();
	guc_level = ai_pin_search_path();
	v = vectorizer_arg_fetch(fcinfo, 0);
	n = count_rows(vectorizer_queue_required(v, v->queue_failed_name), 0);
	ai_restore_search_path(guc_level);
	SPI_finish();
	PG_RETURN_INT64(n);
}

/*
 * ai.vectorizer_retry_failed(id int | name text) returns bigint
 * Moves every failed key back into the queue with its attempts reset.
 */
Datum
vectorizer_retry_failed(PG_FUNCTION_ARGS)
{
	int			guc_level;
	Vectorizer *v;
	RoleSwitch	rs;
	char	   *keys;
	int64		moved;

	SPI_connect();
	guc_level = ai_pin_search_path();
	v = vectorizer_arg_fetch(fcinfo, 0);
	vectorizer_check_owner(v);
	keys = pk_list(vectorizer_pk_names(v), "");
	role_switch_begin(&rs, ai_extension_owner());
	/* back into the queue, with the attempts of the lease rows forgotten */
	spi_exec(psprintf("WITH m AS (DELETE FROM %s RETURNING %s), "
					  "l AS (DELETE FROM %s x USING m WHERE %s) "
					  "INSERT INTO %s (%s) SELECT %s FROM m",
					  vectorizer_queue_required(v, v->queue_failed_name), keys,
					  vectorizer_queue_required(v, v->queue_lease_name),
					  pk_join(vectorizer_pk_names(v), "x", "m"),
					  vectorizer_queue_required(v, v->queue_name), keys, keys),
			 SPI_OK_INSERT);
	moved = SPI_processed;
	role_switch_end(&rs);
	ai_restore_search_path(guc_level);
	SPI_finish();
	if (moved > 0)
		queue_notify_work(v->id);
	PG_RETURN_INT64(moved);
}

static void
set_disabled(FunctionCallInfo fcinfo, bool disabled)
{
	int			guc_level;
	Vectorizer *v;
	RoleSwitch	rs;
	Oid			types[2] = {INT4OID, BOOLOID};
	Datum		values[2];

	SPI_connect();
	guc_level = ai_pin_search_path();
	v = vectorizer_arg_fetch(fcinfo, 0);
	vectorizer_check_owner(v);
	values[0] = Int32GetDatum(v->id);
	values[1] = BoolGetDatum(disabled);
	role_switch_begin(&rs, ai_extension_owner());
	spi_exec_params("UPDATE ai._vectorizer SET disabled = $2, updated_at = pg_catalog.now() "
					"WHERE id = $1", 2, types, values, NULL, SPI_OK_UPDATE);
	role_switch_end(&rs);
	ai_restore_search_path(guc_level);
	SPI_finish();
	if (!disabled)
		queue_notify_work(v->id);
}

/* ai.enable_vectorizer_schedule(id int | name text): workers process it again. */
Datum
enable_vectorizer_schedule(PG_FUNCTION_ARGS)
{
	set_disabled(fcinfo, false);
	PG_RETURN_VOID();
}

/* ai.disable_vectorizer_schedule(id int | name text): workers leave it alone; capture goes on. */
Datum
disable_vectorizer_schedule(PG_FUNCTION_ARGS)
{
	set_disabled(fcinfo, true);
	PG_RETURN_VOID();
}
