/*
 * vectorizer_alter.c: ai.alter_vectorizer, changing a vectorizer in place.
 *
 * Arguments left NULL stay as they are. The changes that do not change
 * what is embedded apply at once, with no re-embedding and no change to
 * the queue:
 *   - processing, scheduling, indexing: the catalog's config, which the
 *     workers read on every pass; an ANN index already built stays (the
 *     worker builds one only where none exists);
 *   - grant_to: the roles listed are granted what create_vectorizer grants
 *     (store, view, source; queues and the worker's write functions).
 *     Roles are only added: revoking is REVOKE's job, and the catalog does
 *     not keep the list to subtract from.
 * A change of embedding, chunking or formatting would change every stored
 * embedding; it needs a new generation of the store, which is not built
 * yet, so it is refused. Passing them unchanged is allowed (a migration
 * may restate the whole configuration).
 *
 * Every configuration goes through config_check, as in create_vectorizer,
 * and the same resolutions and cross-checks (default indexing and
 * scheduling, HNSW dimensions).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "ai.h"
#include "catalog.h"
#include "config.h"
#include "sqlgen.h"
#include "vectorizer_create.h"

PG_FUNCTION_INFO_V1(alter_vectorizer);

/* Argument positions, in both SQL declarations (int id or text name). */
enum
{
	ARG_VECTORIZER,
	ARG_EMBEDDING,
	ARG_CHUNKING,
	ARG_FORMATTING,
	ARG_INDEXING,
	ARG_SCHEDULING,
	ARG_PROCESSING,
	ARG_GRANT_TO
};

static Jsonb *
stored_config(const Vectorizer *v, const char *key)
{
	Jsonb	   *c = config_get_object(v->config, key);

	if (c == NULL)
		elog(ERROR, "vectorizer %d has no %s config", v->id, key);
	return c;
}

/*
 * Refuses a change to a configuration that decides what is embedded; the
 * same configuration (defaults filled in) is no change.
 */
static void
check_unchanged(FunctionCallInfo fcinfo, int argno, const Vectorizer *v, const char *key)
{
	Jsonb	   *given;

	if (PG_ARGISNULL(argno))
		return;
	given = config_check(key, PG_GETARG_JSONB_P(argno));
	if (compareJsonbContainers(&given->root, &stored_config(v, key)->root) == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("changing the %s of vectorizer \"%s\" is not supported yet", key, v->name),
			 errdetail("A new %s changes every embedding of the store.", key),
			 errhint("Drop the vectorizer and create it again, or wait for generations (a new store filled while the current one serves).")));
}

static void
append_config(StringInfo buf, const char *key, Jsonb *config)
{
	appendStringInfo(buf, "%s\"%s\": %s", buf->len > 1 ? ", " : "", key,
					 JsonbToCString(NULL, &config->root, VARSIZE(config)));
}

/* What create_vectorizer grants to its grant_to roles, to `roles`. */
static void
grant_roles(const Vectorizer *v, List *roles)
{
	char	   *who = role_list(roles);
	RoleSwitch	rs;

	/*
	 * as the caller, who owns the source (and, as its creator, the store and
	 * view)
	 */
	if (v->target_name != NULL)
		spi_exec(psprintf("GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s",
						  v->target_name, who), SPI_OK_UTILITY);
	if (v->view_name != NULL)
		spi_exec(psprintf("GRANT SELECT ON %s TO %s", v->view_name, who), SPI_OK_UTILITY);
	if (v->source_name != NULL)
		spi_exec(psprintf("GRANT SELECT ON %s TO %s", v->source_name, who), SPI_OK_UTILITY);

	/* the queues and the worker's write functions are the extension owner's */
	role_switch_begin(&rs, ai_extension_owner());
	spi_exec(psprintf("GRANT SELECT, INSERT, UPDATE, DELETE ON %s, %s, %s TO %s",
					  vectorizer_queue_required(v, v->queue_name),
					  vectorizer_queue_required(v, v->queue_lease_name),
					  vectorizer_queue_required(v, v->queue_failed_name), who),
			 SPI_OK_UTILITY);
	spi_exec(psprintf("GRANT EXECUTE ON FUNCTION "
					  "ai._vectorizer_store_replace(int, text[], bytea, boolean), "
					  "ai._vectorizer_record_error(int, text, jsonb) TO %s", who),
			 SPI_OK_UTILITY);
	role_switch_end(&rs);
}

/*
 * ai.alter_vectorizer(vectorizer int | text, embedding, chunking,
 *                     formatting, indexing, scheduling, processing,
 *                     grant_to) returns void
 */
Datum
alter_vectorizer(PG_FUNCTION_ARGS)
{
	int			guc_level;
	Vectorizer *v;
	RoleSwitch	rs;
	StringInfoData changes;
	List	   *roles;
	int64		dims = 0;

	SPI_connect();
	guc_level = ai_pin_search_path();
	v = vectorizer_arg_fetch(fcinfo, ARG_VECTORIZER);
	vectorizer_check_owner(v);

	/* one change at a time: lock the row, then read it as it is now */
	{
		Oid			types[1] = {INT4OID};
		Datum		values[1] = {Int32GetDatum(v->id)};

		role_switch_begin(&rs, ai_extension_owner());
		spi_exec_params("SELECT 1 FROM ai._vectorizer WHERE id = $1 FOR UPDATE",
						1, types, values, NULL, SPI_OK_SELECT);
		role_switch_end(&rs);
		v = vectorizer_fetch(v->id);
	}

	check_unchanged(fcinfo, ARG_EMBEDDING, v, "embedding");
	check_unchanged(fcinfo, ARG_CHUNKING, v, "chunking");
	check_unchanged(fcinfo, ARG_FORMATTING, v, "formatting");

	initStringInfo(&changes);
	appendStringInfoChar(&changes, '{');
	if (!PG_ARGISNULL(ARG_INDEXING))
	{
		Jsonb	   *indexing = resolve_indexing(config_check("indexing",
															 PG_GETARG_JSONB_P(ARG_INDEXING)));

		(void) config_get_int(stored_config(v, "embedding"), "dimensions", &dims);
		check_index_dimensions(indexing, dims);
		append_config(&changes, "indexing", indexing);
	}
	if (!PG_ARGISNULL(ARG_SCHEDULING))
		append_config(&changes, "scheduling",
					  resolve_scheduling(config_check("scheduling",
													  PG_GETARG_JSONB_P(ARG_SCHEDULING))));
	if (!PG_ARGISNULL(ARG_PROCESSING))
		append_config(&changes, "processing",
					  config_check("processing", PG_GETARG_JSONB_P(ARG_PROCESSING)));
	appendStringInfoChar(&changes, '}');
	roles = grantees(fcinfo, ARG_GRANT_TO);

	if (changes.len > 2)
	{
		Oid			types[2] = {INT4OID, JSONBOID};
		Datum		values[2] = {Int32GetDatum(v->id),
		DirectFunctionCall1(jsonb_in, CStringGetDatum(changes.data))};

		role_switch_begin(&rs, ai_extension_owner());
		spi_exec_params("UPDATE ai._vectorizer SET config = config OPERATOR(pg_catalog.||) $2, "
						"updated_at = pg_catalog.now() WHERE id = $1",
						2, types, values, NULL, SPI_OK_UPDATE);
		role_switch_end(&rs);
	}
	if (roles != NIL)
		grant_roles(v, roles);

	ai_restore_search_path(guc_level);
	SPI_finish();
	PG_RETURN_VOID();
}
