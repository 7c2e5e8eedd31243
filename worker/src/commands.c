/*
 * commands.c: the operator commands of the `pgai` program.
 *
 *   pgai vectorizer status [-d URL] [-i ID]... [--json]
 *   pgai vectorizer errors [ID] [-d URL] [-i ID]... [-n N] [--json]
 *   pgai vectorizer retry ID [-d URL]
 *   pgai search -i ID [-d URL] [-n N] [--json] QUERY TEXT...
 *
 * Each command opens one connection, runs a few read statements (retry
 * calls ai.vectorizer_retry_failed), prints, and exits. Output is a grid
 * of strings: an aligned table when stdout is a terminal, tab-separated
 * lines without a header otherwise (tabs, newlines and backslashes in
 * values escaped as \t, \n, \\), or a JSON array with --json. Colour only
 * on a terminal and when NO_COLOR is unset or empty.
 *
 * Exit status: 0 done, 1 the database reported a failure or a vectorizer
 * does not exist, 2 bad usage, 3 cannot connect.
 *
 * Ownership: a grid owns its cells (malloc'd strings, NULL for SQL NULL);
 * everything a command allocates is freed before it returns.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "catalog.h"
#include "db.h"
#include "embedder.h"
#include "indexer.h"
#include "util.h"
#include "worker.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_CONNECT 3

/* Options shared by the commands; each command accepts a subset. */
typedef struct cmd_options
{
	const char *db_url;			/* NULL: libpq's defaults and PG* variables */
	int		   *ids;
	int			n_ids;
	long		limit;
	bool		json;
	char	  **args;			/* positional words (point into argv) */
	int			n_args;
} cmd_options;

/* Which options a command takes, and its usage text. */
typedef struct cmd_spec
{
	const char *name;			/* for messages: "vectorizer status" */
	bool		ids;			/* -i */
	bool		limit;			/* -n */
	bool		json;			/* --json */
	long		default_limit;
	const char *usage;
} cmd_spec;

/* ---------------------------------------------------------------------- */
/* Terminal */

static bool
colour_on(void)
{
	const char *no = getenv("NO_COLOR");

	return isatty(STDOUT_FILENO) && (no == NULL || no[0] == '\0');
}

static int
terminal_width(void)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS");

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (cols != NULL && atoi(cols) > 0)
		return atoi(cols);
	return 80;
}

#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_RESET "\033[0m"

/* Characters (code points) in a UTF-8 string: its width, near enough. */
static int
text_width(const char *s)
{
	int			w = 0;

	for (; *s; s++)
		w += ((unsigned char) *s & 0xC0) != 0x80;
	return w;
}

/*
 * Writes `s` on one line: control characters become spaces, and text
 * beyond `width` characters (width < 0: no limit) is cut and ends in "…".
 * Returns the characters written.
 */
static int
put_line_text(FILE *f, const char *s, int width)
{
	int			total = text_width(s);
	int			keep = (width >= 0 && total > width) ? (width > 0 ? width - 1 : 0) : total;
	int			n = 0;

	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if ((c & 0xC0) != 0x80)
		{
			if (n == keep)
				break;
			n++;
		}
		fputc(c < 0x20 || c == 0x7F ? ' ' : c, f);
	}
	if (keep < total && width > 0)
	{
		fputs("\xE2\x80\xA6", f);
		n++;
	}
	return n;
}

/* A value for tab-separated output: \ tab newline and return escaped. */
static void
put_tsv_text(FILE *f, const char *s)
{
	for (; *s; s++)
	{
		switch (*s)
		{
			case '\\':
				fputs("\\\\", f);
				break;
			case '\t':
				fputs("\\t", f);
				break;
			case '\n':
				fputs("\\n", f);
				break;
			case '\r':
				fputs("\\r", f);
				break;
			default:
				fputc(*s, f);
		}
	}
}

static void
put_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* ---------------------------------------------------------------------- */
/* Grids: rows of string cells, printed as a table, TSV or JSON */

/* Column kinds: how JSON writes a cell and how a table aligns it. */
typedef enum
{
	COL_TEXT,
	COL_NUMBER,					/* right-aligned; bare in JSON */
	COL_BOOL,					/* "t"/"f" from the server; true/false in JSON */
	COL_JSON					/* jsonb text; written as is in JSON */
} col_kind;

typedef struct grid_column
{
	const char *name;			/* JSON key; upper-cased for the table header */
	col_kind	kind;
	bool		wrap_last;		/* the table cuts it to the terminal width */
} grid_column;

typedef struct grid
{
	const grid_column *cols;
	int			n_cols;
	char	  **cells;			/* n_rows * n_cols, row-major */
	int			n_rows;
	/* colour of a cell on a terminal, or NULL */
	const char *(*colour) (const struct grid *g, int row, int col);
} grid;

static void
grid_init(grid *g, const grid_column *cols, int n_cols)
{
	memset(g, 0, sizeof(*g));
	g->cols = cols;
	g->n_cols = n_cols;
}

/* Appends a row of NULL cells; returns its index. */
static int
grid_add_row(grid *g)
{
	g->cells = xrealloc(g->cells, (size_t) (g->n_rows + 1) * (size_t) g->n_cols * sizeof(char *));
	for (int c = 0; c < g->n_cols; c++)
		g->cells[g->n_rows * g->n_cols + c] = NULL;
	return g->n_rows++;
}

/* Sets a cell to a copy of `value` (NULL: SQL NULL). */
static void
grid_set(grid *g, int row, int col, const char *value)
{
	char	  **cell = &g->cells[row * g->n_cols + col];

	free(*cell);
	*cell = xstrdup(value);
}

static const char *
grid_get(const grid *g, int row, int col)
{
	return g->cells[row * g->n_cols + col];
}

static void
grid_free(grid *g)
{
	for (int i = 0; i < g->n_rows * g->n_cols; i++)
		free(g->cells[i]);
	free(g->cells);
	g->cells = NULL;
	g->n_rows = 0;
}

static const char *
display_value(const grid *g, int row, int col)
{
	const char *v = grid_get(g, row, col);

	if (v == NULL)
		return "-";
	if (g->cols[col].kind == COL_BOOL)
		return v[0] == 't' ? "yes" : "no";
	return v;
}

/* A column's header: its name upper-cased, "_" as a space (malloc'd). */
static char *
header_label(const char *name)
{
	char	   *label = xstrdup(name);

	for (char *p = label; *p; p++)
		*p = *p == '_' ? ' ' : (*p >= 'a' && *p <= 'z' ? (char) (*p - 'a' + 'A') : *p);
	return label;
}

/*
 * An aligned table: numbers right-aligned, text left-aligned, two spaces
 * between columns; a wrap_last column is cut to the terminal's width (but
 * keeps at least 30 characters). Row -1 is the header.
 */
static void
grid_print_table(FILE *f, const grid *g)
{
	int		   *width = xcalloc((size_t) g->n_cols, sizeof(int));
	char	  **labels = xcalloc((size_t) g->n_cols, sizeof(char *));
	bool		colour = colour_on();
	int			term = terminal_width();

	for (int c = 0; c < g->n_cols; c++)
	{
		labels[c] = header_label(g->cols[c].name);
		width[c] = text_width(labels[c]);
		for (int r = 0; r < g->n_rows; r++)
		{
			int			w = text_width(display_value(g, r, c));

			if (w > width[c])
				width[c] = w;
		}
	}
	for (int r = -1; r < g->n_rows; r++)
	{
		int			used = 0;

		for (int c = 0; c < g->n_cols; c++)
		{
			bool		last = c == g->n_cols - 1;
			const char *v = r < 0 ? labels[c] : display_value(g, r, c);
			const char *paint = !colour ? NULL : r < 0 ? C_BOLD : g->colour ? g->colour(g, r, c) : NULL;
			int			limit = -1;
			int			pad = width[c] - text_width(v);
			int			n;

			if (c > 0)
				used += fprintf(f, "  ");
			if (last && g->cols[c].wrap_last)
				limit = term - used > 30 ? term - used : 30;
			if (r >= 0 && g->cols[c].kind == COL_NUMBER)
				for (; pad > 0; pad--, used++)
					fputc(' ', f);
			if (paint)
				fputs(paint, f);
			n = put_line_text(f, v, limit);
			if (paint)
				fputs(C_RESET, f);
			used += n;
			if (!last)
				for (; pad > 0; pad--, used++)
					fputc(' ', f);
		}
		fputc('\n', f);
	}
	for (int c = 0; c < g->n_cols; c++)
		free(labels[c]);
	free(labels);
	free(width);
}

static void
grid_print_tsv(FILE *f, const grid *g)
{
	for (int r = 0; r < g->n_rows; r++)
	{
		for (int c = 0; c < g->n_cols; c++)
		{
			const char *v = grid_get(g, r, c);

			if (c > 0)
				fputc('\t', f);
			if (v != NULL)
				put_tsv_text(f, v);
		}
		fputc('\n', f);
	}
}

static void
grid_print_json(FILE *f, const grid *g)
{
	fputc('[', f);
	for (int r = 0; r < g->n_rows; r++)
	{
		fputs(r > 0 ? ",\n {" : "{", f);
		for (int c = 0; c < g->n_cols; c++)
		{
			const char *v = grid_get(g, r, c);

			if (c > 0)
				fputs(", ", f);
			put_json_string(f, g->cols[c].name);
			fputs(": ", f);
			if (v == NULL)
				fputs("null", f);
			else if (g->cols[c].kind == COL_BOOL)
				fputs(v[0] == 't' ? "true" : "false", f);
			else if (g->cols[c].kind == COL_NUMBER || g->cols[c].kind == COL_JSON)
				fputs(v, f);
			else
				put_json_string(f, v);
		}
		fputc('}', f);
	}
	fputs("]\n", f);
}

static void
grid_print(const grid *g, bool json)
{
	if (json)
		grid_print_json(stdout, g);
	else if (isatty(STDOUT_FILENO))
		grid_print_table(stdout, g);
	else
		grid_print_tsv(stdout, g);
}

/* ---------------------------------------------------------------------- */
/* Options and connection */

/* After a usage error, on stderr: where the full usage is. */
static void
usage_hint(const cmd_spec *spec)
{
	fprintf(stderr, "Try \"pgai %s --help\" for more information.\n", spec->name);
}

/* A vectorizer id: a positive int. */
static bool
parse_id(const char *s, int *out)
{
	char	   *end;
	long		v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v <= 0 || v > INT_MAX)
	{
		fprintf(stderr, "pgai: invalid vectorizer id \"%s\"\n", s);
		return false;
	}
	*out = (int) v;
	return true;
}

static void
add_id(cmd_options *o, int id)
{
	o->ids = xrealloc(o->ids, (size_t) (o->n_ids + 1) * sizeof(int));
	o->ids[o->n_ids++] = id;
}

/*
 * Parses argv (argv[0] is the command's last word) into `o`. Returns -1
 * when the command should go on, else the exit status (0 after --help).
 */
static int
parse_options_once(const cmd_spec *spec, int argc, char **argv, cmd_options *o)
{
	static const struct option longopts[] = {
		{"db-url", required_argument, NULL, 'd'},
		{"vectorizer-id", required_argument, NULL, 'i'},
		{"limit", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	int			ch;

	memset(o, 0, sizeof(*o));
	o->limit = spec->default_limit;
	optind = 0;					/* glibc: start afresh */
	opterr = 0;
	/* GNU getopt permutes: options may follow words; "--" ends them */
	while ((ch = getopt_long(argc, argv, ":d:i:n:h", longopts, NULL)) != -1)
	{
		switch (ch)
		{
			case 'd':
				o->db_url = optarg;
				continue;
			case 'i':
				if (spec->ids)
				{
					int			id;

					if (!parse_id(optarg, &id))
						return EXIT_USAGE;
					add_id(o, id);
					continue;
				}
				break;
			case 'n':
				if (spec->limit)
				{
					char	   *end;

					o->limit = strtol(optarg, &end, 10);
					if (end == optarg || *end != '\0' || o->limit <= 0 || o->limit > INT_MAX)
					{
						fprintf(stderr, "pgai: invalid limit \"%s\"\n", optarg);
						return EXIT_USAGE;
					}
					continue;
				}
				break;
			case 'j':
				if (spec->json)
				{
					o->json = true;
					continue;
				}
				break;
			case 'h':
				fputs(spec->usage, stdout);
				return 0;
			case ':':
				fprintf(stderr, "pgai: option %s needs a value\n", argv[optind - 1]);
				usage_hint(spec);
				return EXIT_USAGE;
			default:
				break;
		}
		fprintf(stderr, "pgai %s: unknown option \"%s\"\n", spec->name, argv[optind - 1]);
		usage_hint(spec);
		return EXIT_USAGE;
	}
	o->args = argv + optind;
	o->n_args = argc - optind;
	return -1;
}

static void options_free(cmd_options *o);

/* parse_options_once, and nothing left to free when the command stops here. */
static int
parse_options(const cmd_spec *spec, int argc, char **argv, cmd_options *o)
{
	int			rc = parse_options_once(spec, argc, argv, o);

	if (rc >= 0)
		options_free(o);
	return rc;
}

static void
options_free(cmd_options *o)
{
	free(o->ids);
	o->ids = NULL;
}

/*
 * Connects; `options` (or NULL) goes in the startup packet, which servers
 * do not log, unlike statement parameters.
 */
static PGconn *
connect_with(const char *db_url, const char *options)
{
	const char *keys[] = {"dbname", "fallback_application_name", "options", NULL};
	const char *values[] = {db_url, "pgai", options, NULL};
	PGconn	   *conn;

	if (options == NULL)
		keys[2] = NULL;
	conn = PQconnectdbParams(keys, values, 1);

	if (PQstatus(conn) != CONNECTION_OK)
	{
		const char *msg = PQerrorMessage(conn);
		size_t		len = strlen(msg);

		while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
			len--;
		fprintf(stderr, "pgai: cannot connect: %.*s\n", (int) len, msg);
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

static PGconn *
connect_db(const char *db_url)
{
	return connect_with(db_url, NULL);
}

/*
 * The startup option that sets ai.<key name> (lower case) to the key from
 * this environment, the setting ai.openai_embed and ai.voyageai_embed read:
 * so the key never travels as a statement parameter a server might log.
 * NULL when the environment has no key, or when the vectorizer names a
 * variable the worker's policy refuses (another secret such as
 * AWS_SECRET_ACCESS_KEY must not leave this machine). Spaces and
 * backslashes are escaped as libpq's options syntax wants.
 */
static char *
key_option(const char *key_name)
{
	const char *key = key_name && worker_key_name_allowed(key_name) ? getenv(key_name) : NULL;
	size_t		n;
	char	   *out,
			   *p;

	if (key == NULL || key[0] == '\0')
		return NULL;
	n = strlen("-c ai.") + 2 * strlen(key_name) + 1 + 2 * strlen(key) + 1;
	out = p = xcalloc(n, 1);
	p += sprintf(p, "-c ai.");
	for (const char *k = key_name; *k; k++)
		*p++ = (char) ((*k >= 'A' && *k <= 'Z') ? *k - 'A' + 'a' : *k);
	*p++ = '=';
	for (const char *k = key; *k; k++)
	{
		if (*k == ' ' || *k == '\\')
			*p++ = '\\';
		*p++ = *k;
	}
	return out;
}

/* An int[] literal of the ids, or NULL (all vectorizers) when there are none. */
static char *
ids_literal(const cmd_options *o)
{
	char	   *buf;
	size_t		len = 1;

	if (o->n_ids == 0)
		return NULL;
	buf = xcalloc((size_t) o->n_ids * 12 + 3, 1);
	buf[0] = '{';
	for (int i = 0; i < o->n_ids; i++)
		len += (size_t) sprintf(buf + len, i > 0 ? ",%d" : "%d", o->ids[i]);
	buf[len] = '}';
	return buf;
}

/*
 * Checks that every id names a vectorizer; says which one does not.
 * Returns 0, or the exit status.
 */
static int
check_ids(PGconn *conn, const char *ids)
{
	const char *params[1] = {ids};
	pgai_error	err;
	PGresult   *res;
	int			rc = 0;

	if (ids == NULL)
		return 0;
	res = db_exec(conn, "SELECT i FROM pg_catalog.unnest($1::int[]) i"
				  " WHERE NOT EXISTS (SELECT 1 FROM ai.vectorizer v WHERE v.id = i)",
				  1, params, PGRES_TUPLES_OK, &err);
	if (res == NULL)
	{
		fprintf(stderr, "pgai: %s\n", err.message);
		return EXIT_FAILED;
	}
	for (int r = 0; r < PQntuples(res); r++)
	{
		fprintf(stderr, "pgai: vectorizer %s does not exist\n", PQgetvalue(res, r, 0));
		rc = EXIT_FAILED;
	}
	PQclear(res);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* pgai vectorizer status */

static const cmd_spec status_spec = {
	"vectorizer status", true, false, true, 0,
	"usage: pgai vectorizer status [-d URL] [-i ID]... [--json]\n"
	"\n"
	"One line per vectorizer: its source and store, rows pending in its queue\n"
	"(exact), rows set aside after failing too often, the state of its ANN index,\n"
	"whether it is disabled, and its last error.\n"
	"\n"
	"  -d, --db-url URL        libpq connection string or URI (default: PG* variables)\n"
	"  -i, --vectorizer-id ID  only this vectorizer (repeatable)\n"
	"      --json              a JSON array of objects\n"
	"  -h, --help              show this help\n"
	"\n"
	"On a terminal: an aligned table. Otherwise one tab-separated line per\n"
	"vectorizer, no header, columns: id, source, store, pending, failed, index,\n"
	"disabled (t/f), last error time, last error (\\t \\n \\\\ escaped).\n"
	"Index: \"hnsw index\" / \"diskann index\" (it exists), \"none configured\",\n"
	"\"waiting for N rows (M so far)\", \"waiting for the queue to empty\", or\n"
	"\"hnsw due\" / \"diskann due\" (the next worker pass creates it),\n"
	"\"diskann unavailable (no \\\"diskann\\\" access method)\" (pgvectorscale is\n"
	"not installed: the worker builds none), or \"store missing\".\n"
	"Exit status: 0 done, 1 a vectorizer does not exist or a query failed,\n"
	"2 bad usage, 3 cannot connect.\n"
};

enum
{
	ST_ID, ST_SOURCE, ST_STORE, ST_PENDING, ST_FAILED, ST_INDEX, ST_DISABLED,
	ST_ERROR_AT, ST_ERROR, ST_NCOLS
};

static const grid_column status_columns[ST_NCOLS] = {
	{"id", COL_NUMBER, false},
	{"source", COL_TEXT, false},
	{"store", COL_TEXT, false},
	{"pending", COL_NUMBER, false},
	{"failed", COL_NUMBER, false},
	{"index", COL_TEXT, false},
	{"disabled", COL_BOOL, false},
	{"last_error_at", COL_TEXT, false},
	{"last_error", COL_TEXT, true},
};

static const char *
status_colour(const grid *g, int row, int col)
{
	const char *v = grid_get(g, row, col);

	if (v == NULL)
		return C_DIM;
	switch (col)
	{
		case ST_PENDING:
			return strcmp(v, "0") != 0 ? C_YELLOW : NULL;
		case ST_FAILED:
			return strcmp(v, "0") != 0 ? C_RED : NULL;
		case ST_ERROR:
			return C_RED;
		case ST_INDEX:
			return strstr(v, " index") ? C_GREEN : NULL;
		case ST_DISABLED:
			return v[0] == 't' ? C_YELLOW : NULL;
		default:
			return NULL;
	}
}

/* status_sql's columns */
enum
{
	SQ_ID, SQ_SOURCE, SQ_STORE, SQ_PENDING, SQ_FAILED, SQ_DISABLED, SQ_ERROR_AT, SQ_ERROR
};

static const char *const status_sql =
"SELECT v.id,"
" ai._vectorizer_relname(v.source),"
" ai._vectorizer_relname(v.target),"
" ai.vectorizer_queue_pending(v.id, true),"
" ai.vectorizer_queue_failed(v.id),"
" v.disabled,"
" e.recorded::timestamptz(0)::text,"
" e.message"
" FROM ai._vectorizer v"
" LEFT JOIN LATERAL (SELECT e.message, e.recorded FROM ai.vectorizer_errors e"
"  WHERE e.id = v.id ORDER BY e.recorded DESC, e.ctid DESC LIMIT 1) e ON true"
" WHERE $1::int[] IS NULL OR v.id = ANY ($1::int[])"
" ORDER BY v.id";

/*
 * The index state of vectorizer `id` as the indexer sees it (indexer.c
 * has the rules), malloc'd.
 */
static char *
index_state_of(PGconn *conn, const vectorizer *vs, int n, int id)
{
	index_state st;
	pgai_error	err;

	for (int i = 0; i < n; i++)
	{
		if (vs[i].id != id)
			continue;
		if (indexer_state(conn, &vs[i], &st, &err) != 0)
			return xasprintf("unknown (%s)", err.message);
		return indexer_state_text(&vs[i], &st);
	}
	/* created since the catalog was read */
	return xstrdup("unknown");
}

static int
cmd_status(int argc, char **argv)
{
	cmd_options o;
	PGconn	   *conn;
	char	   *ids;
	const char *params[1];
	pgai_error	err;
	PGresult   *res;
	vectorizer *vs = NULL;
	int			n_vs = 0;
	grid		g;
	int			rc;

	if ((rc = parse_options(&status_spec, argc, argv, &o)) >= 0)
		return rc;
	if (o.n_args > 0)
	{
		fprintf(stderr, "pgai vectorizer status: unexpected argument \"%s\"\n", o.args[0]);
		usage_hint(&status_spec);
		options_free(&o);
		return EXIT_USAGE;
	}
	if ((conn = connect_db(o.db_url)) == NULL)
	{
		options_free(&o);
		return EXIT_CONNECT;
	}
	ids = ids_literal(&o);
	params[0] = ids;
	rc = check_ids(conn, ids);
	res = db_exec(conn, status_sql, 1, params, PGRES_TUPLES_OK, &err);
	if (res == NULL || vectorizers_read(conn, o.ids, o.n_ids, &vs, &n_vs, &err) != 0)
	{
		fprintf(stderr, "pgai: %s\n", err.message);
		rc = EXIT_FAILED;
	}
	else
	{
		grid_init(&g, status_columns, ST_NCOLS);
		g.colour = status_colour;
		for (int r = 0; r < PQntuples(res); r++)
		{
			int			row = grid_add_row(&g);
			char	   *state = index_state_of(conn, vs, n_vs, atoi(PQgetvalue(res, r, SQ_ID)));
			static const struct
			{
				int			from,
							to;
			}			cells[] = {
				{SQ_ID, ST_ID}, {SQ_SOURCE, ST_SOURCE}, {SQ_STORE, ST_STORE},
				{SQ_PENDING, ST_PENDING}, {SQ_FAILED, ST_FAILED}, {SQ_DISABLED, ST_DISABLED},
				{SQ_ERROR_AT, ST_ERROR_AT}, {SQ_ERROR, ST_ERROR},
			};

			for (size_t c = 0; c < sizeof(cells) / sizeof(cells[0]); c++)
				if (!PQgetisnull(res, r, cells[c].from))
					grid_set(&g, row, cells[c].to, PQgetvalue(res, r, cells[c].from));
			grid_set(&g, row, ST_INDEX, state);
			free(state);
		}
		if (g.n_rows > 0 || o.json || !isatty(STDOUT_FILENO))
			grid_print(&g, o.json);
		else
			puts("no vectorizers");
		grid_free(&g);
	}
	PQclear(res);
	vectorizers_free(vs, n_vs);
	free(ids);
	PQfinish(conn);
	options_free(&o);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* pgai vectorizer errors */

static const cmd_spec errors_spec = {
	"vectorizer errors", true, true, true, 20,
	"usage: pgai vectorizer errors [ID] [-d URL] [-i ID]... [-n N] [--json]\n"
	"\n"
	"The most recent rows of ai.vectorizer_errors, newest first: when, which\n"
	"vectorizer, the message and its details.\n"
	"\n"
	"  ID, -i, --vectorizer-id ID  only this vectorizer (repeatable)\n"
	"  -d, --db-url URL            libpq connection string or URI (default: PG* variables)\n"
	"  -n, --limit N               at most N errors (default 20)\n"
	"      --json                  a JSON array of objects\n"
	"  -h, --help                  show this help\n"
	"\n"
	"Not on a terminal: one tab-separated line per error, no header, columns:\n"
	"recorded, vectorizer id, message, details (JSON); \\t \\n \\\\ escaped.\n"
	"Exit status: 0 done (also when there are no errors), 1 a vectorizer does\n"
	"not exist or a query failed, 2 bad usage, 3 cannot connect.\n"
};

enum
{
	ER_RECORDED, ER_ID, ER_MESSAGE, ER_DETAILS, ER_NCOLS
};

static const grid_column errors_columns[ER_NCOLS] = {
	{"recorded", COL_TEXT, false},
	{"id", COL_NUMBER, false},
	{"message", COL_TEXT, false},
	{"details", COL_JSON, false},
};

/* On a terminal: a heading line per error, then its message and details. */
static void
errors_print_blocks(FILE *f, const grid *g)
{
	bool		colour = colour_on();
	int			term = terminal_width();

	for (int r = 0; r < g->n_rows; r++)
	{
		const char *details = grid_get(g, r, ER_DETAILS);

		if (r > 0)
			fputc('\n', f);
		fprintf(f, "%s%s  vectorizer %s%s\n", colour ? C_DIM : "", grid_get(g, r, ER_RECORDED),
				grid_get(g, r, ER_ID), colour ? C_RESET : "");
		fprintf(f, "  %s", colour ? C_RED : "");
		put_line_text(f, grid_get(g, r, ER_MESSAGE), -1);
		fprintf(f, "%s\n", colour ? C_RESET : "");
		if (details != NULL && strcmp(details, "{}") != 0)
		{
			fputs("  ", f);
			put_line_text(f, details, term > 12 ? term - 2 : 10);
			fputc('\n', f);
		}
	}
}

static int
cmd_errors(int argc, char **argv)
{
	cmd_options o;
	PGconn	   *conn;
	char	   *ids;
	char		limit[24];
	const char *params[2];
	pgai_error	err;
	PGresult   *res;
	int			rc;

	if ((rc = parse_options(&errors_spec, argc, argv, &o)) >= 0)
		return rc;
	for (int i = 0; i < o.n_args; i++)
	{
		int			id;

		if (!parse_id(o.args[i], &id))
		{
			usage_hint(&errors_spec);
			options_free(&o);
			return EXIT_USAGE;
		}
		add_id(&o, id);
	}
	if ((conn = connect_db(o.db_url)) == NULL)
	{
		options_free(&o);
		return EXIT_CONNECT;
	}
	ids = ids_literal(&o);
	snprintf(limit, sizeof(limit), "%ld", o.limit);
	params[0] = ids;
	params[1] = limit;
	if ((rc = check_ids(conn, ids)) == 0)
	{
		res = db_exec(conn,
					  "SELECT e.recorded::timestamptz(0)::text, e.id, e.message, e.details::text"
					  " FROM ai.vectorizer_errors e"
					  " WHERE $1::int[] IS NULL OR e.id = ANY ($1::int[])"
					  " ORDER BY e.recorded DESC, e.ctid DESC LIMIT $2::int",
					  2, params, PGRES_TUPLES_OK, &err);
		if (res == NULL)
		{
			fprintf(stderr, "pgai: %s\n", err.message);
			rc = EXIT_FAILED;
		}
		else
		{
			grid		g;

			grid_init(&g, errors_columns, ER_NCOLS);
			for (int r = 0; r < PQntuples(res); r++)
			{
				int			row = grid_add_row(&g);

				for (int c = 0; c < ER_NCOLS; c++)
					grid_set(&g, row, c, PQgetvalue(res, r, c));
			}
			if (o.json || !isatty(STDOUT_FILENO))
				grid_print(&g, o.json);
			else if (g.n_rows == 0)
				puts("no errors recorded");
			else
				errors_print_blocks(stdout, &g);
			grid_free(&g);
			PQclear(res);
		}
	}
	free(ids);
	PQfinish(conn);
	options_free(&o);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* pgai vectorizer retry */

static const cmd_spec retry_spec = {
	"vectorizer retry", true, false, false, 0,
	"usage: pgai vectorizer retry ID [-d URL]\n"
	"\n"
	"Moves a vectorizer's failed rows (those set aside after failing too often)\n"
	"back into its queue, with ai.vectorizer_retry_failed, and prints how many\n"
	"went back: \"vectorizer ID: N rows queued again\".\n"
	"\n"
	"  ID, -i, --vectorizer-id ID  the vectorizer (repeatable)\n"
	"  -d, --db-url URL            libpq connection string or URI (default: PG* variables)\n"
	"  -h, --help                  show this help\n"
	"\n"
	"Exit status: 0 done (also when nothing had failed), 1 a vectorizer does not\n"
	"exist or the retry failed, 2 bad usage, 3 cannot connect.\n"
};

static int
cmd_retry(int argc, char **argv)
{
	cmd_options o;
	PGconn	   *conn;
	char	   *ids;
	int			rc;

	if ((rc = parse_options(&retry_spec, argc, argv, &o)) >= 0)
		return rc;
	for (int i = 0; i < o.n_args; i++)
	{
		int			id;

		if (!parse_id(o.args[i], &id))
		{
			usage_hint(&retry_spec);
			options_free(&o);
			return EXIT_USAGE;
		}
		add_id(&o, id);
	}
	if (o.n_ids == 0)
	{
		fputs("pgai vectorizer retry: which vectorizer? (an ID is required)\n", stderr);
		usage_hint(&retry_spec);
		options_free(&o);
		return EXIT_USAGE;
	}
	if ((conn = connect_db(o.db_url)) == NULL)
	{
		options_free(&o);
		return EXIT_CONNECT;
	}
	ids = ids_literal(&o);
	if ((rc = check_ids(conn, ids)) == 0)
	{
		for (int i = 0; i < o.n_ids; i++)
		{
			char		id[16];
			const char *params[1] = {id};
			pgai_error	err;
			PGresult   *res;

			snprintf(id, sizeof(id), "%d", o.ids[i]);
			res = db_exec(conn, "SELECT ai.vectorizer_retry_failed($1::int)", 1, params,
						  PGRES_TUPLES_OK, &err);
			if (res == NULL)
			{
				fprintf(stderr, "pgai: vectorizer %s: %s\n", id, err.message);
				rc = EXIT_FAILED;
				continue;
			}
			printf("vectorizer %s: %s rows queued again\n", id, PQgetvalue(res, 0, 0));
			PQclear(res);
		}
	}
	free(ids);
	PQfinish(conn);
	options_free(&o);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* pgai search */

static const cmd_spec search_spec = {
	"search", true, true, true, 5,
	"usage: pgai search -i ID [-d URL] [-n N] [--json] QUERY TEXT...\n"
	"\n"
	"Embeds the query text in the database with the vectorizer's own embedding\n"
	"model (ai.sentence_transformers_embed, ai.openai_embed, ai.ollama_embed or\n"
	"ai.voyageai_embed) and prints the nearest chunks of its store by cosine\n"
	"distance: distance, the source row's primary key, the chunk.\n"
	"\n"
	"  -i, --vectorizer-id ID  the vectorizer to search (required)\n"
	"  -d, --db-url URL        libpq connection string or URI (default: PG* variables)\n"
	"  -n, --limit N           at most N chunks (default 5)\n"
	"      --json              a JSON array of objects\n"
	"  -h, --help              show this help\n"
	"\n"
	"The words of the query are joined by spaces. The API key named by the\n"
	"vectorizer's api_key_name is read from this environment when set (else the\n"
	"server's settings apply), as are OPENAI_BASE_URL and OLLAMA_HOST; only a\n"
	"name ending in _API_KEY, or listed in PGAI_API_KEY_NAMES when that is set.\n"
	"Not on a terminal: one tab-separated line per chunk, no header, columns:\n"
	"distance, key, chunk; \\t \\n \\\\ escaped. A key of several columns is a row\n"
	"literal such as (1,en).\n"
	"Exit status: 0 done (also with no results), 1 the vectorizer does not\n"
	"exist or embedding/searching failed, 2 bad usage, 3 cannot connect.\n"
};

enum
{
	SE_DISTANCE, SE_KEY, SE_CHUNK, SE_NCOLS
};

static const grid_column search_columns[SE_NCOLS] = {
	{"distance", COL_NUMBER, false},
	{"key", COL_TEXT, false},
	{"chunk", COL_TEXT, true},
};

/* search_info_sql's columns */
enum
{
	SI_STORE, SI_IMPL, SI_MODEL, SI_DIMS, SI_KEY_NAME, SI_BASE_URL, SI_KEEP_ALIVE,
	SI_OPTIONS, SI_KEY_EXPR, SI_VECTOR_SCHEMA
};

static const char *const search_info_sql =
"SELECT ai._vectorizer_relname(v.target),"
" e->>'implementation', e->>'model', e->>'dimensions', e->>'api_key_name',"
" e->>'base_url', e->>'keep_alive', (e->'options')::text,"
" (SELECT CASE WHEN pg_catalog.count(*) = 1 THEN pg_catalog.min(pg_catalog.format('s.%I', p.attname)) || '::text'"
"  ELSE 'ROW(' || pg_catalog.string_agg(pg_catalog.format('s.%I', p.attname), ', ' ORDER BY p.pknum) || ')::text' END"
"  FROM pg_catalog.jsonb_to_recordset(v.source_pk) AS p(attname name, pknum int)),"
/* pgvector's schema, wherever it was installed: our search_path has only pg_catalog */
" (SELECT pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_extension x"
"  JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace WHERE x.extname = 'vector')"
" FROM ai._vectorizer v, LATERAL (SELECT v.config->'embedding') x(e)"
" WHERE v.id = $1::int";

/* A value from the client's environment, or NULL. */
static const char *
env_or_null(const char *name)
{
	const char *v = name ? getenv(name) : NULL;

	return v && v[0] ? v : NULL;
}

/*
 * Embeds the query text on the server; returns the vector's text (malloc'd)
 * or NULL with the error printed. `info` is row 0 of search_info_sql.
 */
static char *
embed_query(PGconn *conn, PGresult *info, const char *query)
{
	const char *impl = PQgetvalue(info, 0, SI_IMPL);
	const char *model = PQgetvalue(info, 0, SI_MODEL);
	const char *dims = PQgetisnull(info, 0, SI_DIMS) ? NULL : PQgetvalue(info, 0, SI_DIMS);
	const char *key_name = PQgetisnull(info, 0, SI_KEY_NAME) ? NULL : PQgetvalue(info, 0, SI_KEY_NAME);
	const char *base_url = PQgetisnull(info, 0, SI_BASE_URL) ? NULL : PQgetvalue(info, 0, SI_BASE_URL);
	const char *keep_alive = PQgetisnull(info, 0, SI_KEEP_ALIVE) ? NULL : PQgetvalue(info, 0, SI_KEEP_ALIVE);
	const char *options = PQgetisnull(info, 0, SI_OPTIONS) ? NULL : PQgetvalue(info, 0, SI_OPTIONS);
	const char *params[6] = {query, model, NULL, NULL, NULL, NULL};
	int			n = 2;
	const char *sql;
	pgai_error	err;
	PGresult   *res;
	char	   *vec;

	if (strcmp(impl, "sentence_transformers") == 0)
		sql = "SELECT ai.sentence_transformers_embed($2::text, $1::text)::text";
	else if (strcmp(impl, "openai") == 0)
	{
		sql = "SELECT ai.openai_embed($2::text, $1::text, api_key => $3::text,"
			" api_key_name => $4::text, dimensions => $5::int, base_url => $6::text)::text";
		params[2] = NULL;		/* the key came as a startup option */
		params[3] = key_name;
		params[4] = dims;
		params[5] = base_url ? base_url : env_or_null("OPENAI_BASE_URL");
		n = 6;
	}
	else if (strcmp(impl, "ollama") == 0)
	{
		sql = "SELECT ai.ollama_embed($2::text, $1::text, host => $3::text,"
			" keep_alive => $4::text, embedding_options => $5::jsonb, dimensions => $6::int)::text";
		params[2] = base_url ? base_url : env_or_null("OLLAMA_HOST");
		params[3] = keep_alive;
		params[4] = options;
		params[5] = dims;
		n = 6;
	}
	else if (strcmp(impl, "voyageai") == 0)
	{
		sql = "SELECT ai.voyageai_embed($2::text, $1::text, input_type => 'query',"
			" api_key => $3::text, api_key_name => $4::text, dimensions => $5::int)::text";
		params[2] = NULL;		/* the key came as a startup option */
		params[3] = key_name;
		params[4] = dims;
		n = 5;
	}
	else
	{
		fprintf(stderr, "pgai: cannot search: unknown embedding implementation \"%s\"\n", impl);
		return NULL;
	}
	res = db_exec(conn, sql, n, params, PGRES_TUPLES_OK, &err);
	if (res == NULL)
	{
		fprintf(stderr, "pgai: cannot embed the query: %s\n", err.message);
		return NULL;
	}
	vec = PQgetisnull(res, 0, 0) ? NULL : xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (vec == NULL)
		fputs("pgai: cannot embed the query: the model returned no vector\n", stderr);
	return vec;
}

static int
cmd_search(int argc, char **argv)
{
	cmd_options o;
	PGconn	   *conn;
	char		id[16];
	char		limit[24];
	const char *params[2];
	char	   *query;
	size_t		len = 1;
	pgai_error	err;
	PGresult   *info;
	int			rc;

	if ((rc = parse_options(&search_spec, argc, argv, &o)) >= 0)
		return rc;
	if (o.n_ids != 1 || o.n_args == 0)
	{
		fputs(o.n_ids != 1 ? "pgai search: name one vectorizer with -i ID\n"
			  : "pgai search: the query text is missing\n", stderr);
		usage_hint(&search_spec);
		options_free(&o);
		return EXIT_USAGE;
	}
	for (int i = 0; i < o.n_args; i++)
		len += strlen(o.args[i]) + 1;
	query = xcalloc(len, 1);
	for (int i = 0; i < o.n_args; i++)
	{
		if (i > 0)
			strcat(query, " ");
		strcat(query, o.args[i]);
	}
	if ((conn = connect_db(o.db_url)) == NULL)
	{
		free(query);
		options_free(&o);
		return EXIT_CONNECT;
	}
	snprintf(id, sizeof(id), "%d", o.ids[0]);
	snprintf(limit, sizeof(limit), "%ld", o.limit);
	params[0] = id;
	info = db_exec(conn, search_info_sql, 1, params, PGRES_TUPLES_OK, &err);
	if (info == NULL)
	{
		fprintf(stderr, "pgai: %s\n", err.message);
		rc = EXIT_FAILED;
	}
	else if (PQntuples(info) == 0)
	{
		fprintf(stderr, "pgai: vectorizer %s does not exist\n", id);
		rc = EXIT_FAILED;
	}
	else
	{
		const char *impl = PQgetvalue(info, 0, SI_IMPL);
		const char *key_name = PQgetisnull(info, 0, SI_KEY_NAME) ?
			(strcmp(impl, "voyageai") == 0 ? "VOYAGE_API_KEY" : "OPENAI_API_KEY") :
			PQgetvalue(info, 0, SI_KEY_NAME);
		char	   *opt = (strcmp(impl, "openai") == 0 || strcmp(impl, "voyageai") == 0) ?
			key_option(key_name) : NULL;
		char	   *vec = NULL;

		/* a key from this environment: reconnect with it as a startup option */
		if (opt != NULL)
		{
			PQfinish(conn);
			conn = connect_with(o.db_url, opt);
			free(opt);
		}
		if (conn != NULL)
			vec = embed_query(conn, info, query);

		rc = EXIT_FAILED;
		if (vec != NULL)
		{
			/*
			 * The store's name, the key expression and pgvector's schema
			 * were quoted by the server (format('%I'), quote_ident).
			 */
			const char *vs = PQgetvalue(info, 0, SI_VECTOR_SCHEMA);
			char	   *sql = xasprintf("SELECT pg_catalog.round((s.embedding OPERATOR(%s.<=>) $1::%s.vector)::numeric, 4),"
										" %s, s.chunk FROM %s s"
										" ORDER BY s.embedding OPERATOR(%s.<=>) $1::%s.vector LIMIT $2::int",
										vs, vs, PQgetvalue(info, 0, SI_KEY_EXPR),
										PQgetvalue(info, 0, SI_STORE), vs, vs);
			PGresult   *res;

			params[0] = vec;
			params[1] = limit;
			res = db_exec(conn, sql, 2, params, PGRES_TUPLES_OK, &err);
			if (res == NULL)
				fprintf(stderr, "pgai: cannot search: %s\n", err.message);
			else
			{
				grid		g;

				grid_init(&g, search_columns, SE_NCOLS);
				for (int r = 0; r < PQntuples(res); r++)
				{
					int			row = grid_add_row(&g);

					for (int c = 0; c < SE_NCOLS; c++)
						if (!PQgetisnull(res, r, c))
							grid_set(&g, row, c, PQgetvalue(res, r, c));
				}
				if (g.n_rows > 0 || o.json || !isatty(STDOUT_FILENO))
					grid_print(&g, o.json);
				else
					puts("no results (is the store empty?)");
				grid_free(&g);
				PQclear(res);
				rc = 0;
			}
			free(sql);
			free(vec);
		}
	}
	PQclear(info);
	PQfinish(conn);
	free(query);
	options_free(&o);
	return rc;
}

/* ---------------------------------------------------------------------- */

static void
vectorizer_usage(FILE *f)
{
	fputs("usage: pgai vectorizer {worker|status|errors|retry} [options]\n"
		  "\n"
		  "  worker   embed queued rows and keep the stores in sync\n"
		  "  status   each vectorizer's queue, failures, index and last error\n"
		  "  errors   recent errors of the vectorizers\n"
		  "  retry    put a vectorizer's failed rows back in its queue\n"
		  "\n"
		  "Run pgai vectorizer COMMAND --help for a command's options.\n", f);
}

int
run_command(int argc, char **argv)
{
	if (strcmp(argv[0], "search") == 0)
		return cmd_search(argc, argv);
	if (strcmp(argv[0], "vectorizer") != 0)
		return -1;
	if (argc < 2)
	{
		vectorizer_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
	{
		vectorizer_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "status") == 0)
		return cmd_status(argc - 1, argv + 1);
	if (strcmp(argv[1], "errors") == 0)
		return cmd_errors(argc - 1, argv + 1);
	if (strcmp(argv[1], "retry") == 0)
		return cmd_retry(argc - 1, argv + 1);
	return -1;
}
