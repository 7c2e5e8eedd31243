/*
 * db.h: small helpers over libpq (db.c).
 */
#ifndef PGAI_WORKER_DB_H
#define PGAI_WORKER_DB_H

#include "worker.h"

extern PGresult *db_exec(PGconn *conn, const char *sql, int nparams,
						 const char *const *values, ExecStatusType expect,
						 pgai_error *err);
extern PGresult *db_exec_prepared(PGconn *conn, const char *sql, int nparams,
								  const char *const *values, ExecStatusType expect,
								  pgai_error *err);
extern void db_forget_prepared(void);
extern bool db_command(PGconn *conn, const char *sql, pgai_error *err);
extern char *db_ident(PGconn *conn, const char *name);
extern char *db_array_literal(const char *const *values, size_t n);
extern char *db_ids_literal(const int *ids, int n);
extern void db_record_error(PGconn *conn, int vectorizer_id, const char *message,
							const char *details_json);

#endif							/* PGAI_WORKER_DB_H */
