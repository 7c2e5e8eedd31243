/*
 * test_minilm.c: the encoder on a tiny random BERT (hidden 8, 2 heads,
 * 2 layers, 12 positions) written to a temporary directory, checked against
 * a plain double-precision implementation of the same maths written here
 * from the definitions (one sequence at a time, no packing, no BLAS).
 * Real-model parity is test_parity.py's job.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "pgai_model.h"

#define H 8
#define NH 2
#define NL 2
#define FF 16
#define NP 12
#define NV 11

static const char vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\na\nb\nc\nd\ne\n##a\n##b\n";

typedef struct tensor
{
	char		name[96];
	int			d0,
				d1;				/* d1 == 0: vector */
	float	   *v;
}			tensor;

static tensor T[5 + NL * 16];
static int	ntensors;
static char dir[] = "/tmp/pgai_minilm_test_XXXXXX";
static uint32_t rng = 12345;

static float
rnd(void)
{
	rng = rng * 1664525u + 1013904223u;
	return ((float) (rng >> 8) / 16777216.0f - 0.5f);
}

static float *
add(const char *name, int d0, int d1, float scale, float offset)
{
	tensor	   *t = &T[ntensors++];
	size_t		n = (size_t) d0 * (d1 ? d1 : 1);

	snprintf(t->name, sizeof(t->name), "%s", name);
	t->d0 = d0;
	t->d1 = d1;
	t->v = malloc(n * sizeof(float));
	for (size_t i = 0; i < n; i++)
		t->v[i] = offset + scale * rnd();
	return t->v;
}

static const float *
get(const char *name)
{
	for (int i = 0; i < ntensors; i++)
		if (strcmp(T[i].name, name) == 0)
			return T[i].v;
	fail_msg("no tensor %s", name);
	return NULL;
}

static void
write_file(const char *name, const void *data, size_t len)
{
	char		path[256];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static int
setup(void **state)
{
	char		n[128];
	char	   *hdr = malloc(65536);
	size_t		hl = 0,
				off = 0;

	(void) state;
	assert_non_null(mkdtemp(dir));
	add("embeddings.word_embeddings.weight", NV, H, 2, 0);
	add("embeddings.position_embeddings.weight", NP, H, 1, 0);
	add("embeddings.token_type_embeddings.weight", 2, H, 1, 0);
	add("embeddings.LayerNorm.weight", H, 0, 0.4f, 1);
	add("embeddings.LayerNorm.bias", H, 0, 0.4f, 0);
	for (int l = 0; l < NL; l++)
	{
		static const struct
		{
			const char *s;
			int			d0,
						d1;
			float		scale,
						offset;
		}			spec[] = {
			{"attention.self.query.weight", H, H, 1.2f, 0}, {"attention.self.query.bias", H, 0, 0.2f, 0},
			{"attention.self.key.weight", H, H, 1.2f, 0}, {"attention.self.key.bias", H, 0, 0.2f, 0},
			{"attention.self.value.weight", H, H, 0.8f, 0}, {"attention.self.value.bias", H, 0, 0.2f, 0},
			{"attention.output.dense.weight", H, H, 0.8f, 0}, {"attention.output.dense.bias", H, 0, 0.2f, 0},
			{"attention.output.LayerNorm.weight", H, 0, 0.4f, 1}, {"attention.output.LayerNorm.bias", H, 0, 0.2f, 0},
			{"intermediate.dense.weight", FF, H, 1.0f, 0}, {"intermediate.dense.bias", FF, 0, 0.4f, 0},
			{"output.dense.weight", H, FF, 0.6f, 0}, {"output.dense.bias", H, 0, 0.2f, 0},
			{"output.LayerNorm.weight", H, 0, 0.4f, 1}, {"output.LayerNorm.bias", H, 0, 0.2f, 0},
		};

		for (size_t s = 0; s < sizeof(spec) / sizeof(spec[0]); s++)
		{
			snprintf(n, sizeof(n), "encoder.layer.%d.%s", l, spec[s].s);
			add(n, spec[s].d0, spec[s].d1, spec[s].scale, spec[s].offset);
		}
	}

	/* safetensors image: header padded to 8 bytes, then the data */
	hl += (size_t) sprintf(hdr + hl, "{\"__metadata__\":{\"format\":\"pt\"}");
	for (int i = 0; i < ntensors; i++)
	{
		size_t		bytes = (size_t) T[i].d0 * (T[i].d1 ? T[i].d1 : 1) * 4;

		if (T[i].d1)
			hl += (size_t) sprintf(hdr + hl, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%d,%d],\"data_offsets\":[%zu,%zu]}",
								   T[i].name, T[i].d0, T[i].d1, off, off + bytes);
		else
			hl += (size_t) sprintf(hdr + hl, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[%zu,%zu]}",
								   T[i].name, T[i].d0, off, off + bytes);
		off += bytes;
	}
	hdr[hl++] = '}';
	while (hl % 8)
		hdr[hl++] = ' ';

	unsigned char *img = malloc(8 + hl + off);
	size_t		pos = 8 + hl;

	for (int i = 0; i < 8; i++)
		img[i] = (unsigned char) ((uint64_t) hl >> (8 * i));
	memcpy(img + 8, hdr, hl);
	for (int i = 0; i < ntensors; i++)
	{
		size_t		bytes = (size_t) T[i].d0 * (T[i].d1 ? T[i].d1 : 1) * 4;

		memcpy(img + pos, T[i].v, bytes);
		pos += bytes;
	}
	write_file("model.safetensors", img, pos);
	write_file("vocab.txt", vocab, strlen(vocab));
	{
		char		cfg[256];
		int			len = snprintf(cfg, sizeof(cfg),
								   "{\"hidden_act\": \"gelu\", \"num_attention_heads\": %d, \"layer_norm_eps\": 1e-12}", NH);

		write_file("config.json", cfg, (size_t) len);
	}
	free(img);
	free(hdr);
	return 0;
}

static int
teardown(void **state)
{
	char		path[256];
	const char *files[] = {"model.safetensors", "vocab.txt", "config.json"};

	(void) state;
	for (int i = 0; i < 3; i++)
	{
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	for (int i = 0; i < ntensors; i++)
		free(T[i].v);
	return 0;
}

/* ---- reference forward pass in double ---- */

static void
ref_ln(double *x, const float *w, const float *b)
{
	double		mean = 0,
				var = 0;

	for (int i = 0; i < H; i++)
		mean += x[i];
	mean /= H;
	for (int i = 0; i < H; i++)
		var += (x[i] - mean) * (x[i] - mean);
	var /= H;
	for (int i = 0; i < H; i++)
		x[i] = (x[i] - mean) / sqrt(var + 1e-12) * w[i] + b[i];
}

/* y[n] = W[n x k] x + b */
static void
ref_lin(double *y, const double *x, const float *W, const float *b, int n, int k)
{
	for (int o = 0; o < n; o++)
	{
		double		acc = b[o];

		for (int i = 0; i < k; i++)
			acc += (double) W[o * k + i] * x[i];
		y[o] = acc;
	}
}

static void
ref_embed(const int32_t *ids, int n, float *out)
{
	double		x[NP][H],
				q[NP][H],
				k[NP][H],
				v[NP][H],
				c[NP][H],
				a[NP][H],
				f[FF];
	char		name[128];

	for (int t = 0; t < n; t++)
	{
		for (int i = 0; i < H; i++)
			x[t][i] = (double) get("embeddings.word_embeddings.weight")[ids[t] * H + i] +
				get("embeddings.position_embeddings.weight")[t * H + i] +
				get("embeddings.token_type_embeddings.weight")[i];
		ref_ln(x[t], get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"));
	}
#define LG(s) (snprintf(name, sizeof(name), "encoder.layer.%d.%s", l, s), get(name))
	for (int l = 0; l < NL; l++)
	{
		for (int t = 0; t < n; t++)
		{
			ref_lin(q[t], x[t], LG("attention.self.query.weight"), LG("attention.self.query.bias"), H, H);
			ref_lin(k[t], x[t], LG("attention.self.key.weight"), LG("attention.self.key.bias"), H, H);
			ref_lin(v[t], x[t], LG("attention.self.value.weight"), LG("attention.self.value.bias"), H, H);
		}
		for (int h = 0; h < NH; h++)
		{
			int			d = H / NH;

			for (int t = 0; t < n; t++)
			{
				double		s[NP],
							mx = -1e300,
							sum = 0;

				for (int u = 0; u < n; u++)
				{
					s[u] = 0;
					for (int i = 0; i < d; i++)
						s[u] += q[t][h * d + i] * k[u][h * d + i];
					s[u] /= sqrt((double) d);
					mx = s[u] > mx ? s[u] : mx;
				}
				for (int u = 0; u < n; u++)
					sum += (s[u] = exp(s[u] - mx));
				for (int i = 0; i < d; i++)
				{
					double		acc = 0;

					for (int u = 0; u < n; u++)
						acc += s[u] / sum * v[u][h * d + i];
					c[t][h * d + i] = acc;
				}
			}
		}
		for (int t = 0; t < n; t++)
		{
			ref_lin(a[t], c[t], LG("attention.output.dense.weight"), LG("attention.output.dense.bias"), H, H);
			for (int i = 0; i < H; i++)
				a[t][i] += x[t][i];
			ref_ln(a[t], LG("attention.output.LayerNorm.weight"), LG("attention.output.LayerNorm.bias"));
			ref_lin(f, a[t], LG("intermediate.dense.weight"), LG("intermediate.dense.bias"), FF, H);
			for (int i = 0; i < FF; i++)
				f[i] = 0.5 * f[i] * (1 + erf(f[i] / sqrt(2.0)));
			ref_lin(x[t], f, LG("output.dense.weight"), LG("output.dense.bias"), H, FF);
			for (int i = 0; i < H; i++)
				x[t][i] += a[t][i];
			ref_ln(x[t], LG("output.LayerNorm.weight"), LG("output.LayerNorm.bias"));
		}
	}
#undef LG
	double		norm = 0,
				m[H];

	for (int i = 0; i < H; i++)
	{
		m[i] = 0;
		for (int t = 0; t < n; t++)
			m[i] += x[t][i];
		m[i] /= n;
		norm += m[i] * m[i];
	}
	for (int i = 0; i < H; i++)
		out[i] = (float) (m[i] / sqrt(norm));
}

static const char *texts[] = {
	"a", "", "b c d e", "abab cab", "E D C B A a b c d e", "a b c d e a b c d e a b c d e",
	"ab", "zzz a", "c", "d d d", "a, b! c", "ba",
};
#define NTEXTS (sizeof(texts) / sizeof(texts[0]))

static void
test_against_reference(void **state)
{
	pgai_model *m;
	pgai_error	err;
	float		out[NTEXTS][H];

	(void) state;
	assert_int_equal(pgai_model_open(dir, &m, &err), PGAI_OK);
	assert_int_equal(pgai_model_dim(m), H);
	for (int threads = 1; threads <= 3; threads++)
	{
		pgai_model_set_threads(m, threads);
		assert_int_equal(pgai_model_embed(m, texts, NULL, NTEXTS, &out[0][0], &err),
						 PGAI_OK);
		for (size_t i = 0; i < NTEXTS; i++)
		{
			int32_t		ids[PGAI_MODEL_MAX_TOKENS];
			size_t		n;
			float		ref[H];

			assert_int_equal(pgai_model_tokenize(m, texts[i], strlen(texts[i]), ids,
												 PGAI_MODEL_MAX_TOKENS, &n, &err),
							 PGAI_OK);
			assert_true(n >= 2 && n <= NP); /* truncated to the 12 positions */
			ref_embed(ids, (int) n, ref);
			for (int d = 0; d < H; d++)
				assert_float_equal(out[i][d], ref[d], 2e-5);
		}
	}
	/* one text alone gives the same as inside a batch */
	{
		float		one[H];
		const char *t = texts[4];

		assert_int_equal(pgai_model_embed(m, &t, NULL, 1, one, &err), PGAI_OK);
		for (int d = 0; d < H; d++)
			assert_float_equal(one[d], out[4][d], 1e-6);
	}
	/* explicit lengths: a prefix of a longer buffer */
	{
		float		one[H];
		const char *t = "b c d exxxx";
		size_t		len = 7;

		assert_int_equal(pgai_model_embed(m, &t, &len, 1, one, &err), PGAI_OK);
		for (int d = 0; d < H; d++)
			assert_float_equal(one[d], out[2][d], 1e-6);
	}
	/* a raised cancel flag stops the call before any batch runs */
	{
		volatile sig_atomic_t cancel = 1;

		assert_int_equal(pgai_model_embed_cancelable(m, texts, NULL, NTEXTS, &out[0][0], &cancel,
													 &err), PGAI_ECANCELED);
		assert_string_equal(err.message, "embedding canceled");
		cancel = 0;
		assert_int_equal(pgai_model_embed_cancelable(m, texts, NULL, NTEXTS, &out[0][0], &cancel,
													 &err), PGAI_OK);
	}
	assert_int_equal(pgai_model_embed(m, NULL, NULL, 0, NULL, &err), PGAI_OK);
	assert_int_equal(pgai_model_embed(m, NULL, NULL, 2, &out[0][0], &err), PGAI_EINVAL);
	pgai_model_close(m);
	pgai_model_close(NULL);
}

/*
 * config.json is read as JSON: a key's name inside a string value is not
 * the key, "gelu" elsewhere in the file does not make hidden_act gelu, and
 * a file that is not JSON is refused, naming it.
 */
static pgai_status
open_with_config(const char *cfg, pgai_error *err)
{
	pgai_model *m = NULL;
	pgai_status st;

	write_file("config.json", cfg, strlen(cfg));
	st = pgai_model_open(dir, &m, err);
	pgai_model_close(m);
	return st;
}

static void
test_config_json(void **state)
{
	char		cfg[256];
	pgai_error	err;

	(void) state;
	snprintf(cfg, sizeof(cfg),
			 "{\"comment\": \"num_attention_heads\", \"num_attention_heads\": %d}", NH);
	assert_int_equal(open_with_config(cfg, &err), PGAI_OK);
	snprintf(cfg, sizeof(cfg),
			 "{\"hidden_act\": \"relu\", \"comment\": \"gelu\", \"num_attention_heads\": %d}", NH);
	assert_int_equal(open_with_config(cfg, &err), PGAI_ECORRUPT);
	assert_non_null(strstr(err.message, "hidden_act"));
	snprintf(cfg, sizeof(cfg), "{\"num_attention_heads\": %d", NH);
	assert_int_equal(open_with_config(cfg, &err), PGAI_ECORRUPT);
	assert_non_null(strstr(err.message, "config.json"));
	assert_int_equal(open_with_config("[12]", &err), PGAI_ECORRUPT);
	/* back to the fixture's own */
	snprintf(cfg, sizeof(cfg),
			 "{\"hidden_act\": \"gelu\", \"num_attention_heads\": %d, \"layer_norm_eps\": 1e-12}", NH);
	assert_int_equal(open_with_config(cfg, &err), PGAI_OK);
}

static void
test_default_dir(void **state)
{
	(void) state;
	unsetenv("PGAI_MODEL_DIR");
	assert_string_equal(pgai_model_default_dir(), PGAI_MODEL_DEFAULT_DIR);
	setenv("PGAI_MODEL_DIR", "/somewhere/else", 1);
	assert_string_equal(pgai_model_default_dir(), "/somewhere/else");
	setenv("PGAI_MODEL_DIR", "", 1);
	assert_string_equal(pgai_model_default_dir(), PGAI_MODEL_DEFAULT_DIR);
	unsetenv("PGAI_MODEL_DIR");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_reference),
		cmocka_unit_test(test_config_json),
		cmocka_unit_test(test_default_dir),
	};

	return cmocka_run_group_tests_name("model_minilm", tests, setup, teardown);
}
