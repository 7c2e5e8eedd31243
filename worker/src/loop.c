/*
 * loop.c: the run of `pgai vectorizer worker` (options.c reads its
 * command line):
 *
 *   pgai vectorizer worker [--db-url URL] [--once] [-i ID]... [--poll-interval 5s]
 *                          [-c N] [--batch-size N] [--max-attempts N]
 *                          [--retry-backoff 10s] [--lease 5m]
 *
 * Each of the N threads owns a connection and loops over the vectorizers:
 * claim a batch, embed it, write it. When nothing is claimable it waits for
 * a notification from the capture triggers (LISTEN ai_vectorizer_work) or
 * the poll interval. SIGINT/SIGTERM let the current batch finish.
 *
 * --once (see once.c) first lifts the backoff earlier runs left on failed
 * keys, then runs until nothing is left that it could get: keys leased by
 * another live worker are waited for. It exits 0 when no batch or row
 * failed and the served queues are empty; 1 when something failed or
 * keys remain queued (each vectorizer's count and reason are logged).
 * Exit 2 means bad usage, 3 a fatal error (no database).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pgai_provider.h"
#include "batch.h"
#include "catalog.h"
#include "db.h"
#include "indexer.h"
#include "loop.h"
#include "once.h"
#include "schedule.h"
#include "sql.h"
#include "util.h"

volatile sig_atomic_t worker_stop = 0;

static void
on_signal(int sig)
{
	(void) sig;
	worker_stop = 1;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

typedef struct thread_ctx
{
	const worker_options *opt;
	worker_stats *stats;
	int			index;
	int			fatal;			/* set when the thread could not run */
	atomic_int *pids;			/* every thread's backend, [index] is ours */
	int			n_threads;
} thread_ctx;

/*
 * What the threads of this process share per vectorizer: how many work on
 * it now, which processing.concurrency caps (the worker's -c caps them
 * all); the last fixed-schedule run announced in the log, so a run is
 * logged once, not once per thread; and the schedule's state, which is the
 * process's, not each thread's (see schedule_take). Entries stay for the
 * process's life: there are as many as vectorizers.
 */
typedef struct shared_vectorizer
{
	int			id;
	int			active;
	double		announced;
	bool		ran;			/* a scheduled run has started */
	double		last;			/* when the last run started, monotonic s */
	double		slot;			/* the fixed schedule's run it was, epoch s */
	int			in_run;			/* threads in the run under way */
} shared_vectorizer;

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static shared_vectorizer *shared;
static int	n_shared;

/* The entry of vectorizer id; call with shared_lock held. */
static shared_vectorizer *
shared_of(int id)
{
	for (int i = 0; i < n_shared; i++)
		if (shared[i].id == id)
			return &shared[i];
	shared = xrealloc(shared, (size_t) (n_shared + 1) * sizeof(shared_vectorizer));
	shared[n_shared] = (shared_vectorizer)
	{
		.id = id
	};
	return &shared[n_shared++];
}

/* A place among the threads working on v; false when they are enough. */
static bool
concurrency_take(const vectorizer *v)
{
	shared_vectorizer *sv;
	bool		ok;

	if (v->concurrency <= 0)
		return true;
	pthread_mutex_lock(&shared_lock);
	sv = shared_of(v->id);
	ok = sv->active < v->concurrency;
	if (ok)
		sv->active++;
	pthread_mutex_unlock(&shared_lock);
	return ok;
}

static void
concurrency_give(const vectorizer *v)
{
	if (v->concurrency <= 0)
		return;
	pthread_mutex_lock(&shared_lock);
	shared_of(v->id)->active--;
	pthread_mutex_unlock(&shared_lock);
}

/* Logs a fixed schedule's run the first time a thread of ours starts it. */
static void
schedule_announce(const vectorizer *v, const schedule_info *si)
{
	bool		first;

	pthread_mutex_lock(&shared_lock);
	{
		shared_vectorizer *sv = shared_of(v->id);

		first = sv->announced != si->slot;
		sv->announced = si->slot;
	}
	pthread_mutex_unlock(&shared_lock);
	if (first)
		log_line("vectorizer %d: scheduled run; the next starts at %s", v->id, si->next);
}

/* Waits for a work notification, the poll interval, or a stop signal. */
static void
wait_for_work(PGconn *conn, double seconds)
{
	double		until = now_seconds() + seconds;
	PGnotify   *note;

	while (!worker_stop)
	{
		struct pollfd pfd = {PQsocket(conn), POLLIN, 0};
		double		left = until - now_seconds();
		int			ms;

		if (left <= 0)
			return;
		/* wake at least every 200 ms to notice a stop signal */
		ms = left > 0.2 ? 200 : (int) (left * 1000) + 1;
		if (poll(&pfd, 1, ms) > 0)
		{
			bool		got = false;

			if (!PQconsumeInput(conn))
				return;
			while ((note = PQnotifies(conn)) != NULL)
			{
				got = true;
				PQfreemem(note);
			}
			if (got)
				return;
		}
	}
}

/*
 * Opens the thread's session: the connection and every setting our SQL
 * relies on. The same function runs at start and after a lost connection,
 * so a reconnected session is the one we started with (LISTEN included:
 * without it a restarted server's notifications would go unheard and new
 * rows would wait for the poll interval). NULL with `err` set on failure.
 */
static PGconn *
session_open(const worker_options *opt, pgai_error *err)
{
	PGconn	   *conn = PQconnectdb(opt->db_url ? opt->db_url : "");

	if (PQstatus(conn) != CONNECTION_OK)
	{
		const char *msg = PQerrorMessage(conn);
		size_t		len = strlen(msg);

		while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
			len--;
		pgai_error_set(err, PGAI_EIO, "cannot connect: %.*s", (int) len, msg);
		PQfinish(conn);
		return NULL;
	}

	/*
	 * search_path holds no schema a vectorizer owner can create in, so no
	 * name in our SQL resolves to an owner's function or operator; with
	 * row_security off a policy on a source or store is an error for us,
	 * never code run with the worker's rights.
	 *
	 * Custom plans: the store and queues grow and shrink under a worker by
	 * orders of magnitude, and a generic plan made while they were small (a
	 * sequential scan) would stay. Statements are still parsed once.
	 */
	if (!db_command(conn, "SET application_name = 'pgai vectorizer worker'", err) ||
		!db_command(conn, "SET search_path = pg_catalog, pg_temp", err) ||
		!db_command(conn, "SET row_security = off", err) ||
		!db_command(conn, "SET plan_cache_mode = force_custom_plan", err) ||
		(!opt->once && !db_command(conn, "LISTEN ai_vectorizer_work", err)))
	{
		char		why[sizeof(err->message)];

		snprintf(why, sizeof(why), "%s", err->message);
		pgai_error_set(err, PGAI_EIO, "cannot prepare the connection: %s", why);
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* Sleeps `seconds`, waking early on a stop signal; false when stopping. */
static bool
sleep_interruptible(double seconds)
{
	double		until = now_seconds() + seconds;

	while (!worker_stop)
	{
		double		left = until - now_seconds();

		if (left <= 0)
			return true;
		/* short naps so SIGTERM stops us within 100 ms */
		usleep((useconds_t) (Min(left, 0.1) * 1e6));
	}
	return false;
}

/*
 * libpq's messages span lines ("...failed: ...\n\tIs the server
 * running..."): one line each keeps the log one line per attempt.
 * Collapses runs of white space to one space, drops it at the ends, and
 * truncates to the buffer.
 */
static void
one_line(char *dst, size_t size, const char *src)
{
	size_t		n = 0;
	bool		space = false;

	for (; *src && n + 1 < size; src++)
	{
		if (*src == '\n' || *src == '\r' || *src == '\t' || *src == ' ')
		{
			space = n > 0;
			continue;
		}
		if (space && n + 2 < size)
			dst[n++] = ' ';
		space = false;
		dst[n++] = *src;
	}
	dst[n] = '\0';
}

/* With --once, how long a lost connection may take to come back. */
#define ONCE_RECONNECT_LIMIT 60.0
#define RECONNECT_FIRST 0.5
#define RECONNECT_MAX 30.0

/*
 * Replaces a lost connection with a new session. Waits between attempts
 * with exponential backoff and ±50% jitter, so a server that is down
 * costs a few attempts a minute, not a busy loop, and many workers do not
 * come back in lockstep. Prepared statements belonged to the old backend
 * and are forgotten. Returns the new connection, or NULL when stopping
 * or, with --once, after ONCE_RECONNECT_LIMIT seconds (then ctx->fatal).
 */
static PGconn *
session_restore(thread_ctx *ctx, PGconn *lost, unsigned *seed)
{
	const worker_options *opt = ctx->opt;
	double		delay = RECONNECT_FIRST;
	double		started = now_seconds();
	char		why[300];

	one_line(why, sizeof(why), PQerrorMessage(lost));
	log_line("thread %d: connection lost (%s); reconnecting", ctx->index, why);
	PQfinish(lost);
	db_forget_prepared();

	for (int attempt = 1; !worker_stop; attempt++)
	{
		pgai_error	err;
		PGconn	   *conn;
		double		wait;

		/* a random factor in [0.5, 1.5) */
		wait = delay * (0.5 + (double) rand_r(seed) / ((double) RAND_MAX + 1.0));
		if (opt->once && now_seconds() - started + wait > ONCE_RECONNECT_LIMIT)
		{
			log_line("thread %d: the database connection did not come back within %.0fs; "
					 "giving up (--once)", ctx->index, ONCE_RECONNECT_LIMIT);
			ctx->fatal = 1;
			return NULL;
		}
		if (!sleep_interruptible(wait))
			break;
		conn = session_open(opt, &err);
		if (conn != NULL)
		{
			log_line("thread %d: reconnected after %d attempt%s", ctx->index, attempt,
					 attempt == 1 ? "" : "s");
			return conn;
		}
		delay = Min(delay * 2, RECONNECT_MAX);
		one_line(why, sizeof(why), err.message);
		log_line("thread %d: reconnect attempt %d failed: %s", ctx->index, attempt, why);
	}
	return NULL;
}

/* With --once: extra passes when keys look claimable yet none was claimed. */
#define ONCE_EXTRA_PASSES 8
#define ONCE_WAIT 0.25

static int *
pids_snapshot(atomic_int *pids, int n)
{
	int		   *out = xcalloc((size_t) n, sizeof(int));

	for (int i = 0; i < n; i++)
		out[i] = atomic_load(&pids[i]);
	return out;
}

/*
 * --once, after a pass that claimed nothing: true when this thread may
 * stop, false (after a short wait) to make another pass. Keys another live
 * worker holds are waited for: that worker writes them, fails them (then
 * they back off and are counted at the end), or dies and its lease frees
 * them for us (the wait ends when the last lease seen at its start has
 * ended). Keys that look claimable although the claim found none (a
 * writer held their queue rows, or they were queued since) get a few more
 * passes, not an endless loop should they stay unclaimable. Leases of our
 * own sessions are a sibling's batch in flight or a failed write: never
 * waited for.
 */
static bool
once_settled(thread_ctx *ctx, PGconn *conn, vectorizer *vs, int n, int *extra_passes,
			 double *wait_until)
{
	int		   *pids = pids_snapshot(ctx->pids, ctx->n_threads);
	long		held = 0,
				ready = 0;
	double		held_for = 0;

	for (int i = 0; i < n && !worker_stop; i++)
	{
		once_left	left;
		pgai_error	err;

		if (vs[i].disabled)
			continue;
		if (once_leftovers(conn, &vs[i], pids, ctx->n_threads, &left, &err) != 0)
		{
			/* cannot tell: stop, and let the final count say what is left */
			log_line("vectorizer %d: cannot count the rows left: %s", vs[i].id, err.message);
			free(pids);
			return true;
		}
		held += left.held;
		ready += left.ready;
		held_for = Max(held_for, left.held_for);
	}
	free(pids);
	if (worker_stop)
		return true;
	/* wait for the leases seen now, not for every lease taken meanwhile */
	if (held > 0 && *wait_until == 0)
		*wait_until = now_seconds() + held_for + 1.0;
	if (held > 0 && now_seconds() < *wait_until)
	{
		*extra_passes = 0;
		return !sleep_interruptible(ONCE_WAIT);
	}
	if (ready > 0 && (*extra_passes)++ < ONCE_EXTRA_PASSES)
		return !sleep_interruptible(ONCE_WAIT);
	return true;
}

/*
 * Whether this thread should process v in this round (schedule.c has the
 * rules). A run starts when the first thread finds v due; the others join
 * it while it lasts, and a thread that starts its first round late makes no
 * run of its own: a starting worker runs each vectorizer once, not once per
 * thread. A scheduled vectorizer whose schedule could not be read waits.
 * Every true for a scheduled vectorizer is ended by schedule_done.
 */
static bool
schedule_take(const vectorizer *v, const schedule_info *si, bool once, double now)
{
	shared_vectorizer *sv;
	bool		due;

	if (v->schedule_interval <= 0 || once)
		return true;
	if (si == NULL || si->waiting || (si->fixed && !si->has_slot))
		return false;
	pthread_mutex_lock(&shared_lock);
	sv = shared_of(v->id);
	if (sv->in_run > 0 || !sv->ran)
		due = true;
	else if (si->fixed)
		due = sv->slot != si->slot;
	else
		due = now - sv->last >= v->schedule_interval;
	if (due)
	{
		if (sv->in_run == 0)
		{
			sv->ran = true;
			sv->last = now;
			sv->slot = si->slot;
		}
		sv->in_run++;
	}
	pthread_mutex_unlock(&shared_lock);
	return due;
}

static void
schedule_done(const vectorizer *v)
{
	pthread_mutex_lock(&shared_lock);
	shared_of(v->id)->in_run--;
	pthread_mutex_unlock(&shared_lock);
}

static void *
worker_thread(void *arg)
{
	thread_ctx *ctx = arg;
	const worker_options *opt = ctx->opt;
	PGconn	   *conn;
	embedder   *emb = NULL;
	int			extra_passes = 0;
	double		wait_until = 0;
	bool		stop;
	bool	   *due;
	schedule_info *sched = NULL;
	int			n_sched = 0;
	pgai_error	err;
	unsigned	seed = (unsigned) time(NULL) ^ (unsigned) getpid() * 2654435761u ^
	(unsigned) ctx->index * 40503u;

	/* at start a database we cannot reach is fatal: nothing to restore */
	conn = session_open(opt, &err);
	if (conn == NULL)
	{
		log_line("%s", err.message);
		ctx->fatal = 1;
		return NULL;
	}
	atomic_store(&ctx->pids[ctx->index], PQbackendPID(conn));

	while (!worker_stop)
	{
		vectorizer *vs = NULL;
		int			n = 0;
		long		claimed = 0;
		double		now = now_seconds();

		/* any failure below may have lost the connection: restore it here */
		if (PQstatus(conn) != CONNECTION_OK)
		{
			conn = session_restore(ctx, conn, &seed);
			if (conn == NULL)
				break;
			atomic_store(&ctx->pids[ctx->index], PQbackendPID(conn));
			/* work may have been queued while we were away */
			continue;
		}
		if (vectorizers_load(conn, opt, &vs, &n, &err) != 0)
		{
			log_line("cannot read the vectorizers: %s", err.message);
			if (PQstatus(conn) != CONNECTION_OK)
				continue;
			if (opt->once)
			{
				ctx->fatal = 1;
				break;
			}
			wait_for_work(conn, opt->poll_interval);
			continue;
		}
		/* which vectorizers this thread serves in this round */
		due = xcalloc((size_t) n + 1, sizeof(bool));
		for (int i = 0; i < n && !opt->once; i++)
			if (vs[i].schedule_interval > 0 && sched == NULL &&
				schedule_load(conn, opt, &sched, &n_sched, &err) != 0)
			{
				log_line("cannot read the schedules: %s", err.message);
				break;
			}
		for (int i = 0; i < n; i++)
		{
			const schedule_info *si = schedule_find(sched, n_sched, vs[i].id);

			due[i] = !vs[i].disabled && schedule_take(&vs[i], si, opt->once, now);
			if (due[i] && !opt->once && vs[i].schedule_interval > 0 && si != NULL && si->fixed)
				schedule_announce(&vs[i], si);
		}
		/* one pass: a batch from each vectorizer in turn, until all are idle */
		for (;;)
		{
			long		pass = 0;

			for (int i = 0; i < n && !worker_stop; i++)
			{
				vectorizer *v = &vs[i];
				long		got;

				if (!due[i] || !concurrency_take(v))
					continue;
				got = batch_run(conn, v, &emb, opt, ctx->stats, &err);
				concurrency_give(v);
				if (got < 0)
				{
					log_line("vectorizer %d: batch failed: %s", v->id, err.message);
					atomic_fetch_add(&ctx->stats->errors, 1);
					/* the rest of the pass needs the connection too */
					if (PQstatus(conn) != CONNECTION_OK)
						break;
					continue;
				}
				pass += got;
				if (got == 0)
					indexer_maybe_create(conn, v);
			}
			claimed += pass;
			if (pass == 0 || worker_stop || PQstatus(conn) != CONNECTION_OK)
				break;
		}
		for (int i = 0; i < n; i++)
			if (due[i] && vs[i].schedule_interval > 0 && !opt->once)
				schedule_done(&vs[i]);
		free(due);
		free(sched);
		sched = NULL;
		n_sched = 0;
		if (claimed > 0)
		{
			extra_passes = 0;
			wait_until = 0;
		}
		stop = opt->once && claimed == 0 && PQstatus(conn) == CONNECTION_OK &&
			once_settled(ctx, conn, vs, n, &extra_passes, &wait_until);
		vectorizers_free(vs, n);
		/* not "nothing left": we could not look; the loop's top reconnects */
		if (PQstatus(conn) != CONNECTION_OK)
			continue;
		if (stop)
			break;
		if (claimed == 0 && !opt->once)
			wait_for_work(conn, opt->poll_interval);
	}
	embedder_close(emb);
	db_forget_prepared();
	PQfinish(conn);
	return NULL;
}

/* Rows still queued for the served vectorizers (estimated when large), or -1. */
static long
pending_rows(PGconn *conn, const worker_options *opt)
{
	char	   *ids;
	const char *params[1];
	pgai_error	err;
	PGresult   *res;
	long		n = -1;

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		return -1;
	ids = db_ids_literal(opt->ids, opt->n_ids);
	params[0] = ids;
	res = db_exec(conn, sql_pending, 1, params, PGRES_TUPLES_OK, &err);
	if (res != NULL)
		n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	free(ids);
	return n;
}

/*
 * The live progress line, redrawn twice a second on a terminal: rows and
 * chunks done, the rate, what is still queued and the time that leaves.
 */
static void
progress_line(const worker_stats *stats, double started, long pending, bool final)
{
	double		elapsed = now_seconds() - started;
	long		rows = atomic_load(&stats->rows);
	long		chunks = atomic_load(&stats->chunks);
	long		errors = atomic_load(&stats->errors);
	double		row_rate = elapsed > 0 ? (double) rows / elapsed : 0.0;
	char		left[32] = "";
	char		queued[48] = "";

	if (!final && pending > 0 && row_rate > 0)
	{
		double		secs = (double) pending / row_rate;

		snprintf(left, sizeof(left), ", ~%.0f%s left", secs >= 120 ? secs / 60 : secs,
				 secs >= 120 ? "min" : "s");
	}
	if (!final && pending >= 0)
		snprintf(queued, sizeof(queued), ", %ld rows queued", pending);
	fprintf(stderr, "\r\033[K%ld rows, %ld chunks, %.0f chunks/s%s%s, %ld errors, %.0fs%s",
			rows, chunks, elapsed > 0 ? (double) chunks / elapsed : 0.0,
			queued, left, errors, elapsed, final ? "\n" : "");
	fflush(stderr);
}

/*
 * --once, before any thread starts: keys backing off from an earlier run
 * are claimable again (once.c says why). false when the database cannot
 * be read.
 */
static bool
once_start(const worker_options *opt)
{
	pgai_error	err;
	PGconn	   *conn = session_open(opt, &err);
	vectorizer *vs = NULL;
	int			n = 0;

	if (conn == NULL)
	{
		log_line("%s", err.message);
		return false;
	}
	if (vectorizers_load(conn, opt, &vs, &n, &err) != 0)
	{
		log_line("cannot read the vectorizers: %s", err.message);
		PQfinish(conn);
		return false;
	}
	for (int i = 0; i < n; i++)
	{
		long		lifted;

		if (vs[i].disabled)
			continue;
		lifted = once_lift_backoff(conn, &vs[i], &err);
		if (lifted < 0)
			log_line("vectorizer %d: cannot lift the retry backoff: %s", vs[i].id, err.message);
		else if (lifted > 0)
			log_line("vectorizer %d: trying %ld row%s backing off from an earlier failure now (--once)",
					 vs[i].id, lifted, lifted == 1 ? "" : "s");
	}
	vectorizers_free(vs, n);
	db_forget_prepared();
	PQfinish(conn);
	return true;
}

/*
 * --once, after every thread has finished: logs each served vectorizer's
 * keys still queued and why. Returns how many there are in all, or -1
 * when they cannot be counted.
 */
static long
once_finish(const worker_options *opt, atomic_int *thread_pids, int n_threads)
{
	pgai_error	err;
	PGconn	   *conn = session_open(opt, &err);
	vectorizer *vs = NULL;
	int			n = 0;
	long		total = 0;
	int		   *pids = pids_snapshot(thread_pids, n_threads);

	if (conn == NULL || vectorizers_load(conn, opt, &vs, &n, &err) != 0)
	{
		log_line("cannot count the rows left: %s", err.message);
		PQfinish(conn);
		free(pids);
		return -1;
	}
	for (int i = 0; i < n && total >= 0; i++)
	{
		once_left	left;

		if (vs[i].disabled)
			continue;
		if (once_leftovers(conn, &vs[i], pids, n_threads, &left, &err) != 0)
		{
			log_line("vectorizer %d: cannot count the rows left: %s", vs[i].id, err.message);
			total = -1;
		}
		else if (once_left_total(&left) > 0)
		{
			once_describe(&vs[i], &left);
			total += once_left_total(&left);
		}
	}
	vectorizers_free(vs, n);
	db_forget_prepared();
	PQfinish(conn);
	free(pids);
	return total;
}

int
loop_run(worker_options *opt_in)
{
	worker_options opt = *opt_in;
	worker_stats stats;
	pthread_t  *threads;
	thread_ctx *ctxs;
	atomic_int *pids;
	double		started;
	int			fatal = 0;
	long		left = 0;
	struct sigaction sa;

	atomic_init(&stats.rows, 0);
	atomic_init(&stats.chunks, 0);
	atomic_init(&stats.errors, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	{
		pgai_error	err;

		/* libcurl's process-wide setup, before any thread exists */
		if (provider_global_init(&err) != PGAI_OK)
		{
			fprintf(stderr, "pgai: %s\n", err.message);
			return 3;
		}
	}
	if (opt.once && !once_start(&opt))
		return 3;
	threads = xcalloc((size_t) opt.concurrency, sizeof(pthread_t));
	ctxs = xcalloc((size_t) opt.concurrency, sizeof(thread_ctx));
	pids = xcalloc((size_t) opt.concurrency, sizeof(atomic_int));
	for (int i = 0; i < opt.concurrency; i++)
		atomic_init(&pids[i], 0);
	started = now_seconds();
	for (int i = 0; i < opt.concurrency; i++)
	{
		ctxs[i].opt = &opt;
		ctxs[i].stats = &stats;
		ctxs[i].index = i;
		ctxs[i].pids = pids;
		ctxs[i].n_threads = opt.concurrency;
		if (pthread_create(&threads[i], NULL, worker_thread, &ctxs[i]) != 0)
		{
			fprintf(stderr, "pgai: cannot start a thread: %s\n", strerror(errno));
			return 3;
		}
	}
	if (opt.progress)
	{
		/* the main thread draws progress until every worker has finished */
		PGconn	   *conn = PQconnectdb(opt.db_url ? opt.db_url : "");
		long		pending = -1;
		int			tick = 0;
		bool	   *joined = xcalloc((size_t) opt.concurrency, sizeof(bool));

		for (;;)
		{
			int			alive = 0;

			for (int i = 0; i < opt.concurrency; i++)
			{
				if (!joined[i] && pthread_tryjoin_np(threads[i], NULL) == 0)
					joined[i] = true;
				alive += !joined[i];
			}
			if (tick++ % 4 == 0)
				pending = pending_rows(conn, &opt);
			progress_line(&stats, started, pending, false);
			if (alive == 0)
				break;
			usleep(500 * 1000);
		}
		progress_line(&stats, started, 0, true);
		free(joined);
		PQfinish(conn);
	}
	for (int i = 0; i < opt.concurrency; i++)
	{
		if (!opt.progress)
			pthread_join(threads[i], NULL);
		fatal |= ctxs[i].fatal;
	}
	/* stopped by a signal, a run has not tried everything: nothing to count */
	if (opt.once && !fatal && !worker_stop)
		left = once_finish(&opt, pids, opt.concurrency);
	free(threads);
	free(ctxs);
	free(pids);
	free(opt.ids);
	if (!opt.progress)
		log_line("done: %ld rows, %ld chunks, %ld errors", atomic_load(&stats.rows),
				 atomic_load(&stats.chunks), atomic_load(&stats.errors));
	if (fatal || left < 0)
		return 3;
	return atomic_load(&stats.errors) > 0 || left > 0 ? 1 : 0;
}
