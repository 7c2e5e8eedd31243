/*
 * claim.c: the claim of a batch: one statement (sql.c builds it, see
 * docs/design.md "Queues") leases up to batch_size keys under a fresh
 * token and reads their source rows. The token makes the write safe
 * against a claim that expired: a key leased again by another worker is
 * not ours to write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "claim.h"
#include "db.h"
#include "sql.h"
#include "util.h"

/*
 * Rows per claim when neither --batch-size nor the vectorizer's processing
 * config says: measured with bench/worker, 400 rows a claim amortises the
 * claim and write statements without starving the other threads of work
 * (100 was 25% slower, 1000 slower again at two threads).
 */
#define DEFAULT_BATCH_SIZE 400

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

int
claim_batch(PGconn *conn, batch *b, const worker_options *opt, pgai_error *err)
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
		int			c = claim_column(v, CLAIM_INPUTS);

		r->key = xcalloc((size_t) v->n_pk, sizeof(char *));
		for (int k = 0; k < v->n_pk; k++)
			r->key[k] = xstrdup(PQgetvalue(res, i, k));
		r->attempts = atoi(PQgetvalue(res, i, claim_column(v, CLAIM_ATTEMPTS)));
		r->state = PQgetvalue(res, i, claim_column(v, CLAIM_GONE))[0] == 't' ? ROW_GONE : ROW_PENDING;
		r->hash = xstrdup(PQgetvalue(res, i, claim_column(v, CLAIM_HASH)));
		r->values = xcalloc((size_t) v->n_inputs, sizeof(char *));
		for (int k = 0; k < v->n_inputs; k++, c++)
			r->values[k] = PQgetisnull(res, i, c) ? NULL : xstrdup(PQgetvalue(res, i, c));
	}
	PQclear(res);
	return n;
}
