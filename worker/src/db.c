/*
 * db.c: small helpers over libpq.
 *
 * Every statement with values uses PQexecParams with text parameters;
 * identifiers are quoted with PQescapeIdentifier. Results belong to the
 * caller (PQclear); strings returned here are malloc'd and the caller's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "db.h"
#include "sql.h"
#include "util.h"

/* The server's error, one line, without the trailing newline. */
static void
set_db_error(pgai_error *err, PGconn *conn, PGresult *res)
{
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
	size_t		len = strlen(msg);

	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		len--;
	pgai_error_set(err, PGAI_EIO, "%.*s", (int) len, msg);
}

/*
 * Runs `sql` with text parameters; returns the result when its status is
 * `expect`, else NULL with `err` set (the result is cleared).
 */
PGresult *
db_exec(PGconn *conn, const char *sql, int nparams, const char *const *values,
		ExecStatusType expect, pgai_error *err)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, values, NULL, NULL, 0);

	if (res == NULL || PQresultStatus(res) != expect)
	{
		set_db_error(err, conn, res);
		PQclear(res);
		return NULL;
	}
	return res;
}

/*
 * Prepared statements, per thread: the generated statements run once a
 * batch, so planning them each time would cost as much as running them.
 * Entries remember the backend they were prepared in; after a reconnect
 * (a new backend pid) they are prepared again.
 */
typedef struct prepared
{
	int			backend_pid;
	uint64_t	hash;
	char	   *sql;
	char		name[24];
} prepared;

static _Thread_local prepared *cache = NULL;
static _Thread_local size_t n_cache = 0;

static uint64_t
fnv1a(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 1099511628211ULL;
	return h;
}

PGresult *
db_exec_prepared(PGconn *conn, const char *sql, int nparams, const char *const *values,
				 ExecStatusType expect, pgai_error *err)
{
	int			pid = PQbackendPID(conn);
	uint64_t	h = fnv1a(sql);
	prepared   *p = NULL;
	PGresult   *res;

	for (size_t i = 0; i < n_cache; i++)
		if (cache[i].backend_pid == pid && cache[i].hash == h && strcmp(cache[i].sql, sql) == 0)
		{
			p = &cache[i];
			break;
		}
	if (p == NULL)
	{
		char		name[24];

		snprintf(name, sizeof(name), "pgai_%zu", n_cache);
		res = PQprepare(conn, name, sql, nparams, NULL);
		if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			set_db_error(err, conn, res);
			PQclear(res);
			return NULL;
		}
		PQclear(res);
		cache = xrealloc(cache, (n_cache + 1) * sizeof(prepared));
		p = &cache[n_cache++];
		p->backend_pid = pid;
		p->hash = h;
		p->sql = xstrdup(sql);
		memcpy(p->name, name, sizeof(name));
	}
	res = PQexecPrepared(conn, p->name, nparams, values, NULL, NULL, 0);
	if (res == NULL || PQresultStatus(res) != expect)
	{
		set_db_error(err, conn, res);
		PQclear(res);
		return NULL;
	}
	return res;
}

/* Forgets this thread's prepared statements (call before it exits). */
void
db_forget_prepared(void)
{
	for (size_t i = 0; i < n_cache; i++)
		free(cache[i].sql);
	free(cache);
	cache = NULL;
	n_cache = 0;
}

/* A statement without parameters or rows (BEGIN, COMMIT, LISTEN...). */
bool
db_command(PGconn *conn, const char *sql, pgai_error *err)
{
	PGresult   *res = db_exec(conn, sql, 0, NULL, PGRES_COMMAND_OK, err);

	PQclear(res);
	return res != NULL;
}

/* A quoted identifier, malloc'd. */
char *
db_ident(PGconn *conn, const char *name)
{
	char	   *q = PQescapeIdentifier(conn, name, strlen(name));
	char	   *copy;

	if (q == NULL)
	{
		fprintf(stderr, "pgai: cannot quote identifier: %s", PQerrorMessage(conn));
		exit(3);
	}
	copy = xstrdup(q);
	PQfreemem(q);
	return copy;
}

/* A text[] literal {"a","b"} of the values (NULL elements as NULL). */
char *
db_array_literal(const char *const *values, size_t n)
{
	size_t		cap = 16,
				len = 0;
	char	   *buf = xcalloc(cap, 1);

#define PUT(c) do { if (len + 2 > cap) { cap *= 2; buf = xrealloc(buf, cap); } buf[len++] = (c); } while (0)
	PUT('{');
	for (size_t i = 0; i < n; i++)
	{
		if (i > 0)
			PUT(',');
		if (values[i] == NULL)
		{
			PUT('N');
			PUT('U');
			PUT('L');
			PUT('L');
			continue;
		}
		PUT('"');
		for (const char *p = values[i]; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				PUT('\\');
			PUT(*p);
		}
		PUT('"');
	}
	PUT('}');
#undef PUT
	buf[len] = '\0';
	return buf;
}

/* An int[] literal of the ids, or NULL when there are none (meaning: all). */
char *
db_ids_literal(const int *ids, int n)
{
	char	  **strs;
	char	   *lit;

	if (n <= 0)
		return NULL;
	strs = xcalloc((size_t) n, sizeof(char *));
	for (int i = 0; i < n; i++)
		strs[i] = xasprintf("%d", ids[i]);
	lit = db_array_literal((const char *const *) strs, (size_t) n);
	for (int i = 0; i < n; i++)
		free(strs[i]);
	free(strs);
	return lit;
}

/*
 * Records an error row for a vectorizer, in its own statement (autocommit),
 * through the extension's function: the table takes no direct INSERT.
 * Failing to record is itself only logged: the queue keeps the work.
 */
void
db_record_error(PGconn *conn, int vectorizer_id, const char *message,
				const char *details_json)
{
	char		id[16];
	const char *params[3];
	pgai_error	err;
	PGresult   *res;

	snprintf(id, sizeof(id), "%d", vectorizer_id);
	params[0] = id;
	params[1] = message;
	params[2] = details_json ? details_json : "{}";
	res = db_exec(conn, sql_record_error,
				  3, params, PGRES_TUPLES_OK, &err);
	if (res == NULL)
		log_line("vectorizer %d: could not record an error: %s", vectorizer_id, err.message);
	PQclear(res);
}
