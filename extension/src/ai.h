/*
 * ai.h: types and constants every C source of the "ai" extension shares.
 * Functions are declared in the header of the file that defines them
 * (catalog.h, config.h, sqlgen.h, ...; README.md has the map).
 *
 * The extension keeps one catalog (ai._vectorizer, by OID, shown by name
 * in the view ai.vectorizer) and, per vectorizer, a store table, a view, a
 * queue, a lease and a failed queue, and capture triggers on the source
 * table. Everything that reads or writes those objects through SPI expects
 * the caller to have connected SPI; errors are reported with ereport and
 * the transaction machinery undoes any partial work.
 */
#ifndef AI_H
#define AI_H

#include "postgres.h"

#include "utils/jsonb.h"

/* The version stored in every vectorizer's config, as pgai stores it. */
#define AI_VERSION "0.1.0"

/* NOTIFY channel the extension signals new work on; payload: the id */
#define AI_NOTIFY_CHANNEL "ai_vectorizer_work"

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
	char	   *trigger_name;	/* the capture triggers' name prefix, as
								 * created */
	Jsonb	   *source_pk;		/* [{attnum, pknum, attname, typname}] */
	Jsonb	   *config;
	bool		disabled;
	char	   *name;			/* unique; users and migrations call it this */
} Vectorizer;

#endif							/* AI_H */
