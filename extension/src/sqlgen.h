/*
 * sqlgen.h: pieces of the SQL the extension generates (sqlgen.c): quoted
 * and qualified names, key-column lists, and the names of the objects a
 * vectorizer creates.
 */
#ifndef AI_SQLGEN_H
#define AI_SQLGEN_H

#include "postgres.h"

#include "nodes/pg_list.h"

/* One column of a source's primary key, as create_vectorizer read it. */
typedef struct PkColumn
{
	AttrNumber	attnum;
	char	   *name;
	char	   *type_sql;		/* type with modifier, schema-qualified */
	char	   *collate_sql;	/* " COLLATE ..." or "" */
} PkColumn;

/* An identifier, quoted where it needs to be. */
extern char *sqlgen_ident(const char *ident);

/* "schema"."name", each part quoted only where it needs to be. */
extern char *qualified(const char *schema, const char *name);

/* A relation's current qualified name, or NULL when there is none. */
extern char *relation_qualified(Oid relid);

/* "a", "b" for the key columns, each name prefixed by `prefix` ("t." etc). */
extern char *pk_list(List *names, const char *prefix);

/* l.a = r.a AND l.b = r.b */
extern char *pk_join(List *names, const char *left, const char *right);

/* "a" type NOT NULL, ... (each followed by ", ") for a List of PkColumn. */
extern char *pk_column_defs(List *pkcols);

/* role1, PUBLIC, ... for GRANT, from a List of String role names. */
extern char *role_list(List *roles);

/* Default names of a vectorizer's store and view, from its source table. */
extern char *sqlgen_store_name(const char *source_table);
extern char *sqlgen_view_name(const char *source_table);

/*
 * Names of the queue, lease and failed tables: _vectorizer_q_<id> and
 * friends by default, <queue_table>, <queue_table>_lease and
 * <queue_table>_failed when the caller named the queue.
 */
extern void sqlgen_queue_names(int32 id, const char *queue_table,
							   char **queue, char **lease, char **failed);

/* The capture triggers' name prefix, as the catalog records it. */
extern char *sqlgen_trigger_prefix(int32 id);

/* CREATE TRIGGER statements (char *) of the capture triggers on `source`. */
extern List *sqlgen_capture_triggers(int32 id, const char *source);

#endif							/* AI_SQLGEN_H */
