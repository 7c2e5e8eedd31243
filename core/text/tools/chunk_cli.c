/*
 * chunk_cli.c -- run the chunkers on requests read from stdin; used by the
 * differential test (test/test_differential.py) and the benchmark.
 *
 * Input, repeated until EOF (all lengths are byte counts, decimal):
 *   "<kind> <chunk_size> <chunk_overlap> <is_regex> <keep> <nseps> <doclen>\n"
 *   then nseps times "<seplen>\n<separator bytes>", then <doclen> document
 *   bytes.  kind is "character" or "recursive"; is_regex 0 or 1; keep is
 *   default, none, start or end.
 * Output per request:
 *   "OK <count> <n_oversized>\n" then count times "<len>\n<chunk bytes>", or
 *   "ERR <status name> <msglen>\n<message bytes>".
 * With --time, the seconds spent inside chunk_character/chunk_recursive
 * (excluding I/O) and the input bytes are printed to stderr at the end.
 * Everything is freed per request.  Exit status 2 on malformed input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pgai_text.h"

static char *
read_exact(size_t n)
{
	char	   *buf = malloc(n + 1);

	if (buf == NULL)
		return NULL;
	if (n > 0 && fread(buf, 1, n, stdin) != n)
	{
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	bool		timing = argc > 1 && strcmp(argv[1], "--time") == 0;
	double		spent = 0;
	size_t		bytes = 0;
	char		kind[32],
				keep[16];
	long long	size,
				overlap;
	int			is_regex;
	size_t		nseps,
				doclen;

	while (scanf("%31s %lld %lld %d %15s %zu %zu", kind, &size, &overlap,
				 &is_regex, keep, &nseps, &doclen) == 7)
	{
		char	  **seps;
		char	   *doc;
		chunk_config cfg = {0};
		chunk_list	list;
		pgai_error	err = {0};
		pgai_status st;
		double		t0;

		if (getchar() != '\n' || nseps > 1000)
			return 2;
		seps = calloc(nseps ? nseps : 1, sizeof(char *));
		if (seps == NULL)
			return 2;
		for (size_t i = 0; i < nseps; i++)
		{
			size_t		n;

			if (scanf("%zu", &n) != 1 || getchar() != '\n' || (seps[i] = read_exact(n)) == NULL)
				return 2;
		}
		doc = read_exact(doclen);
		if (doc == NULL)
			return 2;
		cfg.chunk_size = size;
		cfg.chunk_overlap = overlap;
		cfg.separators = (const char *const *) seps;
		cfg.n_separators = nseps;
		cfg.is_separator_regex = is_regex != 0;
		cfg.keep_separator = strcmp(keep, "none") == 0 ? CHUNK_KEEP_NONE
			: strcmp(keep, "start") == 0 ? CHUNK_KEEP_START
			: strcmp(keep, "end") == 0 ? CHUNK_KEEP_END : CHUNK_KEEP_DEFAULT;

		t0 = now();
		if (strcmp(kind, "character") == 0)
			st = chunk_character(doc, doclen, &cfg, &list, &err);
		else
			st = chunk_recursive(doc, doclen, &cfg, &list, &err);
		spent += now() - t0;
		bytes += doclen;

		if (st == PGAI_OK)
		{
			printf("OK %zu %zu\n", list.count, list.n_oversized);
			for (size_t i = 0; i < list.count; i++)
			{
				printf("%zu\n", list.items[i].len);
				fwrite(list.items[i].ptr, 1, list.items[i].len, stdout);
			}
		}
		else
		{
			printf("ERR %s %zu\n%s", pgai_status_name(st), strlen(err.message), err.message);
		}
		chunk_list_free(&list);
		for (size_t i = 0; i < nseps; i++)
			free(seps[i]);
		free(seps);
		free(doc);
	}
	if (timing)
		fprintf(stderr, "chunk_seconds %.6f bytes %zu\n", spent, bytes);
	return ferror(stdout) ? 1 : 0;
}
