/*
 * sqlgen.c: pieces of the SQL the extension generates.
 *
 * Every identifier that goes into generated SQL is quoted here, and the
 * names of the objects a vectorizer creates (its queues, its capture
 * triggers, the default store and view) are spelled here once, so the
 * code that creates them and the code that finds them agree. Values never
 * go into SQL text: callers bind them as parameters.
 * All results are palloc'd in the caller's memory context.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/value.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "sqlgen.h"

char *
sqlgen_ident(const char *ident)
{
	return (char *) quote_identifier(ident);
}

char *
qualified(const char *schema, const char *name)
{
	return quote_qualified_identifier(schema, name);
}

/*
 * The relation's current name, schema-qualified and quoted, or NULL when
 * there is no such relation (any more).
 */
char *
relation_qualified(Oid relid)
{
	char	   *rel = OidIsValid(relid) ? get_rel_name(relid) : NULL;
	char	   *nsp = rel ? get_namespace_name(get_rel_namespace(relid)) : NULL;

	return nsp ? qualified(nsp, rel) : NULL;
}

char *
pk_list(List *names, const char *prefix)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s%s", foreach_current_index(lc) ? ", " : "",
						 prefix, sqlgen_ident(lfirst(lc)));
	return buf.data;
}

char *
pk_join(List *names, const char *left, const char *right)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s.%s = %s.%s", foreach_current_index(lc) ? " AND " : "",
						 left, sqlgen_ident(lfirst(lc)), right, sqlgen_ident(lfirst(lc)));
	return buf.data;
}

char *
pk_column_defs(List *pkcols)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, pkcols)
	{
		PkColumn   *c = lfirst(lc);

		appendStringInfo(&buf, "%s %s%s NOT NULL, ", sqlgen_ident(c->name), c->type_sql,
						 c->collate_sql);
	}
	return buf.data;
}

char *
role_list(List *roles)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, roles)
	{
		const char *r = strVal(lfirst(lc));

		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "",
						 strcmp(r, "public") == 0 ? "PUBLIC" : sqlgen_ident(r));
	}
	return buf.data;
}

char *
sqlgen_store_name(const char *source_table)
{
	return psprintf("%s_embedding_store", source_table);
}

char *
sqlgen_view_name(const char *source_table)
{
	return psprintf("%s_embedding", source_table);
}

void
sqlgen_queue_names(int32 id, const char *queue_table,
				   char **queue, char **lease, char **failed)
{
	if (queue_table == NULL)
	{
		*queue = psprintf("_vectorizer_q_%d", id);
		*lease = psprintf("_vectorizer_q_lease_%d", id);
		*failed = psprintf("_vectorizer_q_failed_%d", id);
	}
	else
	{
		*queue = pstrdup(queue_table);
		*lease = psprintf("%s_lease", queue_table);
		*failed = psprintf("%s_failed", queue_table);
	}
}

char *
sqlgen_trigger_prefix(int32 id)
{
	return psprintf("_vectorizer_src_trg_%d", id);
}

/*
 * One statement-level trigger per event, each calling the capture
 * function with the vectorizer's id (the argument capture.c reads and
 * vectorizer_drop.c finds them by); inserts and updates hand over their
 * transition tables.
 */
List *
sqlgen_capture_triggers(int32 id, const char *source)
{
	static const struct
	{
		const char *suffix;
		const char *event;
		const char *referencing;
	}			triggers[] = {
		{"ins", "INSERT", "REFERENCING NEW TABLE AS _ai_new "},
		{"upd", "UPDATE", "REFERENCING OLD TABLE AS _ai_old NEW TABLE AS _ai_new "},
		{"trunc", "TRUNCATE", ""},
	};
	List	   *stmts = NIL;

	for (size_t i = 0; i < lengthof(triggers); i++)
		stmts = lappend(stmts,
						psprintf("CREATE TRIGGER %s AFTER %s ON %s %sFOR EACH STATEMENT "
								 "EXECUTE FUNCTION ai._vectorizer_capture('%d')",
								 sqlgen_ident(psprintf("%s_%s", sqlgen_trigger_prefix(id),
													   triggers[i].suffix)),
								 triggers[i].event, source, triggers[i].referencing, id));
	return stmts;
}
