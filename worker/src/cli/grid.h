/*
 * cli/grid.h: rows of string cells, printed as an aligned table on a
 * terminal, tab-separated lines otherwise, or JSON (cli/grid.c); and the
 * terminal helpers the commands' own layouts use.
 *
 * Ownership: a grid owns its cells (malloc'd strings, NULL for SQL NULL).
 */
#ifndef PGAI_WORKER_CLI_GRID_H
#define PGAI_WORKER_CLI_GRID_H

#include <stdbool.h>
#include <stdio.h>

#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_RESET "\033[0m"

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

extern bool colour_on(void);
extern int	terminal_width(void);
extern int	put_line_text(FILE *f, const char *s, int width);
extern void grid_init(grid *g, const grid_column *cols, int n_cols);
extern int	grid_add_row(grid *g);
extern void grid_set(grid *g, int row, int col, const char *value);
extern const char *grid_get(const grid *g, int row, int col);
extern void grid_free(grid *g);
extern void grid_print(const grid *g, bool json);
extern void grid_show(const grid *g, bool json, const char *none);
struct pg_result;
extern void grid_add_result(grid *g, const struct pg_result *res);

#endif							/* PGAI_WORKER_CLI_GRID_H */
