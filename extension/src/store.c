/*
 * store.c: the worker's one way to write a vectorizer's store.
 *
 * A store belongs to the source table's owner, who may put triggers, rules,
 * defaults, check constraints or expression indexes on it. Whatever code
 * those run must run with the owner's rights, never with the worker's: a
 * worker role that serves many owners (or, against the README's advice, a
 * superuser) would otherwise lend its rights to every owner's code. This is
 * the rule PostgreSQL 16's logical replication apply follows, and what
 * REFRESH MATERIALIZED VIEW and index builds do for their owners' code.
 *
 * So the worker never writes the store itself. It calls
 * ai._vectorizer_store_replace(id, keys, rows, binary), which checks that
 * the caller may INSERT into and DELETE from that store, then, as the
 * store's owner in a security-restricted operation with search_path pinned
 * to pg_catalog, pg_temp, deletes the embeddings of the given keys and
 * copies in the new rows (COPY's own input code, binary or text format).
 * The store is found through the catalog from the vectorizer's id, never
 * from anything the caller names.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/copy.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"

#include "ai.h"
#include "catalog.h"
#include "sqlstate.h"
#include "store.h"

PG_FUNCTION_INFO_V1(vectorizer_store_replace);

/* The bytes COPY reads, handed to it by copy_read (one call at a time). */
static const char *copy_data;
static size_t copy_len;
static size_t copy_pos;

static int
copy_read(void *outbuf, int minread, int maxread)
{
	size_t		n = Min((size_t) maxread, copy_len - copy_pos);

	memcpy(outbuf, copy_data + copy_pos, n);
	copy_pos += n;
	return (int) n;
}

/*
 * Key types the worker may cast to and compare: base types (only a
 * superuser can create one, with C input functions) and enums, whose input
 * and equality are built in. A domain's CHECK or a composite's column types
 * could run code of the owner's with the caller's rights.
 */
void
check_key_type(const char *column, Oid typid)
{
	Oid			elem = get_element_type(typid);
	char		typtype = get_typtype(typid);

	if (OidIsValid(elem))
		check_key_type(column, elem);	/* array_in runs its elements' input */
	else if (typtype != TYPTYPE_BASE && typtype != TYPTYPE_ENUM)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("primary key column %s has type %s, which a vectorizer cannot use",
						ai_bounded(column), format_type_be(typid)),
				 errhint("Key columns must have a base or enum type; a domain's checks "
						 "would run with the worker's rights. Use the domain's base type.")));
}

/* The store's key columns, checked, with their types. */
static void
store_keys(Relation store, List *pk_names, Oid *types)
{
	ListCell   *lc;

	foreach(lc, pk_names)
	{
		const char *name = lfirst(lc);
		AttrNumber	attnum = get_attnum(RelationGetRelid(store), name);

		if (attnum == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("store %s has no key column %s",
							RelationGetRelationName(store), ai_bounded(name)),
					 errhint("Drop and create the vectorizer again.")));
		types[foreach_current_index(lc)] = get_atttype(RelationGetRelid(store), attnum);
		check_key_type(name, types[foreach_current_index(lc)]);
	}
}

/*
 * DELETE FROM store s USING (SELECT $1[(i - 1) * n + 1]::t1 AS k1, ...
 *   FROM generate_series(1, cardinality($1) / n) i) k
 * WHERE s.k1 OPERATOR(pg_catalog.=) k.k1 AND ...
 */
static void
delete_keys(const char *store, List *pk_names, const Oid *types, ArrayType *keys)
{
	int			n = list_length(pk_names);
	StringInfoData cols,
				join;
	ListCell   *lc;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1] = {PointerGetDatum(keys)};

	initStringInfo(&cols);
	initStringInfo(&join);
	foreach(lc, pk_names)
	{
		int			i = foreach_current_index(lc);
		const char *col = quote_identifier(lfirst(lc));

		appendStringInfo(&cols, "%s$1[(i - 1) * %d + %d]::%s AS %s", i ? ", " : "", n, i + 1,
						 format_type_extended(types[i], -1, FORMAT_TYPE_FORCE_QUALIFY), col);
		appendStringInfo(&join, "%ss.%s OPERATOR(pg_catalog.=) k.%s", i ? " AND " : "", col, col);
	}
	spi_exec_params(psprintf("DELETE FROM %s s USING (SELECT %s FROM "
							 "pg_catalog.generate_series(1, pg_catalog.cardinality($1) / %d) i) k "
							 "WHERE %s", store, cols.data, n, join.data),
					1, argtypes, values, NULL, SPI_OK_DELETE);
}

/* COPY store (keys, chunk_seq, chunk, embedding) FROM the given bytes. */
static uint64
copy_rows(Relation store, List *pk_names, bytea *rows, bool binary)
{
	ParseState *pstate = make_parsestate(NULL);
	ParseNamespaceItem *nsitem;
	List	   *attnames = NIL;
	List	   *options = NIL;
	CopyFromState cstate;
	uint64		processed;
	ListCell   *lc;

	if (check_enable_rls(RelationGetRelid(store), InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("store %s has row-level security forced on its owner",
						RelationGetRelationName(store)),
				 errhint("The worker writes the store as its owner: use NO FORCE ROW LEVEL SECURITY on it.")));

	nsitem = addRangeTableEntryForRelation(pstate, store, RowExclusiveLock, NULL, false, false);
	nsitem->p_rte->requiredPerms = ACL_INSERT;
	foreach(lc, pk_names)
		attnames = lappend(attnames, makeString(pstrdup(lfirst(lc))));
	attnames = lappend(attnames, makeString("chunk_seq"));
	attnames = lappend(attnames, makeString("chunk"));
	attnames = lappend(attnames, makeString("embedding"));
	foreach(lc, attnames)
		nsitem->p_rte->insertedCols =
		bms_add_member(nsitem->p_rte->insertedCols,
					   get_attnum(RelationGetRelid(store), strVal(lfirst(lc))) -
					   FirstLowInvalidHeapAttributeNumber);
	ExecCheckRTPerms(pstate->p_rtable, true);
	if (binary)
		options = list_make1(makeDefElem("format", (Node *) makeString("binary"), -1));

	copy_data = VARDATA_ANY(rows);
	copy_len = VARSIZE_ANY_EXHDR(rows);
	copy_pos = 0;
	cstate = BeginCopyFrom(pstate, store, NULL, NULL, false, copy_read, attnames, options);
	processed = CopyFrom(cstate);
	EndCopyFrom(cstate);
	free_parsestate(pstate);
	copy_data = NULL;
	return processed;
}

Datum
vectorizer_store_replace(PG_FUNCTION_ARGS)
{
	Oid			caller = GetUserId();
	Vectorizer *v;
	List	   *pk_names;
	Oid		   *types;
	Oid			relid;
	Relation	store;
	ArrayType  *keys;
	bytea	   *rows;
	char	   *store_name;
	volatile uint64 inserted = 0;
	MemoryContext cxt = CurrentMemoryContext;
	Oid			save_userid;
	int			save_sec_context;
	int			guc_level;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ai._vectorizer_store_replace takes no NULL argument"),
				 errhint("It is the worker's: pass the vectorizer id, the keys, the rows and their format.")));
	keys = PG_GETARG_ARRAYTYPE_P(1);
	rows = PG_GETARG_BYTEA_PP(2);
	if (ARR_NDIM(keys) > 1 || array_contains_nulls(keys))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("keys must be a one-dimensional array without NULLs"),
				 errhint("Pass the keys row by row, one element per key column.")));

	SPI_connect();
	guc_level = ai_pin_search_path();
	v = vectorizer_fetch(PG_GETARG_INT32(0));
	pk_names = vectorizer_pk_names(v);
	/* the store by OID, never a table that took its old name */
	store_name = v->target_name;
	relid = v->target;
	if (store_name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the store of vectorizer %d does not exist", v->id),
				 errhint("Its store table was dropped: drop the vectorizer and create it again.")));
	if (pg_class_aclcheck(relid, caller, ACL_INSERT) != ACLCHECK_OK ||
		pg_class_aclcheck(relid, caller, ACL_DELETE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to write the store %s of vectorizer %d", store_name, v->id),
				 errhint("The worker's role needs INSERT and DELETE on the store: "
						 "name it in create_vectorizer's grant_to.")));
	if (ArrayGetNItems(ARR_NDIM(keys), ARR_DIMS(keys)) % list_length(pk_names) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%d keys do not fill rows of %d key columns",
						ArrayGetNItems(ARR_NDIM(keys), ARR_DIMS(keys)), list_length(pk_names)),
				 errhint("Pass the keys row by row, one element per key column.")));

	/*
	 * As the store's owner from here on: a security-restricted operation, so
	 * the owner's code can neither change the session (SET ROLE, temporary
	 * objects) nor outlive this call. An error unwinds both the identity and
	 * the settings with the transaction.
	 */
	store = table_open(relid, RowExclusiveLock);
	types = palloc(sizeof(Oid) * list_length(pk_names));
	store_keys(store, pk_names, types);
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(store->rd_rel->relowner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);

	/*
	 * Keys and rows are the caller's, and PostgreSQL's input functions quote
	 * a bad value whole ("invalid input syntax for type integer: ..."): such
	 * a message is cut to 300 bytes, lest a 10 MB value come back in it.
	 */
	PG_TRY();
	{
		delete_keys(store_name, pk_names, types, keys);
		if (VARSIZE_ANY_EXHDR(rows) > 0)
			inserted = copy_rows(store, pk_names, rows, PG_GETARG_BOOL(3));
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		if (e->message == NULL || strlen(e->message) <= 300)
			PG_RE_THROW();
		FlushErrorState();
		e->message = psprintf("%.*s...", pg_mbcliplen(e->message, (int) strlen(e->message), 300),
							  e->message);
		ReThrowError(e);
	}
	PG_END_TRY();
	SetUserIdAndSecContext(save_userid, save_sec_context);
	table_close(store, NoLock);

	ai_restore_search_path(guc_level);
	SPI_finish();
	PG_RETURN_INT64((int64) inserted);
}
