/*
 * ai.c: module entry point of the "ai" extension.
 *
 * The SQL-callable functions live in one file per concern:
 *   config.c      checking the configuration objects
 *   vectorizer.c  create_vectorizer, drop_vectorizer
 *   capture.c     the change-capture trigger
 *   queue.c       queue counts, retries, schedules
 *   event.c       cleanup when a source table is dropped
 *   catalog.c     catalog access and role switching shared by the above
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;
