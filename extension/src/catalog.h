/*
 * catalog.h: reading ai._vectorizer, ownership checks, acting as the
 * extension's owner, and running statements through SPI (catalog.c).
 */
#ifndef AI_CATALOG_H
#define AI_CATALOG_H

#include "ai.h"
#include "fmgr.h"
#include "nodes/pg_list.h"

extern Vectorizer *vectorizer_fetch(int32 id);
extern int32 vectorizer_id_by_name(const char *name, bool missing_ok);
extern Vectorizer *vectorizer_arg_fetch(FunctionCallInfo fcinfo, int argno);
extern List *vectorizer_pk_names(const Vectorizer *v);
extern void vectorizer_check_owner(const Vectorizer *v);
extern const char *vectorizer_queue_required(const Vectorizer *v, const char *name);
extern Oid	ai_extension_owner(void);
extern char *vector_schema(void);

/* search_path = pg_catalog, pg_temp for a block of work */
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

/* Execute one statement through SPI, reporting an unexpected SPI result. */
extern int	spi_exec(const char *sql, int expected);
extern int	spi_exec_params(const char *sql, int nargs, Oid *types,
							Datum *values, const char *nulls, int expected);

#endif							/* AI_CATALOG_H */
