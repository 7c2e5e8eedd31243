/*
 * ai.h: declarations shared by the C sources of the "ai" extension.
 *
 * The extension keeps one catalog (ai._vectorizer, by OID, shown by name
 * in the view ai.vectorizer) and, per vectorizer, a
 * store table, a view, a queue and a failed queue, and capture triggers on
 * the source table. Everything that reads or writes those objects through
 * SPI expects the caller to have connected SPI; errors are reported with
 * ereport and the transaction machinery undoes any partial work.
 */
#ifndef AI_H
#define AI_H

#include "postgres.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

/* Largest vector pgvector stores, and the largest it can index with HNSW. */
#define AI_VECTOR_MAX_DIM 16000
#define AI_HNSW_MAX_DIM 2000

/*
 * A vectorizer's catalog row, read by vectorizer_fetch(). The catalog holds
 * OIDs; the names beside them are the objects' current ones, quoted and
 * schema-qualified, looked up when the row is read, and NULL for an object
 * that is gone (a store its owner dropped).
 */
typedef struct Vectorizer
{
	int32		id;
	Oid			source;
	Oid			target;			/* the embedding store */
	Oid			view;
	Oid			queue;
	Oid			queue_lease;
	Oid			queue_failed;
	char	   *source_name;
	char	   *target_name;
	char	   *view_name;
	char	   *queue_name;
	char	   *queue_lease_name;
	char	   *queue_failed_name;
	char	   *trigger_name;	/* the capture triggers' name prefix, as created */
	Jsonb	   *source_pk;		/* [{attnum, pknum, attname, typname}] */
	Jsonb	   *config;
	bool		disabled;
} Vectorizer;

/* config.c */
extern Jsonb *config_check(const char *config_type, Jsonb *config);
extern const char *config_get_string(Jsonb *config, const char *key);
extern bool config_get_int(Jsonb *config, const char *key, int64 *value);
extern Jsonb *config_get_object(Jsonb *config, const char *key);
extern List *config_get_string_list(Jsonb *config, const char *key);

/* catalog.c */
extern Vectorizer *vectorizer_fetch(int32 id);
extern List *vectorizer_pk_names(const Vectorizer *v);
extern void vectorizer_check_owner(const Vectorizer *v);
extern const char *vectorizer_queue_required(const Vectorizer *v, const char *name);
extern Oid	ai_extension_owner(void);
extern char *vector_schema(void);
extern char *qualified(const char *schema, const char *name);
extern char *relation_qualified(Oid relid);

/* at most 64 bytes of a user's value, for messages (catalog.c) */
extern char *ai_bounded(const char *s);

/* search_path = pg_catalog, pg_temp for a block of work (catalog.c) */
extern int	ai_pin_search_path(void);
extern void ai_restore_search_path(int level);

/* Run a block of work as another role, the way RI triggers do. */
typedef struct RoleSwitch
{
	Oid			save_userid;
	int			save_sec_context;
} RoleSwitch;
extern void role_switch_begin(RoleSwitch *rs, Oid role);
extern void role_switch_end(RoleSwitch *rs);

/* keys.c: the key settings, and a setting's key unless others could read it */
extern void ai_define_key_settings(void);
extern const char *ai_key_from_setting(const char *name, const char *env_name);

/* store.c: refuses key types whose input could run an owner's code */
extern void check_key_type(const char *column, Oid typid);

/* Execute one statement through SPI, reporting an unexpected SPI result. */
extern int	spi_exec(const char *sql, int expected);
extern int	spi_exec_params(const char *sql, int nargs, Oid *types,
							Datum *values, const char *nulls, int expected);

#endif							/* AI_H */
