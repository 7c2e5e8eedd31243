/*
 * batch.c: one cycle of the worker for one vectorizer.
 *
 *   claim   (claim.c) one statement: lease up to batch_size keys, read
 *           their rows
 *   prepare chunk each row's text and format each chunk with the template
 *   embed   (embedder.c) outside any transaction
 *   write   (write.c) one short transaction: lock our leases and the
 *           source rows; for each key still leased to us whose inputs are
 *           unchanged, replace its store rows and take it off the queue;
 *           keys whose row is gone leave the queue; keys whose row changed
 *           meanwhile stay queued for another cycle
 *   fail    keys that could not be embedded get a backoff, and after
 *           max_attempts move to the failed queue; the error is recorded
 *           here, after the write, so a record cannot undo it
 *
 * Ownership: the batch owns everything it allocates and frees it before
 * batch_run returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "claim.h"
#include "copy.h"
#include "db.h"
#include "util.h"
#include "write.h"

static void
batch_free(batch *b)
{
	for (int i = 0; i < b->n_rows; i++)
	{
		batch_row  *r = &b->rows[i];

		for (int k = 0; k < b->v->n_pk; k++)
			free(r->key[k]);
		free(r->key);
		for (int k = 0; k < b->v->n_inputs; k++)
			free(r->values[k]);
		free(r->values);
		free(r->hash);
		free(r->error);
		chunk_list_free(&r->chunks);
	}
	free(b->rows);
	for (size_t i = 0; i < b->n_texts; i++)
		free(b->texts[i]);
	free(b->texts);
	free(b->lens);
	free(b->vectors);
}

static void
fail_row(batch_row *r, const char *msg)
{
	r->state = ROW_FAILED;
	free(r->error);
	r->error = xstrdup(msg);
}

/* Template values: the chunk, or the row's column as text (None for NULL). */
typedef struct lookup_ctx
{
	const vectorizer *v;
	const batch_row *row;
	const char *chunk;
	size_t		chunk_len;
} lookup_ctx;

static pgai_status
lookup(void *arg, const char *name, const char **value, size_t *value_len,
	   pgai_error *err)
{
	lookup_ctx *c = arg;

	(void) err;
	if (strcmp(name, "chunk") == 0)
	{
		*value = c->chunk;
		*value_len = c->chunk_len;
		return PGAI_OK;
	}
	for (int i = 0; i < c->v->n_inputs; i++)
	{
		if (strcmp(c->v->inputs[i], name) == 0)
		{
			/* Python's str(None), as pgai's worker formats a NULL */
			*value = c->row->values[i] ? c->row->values[i] : "None";
			*value_len = strlen(*value);
			return PGAI_OK;
		}
	}
	return PGAI_ETEMPLATE_NAME;
}

/* Chunks every row and formats every chunk. */
static void
prepare(batch *b)
{
	const vectorizer *v = b->v;
	size_t		cap = 0;

	for (int i = 0; i < b->n_rows; i++)
	{
		batch_row  *r = &b->rows[i];
		const char *text = r->values[0];
		pgai_error	err;
		pgai_status st;

		r->first_text = b->n_texts;
		if (r->state != ROW_PENDING || text == NULL)
			continue;			/* a NULL text has no chunks */
		st = v->recursive ?
			chunk_recursive(text, strlen(text), &v->chunking, &r->chunks, &err) :
			chunk_character(text, strlen(text), &v->chunking, &r->chunks, &err);
		if (st != PGAI_OK)
		{
			fail_row(r, err.message);
			continue;
		}
		for (size_t c = 0; c < r->chunks.count; c++)
		{
			lookup_ctx	ctx = {v, r, r->chunks.items[c].ptr, r->chunks.items[c].len};
			char	   *out = NULL;
			size_t		out_len = 0;

			if (tmpl_render(v->template, lookup, &ctx, &out, &out_len, &err) != PGAI_OK)
			{
				fail_row(r, err.message);
				break;
			}
			if (b->n_texts == cap)
			{
				cap = cap ? cap * 2 : 256;
				b->texts = xrealloc(b->texts, cap * sizeof(char *));
				b->lens = xrealloc(b->lens, cap * sizeof(size_t));
			}
			b->texts[b->n_texts] = out;
			b->lens[b->n_texts] = out_len;
			b->n_texts++;
		}
		if (r->state == ROW_FAILED)
		{
			/* drop what this row formatted before the failure */
			while (b->n_texts > r->first_text)
				free(b->texts[--b->n_texts]);
		}
	}
}

/* A JSON string literal of s (for error details), malloc'd. */
static char *
json_string(const char *s)
{
	copybuf		c = {0};

	cb_put(&c, "\"", 1);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		char		esc[8];

		if (*p == '"' || *p == '\\')
		{
			esc[0] = '\\';
			esc[1] = (char) *p;
			cb_put(&c, esc, 2);
		}
		else if (*p < 0x20)
		{
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			cb_put(&c, esc, 6);
		}
		else
			cb_put(&c, p, 1);
	}
	cb_put(&c, "\"\0", 2);
	return c.data;
}

/*
 * A failure on the database's side (a store or source changed under the
 * vectorizer, a refused write) is recorded like a provider's, so that
 * `pgai vectorizer status` and ai.vectorizer_errors show it rather than
 * only the worker's log. A lost connection cannot be recorded: the
 * reconnect path logs it.
 */
static void
record_db_failure(PGconn *conn, const vectorizer *v, const char *phase, const pgai_error *err)
{
	char	   *details;

	if (PQstatus(conn) != CONNECTION_OK)
		return;
	details = xasprintf("{\"phase\": \"%s\"}", phase);
	db_record_error(conn, v->id, err->message, details);
	free(details);
}

long
batch_run(PGconn *conn, const vectorizer *v, embedder **emb,
		  const worker_options *opt, worker_stats *stats, pgai_error *err)
{
	batch		b = {0};
	int			n;
	long		written = 0,
				chunks = 0,
				failures = 0;
	char	   *batch_error = NULL;

	b.v = v;
	n = claim_batch(conn, &b, opt, err);
	if (n <= 0)
	{
		if (n < 0)
			record_db_failure(conn, v, "claim", err);
		batch_free(&b);
		return n;
	}

	prepare(&b);

	/* embed, outside any transaction */
	if (b.n_texts > 0)
	{
		pgai_error	e;
		pgai_error *row_errors = xcalloc(b.n_texts, sizeof(pgai_error));
		pgai_status st = PGAI_OK;

		if (*emb != NULL && !embedder_matches(*emb, v))
		{
			embedder_close(*emb);
			*emb = NULL;
		}
		if (*emb == NULL)
			st = embedder_open(v, opt, emb, &e);
		b.vectors = xcalloc(b.n_texts * (size_t) v->dimensions, sizeof(float));
		if (st == PGAI_OK)
			st = embedder_embed(*emb, (const char *const *) b.texts, b.lens, b.n_texts,
								b.vectors, row_errors, &e);
		if (st == PGAI_ECANCELED)
			b.canceled = true;
		else if (st != PGAI_OK)
			batch_error = xstrdup(e.message);
		if (st != PGAI_OK)
		{
			for (int i = 0; i < b.n_rows; i++)
				if (b.rows[i].state == ROW_PENDING)
					fail_row(&b.rows[i], e.message);
		}
		else
		{
			for (int i = 0; i < b.n_rows; i++)
			{
				batch_row  *r = &b.rows[i];

				for (size_t c = 0; r->state == ROW_PENDING && c < r->chunks.count; c++)
					if (row_errors[r->first_text + c].code != PGAI_OK)
						fail_row(r, row_errors[r->first_text + c].message);
			}
		}
		free(row_errors);
	}

	if (!write_batch(conn, &b, opt, &written, &chunks, &failures, err))
	{
		/* the leases expire; the queue keeps every key */
		record_db_failure(conn, v, "write", err);
		free(batch_error);
		batch_free(&b);
		return -1;
	}

	/* record what failed, outside the write so a record cannot undo it */
	if (batch_error != NULL)
	{
		char	   *details = xasprintf("{\"rows\": %d, \"chunks\": %zu}", b.n_rows, b.n_texts);

		db_record_error(conn, v->id, batch_error, details);
		free(details);
	}
	else if (!b.canceled)
	{
		for (int i = 0; i < b.n_rows; i++)
		{
			batch_row  *r = &b.rows[i];

			if (r->state == ROW_FAILED)
			{
				char	   *key = json_string(r->key[0]);
				char	   *details = xasprintf("{\"key\": %s, \"attempts\": %d}", key, r->attempts);

				db_record_error(conn, v->id, r->error, details);
				free(key);
				free(details);
			}
		}
	}
	atomic_fetch_add(&stats->rows, written);
	atomic_fetch_add(&stats->chunks, chunks);
	atomic_fetch_add(&stats->errors, failures);
	if (!opt->progress)
		log_line("vectorizer %d: %d keys claimed, %ld rows and %ld chunks written, %ld failed",
				 v->id, n, written, chunks, failures);
	free(batch_error);
	batch_free(&b);
	return n;
}
