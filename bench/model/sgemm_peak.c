/*
 * sgemm_peak: OpenBLAS's own single-precision GEMM rate on this machine, for
 * the shapes the MiniLM encoder uses (M tokens x K=384 -> N=384/1536, and
 * the 1536 -> 384 projection) and a large square product, with 1 thread and
 * with all cores. Prints one line per case: "sgemm <label> threads <t>
 * gflops <rate>", best of several runs.
 *
 * build: cc -O2 -o sgemm_peak sgemm_peak.c -lopenblas
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double
rate(int M, int N, int K, int transb)
{
	float	   *a = malloc(sizeof(float) * (size_t) M * K);
	float	   *b = malloc(sizeof(float) * (size_t) K * N);
	float	   *c = malloc(sizeof(float) * (size_t) M * N);
	double		best = 0;

	for (size_t i = 0; i < (size_t) M * K; i++)
		a[i] = (float) (i % 7) * 0.1f;
	for (size_t i = 0; i < (size_t) K * N; i++)
		b[i] = (float) (i % 5) * 0.1f;
	for (int rep = 0; rep < 7; rep++)
	{
		double		t0 = now();
		int			iters = 0;

		do
		{
			cblas_sgemm(CblasRowMajor, CblasNoTrans, transb ? CblasTrans : CblasNoTrans,
						M, N, K, 1.0f, a, K, b, transb ? K : N, 0.0f, c, N);
			iters++;
		} while (now() - t0 < 0.2);
		double		g = 2.0 * M * N * K * iters / (now() - t0) / 1e9;

		if (g > best)
			best = g;
	}
	free(a);
	free(b);
	free(c);
	return best;
}

int
main(void)
{
	int			ncpu = (int) sysconf(_SC_NPROCESSORS_ONLN);
	static const struct
	{
		const char *label;
		int			M,
					N,
					K;
	}			cases[] = {
		{"2048x384x384(qkv)", 2048, 384, 384},
		{"2048x1536x384(ffn-up)", 2048, 1536, 384},
		{"2048x384x1536(ffn-down)", 2048, 384, 1536},
		{"2048x2048x2048", 2048, 2048, 2048},
	};

	printf("openblas %s core %s\n", openblas_get_config(), openblas_get_corename());
	for (int t = 1; t <= ncpu; t = (t == ncpu ? ncpu + 1 : ncpu))
	{
		openblas_set_num_threads(t);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			printf("sgemm %s threads %d gflops %.1f\n", cases[i].label, t,
				   rate(cases[i].M, cases[i].N, cases[i].K, 1));
	}
	return 0;
}
