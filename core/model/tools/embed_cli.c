/*
 * embed_cli: run the built-in model over texts from stdin (for the parity
 * test and the benchmark).
 *
 * usage: embed_cli [--dir DIR] [--threads N] [--tokens] [--plain]
 *                  [--out FILE] [--repeat K] [--batch B]
 *
 * Input: one text per line, hex-encoded UTF-8 (so any byte, newline or NUL
 * survives), or raw lines with --plain. Output: with --tokens the token ids
 * of each text, space-separated, one line per text; otherwise the
 * embeddings as little-endian float32 [n x dim] to --out (default stdout).
 * Timing of the embedding call alone goes to stderr as
 * "embed_seconds <s> texts <n> tokens <t> cpu_seconds <c>" (c: CPU time of
 * all threads of the process during the embedding). --batch B embeds B texts per
 * pgai_model_embed call (default: all in one call).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pgai_model.h"
#include "pgai_text.h"

int
main(int argc, char **argv)
{
	const char *dir = NULL,
			   *outpath = NULL;
	int			threads = 0,
				tokens = 0,
				plain = 0,
				repeat = 1,
				batch = 0;
	pgai_error	err;
	pgai_model *m;
	char	  **texts = NULL;
	size_t	   *lens = NULL,
				n = 0,
				cap = 0;
	char	   *line = NULL;
	size_t		lcap = 0;
	ssize_t		got;

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			outpath = argv[++i];
		else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
			repeat = atoi(argv[++i]);
		else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
			batch = atoi(argv[++i]);

		else if (strcmp(argv[i], "--tokens") == 0)
			tokens = 1;
		else if (strcmp(argv[i], "--plain") == 0)
			plain = 1;
		else
		{
			fprintf(stderr, "usage: embed_cli [--dir DIR] [--threads N] [--tokens] [--plain] [--out FILE] [--repeat K] [--batch B]\n");
			return 2;
		}
	}
	if (pgai_model_open(dir, &m, &err) != PGAI_OK)
	{
		fprintf(stderr, "embed_cli: %s\n", err.message);
		return 1;
	}
	if (threads > 0)
		pgai_model_set_threads(m, threads);

	while ((got = getline(&line, &lcap, stdin)) >= 0)
	{
		size_t		len = (size_t) got;

		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (n == cap)
		{
			cap = cap ? cap * 2 : 1024;
			texts = realloc(texts, cap * sizeof(char *));
			lens = realloc(lens, cap * sizeof(size_t));
			if (!texts || !lens)
			{
				fprintf(stderr, "embed_cli: out of memory\n");
				return 1;
			}
		}
		texts[n] = malloc(len + 1);
		if (texts[n] == NULL)
		{
			fprintf(stderr, "embed_cli: out of memory\n");
			return 1;
		}
		if (plain)
		{
			memcpy(texts[n], line, len);
			lens[n] = len;
		}
		else
		{
			if (len % 2 != 0)
			{
				fprintf(stderr, "embed_cli: line %zu is not hex\n", n + 1);
				return 1;
			}
			for (size_t i = 0; i < len / 2; i++)
			{
				int			hi = hex_digit_value(line[2 * i]),
							lo = hex_digit_value(line[2 * i + 1]);

				if (hi < 0 || lo < 0)
				{
					fprintf(stderr, "embed_cli: line %zu is not hex\n", n + 1);
					return 1;
				}
				texts[n][i] = (char) (hi * 16 + lo);
			}
			lens[n] = len / 2;
		}
		texts[n][lens[n]] = '\0';
		n++;
	}
	free(line);

	if (tokens)
	{
		int32_t		ids[PGAI_MODEL_MAX_TOKENS];

		for (size_t i = 0; i < n; i++)
		{
			size_t		k;

			if (pgai_model_tokenize(m, texts[i], lens[i], ids, PGAI_MODEL_MAX_TOKENS, &k,
									&err) != PGAI_OK)
			{
				fprintf(stderr, "embed_cli: %s\n", err.message);
				return 1;
			}
			for (size_t t = 0; t < k; t++)
				printf(t ? " %d" : "%d", ids[t]);
			printf("\n");
		}
	}
	else
	{
		int			dim = pgai_model_dim(m);
		float	   *out = malloc((n ? n : 1) * (size_t) dim * sizeof(float));
		struct timespec t0,
					t1,
					c0,
					c1;
		FILE	   *f;

		if (out == NULL)
		{
			fprintf(stderr, "embed_cli: out of memory\n");
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
		for (int r = 0; r < (repeat > 0 ? repeat : 1); r++)
		{
			size_t		step = batch > 0 ? (size_t) batch : (n ? n : 1);

			for (size_t s = 0; s < n; s += step)
			{
				size_t		k = n - s < step ? n - s : step;

				if (pgai_model_embed(m, (const char *const *) texts + s, lens + s, k,
									 out + s * (size_t) dim, &err) != PGAI_OK)
				{
					fprintf(stderr, "embed_cli: %s\n", err.message);
					return 1;
				}
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
		{
			size_t		total = 0;
			int32_t		ids[PGAI_MODEL_MAX_TOKENS];

			for (size_t i = 0; i < n; i++)
			{
				size_t		k = 0;

				pgai_model_tokenize(m, texts[i], lens[i], ids, PGAI_MODEL_MAX_TOKENS, &k, NULL);
				total += k;
			}
			fprintf(stderr, "embed_seconds %.6f texts %zu tokens %zu cpu_seconds %.6f\n",
					(double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9,
					n * (size_t) (repeat > 0 ? repeat : 1), total * (size_t) (repeat > 0 ? repeat : 1),
					(double) (c1.tv_sec - c0.tv_sec) + (double) (c1.tv_nsec - c0.tv_nsec) / 1e9);
		}
		f = outpath ? fopen(outpath, "wb") : stdout;
		if (f == NULL || fwrite(out, sizeof(float) * (size_t) dim, n, f) != n)
		{
			fprintf(stderr, "embed_cli: could not write output\n");
			return 1;
		}
		if (outpath)
			fclose(f);
		free(out);
	}
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	free(lens);
	pgai_model_close(m);
	return 0;
}
