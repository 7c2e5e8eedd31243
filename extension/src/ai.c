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
 *   catalog.c     catalog access and role switching shared by the above
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

extern char *ai_model_dir;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomStringVariable("ai.model_dir",
							   "Folder of the built-in model's files.",
							   "Empty means $PGAI_MODEL_DIR, else the folder make setup fills.",
							   &ai_model_dir, "", PGC_SUSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("ai");
}
