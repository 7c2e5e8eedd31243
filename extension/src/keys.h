/*
 * keys.h: when an API key held in a setting may be used (keys.c). The key
 * settings themselves are defined in guc.c, with the hooks below.
 */
#ifndef AI_KEYS_H
#define AI_KEYS_H

#include "utils/guc.h"

/* Called by _PG_init before the key settings are defined. */
extern void ai_keys_loading(bool preloaded);

/* check and assign hooks of ai.openai_api_key and ai.voyage_api_key */
extern bool ai_key_check(char **newval, void **extra, GucSource source);
extern void ai_openai_key_assign(const char *newval, void *extra);
extern void ai_voyage_key_assign(const char *newval, void *extra);

/* The key in setting `name`, NULL when empty; an error when others could read it. */
extern const char *ai_key_from_setting(const char *name, const char *env_name);

#endif							/* AI_KEYS_H */
