/*
 * cli/grid.c: the output of the operator commands. A grid is printed as
 * an aligned table when stdout is a terminal, tab-separated lines without
 * a header otherwise (tabs, newlines and backslashes in values escaped as
 * \t, \n, \\), or a JSON array with --json. Colour only on a terminal
 * and when NO_COLOR is unset or empty.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "../util.h"
#include "grid.h"

/* ---------------------------------------------------------------------- */
/* Terminal */

bool
colour_on(void)
{
	const char *no = getenv("NO_COLOR");

	return isatty(STDOUT_FILENO) && (no == NULL || no[0] == '\0');
}

int
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
int
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

/* Grids: rows of string cells, printed as a table, TSV or JSON */

void
grid_init(grid *g, const grid_column *cols, int n_cols)
{
	memset(g, 0, sizeof(*g));
	g->cols = cols;
	g->n_cols = n_cols;
}

/* Appends a row of NULL cells; returns its index. */
int
grid_add_row(grid *g)
{
	g->cells = xrealloc(g->cells, (size_t) (g->n_rows + 1) * (size_t) g->n_cols * sizeof(char *));
	for (int c = 0; c < g->n_cols; c++)
		g->cells[g->n_rows * g->n_cols + c] = NULL;
	return g->n_rows++;
}

/* Sets a cell to a copy of `value` (NULL: SQL NULL). */
void
grid_set(grid *g, int row, int col, const char *value)
{
	char	  **cell = &g->cells[row * g->n_cols + col];

	free(*cell);
	*cell = xstrdup(value);
}

const char *
grid_get(const grid *g, int row, int col)
{
	return g->cells[row * g->n_cols + col];
}

void
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

void
grid_print(const grid *g, bool json)
{
	if (json)
		grid_print_json(stdout, g);
	else if (isatty(STDOUT_FILENO))
		grid_print_table(stdout, g);
	else
		grid_print_tsv(stdout, g);
}

/* Appends every row of `res` (as many columns as the grid), NULL as NULL. */
void
grid_add_result(grid *g, const PGresult *res)
{
	for (int r = 0; r < PQntuples(res); r++)
	{
		int			row = grid_add_row(g);

		for (int c = 0; c < g->n_cols; c++)
			if (!PQgetisnull(res, r, c))
				grid_set(g, row, c, PQgetvalue(res, r, c));
	}
}

/*
 * grid_print, but an empty grid on a terminal is the sentence `none`:
 * a script reading TSV or JSON gets no lines or [] instead.
 */
void
grid_show(const grid *g, bool json, const char *none)
{
	if (g->n_rows > 0 || json || !isatty(STDOUT_FILENO))
		grid_print(g, json);
	else
		puts(none);
}
