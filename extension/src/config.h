/*
 * config.h: checking and reading a vectorizer's jsonb configurations
 * (config.c, which holds the one table of every config's fields).
 */
#ifndef AI_CONFIG_H
#define AI_CONFIG_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/jsonb.h"

extern Jsonb *config_check(const char *config_type, Jsonb *config);
extern Jsonb *config_from_text(const char *config_type, const char *json);
extern const char *config_get_string(Jsonb *config, const char *key);
extern bool config_get_int(Jsonb *config, const char *key, int64 *value);
extern Jsonb *config_get_object(Jsonb *config, const char *key);
extern List *config_get_string_list(Jsonb *config, const char *key);

/* The names (String nodes) a formatting template uses; errors if invalid. */
extern List *template_names(const char *tmpl);

#endif							/* AI_CONFIG_H */
