/*
 * catalog.c: reading ai._vectorizer, ownership checks, running work as the
 * extension's owner, and small SPI helpers.
 *
 * The catalog holds its tables by OID; names are looked up from the OIDs
 * whenever a row is read, so they are the current ones.
 *
 * Catalog rows and queue tables belong to the role that created the
 * extension; users never write them directly. Functions that change them
 * check that the caller owns the source table, then switch to that role
 * with role_switch_begin() for the writes, the way PostgreSQL's
 * referential-integrity triggers act as the owner of the referenced table.
 * Callers must have SPI connected. Names of the objects come from
 * sqlgen.c.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "catalog.h"
#include "config.h"
#include "sqlgen.h"
#include "sqlstate.h"

int
spi_exec(const char *sql, int expected)
{
	int			rc = SPI_execute(sql, false, 0);

	if (rc != expected)
		elog(ERROR, "SPI_execute failed with %s: %s", SPI_result_code_string(rc), sql);
	return rc;
}

int
spi_exec_params(const char *sql, int nargs, Oid *types, Datum *values,
				const char *nulls, int expected)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);

	if (rc != expected)
		elog(ERROR, "SPI_execute_with_args failed with %s: %s",
			 SPI_result_code_string(rc), sql);
	return rc;
}

/*
 * Reads an extension's owner and schema; raises an error, with `hint`,
 * when the extension is not installed.
 */
static void
extension_lookup(const char *extname, Oid *owner, Oid *schema)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(extname));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"%s\" is not installed", extname),
				 errhint("Run CREATE EXTENSION ai CASCADE.")));
	*owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	*schema = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* The role that owns the "ai" extension, and so its catalog and queues. */
Oid
ai_extension_owner(void)
{
	Oid			owner,
				schema;

	extension_lookup("ai", &owner, &schema);
	return owner;
}

/* The schema pgvector was installed into, where its type "vector" lives. */
char *
vector_schema(void)
{
	Oid			owner,
				schema;

	extension_lookup("vector", &owner, &schema);
	return get_namespace_name(schema);
}

/*
 * Pins search_path to pg_catalog, pg_temp until ai_restore_search_path:
 * every statement the extension parses while acting as its owner must
 * resolve names and operators where no other role can put its own (a role
 * that puts a schema with its own "=" first would otherwise run that
 * operator's function as the owner). Returns the GUC nest level to close.
 */
int
ai_pin_search_path(void)
{
	int			nest_level = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return nest_level;
}

void
ai_restore_search_path(int level)
{
	AtEOXact_GUC(true, level);
}

void
role_switch_begin(RoleSwitch *rs, Oid role)
{
	GetUserIdAndSecContext(&rs->save_userid, &rs->save_sec_context);
	SetUserIdAndSecContext(role, rs->save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
}

void
role_switch_end(RoleSwitch *rs)
{
	SetUserIdAndSecContext(rs->save_userid, rs->save_sec_context);
}

static Oid
get_oid(HeapTuple tup, TupleDesc desc, const char *col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, SPI_fnumber(desc, col), &isnull);

	return isnull ? InvalidOid : DatumGetObjectId(d);
}

static Jsonb *
get_jsonb(HeapTuple tup, TupleDesc desc, const char *col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, SPI_fnumber(desc, col), &isnull);

	return isnull ? NULL : DatumGetJsonbPCopy(d);
}

/*
 * Reads vectorizer `id` from the catalog; raises an error if there is none.
 * The result is allocated in the caller's memory context (outside SPI's).
 */
Vectorizer *
vectorizer_fetch(int32 id)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(id)};
	Vectorizer *v;
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	MemoryContext old;

	spi_exec_params("SELECT * FROM ai._vectorizer WHERE id = $1",
					1, types, values, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("vectorizer %d does not exist", id),
				 errhint("SELECT id, source_table FROM ai.vectorizer_status lists the vectorizers.")));
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;

	/* copy into the caller's context so the row outlives the next SPI call */
	v = SPI_palloc(sizeof(Vectorizer));
	v->id = id;
	old = MemoryContextSwitchTo(GetMemoryChunkContext(v));
	v->source = get_oid(tup, desc, "source");
	v->target = get_oid(tup, desc, "target");
	v->view = get_oid(tup, desc, "view");
	v->queue = get_oid(tup, desc, "queue");
	v->queue_lease = get_oid(tup, desc, "queue_lease");
	v->queue_failed = get_oid(tup, desc, "queue_failed");
	v->source_name = relation_qualified(v->source);
	v->target_name = relation_qualified(v->target);
	v->view_name = relation_qualified(v->view);
	v->queue_name = relation_qualified(v->queue);
	v->queue_lease_name = relation_qualified(v->queue_lease);
	v->queue_failed_name = relation_qualified(v->queue_failed);
	v->trigger_name = SPI_getvalue(tup, desc, SPI_fnumber(desc, "trigger_name"));
	v->source_pk = get_jsonb(tup, desc, "source_pk");
	v->config = get_jsonb(tup, desc, "config");
	v->disabled = DatumGetBool(SPI_getbinval(tup, desc,
											 SPI_fnumber(desc, "disabled"), &isnull));
	v->name = SPI_getvalue(tup, desc, SPI_fnumber(desc, "name"));
	MemoryContextSwitchTo(old);
	return v;
}

/*
 * The id of the vectorizer called `name`; with missing_ok, -1 when there
 * is none, else an error.
 */
int32
vectorizer_id_by_name(const char *name, bool missing_ok)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	bool		isnull;

	spi_exec_params("SELECT id FROM ai._vectorizer WHERE name OPERATOR(pg_catalog.=) $1",
					1, types, values, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
	{
		if (missing_ok)
			return -1;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("vectorizer \"%s\" does not exist", ai_bounded(name)),
				 errhint("SELECT id, name FROM ai.vectorizer lists the vectorizers.")));
	}
	return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * The vectorizer that argument `argno` names: every management function is
 * declared twice in SQL, with an int id or a text name, both calling the
 * same C function. Which one was called is read from the function's own
 * pg_proc entry (fn_oid), which is set however it is called.
 */
Vectorizer *
vectorizer_arg_fetch(FunctionCallInfo fcinfo, int argno)
{
	Oid		   *argtypes;
	int			nargs;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("vectorizer is required"),
				 errhint("Pass the vectorizer's id or name.")));
	(void) get_func_signature(fcinfo->flinfo->fn_oid, &argtypes, &nargs);
	if (argno < nargs && argtypes[argno] == TEXTOID)
		return vectorizer_fetch(vectorizer_id_by_name(text_to_cstring(PG_GETARG_TEXT_PP(argno)),
													  false));
	return vectorizer_fetch(PG_GETARG_INT32(argno));
}

/*
 * A vectorizer's queue table (`name` from vectorizer_fetch), or an error
 * when it is gone: only the extension's owner can drop it, and nothing can
 * be queued or counted without it.
 */
const char *
vectorizer_queue_required(const Vectorizer *v, const char *name)
{
	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("a queue table of vectorizer %d is gone", v->id),
				 errhint("Drop the vectorizer with ai.drop_vectorizer(%d) and create it again.", v->id)));
	return name;
}

/* The names of the source's primary-key columns, in key order. */
List *
vectorizer_pk_names(const Vectorizer *v)
{
	List	   *names = NIL;
	JsonbIterator *it = JsonbIteratorInit(&v->source_pk->root);
	JsonbValue	val;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &val, true)) != WJB_DONE)
	{
		if (tok == WJB_ELEM && val.type == jbvBinary)
		{
			Jsonb	   *elem = JsonbValueToJsonb(&val);

			names = lappend(names, (char *) config_get_string(elem, "attname"));
		}
	}
	return names;
}

/*
 * Changing a vectorizer takes the rights to change its source table: the
 * caller must own the source (or, once it is gone, the store table). By
 * OID: a table another role creates under the source's old name, after a
 * rename, gives it no say over the vectorizer.
 */
void
vectorizer_check_owner(const Vectorizer *v)
{
	Oid			relid = InvalidOid;

	if (v->source_name != NULL)
		relid = v->source;
	else if (v->target_name != NULL)
		relid = v->target;
	if (OidIsValid(relid) && !pg_class_ownercheck(relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s to change vectorizer %d",
						relid == v->source ? v->source_name : v->target_name, v->id),
				 errhint("Run this as the owner of the source table.")));
	if (!OidIsValid(relid) && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be superuser to change vectorizer %d, whose tables are gone", v->id)));
}
