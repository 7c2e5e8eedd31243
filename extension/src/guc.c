/*
 * guc.c: module entry point of the "ai" extension and every setting it
 * defines.
 *
 * All ai.* settings are defined here, in one place, so that their levels
 * (who may set them) can be read side by side: URLs and the model folder
 * are superuser-only (PGC_SUSET), because the server acts on them; API keys
 * are settable by anyone for their own session and shown to superusers
 * only. When a key setting's value may be used is keys.c's policy, which
 * these definitions hook into. See README.md for the other files.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "guc.h"
#include "keys.h"
#include "pgai_provider.h"
#include "sqlstate.h"

PG_MODULE_MAGIC;

char	   *ai_model_dir = NULL;
char	   *ai_openai_base_url = NULL;
char	   *ai_openai_api_key = NULL;
char	   *ai_voyage_api_key = NULL;
char	   *ai_ollama_host = NULL;
char	   *ai_allowed_base_urls = NULL;

void
_PG_init(void)
{
	DefineCustomStringVariable("ai.model_dir",
							   "Folder of the built-in model's files.",
							   "Empty means $PGAI_MODEL_DIR, else the folder make setup fills.",
							   &ai_model_dir, "", PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("ai.openai_base_url",
							   "Base URL of the OpenAI API or a compatible server.",
							   "Empty means https://api.openai.com/v1. Superuser-only: the server may call it.",
							   &ai_openai_base_url, "", PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("ai.allowed_base_urls",
							   "URL prefixes, comma-separated, the server may call besides the providers' public endpoints and the configured base URLs.",
							   NULL,
							   &ai_allowed_base_urls, "", PGC_SUSET, 0, NULL, NULL, NULL);

	/* keys.c needs to know whether the key settings exist from session start */
	ai_keys_loading(process_shared_preload_libraries_in_progress);
	/* settable by anyone for their session, shown to superusers only */
	DefineCustomStringVariable("ai.openai_api_key", "API key for OpenAI.", NULL,
							   &ai_openai_api_key, "", PGC_USERSET,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL,
							   ai_key_check, ai_openai_key_assign, NULL);
	DefineCustomStringVariable("ai.voyage_api_key", "API key for Voyage AI.", NULL,
							   &ai_voyage_api_key, "", PGC_USERSET,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL,
							   ai_key_check, ai_voyage_key_assign, NULL);

	DefineCustomStringVariable("ai.ollama_host", "Where Ollama listens.",
							   "Empty means $OLLAMA_HOST, else http://localhost:11434.",
							   &ai_ollama_host, "", PGC_SUSET, 0, NULL, NULL, NULL);
	{
		pgai_error	err;

		/* libcurl's process-wide setup, once per backend */
		if (provider_global_init(&err) != PGAI_OK)
			ereport(ERROR,
					(errcode(ai_sqlstate(err.code, AI_FAILED_SETUP)),
					 errmsg("could not initialize HTTP: %s", err.message)));
	}
}
