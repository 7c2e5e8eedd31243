/*
 * keys.c: API keys held in settings, and when a setting's key may be used.
 *
 * A key in a setting is a secret only while no other role can read it, and
 * where a value was set decides that:
 *   - in this session (SET, or the client's startup options): the role's
 *     own; fine.
 *   - in postgresql.conf, ALTER SYSTEM or the server's command line: until
 *     ai.so is loaded in a session the setting is a placeholder that any
 *     role can SHOW. Only with ai in shared_preload_libraries is
 *     ai.openai_api_key or ai.voyage_api_key superuser-only in every
 *     session from its start.
 *   - ALTER ROLE or ALTER DATABASE ... SET: stored in pg_db_role_setting,
 *     which every role may read.
 * A key whose setting another role could have read is refused, with a hint
 * on where to keep it instead, rather than used as if it were secret: the
 * DBA learns of the exposure from the first call, not from a leak.
 * Settings named by api_key_name (ai.<name>) are never defined by ai.so,
 * so they are placeholders in every session: only a session's own value
 * is used.
 *
 * The source of each defined key's value is recorded by its check hook
 * (PostgreSQL passes it there and nowhere else); the placeholder case
 * compares the value with the one a RESET would restore. The settings are
 * defined in guc.c with the hooks of this file.
 */
#include "postgres.h"

#include <stdlib.h>

#include "utils/guc.h"

#include "keys.h"
#include "sqlstate.h"

static bool preloaded = false;
static GucSource openai_key_source = PGC_S_DEFAULT;
static GucSource voyage_key_source = PGC_S_DEFAULT;

/* The source travels from the check hook to the assign hook as `extra`. */
bool
ai_key_check(char **newval, void **extra, GucSource source)
{
	GucSource  *s = malloc(sizeof(GucSource));	/* GUC extras are malloc'd */

	if (s == NULL)
		return false;
	*s = source;
	*extra = s;
	return true;
}

void
ai_openai_key_assign(const char *newval, void *extra)
{
	openai_key_source = *(GucSource *) extra;
}

void
ai_voyage_key_assign(const char *newval, void *extra)
{
	voyage_key_source = *(GucSource *) extra;
}

/*
 * Whether ai.so is being loaded through shared_preload_libraries: then the
 * key settings exist, superuser-only, from every session's start.
 */
void
ai_keys_loading(bool is_preload)
{
	preloaded = is_preload;
}

/* Could a role other than the session's have read a value from `source`? */
static bool
source_exposed(GucSource source)
{
	switch (source)
	{
		case PGC_S_CLIENT:
		case PGC_S_OVERRIDE:
		case PGC_S_INTERACTIVE:
		case PGC_S_TEST:
		case PGC_S_SESSION:
			return false;
		case PGC_S_GLOBAL:
		case PGC_S_DATABASE:
		case PGC_S_USER:
		case PGC_S_DATABASE_USER:
			return true;		/* pg_db_role_setting */
		default:
			return !preloaded;	/* file, command line: a placeholder until
								 * loaded */
	}
}

/*
 * The key held in setting `name` (ai.openai_api_key, ai.<api_key_name>), or
 * NULL when it is empty. Raises an error when the value could have been
 * read by another role.
 */
const char *
ai_key_from_setting(const char *name, const char *env_name)
{
	const char *value = GetConfigOption(name, true, false);
	bool		exposed;

	if (value == NULL || value[0] == '\0')
		return NULL;
	if (strcmp(name, "ai.openai_api_key") == 0)
		exposed = source_exposed(openai_key_source);
	else if (strcmp(name, "ai.voyage_api_key") == 0)
		exposed = source_exposed(voyage_key_source);
	else
	{
		const char *reset = GetConfigOptionResetString(name);

		exposed = reset != NULL && strcmp(reset, value) == 0;
	}
	if (exposed)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the key in setting %s is readable by every role, so it is not used",
						ai_bounded(name)),
				 errdetail("Keys set with ALTER ROLE or ALTER DATABASE are in pg_db_role_setting, "
						   "and keys set in the server's configuration can be shown before ai is "
						   "loaded unless ai is in shared_preload_libraries; settings named by "
						   "api_key_name are never protected."),
				 errhint("Keep the key in the server's environment (%s), add ai to "
						 "shared_preload_libraries for ai.openai_api_key or ai.voyage_api_key "
						 "in postgresql.conf, or SET it in the session.", ai_bounded(env_name))));
	return value;
}
