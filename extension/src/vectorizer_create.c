/*
 * vectorizer_create.c: ai.create_vectorizer, a check phase then a create
 * phase.
 *
 * The check phase (create_check, then create_check_queues once the id is
 * drawn: the default queue names hold it) looks at everything before
 * anything is created: the source (a table with a primary key, owned by
 * the caller), every configuration, the chunk column, the template's
 * names, the dimensions against the index, the names of the objects to
 * create and the roles to grant to. The create phase then creates, in one
 * transaction:
 *   - as the caller (create_caller_objects): the store table, the view and
 *     the grants on them, so the caller owns what lives in their schemas;
 *     the capture triggers are attached as the extension's owner;
 *   - as the extension's owner (create_owner_objects): the queue tables,
 *     the catalog row and the existing rows' keys.
 * All DDL is generated with quoted identifiers (sqlgen.c) and run through
 * SPI with search_path set to pg_catalog; values go in as bound parameters.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "ai.h"
#include "catalog.h"
#include "config.h"
#include "queue.h"
#include "sqlgen.h"
#include "sqlstate.h"
#include "store.h"
#include "vectorizer_create.h"

PG_FUNCTION_INFO_V1(create_vectorizer);

/* Column names of the store table, which source key columns may not use. */
static const char *const store_columns[] = {"embedding_uuid", "chunk_seq", "chunk", "embedding"};

/* What the check phase found, for the create phase. */
typedef struct CreateRequest
{
	Oid			source_oid;
	Relation	rel;			/* the source, locked until commit */
	Jsonb	   *embedding,
			   *chunking,
			   *indexing,
			   *formatting,
			   *scheduling,
			   *processing;
	bool		enqueue_existing;
	int64		dims;
	List	   *pkcols;			/* PkColumn */
	List	   *pknames;		/* char * */
	List	   *roles;			/* String: grant_to */
	char	   *src_schema,
			   *src_table,
			   *src;
	char	   *target_schema,
			   *target_table,
			   *view_schema,
			   *view_name;
	char	   *name;
	int32		existing_id;	/* if_not_exists found the name taken: this id */
	int32		id;
	char	   *queue_schema,
			   *queue_table,
			   *lease_table,
			   *failed_table;
} CreateRequest;

static List *
read_primary_key(Relation rel)
{
	Oid			pkoid = RelationGetPrimaryKeyIndex(rel);
	HeapTuple	idxtup;
	Form_pg_index idx;
	List	   *cols = NIL;
	TupleDesc	desc = RelationGetDescr(rel);

	if (!OidIsValid(pkoid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s has no primary key",
						qualified(get_namespace_name(RelationGetNamespace(rel)),
								  RelationGetRelationName(rel))),
				 errhint("A vectorizer identifies rows by their primary key: add one with ALTER TABLE ... ADD PRIMARY KEY.")));

	idxtup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pkoid));
	if (!HeapTupleIsValid(idxtup))
		elog(ERROR, "cache lookup failed for index %u", pkoid);
	idx = (Form_pg_index) GETSTRUCT(idxtup);
	for (int i = 0; i < idx->indnkeyatts; i++)
	{
		AttrNumber	attnum = idx->indkey.values[i];
		Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);
		PkColumn   *col = palloc0(sizeof(PkColumn));

		col->attnum = attnum;
		col->name = pstrdup(NameStr(att->attname));
		check_key_type(col->name, att->atttypid);
		col->type_sql = format_type_extended(att->atttypid, att->atttypmod,
											 FORMAT_TYPE_TYPEMOD_GIVEN |
											 FORMAT_TYPE_FORCE_QUALIFY);
		col->collate_sql = "";
		if (OidIsValid(att->attcollation) &&
			att->attcollation != get_typcollation(att->atttypid))
		{
			HeapTuple	colltup = SearchSysCache1(COLLOID, ObjectIdGetDatum(att->attcollation));
			Form_pg_collation coll;

			if (!HeapTupleIsValid(colltup))
				elog(ERROR, "cache lookup failed for collation %u", att->attcollation);
			coll = (Form_pg_collation) GETSTRUCT(colltup);
			col->collate_sql = psprintf(" COLLATE %s",
										qualified(get_namespace_name(coll->collnamespace),
												  NameStr(coll->collname)));
			ReleaseSysCache(colltup);
		}
		for (size_t k = 0; k < lengthof(store_columns); k++)
			if (strcmp(col->name, store_columns[k]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("primary key column \"%s\" of table %s clashes with a column of the embedding store",
								col->name, RelationGetRelationName(rel)),
						 errhint("The store has columns embedding_uuid, chunk_seq, chunk and embedding; rename the key column.")));
		cols = lappend(cols, col);
	}
	ReleaseSysCache(idxtup);
	return cols;
}

/* The attribute named `name` of the relation, or NULL. */
static Form_pg_attribute
find_column(Relation rel, const char *name)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att;
	}
	return NULL;
}

static void
check_chunk_column(Relation rel, const char *column)
{
	Form_pg_attribute att = find_column(rel, column);
	char		category;
	bool		preferred;

	if (att == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("chunk column \"%s\" does not exist in table %s",
						column, RelationGetRelationName(rel)),
				 errhint("Name a text column of the source table in the chunking config.")));
	get_type_category_preferred(getBaseType(att->atttypid), &category, &preferred);
	if (category != TYPCATEGORY_STRING)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("chunk column \"%s\" has type %s, not a text type",
						column, format_type_be(att->atttypid)),
				 errhint("Chunk a column of type text, varchar or char.")));
}

static void
check_template(Relation rel, const char *tmpl)
{
	ListCell   *lc;

	foreach(lc, template_names(tmpl))
	{
		const char *name = strVal(lfirst(lc));

		if (strcmp(name, "chunk") != 0 && find_column(rel, name) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("formatting template uses \"$%s\", which is not a column of table %s",
							name, RelationGetRelationName(rel)),
					 errhint("A template may use $chunk and the columns of the source table.")));
	}
}

/* Fills in the "default" implementations of indexing and scheduling. */
Jsonb *
resolve_indexing(Jsonb *indexing)
{
	const char *impl = config_get_string(indexing, "implementation");

	if (strcmp(impl, "default") != 0)
		return indexing;
	if (SearchSysCacheExists1(AMNAME, CStringGetDatum("diskann")))
		return config_from_text("indexing", "{\"implementation\": \"diskann\"}");
	return config_from_text("indexing", "{\"implementation\": \"hnsw\"}");
}

Jsonb *
resolve_scheduling(Jsonb *scheduling)
{
	const char *impl = config_get_string(scheduling, "implementation");

	if (strcmp(impl, "default") != 0)
		return scheduling;
	return config_from_text("scheduling", "{\"implementation\": \"none\"}");
}

/* Whether the index `indexing` asks for can hold vectors of `dims`. */
void
check_index_dimensions(Jsonb *indexing, int64 dims)
{
	if (strcmp(config_get_string(indexing, "implementation"), "hnsw") == 0 &&
		dims > AI_HNSW_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an HNSW index cannot hold %lld dimensions", (long long) dims),
				 errhint("pgvector indexes at most %d dimensions: use fewer dimensions or indexing => ai.indexing_none().",
						 AI_HNSW_MAX_DIM)));
}

static Jsonb *
required_config(FunctionCallInfo fcinfo, int argno, const char *config_type)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s config is required", config_type),
				 errhint("Pass %s => ai.%s_...(...).", config_type, config_type)));
	return config_check(config_type, PG_GETARG_JSONB_P(argno));
}

static Jsonb *
optional_config(FunctionCallInfo fcinfo, int argno, const char *config_type,
				const char *dflt)
{
	if (PG_ARGISNULL(argno))
		return config_from_text(config_type, dflt);
	return config_check(config_type, PG_GETARG_JSONB_P(argno));
}

static char *
name_arg(FunctionCallInfo fcinfo, int argno, char *dflt)
{
	return PG_ARGISNULL(argno) ? dflt : pstrdup(NameStr(*PG_GETARG_NAME(argno)));
}

static Oid
schema_oid(const char *schema, const char *what)
{
	Oid			nsp = get_namespace_oid(schema, true);

	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"%s\" for the %s does not exist", schema, what),
				 errhint("Create the schema first, or choose another one.")));
	return nsp;
}

static void
check_name_free(const char *schema, const char *name, const char *what)
{
	Oid			nsp = schema_oid(schema, what);

	if (strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("%s name \"%s\" is too long", what, name),
				 errhint("Names have at most %d bytes.", NAMEDATALEN - 1)));
	if (OidIsValid(get_relname_relid(name, nsp)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("%s %s already exists", what, qualified(schema, name)),
				 errhint("Choose another %s name, or drop the existing relation.", what)));
}

/* The OID of a relation this function has just created. */
static Oid
created_relid(const char *schema, const char *name)
{
	Oid			relid = get_relname_relid(name, get_namespace_oid(schema, false));

	if (!OidIsValid(relid))
		elog(ERROR, "relation %s was not created", qualified(schema, name));
	return relid;
}

static void
check_create_privilege(const char *schema, const char *what)
{
	Oid			nsp = schema_oid(schema, what);

	/* never in the system's own schemas, whatever rights the caller has */
	if (IsCatalogNamespace(nsp) || IsToastNamespace(nsp) || isAnyTempNamespace(nsp) ||
		strcmp(schema, "information_schema") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot create %s in system schema \"%s\"", what, schema),
				 errhint("Choose a schema of your own.")));

	if (pg_namespace_aclcheck(nsp, GetUserId(), ACL_CREATE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to create %s in schema \"%s\"", what, schema),
				 errhint("GRANT CREATE ON SCHEMA %s to the role creating the vectorizer.",
						 sqlgen_ident(schema))));
}

/* Role names of the grant_to argument, checked to exist. */
List *
grantees(FunctionCallInfo fcinfo, int argno)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *roles = NIL;

	if (PG_ARGISNULL(argno))
		return NIL;
	arr = PG_GETARG_ARRAYTYPE_P(argno);
	deconstruct_array(arr, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		char	   *role;

		if (nulls[i])
			continue;
		role = pstrdup(NameStr(*DatumGetName(elems[i])));
		if (strcmp(role, "public") != 0)
			(void) get_role_oid(role, false);
		roles = list_append_unique(roles, makeString(role));
	}
	return roles;
}

static char *
source_pk_json(List *pkcols)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	foreach(lc, pkcols)
	{
		PkColumn   *c = lfirst(lc);

		appendStringInfo(&buf, "%s{\"attnum\": %d, \"pknum\": %d, \"attname\": ",
						 foreach_current_index(lc) ? ", " : "", c->attnum,
						 foreach_current_index(lc) + 1);
		escape_json(&buf, c->name);
		appendStringInfoString(&buf, ", \"typname\": ");
		escape_json(&buf, c->type_sql);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

static char *
config_json(Jsonb *embedding, Jsonb *chunking, Jsonb *formatting,
			Jsonb *indexing, Jsonb *scheduling, Jsonb *processing)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf,
					 "{\"version\": \"%s\", \"embedding\": %s, \"chunking\": %s, "
					 "\"formatting\": %s, \"indexing\": %s, \"scheduling\": %s, "
					 "\"processing\": %s}",
					 AI_VERSION,
					 JsonbToCString(NULL, &embedding->root, VARSIZE(embedding)),
					 JsonbToCString(NULL, &chunking->root, VARSIZE(chunking)),
					 JsonbToCString(NULL, &formatting->root, VARSIZE(formatting)),
					 JsonbToCString(NULL, &indexing->root, VARSIZE(indexing)),
					 JsonbToCString(NULL, &scheduling->root, VARSIZE(scheduling)),
					 JsonbToCString(NULL, &processing->root, VARSIZE(processing)));
	return buf.data;
}

/* The view's columns: the store's, then every source column but clashing ones. */
static char *
view_select_list(Relation rel)
{
	StringInfoData buf;
	TupleDesc	desc = RelationGetDescr(rel);

	initStringInfo(&buf);
	appendStringInfoString(&buf, "t.embedding_uuid, t.chunk_seq, t.chunk, t.embedding");
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		clash = false;

		if (att->attisdropped)
			continue;
		for (size_t k = 0; k < lengthof(store_columns); k++)
			clash |= strcmp(NameStr(att->attname), store_columns[k]) == 0;
		if (!clash)
			appendStringInfo(&buf, ", s.%s", sqlgen_ident(NameStr(att->attname)));
	}
	return buf.data;
}

/* Longest vectorizer name: room for pgai's default, two names and a '_'. */
#define VECTORIZER_NAME_MAX (2 * NAMEDATALEN)

/*
 * The vectorizer's name: the name argument, else pgai's default
 * <target_schema>_<target_table>. Returns true when the name is taken and
 * if_not_exists asks to return that vectorizer's id (r->existing_id) with a
 * notice, as pgai does, instead of an error; checked before the store's
 * name, which that vectorizer holds.
 */
static bool
check_vectorizer_name(FunctionCallInfo fcinfo, CreateRequest *r)
{
	bool		if_not_exists = PG_ARGISNULL(16) ? false : PG_GETARG_BOOL(16);
	int32		id;

	if (PG_ARGISNULL(15))
		r->name = psprintf("%s_%s", r->target_schema, r->target_table);
	else
		r->name = text_to_cstring(PG_GETARG_TEXT_PP(15));
	if (r->name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vectorizer name is empty"),
				 errhint("Leave name out for the default, <target_schema>_<target_table>.")));
	if (strlen(r->name) > VECTORIZER_NAME_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("vectorizer name \"%s\" is too long", ai_bounded(r->name)),
				 errhint("Names have at most %d bytes.", VECTORIZER_NAME_MAX)));
	id = vectorizer_id_by_name(r->name, true);
	if (id < 0)
		return false;
	if (!if_not_exists)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("a vectorizer named \"%s\" already exists", r->name),
				 errhint("Choose another name, or pass if_not_exists => true to keep the existing one.")));
	ereport(NOTICE,
			(errmsg("a vectorizer named \"%s\" already exists, skipping", r->name)));
	r->existing_id = id;
	return true;
}

/*
 * Check phase, part 1: the arguments, the source and the names of the
 * store and the view. Opens and locks the source (r->rel).
 */
static void
create_check(FunctionCallInfo fcinfo, CreateRequest *r)
{
	Relation	rel;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("source table is required"),
				 errhint("Pass the table to vectorize, for example 'blog_posts'.")));
	r->source_oid = PG_GETARG_OID(0);

	/* configurations */
	r->embedding = required_config(fcinfo, 1, "embedding");
	r->chunking = required_config(fcinfo, 2, "chunking");
	r->indexing = resolve_indexing(optional_config(fcinfo, 3, "indexing",
												   "{\"implementation\": \"default\"}"));
	r->formatting = optional_config(fcinfo, 4, "formatting",
									"{\"implementation\": \"python_template\"}");
	r->scheduling = resolve_scheduling(optional_config(fcinfo, 5, "scheduling",
													   "{\"implementation\": \"default\"}"));
	r->processing = optional_config(fcinfo, 6, "processing",
									"{\"implementation\": \"default\"}");
	r->enqueue_existing = PG_ARGISNULL(14) ? true : PG_GETARG_BOOL(14);

	(void) config_get_int(r->embedding, "dimensions", &r->dims);
	check_index_dimensions(r->indexing, r->dims);

	/* the source: a table with a primary key, owned by the caller */
	rel = r->rel = table_open(r->source_oid, ShareRowExclusiveLock);
	r->src_schema = get_namespace_name(RelationGetNamespace(rel));
	r->src_table = pstrdup(RelationGetRelationName(rel));
	r->src = qualified(r->src_schema, r->src_table);
	if (rel->rd_rel->relkind != RELKIND_RELATION &&
		rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a table", r->src),
				 errhint("A vectorizer's source must be an ordinary or partitioned table.")));
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s is a temporary table", r->src),
				 errhint("A vectorizer outlives sessions: vectorize a permanent table.")));
	if (!pg_class_ownercheck(r->source_oid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s to create a vectorizer on it", r->src),
				 errhint("Run create_vectorizer as the table's owner.")));
	r->pkcols = read_primary_key(rel);
	r->pknames = NIL;
	{
		ListCell   *lc;

		foreach(lc, r->pkcols)
			r->pknames = lappend(r->pknames, ((PkColumn *) lfirst(lc))->name);
	}
	check_chunk_column(rel, config_get_string(r->chunking, "chunk_column"));
	check_template(rel, config_get_string(r->formatting, "template"));

	/* names of the objects to create */
	r->target_schema = name_arg(fcinfo, 7, r->src_schema);
	r->target_table = name_arg(fcinfo, 8, sqlgen_store_name(r->src_table));
	r->view_schema = name_arg(fcinfo, 9, r->src_schema);
	r->view_name = name_arg(fcinfo, 10, sqlgen_view_name(r->src_table));
	if (strcmp(r->target_schema, r->view_schema) == 0 &&
		strcmp(r->target_table, r->view_name) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("target table and view are both named %s",
						qualified(r->target_schema, r->target_table)),
				 errhint("Give target_table and view_name different names.")));
	if (check_vectorizer_name(fcinfo, r))
		return;
	check_name_free(r->target_schema, r->target_table, "target table");
	check_name_free(r->view_schema, r->view_name, "view");
	check_create_privilege(r->target_schema, "target table");
	check_create_privilege(r->view_schema, "view");
	r->roles = grantees(fcinfo, 13);
}

/*
 * Check phase, part 2, with SPI connected: draws the id (as the owner of
 * its sequence) and checks the queue tables' names, which hold it.
 */
static void
create_check_queues(FunctionCallInfo fcinfo, CreateRequest *r)
{
	RoleSwitch	rs;
	bool		isnull;

	role_switch_begin(&rs, ai_extension_owner());
	spi_exec("SELECT pg_catalog.nextval('ai.vectorizer_id_seq')::int", SPI_OK_SELECT);
	role_switch_end(&rs);
	r->id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	r->queue_schema = name_arg(fcinfo, 11, "ai");
	sqlgen_queue_names(r->id, PG_ARGISNULL(12) ? NULL : NameStr(*PG_GETARG_NAME(12)),
					   &r->queue_table, &r->lease_table, &r->failed_table);
	/* the default, schema ai, is the extension's own; any other needs CREATE */
	if (!PG_ARGISNULL(11))
		check_create_privilege(r->queue_schema, "queue table");
	check_name_free(r->queue_schema, r->queue_table, "queue table");
	check_name_free(r->queue_schema, r->lease_table, "lease table");
	check_name_free(r->queue_schema, r->failed_table, "failed queue table");
}

/* Create phase, as the caller: store, view, triggers, grants on what the caller owns. */
static void
create_caller_objects(const CreateRequest *r)
{
	char	   *store = qualified(r->target_schema, r->target_table);
	char	   *view = qualified(r->view_schema, r->view_name);
	char	   *keys = pk_list(r->pknames, "");
	char	   *vector_type = psprintf("%s.vector(%lld)", sqlgen_ident(vector_schema()),
									   (long long) r->dims);
	RoleSwitch	rs;
	ListCell   *lc;

	spi_exec(psprintf("CREATE TABLE %s ("
					  "embedding_uuid uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid() PRIMARY KEY, "
					  "%s"
					  "chunk_seq int NOT NULL, chunk text NOT NULL, embedding %s NOT NULL, "
					  "UNIQUE (%s, chunk_seq), "
					  "FOREIGN KEY (%s) REFERENCES %s (%s) ON DELETE CASCADE ON UPDATE CASCADE)",
					  store, pk_column_defs(r->pkcols), vector_type, keys, keys, r->src, keys),
			 SPI_OK_UTILITY);
	/* vectors stay inline: exact scans read them without TOAST lookups */
	spi_exec(psprintf("ALTER TABLE %s ALTER COLUMN embedding SET STORAGE MAIN", store),
			 SPI_OK_UTILITY);
	spi_exec(psprintf("CREATE VIEW %s AS SELECT %s FROM %s t JOIN %s s ON %s",
					  view, view_select_list(r->rel), store, r->src,
					  pk_join(r->pknames, "t", "s")),
			 SPI_OK_UTILITY);

	/*
	 * The triggers are attached by the extension's owner: the capture
	 * function is not executable by PUBLIC, so that no role can attach it to
	 * a table of its own and so reach another vectorizer's queue.
	 */
	role_switch_begin(&rs, ai_extension_owner());
	foreach(lc, sqlgen_capture_triggers(r->id, r->src))
		spi_exec(lfirst(lc), SPI_OK_UTILITY);
	role_switch_end(&rs);
	if (r->roles != NIL)
	{
		char	   *who = role_list(r->roles);

		spi_exec(psprintf("GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s", store, who),
				 SPI_OK_UTILITY);
		spi_exec(psprintf("GRANT SELECT ON %s TO %s", view, who), SPI_OK_UTILITY);
		spi_exec(psprintf("GRANT SELECT ON %s TO %s", r->src, who), SPI_OK_UTILITY);
	}
}

/* Create phase, as the extension's owner: queues, catalog row, existing rows. */
static void
create_owner_objects(const CreateRequest *r)
{
	Oid			owner = ai_extension_owner();
	Oid			caller = GetUserId();
	char	   *queue = qualified(r->queue_schema, r->queue_table);
	char	   *lease = qualified(r->queue_schema, r->lease_table);
	char	   *failed = qualified(r->queue_schema, r->failed_table);
	char	   *keys = pk_list(r->pknames, "");
	List	   *roles = r->roles;
	RoleSwitch	rs;

	role_switch_begin(&rs, owner);

	/*
	 * The queue is append-only: writers pay for one plain insert a key, the
	 * cheapest enqueue there is (a unique queue with ON CONFLICT measured a
	 * microsecond a row more). Workers collapse duplicate keys when they
	 * claim, and take a key's rows off the queue only after checking, under a
	 * lock on the source row, that its content is what they embedded.
	 */
	spi_exec(psprintf("CREATE TABLE %s (%s"
					  "queued_at timestamptz NOT NULL DEFAULT pg_catalog.now())",
					  queue, pk_column_defs(r->pkcols)),
			 SPI_OK_UTILITY);
	spi_exec(psprintf("CREATE INDEX ON %s (%s)", queue, keys), SPI_OK_UTILITY);

	/*
	 * One row per key a worker holds or has failed on: the lease lets a claim
	 * be a short transaction (an expired lease, or one whose holder's backend
	 * is gone, frees the key for another worker), and the attempts and
	 * retry_after give failures a backoff.
	 */
	spi_exec(psprintf("CREATE TABLE %s (%s"
					  "lease_token uuid, "
					  "lease_until timestamptz, "
					  "lease_pid int, "
					  "attempts int NOT NULL DEFAULT 0, "
					  "retry_after timestamptz, "
					  "last_error text, "
					  "PRIMARY KEY (%s))",
					  lease, pk_column_defs(r->pkcols), keys),
			 SPI_OK_UTILITY);

	/* Keys that failed too often wait here for an operator's retry. */
	spi_exec(psprintf("CREATE TABLE %s (%s"
					  "attempts int NOT NULL DEFAULT 0, "
					  "failed_at timestamptz NOT NULL DEFAULT pg_catalog.now(), "
					  "last_error text, "
					  "PRIMARY KEY (%s))",
					  failed, pk_column_defs(r->pkcols), keys),
			 SPI_OK_UTILITY);
	if (caller != owner)
		roles = list_append_unique(list_copy(roles),
								   makeString(GetUserNameFromId(caller, false)));
	if (roles != NIL)
	{
		char	   *who = role_list(roles);

		spi_exec(psprintf("GRANT SELECT, INSERT, UPDATE, DELETE ON %s, %s, %s TO %s",
						  queue, lease, failed, who), SPI_OK_UTILITY);
		spi_exec(psprintf("GRANT EXECUTE ON FUNCTION "
						  "ai._vectorizer_store_replace(int, text[], bytea, boolean), "
						  "ai._vectorizer_record_error(int, text, jsonb) TO %s", who),
				 SPI_OK_UTILITY);
	}
	{
		/* by OID: see the catalog's comment in ai--0.1.0.sql */
		Oid			types[11] = {INT4OID, REGCLASSOID, JSONBOID, REGCLASSOID, REGCLASSOID,
		NAMEOID, REGCLASSOID, REGCLASSOID, REGCLASSOID, JSONBOID, TEXTOID};
		Datum		values[11];

		values[0] = Int32GetDatum(r->id);
		values[1] = ObjectIdGetDatum(r->source_oid);
		values[2] = DirectFunctionCall1(jsonb_in, CStringGetDatum(source_pk_json(r->pkcols)));
		values[3] = ObjectIdGetDatum(created_relid(r->target_schema, r->target_table));
		values[4] = ObjectIdGetDatum(created_relid(r->view_schema, r->view_name));
		values[5] = DirectFunctionCall1(namein, CStringGetDatum(sqlgen_trigger_prefix(r->id)));
		values[6] = ObjectIdGetDatum(created_relid(r->queue_schema, r->queue_table));
		values[7] = ObjectIdGetDatum(created_relid(r->queue_schema, r->lease_table));
		values[8] = ObjectIdGetDatum(created_relid(r->queue_schema, r->failed_table));
		values[9] = DirectFunctionCall1(jsonb_in,
										CStringGetDatum(config_json(r->embedding, r->chunking,
																	r->formatting, r->indexing,
																	r->scheduling, r->processing)));
		values[10] = CStringGetTextDatum(r->name);
		spi_exec_params("INSERT INTO ai._vectorizer (id, source, source_pk, target, \"view\", "
						"trigger_name, queue, queue_lease, queue_failed, config, name) "
						"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
						11, types, values, NULL, SPI_OK_INSERT);
	}
	if (r->enqueue_existing)
	{
		spi_exec(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s", queue, keys, keys, r->src),
				 SPI_OK_INSERT);
		if (SPI_processed > 0)
			queue_notify_work(r->id);
	}
	role_switch_end(&rs);
}

Datum
create_vectorizer(PG_FUNCTION_ARGS)
{
	CreateRequest r = {0};
	int			guc_level;

	r.existing_id = -1;
	SPI_connect();
	guc_level = ai_pin_search_path();
	create_check(fcinfo, &r);
	if (r.existing_id >= 0)
	{
		ai_restore_search_path(guc_level);
		SPI_finish();
		table_close(r.rel, NoLock);
		PG_RETURN_INT32(r.existing_id);
	}
	create_check_queues(fcinfo, &r);

	create_caller_objects(&r);
	create_owner_objects(&r);

	ai_restore_search_path(guc_level);
	SPI_finish();
	table_close(r.rel, NoLock);
	PG_RETURN_INT32(r.id);
}
