/*
 * ai.c: module entry point of the "ai" extension.
 *
 * The SQL-callable functions live in one file per concern:
 *   config.c      checking the configuration objects
 *   vectorizer.c  create_vectorizer, drop_vectorizer
 *   capture.c     the change-capture trigger
 *   queue.c       queue counts, retries, schedules
 *   event.c       cleanup when a source table is dropped
 *   embed_local.c the built-in model: ai.sentence_transformers_embed
 *   embed_http.c  providers over HTTP: ai.openai_embed, ai.ollama_embed,
 *                 ai.voyageai_embed
 *   catalog.c     catalog access and role switching shared by the above
 *   keys.c        API keys in settings: when a setting's key may be used
 *   store.c       the worker's store writes, as the store's owner
 *   error_record.c ai.vectorizer_errors, written through one function
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "ai.h"
#include "pgai_provider.h"

PG_MODULE_MAGIC;

extern char *ai_model_dir;
extern char *ai_openai_base_url;
extern char *ai_ollama_host;
extern char *ai_allowed_base_urls;

void		_PG_init(void);

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
	ai_define_key_settings();
	DefineCustomStringVariable("ai.ollama_host", "Where Ollama listens.",
							   "Empty means $OLLAMA_HOST, else http://localhost:11434.",
							   &ai_ollama_host, "", PGC_SUSET, 0, NULL, NULL, NULL);
	{
		pgai_error	err;

		/* libcurl's process-wide setup, once per backend */
		if (provider_global_init(&err) != PGAI_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not initialize HTTP: %s", err.message)));
	}
}
