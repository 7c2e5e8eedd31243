/*
 * batch.c: one cycle of the worker for one vectorizer.
 *
 *   claim   one statement: lease up to batch_size keys, read their rows
 *   prepare chunk each row's text and format each chunk with the template
 *   embed   outside any transaction
 *   write   one short transaction: lock our leases and the source rows;
 *           for each key still leased to us whose inputs are unchanged,
 *           replace its store rows (DELETE + binary COPY) and take it off
 *           the queue; keys whose row is gone leave the queue; keys whose
 *           row changed meanwhile stay queued for another cycle
 *   fail    keys that could not be embedded get a backoff, and after
 *           max_attempts move to the failed queue; the error is recorded
 *
 * Ownership: the batch owns everything it allocates and frees it before
 * batch_run returns. The lease token makes the write safe against a claim
 * that expired: a key leased again by another worker is not ours to write.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "worker.h"

/*
 * Rows per claim when neither --batch-size nor the vectorizer's processing
 * config says: measured with bench/worker, 400 rows a claim amortises the
 * claim and write statements without starving the other threads of work
 * (100 was 25% slower, 1000 slower again at two threads).
 */
#define DEFAULT_BATCH_SIZE 400

typedef enum row_state
{
	ROW_PENDING,				/* claimed, being worked on */
	ROW_GONE,					/* source row deleted */
	ROW_FAILED,					/* this row could not be embedded */
} row_state;

typedef struct batch_row
{
	char	  **key;			/* n_pk text values */
	int			attempts;
	row_state	state;
	char	   *hash;			/* md5 of the inputs when claimed */
	char	  **values;			/* n_inputs text values, NULL for SQL NULL */
	chunk_list	chunks;
	size_t		first_text;		/* index of its first chunk in the batch */
	char	   *error;			/* why it failed, when ROW_FAILED */
} batch_row;

typedef struct batch
{
	const vectorizer *v;
	batch_row  *rows;
	int			n_rows;
	char		token[37];
	/* every chunk of every row, formatted, in row order */
	char	  **texts;
	size_t	   *lens;
	size_t		n_texts;
	float	   *vectors;
	bool		canceled;		/* embedding cut short: the worker is stopping */
} batch;

static void
make_token(char *out)
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t) sizeof(b))
	{
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char) rand();
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
			 b[11], b[12], b[13], b[14], b[15]);
}

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

/* ---- binary COPY ------------------------------------------------------ */

typedef struct copybuf
{
	char	   *data;
	size_t		len,
				cap;
} copybuf;

static void
cb_put(copybuf *c, const void *p, size_t n)
{
	if (c->len + n > c->cap)
	{
		c->cap = (c->len + n) * 2 + 4096;
		c->data = xrealloc(c->data, c->cap);
	}
	memcpy(c->data + c->len, p, n);
	c->len += n;
}

static void
cb_i16(copybuf *c, int16_t v)
{
	uint16_t	n = htons((uint16_t) v);

	cb_put(c, &n, 2);
}

static void
cb_i32(copybuf *c, int32_t v)
{
	uint32_t	n = htonl((uint32_t) v);

	cb_put(c, &n, 4);
}

static void
cb_i64(copybuf *c, int64_t v)
{
	cb_i32(c, (int32_t) (v >> 32));
	cb_i32(c, (int32_t) (v & 0xffffffff));
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* A key column in binary: its type's send format, from its text form. */
static bool
cb_key(copybuf *c, unsigned type_oid, const char *text)
{
	switch (type_oid)
	{
		case 21:				/* int2 */
			cb_i32(c, 2);
			cb_i16(c, (int16_t) atoi(text));
			return true;
		case 23:				/* int4 */
			cb_i32(c, 4);
			cb_i32(c, (int32_t) atol(text));
			return true;
		case 20:				/* int8 */
			cb_i32(c, 8);
			cb_i64(c, strtoll(text, NULL, 10));
			return true;
		case 25:				/* text */
		case 1042:				/* bpchar */
		case 1043:				/* varchar */
			cb_i32(c, (int32_t) strlen(text));
			cb_put(c, text, strlen(text));
			return true;
		case 2950:				/* uuid */
			{
				unsigned char u[16];
				int			n = 0;

				for (const char *p = text; *p && n < 32; p++)
				{
					int			h = hexval(*p);

					if (h < 0)
						continue;
					if (n % 2 == 0)
						u[n / 2] = (unsigned char) (h << 4);
					else
						u[n / 2] |= (unsigned char) h;
					n++;
				}
				cb_i32(c, 16);
				cb_put(c, u, 16);
				return n == 32;
			}
		default:
			return false;
	}
}

/* True when every key type has a binary encoding here. */
static bool
keys_binary(const vectorizer *v)
{
	static const unsigned ok[] = {21, 23, 20, 25, 1042, 1043, 2950};

	for (int i = 0; i < v->n_pk; i++)
	{
		bool		found = false;

		for (size_t k = 0; k < sizeof(ok) / sizeof(ok[0]); k++)
			found |= v->pk[i].type_oid == ok[k];
		if (!found)
			return false;
	}
	return true;
}

/* COPY text format: escape backslash, tab, newline, carriage return. */
static void
cb_text_field(copybuf *c, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		switch (s[i])
		{
			case '\\':
				cb_put(c, "\\\\", 2);
				break;
			case '\t':
				cb_put(c, "\\t", 2);
				break;
			case '\n':
				cb_put(c, "\\n", 2);
				break;
			case '\r':
				cb_put(c, "\\r", 2);
				break;
			default:
				cb_put(c, &s[i], 1);
		}
	}
}

/*
 * The store rows of the keys marked in `write`, as COPY data: binary when
 * every key type has a binary form here (the common case: vectors go in as
 * pgvector's send format), else text with vector literals.
 */
static void
encode_rows(const batch *b, const bool *write, bool binary, copybuf *c)
{
	const vectorizer *v = b->v;
	int			dims = v->dimensions;

	if (binary)
	{
		static const char sig[] = "PGCOPY\n\377\r\n";

		cb_put(c, sig, 11);
		cb_i32(c, 0);
		cb_i32(c, 0);
	}
	for (int i = 0; i < b->n_rows; i++)
	{
		const batch_row *r = &b->rows[i];

		if (!write[i])
			continue;
		for (size_t ch = 0; ch < r->chunks.count; ch++)
		{
			size_t		t = r->first_text + ch;
			const float *vec = b->vectors + t * (size_t) dims;

			/*
			 * The store keeps the text that was embedded, the chunk as the
			 * template formatted it, as pgai's worker does.
			 */
			const chunk_span span_text = {b->texts[t], b->lens[t]};
			const chunk_span *span = &span_text;

			if (binary)
			{
				cb_i16(c, (int16_t) (v->n_pk + 3));
				for (int k = 0; k < v->n_pk; k++)
					cb_key(c, v->pk[k].type_oid, r->key[k]);
				cb_i32(c, 4);
				cb_i32(c, (int32_t) ch);
				cb_i32(c, (int32_t) span->len);
				cb_put(c, span->ptr, span->len);
				cb_i32(c, 4 + 4 * dims);
				cb_i16(c, (int16_t) dims);
				cb_i16(c, 0);
				for (int d = 0; d < dims; d++)
				{
					uint32_t	bits;

					memcpy(&bits, &vec[d], 4);
					bits = htonl(bits);
					cb_put(c, &bits, 4);
				}
			}
			else
			{
				char		num[64];

				for (int k = 0; k < v->n_pk; k++)
				{
					cb_text_field(c, r->key[k], strlen(r->key[k]));
					cb_put(c, "\t", 1);
				}
				snprintf(num, sizeof(num), "%zu\t", ch);
				cb_put(c, num, strlen(num));
				cb_text_field(c, span->ptr, span->len);
				cb_put(c, "\t[", 2);
				for (int d = 0; d < dims; d++)
				{
					int			n = snprintf(num, sizeof(num), "%s%.9g", d ? "," : "", vec[d]);

					cb_put(c, num, (size_t) n);
				}
				cb_put(c, "]\n", 2);
			}
		}
	}
	if (binary)
		cb_i16(c, -1);
}

/*
 * Replaces the store rows of the keys marked in `done` with the encoded
 * chunks, through ai._vectorizer_store_replace: the extension writes the
 * store as its owner, so the owner's triggers never run with our rights.
 * The keys go row by row, one element per key column; the rows as one
 * bytea parameter in binary, so they are sent as they are.
 */
static bool
store_replace(PGconn *conn, const batch *b, const bool *done, const copybuf *rows,
			  bool binary, pgai_error *err)
{
	const vectorizer *v = b->v;
	const char **flat = xcalloc((size_t) b->n_rows * (size_t) v->n_pk + 1, sizeof(char *));
	size_t		m = 0;
	char		id[16];
	char	   *keys;
	const char *values[4];
	int			lengths[4] = {0, 0, (int) rows->len, 0};
	int			formats[4] = {0, 0, 1, 0};
	PGresult   *res;
	bool		ok;

	for (int i = 0; i < b->n_rows; i++)
		for (int k = 0; done[i] && k < v->n_pk; k++)
			flat[m++] = b->rows[i].key[k];
	if (m == 0)
	{
		free(flat);
		return true;
	}
	keys = db_array_literal(flat, m);
	snprintf(id, sizeof(id), "%d", v->id);
	values[0] = id;
	values[1] = keys;
	values[2] = rows->data ? rows->data : "";
	values[3] = binary ? "true" : "false";
	res = PQexecParams(conn, "SELECT ai._vectorizer_store_replace($1::int, $2::text[], $3::bytea, $4::bool)",
					   4, NULL, values, lengths, formats, 0);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
	{
		const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		pgai_error_set(err, PGAI_EIO, "writing the store failed: %s",
					   msg ? msg : PQerrorMessage(conn));
	}
	PQclear(res);
	free(keys);
	free(flat);
	return ok;
}

/* ---- key sets as parameters ------------------------------------------- */

/*
 * Parameters for the generated statements: one text[] per key column with
 * the keys of the rows marked in `which`, then `extra` more values.
 */
typedef struct key_params
{
	char	  **arrays;
	const char **values;
	int			n;
	int			count;			/* rows selected */
} key_params;

static void
key_params_make(const batch *b, const bool *which, const char *const *extra,
				int n_extra, key_params *kp)
{
	const vectorizer *v = b->v;
	const char **col = xcalloc((size_t) b->n_rows, sizeof(char *));

	kp->arrays = xcalloc((size_t) v->n_pk, sizeof(char *));
	kp->n = v->n_pk + n_extra;
	kp->values = xcalloc((size_t) kp->n, sizeof(char *));
	kp->count = 0;
	for (int k = 0; k < v->n_pk; k++)
	{
		int			m = 0;

		for (int i = 0; i < b->n_rows; i++)
			if (which == NULL || which[i])
				col[m++] = b->rows[i].key[k];
		kp->arrays[k] = db_array_literal(col, (size_t) m);
		kp->values[k] = kp->arrays[k];
		kp->count = m;
	}
	for (int e = 0; e < n_extra; e++)
		kp->values[v->n_pk + e] = extra[e];
	free(col);
}

static void
key_params_free(const vectorizer *v, key_params *kp)
{
	for (int k = 0; k < v->n_pk; k++)
		free(kp->arrays[k]);
	free(kp->arrays);
	free(kp->values);
}

/* Runs a generated statement over the keys marked in `which`. */
static bool
exec_keys(PGconn *conn, const batch *b, const char *sql, const bool *which,
		  const char *const *extra, int n_extra, ExecStatusType expect,
		  PGresult **out, pgai_error *err)
{
	key_params	kp;
	PGresult   *res;

	key_params_make(b, which, extra, n_extra, &kp);
	if (kp.count == 0 && out == NULL)
	{
		key_params_free(b->v, &kp);
		return true;
	}
	res = db_exec_prepared(conn, sql, kp.n, kp.values, expect, err);
	key_params_free(b->v, &kp);
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return res != NULL;
}

/* ---- the cycle -------------------------------------------------------- */

static int
claim(PGconn *conn, batch *b, const worker_options *opt, pgai_error *err)
{
	const vectorizer *v = b->v;
	char		limit[16],
				lease[32];
	const char *params[3];
	PGresult   *res;
	int			n;

	snprintf(limit, sizeof(limit), "%d",
			 opt->batch_size > 0 ? opt->batch_size : v->batch_size > 0 ? v->batch_size : DEFAULT_BATCH_SIZE);
	snprintf(lease, sizeof(lease), "%g", opt->lease_seconds);
	make_token(b->token);
	params[0] = limit;
	params[1] = b->token;
	params[2] = lease;
	res = db_exec_prepared(conn, v->sql_claim, 3, params, PGRES_TUPLES_OK, err);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	b->rows = xcalloc((size_t) n, sizeof(batch_row));
	b->n_rows = n;
	for (int i = 0; i < n; i++)
	{
		batch_row  *r = &b->rows[i];
		int			c = 0;

		r->key = xcalloc((size_t) v->n_pk, sizeof(char *));
		for (int k = 0; k < v->n_pk; k++)
			r->key[k] = xstrdup(PQgetvalue(res, i, c++));
		r->attempts = atoi(PQgetvalue(res, i, c++));
		r->state = PQgetvalue(res, i, c++)[0] == 't' ? ROW_GONE : ROW_PENDING;
		r->hash = xstrdup(PQgetvalue(res, i, c++));
		r->values = xcalloc((size_t) v->n_inputs, sizeof(char *));
		for (int k = 0; k < v->n_inputs; k++, c++)
			r->values[k] = PQgetisnull(res, i, c) ? NULL : xstrdup(PQgetvalue(res, i, c));
	}
	PQclear(res);
	return n;
}

/* What the write found for each row. */
typedef struct verdict
{
	bool	   *ours;			/* still leased to us */
	bool	   *present;		/* source row exists */
	bool	   *same;			/* inputs unchanged since the claim */
} verdict;

static bool
lock_and_check(PGconn *conn, batch *b, verdict *vd, pgai_error *err)
{
	const char *extra[1] = {b->token};
	PGresult   *res;

	if (!exec_keys(conn, b, b->v->sql_lock_leases, NULL, extra, 1, PGRES_TUPLES_OK, &res, err))
		return false;
	for (int i = 0; i < PQntuples(res); i++)
		vd->ours[atoi(PQgetvalue(res, i, 0)) - 1] = true;
	PQclear(res);
	if (!exec_keys(conn, b, b->v->sql_lock_source, NULL, NULL, 0, PGRES_TUPLES_OK, &res, err))
		return false;
	for (int i = 0; i < PQntuples(res); i++)
	{
		int			idx = atoi(PQgetvalue(res, i, 0)) - 1;

		vd->present[idx] = true;
		vd->same[idx] = strcmp(PQgetvalue(res, i, 1), b->rows[idx].hash) == 0;
	}
	PQclear(res);
	return true;
}

/*
 * The write transaction. `failed_msg` non-NULL means the whole batch
 * failed to embed: every row is treated as failed with that message.
 */
static bool
write_batch(PGconn *conn, batch *b, const worker_options *opt, long *written,
			long *chunks, long *failures, pgai_error *err)
{
	int			n = b->n_rows;
	verdict		vd;
	bool	   *done = xcalloc((size_t) n, sizeof(bool));	/* store rows replaced */
	bool	   *leave = xcalloc((size_t) n, sizeof(bool));	/* off the queue */
	bool	   *release = xcalloc((size_t) n, sizeof(bool));	/* lease dropped */
	bool	   *retry = xcalloc((size_t) n, sizeof(bool));
	bool	   *give_up = xcalloc((size_t) n, sizeof(bool));
	bool		ok = false;
	copybuf		cb = {0};
	const char *token[1] = {b->token};

	vd.ours = xcalloc((size_t) n, sizeof(bool));
	vd.present = xcalloc((size_t) n, sizeof(bool));
	vd.same = xcalloc((size_t) n, sizeof(bool));
	*written = *chunks = *failures = 0;

	if (!db_command(conn, "BEGIN", err))
		goto out;
	if (!lock_and_check(conn, b, &vd, err))
		goto rollback;

	for (int i = 0; i < n; i++)
	{
		batch_row  *r = &b->rows[i];

		if (!vd.ours[i])
			continue;			/* our lease expired and another took it */
		if (!vd.present[i])
		{
			leave[i] = release[i] = true;	/* deleted: nothing to embed */
			continue;
		}
		if (!vd.same[i])
		{
			release[i] = true;	/* changed since the claim: claim again */
			continue;
		}
		if (r->state == ROW_FAILED && b->canceled)
		{
			/*
			 * Stopping is not the row's fault: no attempt or backoff is
			 * charged; the key stays queued and the next worker takes it
			 * (dropping the lease also restarts a retried row's count).
			 */
			release[i] = true;
			continue;
		}
		if (r->state == ROW_FAILED)
		{
			(*failures)++;
			if (r->attempts >= opt->max_attempts)
				give_up[i] = leave[i] = true;
			else
				retry[i] = true;
			continue;
		}
		done[i] = leave[i] = release[i] = true;
		(*written)++;
		*chunks += (long) r->chunks.count;
	}

	{
		bool		binary = keys_binary(b->v);

		if (*chunks > 0)
			encode_rows(b, done, binary, &cb);
		if (!store_replace(conn, b, done, &cb, binary, err))
			goto rollback;
	}
	if (!exec_keys(conn, b, b->v->sql_delete_queue, leave, NULL, 0, PGRES_COMMAND_OK, NULL, err) ||
		!exec_keys(conn, b, b->v->sql_delete_failed, done, NULL, 0, PGRES_COMMAND_OK, NULL, err) ||
		!exec_keys(conn, b, b->v->sql_delete_leases, release, token, 1, PGRES_COMMAND_OK, NULL, err))
		goto rollback;

	/* failures: one statement per distinct message keeps them exact */
	for (int i = 0; i < n; i++)
	{
		bool	   *same_msg;
		bool		is_retry = retry[i];
		const char *msg;
		char		backoff[32];

		if (!retry[i] && !give_up[i])
			continue;
		msg = b->rows[i].error ? b->rows[i].error : "embedding failed";
		same_msg = xcalloc((size_t) n, sizeof(bool));
		for (int j = i; j < n; j++)
		{
			const char *mj = b->rows[j].error ? b->rows[j].error : "embedding failed";

			if ((is_retry ? retry[j] : give_up[j]) && strcmp(mj, msg) == 0)
				same_msg[j] = true;
		}
		snprintf(backoff, sizeof(backoff), "%g", opt->retry_backoff);
		{
			const char *extra[3] = {b->token, msg, backoff};
			bool		fine = exec_keys(conn, b, is_retry ? b->v->sql_retry_later : b->v->sql_move_failed,
										 same_msg, extra, is_retry ? 3 : 2, PGRES_COMMAND_OK, NULL, err);

			for (int j = i; j < n; j++)
				if (same_msg[j])
					retry[j] = give_up[j] = false;
			free(same_msg);
			if (!fine)
				goto rollback;
		}
	}

	ok = db_command(conn, "COMMIT", err);
	goto out;

rollback:
	{
		pgai_error ignored;
		PGresult   *res;

		/* a failed COPY may leave results to drain before ROLLBACK */
		while ((res = PQgetResult(conn)) != NULL)
			PQclear(res);
		db_command(conn, "ROLLBACK", &ignored);
	}
out:
	free(cb.data);
	free(done);
	free(leave);
	free(release);
	free(retry);
	free(give_up);
	free(vd.ours);
	free(vd.present);
	free(vd.same);
	return ok;
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
	n = claim(conn, &b, opt, err);
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
