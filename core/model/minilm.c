/*
 * minilm.c: the all-MiniLM-L6-v2 sentence encoder (pgai_model.h).
 *
 * A BERT encoder read straight from model.safetensors: embeddings (word +
 * position + token type 0, LayerNorm), N post-norm transformer layers
 * (self-attention, GELU feed-forward), then mean pooling over the real
 * tokens and L2 normalisation, as sentence-transformers does.
 *
 * Batching: texts are tokenized, sorted by token count and cut into
 * sub-batches of similar length. Inside a sub-batch the sequences are packed
 * back to back with no padding at all: every operation except attention is
 * row-wise, and attention runs per sequence over exactly its own tokens, so
 * a padded token would only cost time (the reference's -inf mask gives
 * padded keys zero weight, which is what skipping them computes). Dense
 * products use OpenBLAS sgemm; worker threads take sub-batches from a shared
 * counter, each running OpenBLAS single-threaded on its own scratch.
 *
 * Ownership: the handle owns the st_file mapping and the vocabulary; weight
 * pointers point into the mapping. Nothing in the handle changes after
 * pgai_model_open, so concurrent pgai_model_embed calls are safe.
 */
#include "pgai_model.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>

#include "pgai_json.h"
#include "safetensors.h"
#include "tokenizer.h"

#define MAX_LAYERS 48
#define BATCH_TOKENS 2048		/* tokens per sub-batch (scratch ~ 30 MB) */
#define MAX_THREADS 8

typedef struct layer_w
{
	const float *q_w,
			   *q_b,
			   *k_w,
			   *k_b,
			   *v_w,
			   *v_b;
	const float *ao_w,
			   *ao_b,
			   *ln1_w,
			   *ln1_b;
	const float *i_w,
			   *i_b,
			   *o_w,
			   *o_b,
			   *ln2_w,
			   *ln2_b;
} layer_w;

struct pgai_model
{
	st_file		st;
	tok_vocab	vocab;
	int			hidden;
	int			heads;
	int			layers;
	int			inter;
	int			max_pos;
	int			vocab_size;
	float		eps;
	int			threads;
	const float *word_emb,
			   *pos_emb,
			   *type_emb,
			   *emb_ln_w,
			   *emb_ln_b;
	layer_w		L[MAX_LAYERS];
};

const char *
pgai_model_default_dir(void)
{
	const char *env = getenv("PGAI_MODEL_DIR");

	return (env != NULL && env[0] != '\0') ? env : PGAI_MODEL_DEFAULT_DIR;
}

/* ---- loading ---- */

static pgai_status
read_small_file(const char *path, char **out, pgai_error *err)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	size_t		n;

	*out = NULL;
	if (f == NULL)
		return pgai_error_set(err, PGAI_ENOENT,
							  "could not open model config \"%s\"", path);
	buf = malloc(65537);
	if (buf == NULL)
	{
		fclose(f);
		return pgai_error_set(err, PGAI_ENOMEM, "out of memory");
	}
	n = fread(buf, 1, 65536, f);
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	return PGAI_OK;
}

/*
 * The settings the encoder takes from config.json, read with core/json so
 * that only the top-level members count: num_attention_heads (0 when
 * absent: the dimension check then refuses the model), layer_norm_eps
 * (default 1e-12) and hidden_act, which must be "gelu" when present.
 */
static pgai_status
read_config(pgai_model *m, const char *path, pgai_error *err)
{
	char	   *text;
	json_doc   *doc = NULL;
	json_ref	root,
				act;
	double		v;
	pgai_error	jerr;
	pgai_status st;

	if ((st = read_small_file(path, &text, err)) != PGAI_OK)
		return st;
	st = json_parse(text, strlen(text), &doc, &jerr);
	if (st == PGAI_ENOMEM)
		st = pgai_error_set(err, st, "out of memory reading model config \"%s\"", path);
	else if (st != PGAI_OK)
		st = pgai_error_set(err, PGAI_ECORRUPT, "model config \"%s\" is not valid JSON: %s",
							path, jerr.message);
	else if (json_type_of(doc, root = json_root(doc)) != JSON_OBJECT)
		st = pgai_error_set(err, PGAI_ECORRUPT, "model config \"%s\" is not a JSON object", path);
	else
	{
		m->heads = json_number(doc, json_get(doc, root, "num_attention_heads"), &v) ? (int) v : 0;
		m->eps = json_number(doc, json_get(doc, root, "layer_norm_eps"), &v) ? (float) v : 1e-12f;
		act = json_get(doc, root, "hidden_act");
		if (act != JSON_NONE && !json_string_equals(doc, act, "gelu"))
			st = pgai_error_set(err, PGAI_ECORRUPT,
								"model config \"%s\": only hidden_act \"gelu\" is supported", path);
	}
	json_doc_free(doc);
	free(text);
	return st;
}

/* Look up a float tensor and check its shape (d1 = 0 for a vector). */
static pgai_status
weight(pgai_model *m, const char *path, const char *name, int64_t d0, int64_t d1,
	   const float **out, pgai_error *err)
{
	const st_tensor *t = st_find(&m->st, name);
	int			ndim = d1 ? 2 : 1;

	if (t == NULL)
		return pgai_error_set(err, PGAI_ECORRUPT,
							  "model file \"%s\" has no tensor \"%s\"", path, name);
	if (t->dtype != ST_F32 || t->ndim != ndim || t->shape[0] != d0 ||
		(ndim == 2 && t->shape[1] != d1))
		return pgai_error_set(err, PGAI_ECORRUPT,
							  "tensor \"%s\" in \"%s\" has dtype %s and an unexpected shape",
							  name, path, st_dtype_name(t->dtype));
	if (((uintptr_t) t->data) % sizeof(float) != 0)
		return pgai_error_set(err, PGAI_ECORRUPT,
							  "tensor \"%s\" in \"%s\" is not aligned", name, path);
	*out = t->data;
	return PGAI_OK;
}

static int
default_threads(void)
{
	long		n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	return (int) n;
}

pgai_status
pgai_model_open(const char *dir, pgai_model **out, pgai_error *err)
{
	char		path[4096];
	char		cfg_path[4096];
	pgai_model *m;
	pgai_status st;
	const st_tensor *we;

	*out = NULL;
	if (dir == NULL)
		dir = pgai_model_default_dir();
	if (strlen(dir) > sizeof(path) - 64)
		return pgai_error_set(err, PGAI_EINVAL, "model directory name is too long");
	if (access(dir, F_OK) != 0)
		return pgai_error_set(err, PGAI_ENOENT,
							  "model directory \"%s\" does not exist", dir);
	m = calloc(1, sizeof(pgai_model));
	if (m == NULL)
		return pgai_error_set(err, PGAI_ENOMEM, "out of memory");
	m->threads = default_threads();

	snprintf(cfg_path, sizeof(cfg_path), "%s/config.json", dir);
	if ((st = read_config(m, cfg_path, err)) != PGAI_OK)
		goto fail;

	snprintf(path, sizeof(path), "%s/vocab.txt", dir);
	if ((st = tok_vocab_load(&m->vocab, path, err)) != PGAI_OK)
		goto fail;

	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	if ((st = st_open(&m->st, path, err)) != PGAI_OK)
		goto fail;

	/* dimensions from the tensors themselves */
	we = st_find(&m->st, "embeddings.word_embeddings.weight");
	if (we == NULL || we->ndim != 2)
	{
		st = pgai_error_set(err, PGAI_ECORRUPT,
							"model file \"%s\" has no tensor \"embeddings.word_embeddings.weight\"", path);
		goto fail;
	}
	m->vocab_size = (int) we->shape[0];
	m->hidden = (int) we->shape[1];
	{
		const st_tensor *pe = st_find(&m->st, "embeddings.position_embeddings.weight");
		const st_tensor *it = st_find(&m->st, "encoder.layer.0.intermediate.dense.weight");

		m->max_pos = pe && pe->ndim == 2 ? (int) pe->shape[0] : 0;
		m->inter = it && it->ndim == 2 ? (int) it->shape[0] : 0;
	}
	for (m->layers = 0; m->layers < MAX_LAYERS; m->layers++)
	{
		char		name[128];

		snprintf(name, sizeof(name), "encoder.layer.%d.attention.self.query.weight", m->layers);
		if (st_find(&m->st, name) == NULL)
			break;
	}
	if (m->heads <= 0 || m->hidden <= 0 || m->hidden % m->heads != 0 || m->layers == 0 ||
		m->inter <= 0 || m->max_pos < 2 || m->vocab_size < m->vocab.size)
	{
		st = pgai_error_set(err, PGAI_ECORRUPT,
							"model in \"%s\" has inconsistent dimensions (hidden %d, heads %d, layers %d, vocabulary %d of %d)",
							dir, m->hidden, m->heads, m->layers, m->vocab.size, m->vocab_size);
		goto fail;
	}

#define W(name, d0, d1, dst) \
	if ((st = weight(m, path, name, d0, d1, dst, err)) != PGAI_OK) goto fail

	{
		int64_t		H = m->hidden,
					FF = m->inter;

		W("embeddings.word_embeddings.weight", m->vocab_size, H, &m->word_emb);
		W("embeddings.position_embeddings.weight", m->max_pos, H, &m->pos_emb);
		{
			const st_tensor *tt = st_find(&m->st, "embeddings.token_type_embeddings.weight");
			int64_t		types = tt && tt->ndim == 2 ? tt->shape[0] : 1;

			W("embeddings.token_type_embeddings.weight", types, H, &m->type_emb);
		}
		W("embeddings.LayerNorm.weight", H, 0, &m->emb_ln_w);
		W("embeddings.LayerNorm.bias", H, 0, &m->emb_ln_b);
		for (int l = 0; l < m->layers; l++)
		{
			char		n[128];
			layer_w    *L = &m->L[l];

#define LW(suffix, d0, d1, dst) \
			snprintf(n, sizeof(n), "encoder.layer.%d.%s", l, suffix); W(n, d0, d1, dst)

			LW("attention.self.query.weight", H, H, &L->q_w);
			LW("attention.self.query.bias", H, 0, &L->q_b);
			LW("attention.self.key.weight", H, H, &L->k_w);
			LW("attention.self.key.bias", H, 0, &L->k_b);
			LW("attention.self.value.weight", H, H, &L->v_w);
			LW("attention.self.value.bias", H, 0, &L->v_b);
			LW("attention.output.dense.weight", H, H, &L->ao_w);
			LW("attention.output.dense.bias", H, 0, &L->ao_b);
			LW("attention.output.LayerNorm.weight", H, 0, &L->ln1_w);
			LW("attention.output.LayerNorm.bias", H, 0, &L->ln1_b);
			LW("intermediate.dense.weight", FF, H, &L->i_w);
			LW("intermediate.dense.bias", FF, 0, &L->i_b);
			LW("output.dense.weight", H, FF, &L->o_w);
			LW("output.dense.bias", H, 0, &L->o_b);
			LW("output.LayerNorm.weight", H, 0, &L->ln2_w);
			LW("output.LayerNorm.bias", H, 0, &L->ln2_b);
#undef LW
		}
	}
#undef W
	*out = m;
	return PGAI_OK;

fail:
	pgai_model_close(m);
	return st;
}

void
pgai_model_close(pgai_model *model)
{
	if (model == NULL)
		return;
	st_close(&model->st);
	tok_vocab_free(&model->vocab);
	free(model);
}

int
pgai_model_dim(const pgai_model *model)
{
	return model->hidden;
}

void
pgai_model_set_threads(pgai_model *model, int threads)
{
	model->threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
}

static size_t
max_tokens(const pgai_model *m)
{
	size_t		n = PGAI_MODEL_MAX_TOKENS;

	return (size_t) m->max_pos < n ? (size_t) m->max_pos : n;
}

pgai_status
pgai_model_tokenize(const pgai_model *model, const char *text, size_t len,
					int32_t *ids, size_t max_ids, size_t *n_ids,
					pgai_error *err)
{
	int32_t		buf[PGAI_MODEL_MAX_TOKENS];
	size_t		n;
	pgai_status st;

	if (model == NULL || text == NULL || n_ids == NULL || (ids == NULL && max_ids > 0))
		return pgai_error_set(err, PGAI_EINVAL, "invalid argument to pgai_model_tokenize");
	st = tok_encode(&model->vocab, text, len, buf, max_tokens(model), &n);
	if (st != PGAI_OK)
		return pgai_error_set(err, st, "out of memory tokenizing text");
	memcpy(ids, buf, (n < max_ids ? n : max_ids) * sizeof(int32_t));
	*n_ids = n;
	return PGAI_OK;
}

/* ---- the encoder ---- */

/* Scratch for one sub-batch of at most BATCH_TOKENS tokens. */
typedef struct scratch
{
	float	   *x;				/* [M x H] hidden states */
	float	   *q,
			   *k,
			   *v;				/* [M x H] */
	float	   *ctx;			/* [M x H] attention output */
	float	   *tmp;			/* [M x H] */
	float	   *ffn;			/* [M x I] */
	float	   *scores;			/* [T x T] */
} scratch;

/* ---- element-wise kernels ----
 *
 * Written without libm calls or branches in the loops so the compiler
 * vectorizes them; target_clones builds AVX-512 and AVX2 variants chosen at
 * load time (the library itself is compiled for baseline x86-64).
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define VECTORIZE __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), optimize("O3", "fp-contract=fast")))
#else
#define VECTORIZE
#endif

/* 16 floats / ints: GCC vector extensions, lowered to whatever the clone's
 * target has (one zmm register, two ymm, four xmm) */
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));

#define LANES 16

/* Helpers are macros: functions taking or returning 64-byte vectors would
 * have a different ABI in the baseline build (-Wpsabi). */
#define V16_LOAD(v, p) memcpy(&(v), (p), sizeof(v16f))
#define V16_STORE(p, v) memcpy((p), &(v), sizeof(v16f))
/* mask ? a : b, lane-wise */
#define V16_SELECT(mask, a, b) \
	((v16f) (((v16i) (a) & (mask)) | ((v16i) (b) & ~(mask))))

/*
 * out = exp(x) for x <= 0 (softmax arguments after subtracting the
 * maximum): 2^k * p(r) with x = k ln2 + r, |r| <= ln2/2, p the degree-6
 * Taylor polynomial: relative error below 2e-7, i.e. float rounding.
 * Arguments below -87 are clamped there (exp(-87) ~ 1.6e-38, negligible in
 * a sum that holds exp(0) = 1). k is rounded by adding and removing
 * 1.5 * 2^23; ln2 is split in two parts for an exact k * ln2.
 */
#define EXP_NEG16(out, xin) do { \
	v16f		x_ = (xin); \
	v16f		lo_ = (v16f) {0} - 87.0f; \
	v16f		mg_ = (v16f) {0} + 12582912.0f; \
	x_ = V16_SELECT(x_ < lo_, lo_, x_); \
	v16f		k_ = (x_ * 1.44269504f + mg_) - mg_; \
	v16f		r_ = x_ - k_ * 0.693145752f - k_ * 1.42860677e-6f; \
	v16f		p_ = 1.0f + r_ * (1.0f + r_ * (0.5f + r_ * (1.0f / 6 + r_ * (1.0f / 24 + \
					r_ * (1.0f / 120 + r_ * (1.0f / 720)))))); \
	v16i		e_ = (__builtin_convertvector(k_, v16i) + 127) << 23; \
	(out) = p_ * (v16f) e_; \
} while (0)

VECTORIZE static void
softmax(float *row, int n)
{
	int			j = 0;
	float		m = row[0],
				total = 0;
	v16f		v,
				e,
				sum = {0};

	if (n >= LANES)
	{
		v16f		mx;

		V16_LOAD(mx, row);
		for (j = LANES; j + LANES <= n; j += LANES)
		{
			V16_LOAD(v, row + j);
			mx = V16_SELECT(v > mx, v, mx);
		}
		for (int l = 0; l < LANES; l++)
			m = mx[l] > m ? mx[l] : m;
	}
	for (; j < n; j++)
		m = row[j] > m ? row[j] : m;

	for (j = 0; j + LANES <= n; j += LANES)
	{
		V16_LOAD(v, row + j);
		EXP_NEG16(e, v - m);
		V16_STORE(row + j, e);
		sum += e;
	}
	if (j < n)
	{
		/* the tail through the same code, padded with -inf-like values */
		float		tail[LANES];

		for (int l = 0; l < LANES; l++)
			tail[l] = j + l < n ? row[j + l] - m : -100.0f;
		V16_LOAD(v, tail);
		EXP_NEG16(e, v);
		for (int l = 0; j + l < n; l++)
		{
			row[j + l] = e[l];
			total += e[l];
		}
	}
	for (int l = 0; l < LANES; l++)
		total += sum[l];
	float		inv = 1.0f / total;

	for (j = 0; j < n; j++)
		row[j] *= inv;
}

/*
 * GELU, erf form, of (v + bias) row by row: 0.5 z (1 + erf(z / sqrt 2)).
 * erf from Abramowitz & Stegun 7.1.28, erf(a) = 1 - (1 + a1 a + ... +
 * a6 a^6)^-16 for a >= 0, absolute error below 3e-7, made odd by the sign.
 */
VECTORIZE static void
gelu_bias(float *v, const float *bias, size_t rows, int n)
{
	for (size_t r = 0; r < rows; r++)
	{
		float	   *row = v + r * (size_t) n;

		for (int i = 0; i < n; i++)
		{
			float		z = row[i] + bias[i];
			float		a = __builtin_fabsf(z) * 0.70710678f;
			float		p = 1.0f + a * (0.0705230784f + a * (0.0422820123f + a * (0.0092705272f +
																				  a * (0.0001520143f + a * (0.0002765672f + a * 0.0000430638f)))));
			float		p2 = p * p;
			float		p4 = p2 * p2;
			float		p8 = p4 * p4;
			float		p16 = p8 * p8;
			float		e = 1.0f - 1.0f / p16;

			row[i] = 0.5f * z * (1.0f + (z < 0 ? -e : e));
		}
	}
}

/*
 * x = LayerNorm(x + bias + res) row by row (bias and res may be NULL):
 * mean, then variance of the centred values, from per-lane float sums.
 */
VECTORIZE static void
layer_norm(float *x, const float *bias, const float *res, size_t rows, int H,
		   const float *w, const float *b, float eps)
{
	for (size_t r = 0; r < rows; r++)
	{
		float	   *row = x + r * (size_t) H;
		float		acc[LANES] = {0},
					mean = 0,
					var = 0;
		int			i;

		if (bias)
			for (i = 0; i < H; i++)
				row[i] += bias[i];
		if (res)
		{
			const float *rr = res + r * (size_t) H;

			for (i = 0; i < H; i++)
				row[i] += rr[i];
		}
		for (i = 0; i + LANES <= H; i += LANES)
			for (int l = 0; l < LANES; l++)
				acc[l] += row[i + l];
		for (; i < H; i++)
			mean += row[i];
		for (int l = 0; l < LANES; l++)
			mean += acc[l];
		mean /= (float) H;
		for (int l = 0; l < LANES; l++)
			acc[l] = 0;
		for (i = 0; i + LANES <= H; i += LANES)
			for (int l = 0; l < LANES; l++)
			{
				float		d = row[i + l] - mean;

				acc[l] += d * d;
			}
		for (; i < H; i++)
			var += (row[i] - mean) * (row[i] - mean);
		for (int l = 0; l < LANES; l++)
			var += acc[l];
		var /= (float) H;
		float		inv = 1.0f / sqrtf(var + eps);

		for (i = 0; i < H; i++)
			row[i] = (row[i] - mean) * inv * w[i] + b[i];
	}
}

/* out[M x N] = in[M x K] . W[N x K]^T (+ bias unless NULL: then the
 * caller's next pass adds it) */
static void
linear(float *out, const float *in, size_t M, int N, int K, const float *W, const float *bias)
{
	if (bias)
		for (size_t r = 0; r < M; r++)
			memcpy(out + r * (size_t) N, bias, (size_t) N * sizeof(float));
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int) M, N, K, 1.0f,
				in, K, W, K, bias ? 1.0f : 0.0f, out, N);
}

/*
 * Attention for one sequence of n tokens whose rows start at row 0 of q, k,
 * v, ctx (row stride H).
 */
static void
attention(const pgai_model *m, float *q, const float *k, const float *v,
		  float *ctx, float *scores, int n)
{
	int			H = m->hidden,
				d = H / m->heads;
	float		scale = 1.0f / sqrtf((float) d);

	for (int h = 0; h < m->heads; h++)
	{
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, d, scale,
					q + h * d, H, k + h * d, H, 0.0f, scores, n);
		for (int i = 0; i < n; i++)
			softmax(scores + (size_t) i * n, n);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d, n, 1.0f,
					scores, n, v + h * d, H, 0.0f, ctx + h * d, H);
	}
}

/*
 * Run `count` sequences (ids[s] has lens[s] tokens) packed into one
 * sub-batch and write their pooled, normalised embeddings to outs[s].
 */
static void
encode_batch(const pgai_model *m, scratch *s, int32_t *const *ids, const size_t *lens,
			 size_t count, float *const *outs)
{
	int			H = m->hidden,
				FF = m->inter;
	size_t		M = 0;

	/* embeddings */
	for (size_t q = 0; q < count; q++)
		for (size_t t = 0; t < lens[q]; t++, M++)
		{
			float	   *row = s->x + M * (size_t) H;
			const float *w = m->word_emb + (size_t) ids[q][t] * H;
			const float *p = m->pos_emb + t * (size_t) H;

			for (int i = 0; i < H; i++)
				row[i] = w[i] + p[i] + m->type_emb[i];
		}
	layer_norm(s->x, NULL, NULL, M, H, m->emb_ln_w, m->emb_ln_b, m->eps);

	for (int l = 0; l < m->layers; l++)
	{
		const layer_w *L = &m->L[l];
		size_t		off = 0;

		linear(s->q, s->x, M, H, H, L->q_w, L->q_b);
		linear(s->k, s->x, M, H, H, L->k_w, L->k_b);
		linear(s->v, s->x, M, H, H, L->v_w, L->v_b);
		for (size_t q = 0; q < count; q++)
		{
			size_t		o = off * (size_t) H;

			attention(m, s->q + o, s->k + o, s->v + o, s->ctx + o, s->scores, (int) lens[q]);
			off += lens[q];
		}
		linear(s->tmp, s->ctx, M, H, H, L->ao_w, NULL);
		layer_norm(s->tmp, L->ao_b, s->x, M, H, L->ln1_w, L->ln1_b, m->eps);
		/* s->tmp now holds the attention block's output */
		linear(s->ffn, s->tmp, M, FF, H, L->i_w, NULL);
		gelu_bias(s->ffn, L->i_b, M, FF);
		linear(s->x, s->ffn, M, H, FF, L->o_w, NULL);
		layer_norm(s->x, L->o_b, s->tmp, M, H, L->ln2_w, L->ln2_b, m->eps);
	}

	/* mean pooling and L2 normalisation */
	size_t		off = 0;

	for (size_t q = 0; q < count; q++)
	{
		float	   *out = outs[q];
		double		norm = 0;

		for (int i = 0; i < H; i++)
		{
			double		acc = 0;

			for (size_t t = 0; t < lens[q]; t++)
				acc += s->x[(off + t) * (size_t) H + i];
			out[i] = (float) (acc / (double) lens[q]);
			norm += (double) out[i] * out[i];
		}
		norm = sqrt(norm);
		if (norm < 1e-12)
			norm = 1e-12;
		for (int i = 0; i < H; i++)
			out[i] = (float) (out[i] / norm);
		off += lens[q];
	}
}

/* Shared state of one pgai_model_embed call. */
typedef struct job
{
	const pgai_model *m;
	int32_t    *ids;			/* [n x maxlen] token ids */
	size_t	   *lens;
	size_t	   *order;			/* text indices sorted by length, longest
								 * first */
	size_t	   *batch_start;	/* batch b covers order[batch_start[b] ..
								 * batch_start[b+1]) */
	size_t		nbatches;
	atomic_size_t next;
	atomic_int	failed;
	const volatile sig_atomic_t *cancel;	/* stop when *cancel != 0 */
	atomic_int	canceled;
	float	   *out;
	size_t		maxlen;
	size_t		batch_tokens;	/* tokens in the largest batch */
} job;

static int
scratch_alloc(scratch *s, const pgai_model *m, size_t M, size_t T)
{
	size_t		MH = M * (size_t) m->hidden;

	memset(s, 0, sizeof(*s));
	s->x = malloc(MH * sizeof(float));
	s->q = malloc(MH * sizeof(float));
	s->k = malloc(MH * sizeof(float));
	s->v = malloc(MH * sizeof(float));
	s->ctx = malloc(MH * sizeof(float));
	s->tmp = malloc(MH * sizeof(float));
	s->ffn = malloc(M * (size_t) m->inter * sizeof(float));
	s->scores = malloc(T * T * sizeof(float));
	return s->x && s->q && s->k && s->v && s->ctx && s->tmp && s->ffn && s->scores;
}

static void
scratch_free(scratch *s)
{
	free(s->x);
	free(s->q);
	free(s->k);
	free(s->v);
	free(s->ctx);
	free(s->tmp);
	free(s->ffn);
	free(s->scores);
}

static void *
worker(void *arg)
{
	job		   *j = arg;
	scratch		s;
	int32_t    *ids[BATCH_TOKENS];
	size_t		lens[BATCH_TOKENS];
	float	   *outs[BATCH_TOKENS];

	if (!scratch_alloc(&s, j->m, j->batch_tokens, j->maxlen))
	{
		scratch_free(&s);
		atomic_store(&j->failed, 1);
		return NULL;
	}
	for (;;)
	{
		size_t		b = atomic_fetch_add(&j->next, 1);

		if (b >= j->nbatches || atomic_load(&j->failed) || atomic_load(&j->canceled))
			break;
		if (j->cancel != NULL && *j->cancel)
		{
			atomic_store(&j->canceled, 1);
			break;
		}
		size_t		count = 0;

		for (size_t i = j->batch_start[b]; i < j->batch_start[b + 1]; i++, count++)
		{
			size_t		t = j->order[i];

			ids[count] = j->ids + t * j->maxlen;
			lens[count] = j->lens[t];
			outs[count] = j->out + t * (size_t) j->m->hidden;
		}
		encode_batch(j->m, &s, ids, lens, count, outs);
	}
	scratch_free(&s);
	return NULL;
}

static const size_t *sort_lens;

static int
by_length_desc(const void *a, const void *b)
{
	size_t		x = *(const size_t *) a,
				y = *(const size_t *) b;

	if (sort_lens[x] != sort_lens[y])
		return sort_lens[x] < sort_lens[y] ? 1 : -1;
	return x < y ? -1 : x > y;
}

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static void
blas_single_thread(void)
{
	/*
	 * our own threads split the work; OpenBLAS threads on top would only
	 * contend for the same cores
	 */
	openblas_set_num_threads(1);
}

pgai_status
pgai_model_embed(const pgai_model *model, const char *const *texts,
				 const size_t *lens, size_t n, float *out,
				 pgai_error *err)
{
	return pgai_model_embed_cancelable(model, texts, lens, n, out, NULL, err);
}

pgai_status
pgai_model_embed_cancelable(const pgai_model *model, const char *const *texts,
							const size_t *lens, size_t n, float *out,
							const volatile sig_atomic_t *cancel,
							pgai_error *err)
{
	job			j;
	pgai_status st = PGAI_OK;
	int			nthreads;
	pthread_t	tids[MAX_THREADS];
	int			started = 0;

	if (model == NULL || (n > 0 && (texts == NULL || out == NULL)))
		return pgai_error_set(err, PGAI_EINVAL, "invalid argument to pgai_model_embed");
	if (n == 0)
		return PGAI_OK;
	for (size_t i = 0; i < n; i++)
		if (texts[i] == NULL)
			return pgai_error_set(err, PGAI_EINVAL, "text %zu is NULL", i);
	if (n > SIZE_MAX / (PGAI_MODEL_MAX_TOKENS * sizeof(int32_t)))
		return pgai_error_set(err, PGAI_EINVAL, "too many texts");
	pthread_once(&blas_once, blas_single_thread);

	memset(&j, 0, sizeof(j));
	j.m = model;
	j.out = out;
	j.maxlen = max_tokens(model);
	j.ids = malloc(n * j.maxlen * sizeof(int32_t));
	j.lens = malloc(n * sizeof(size_t));
	j.order = malloc(n * sizeof(size_t));
	j.batch_start = malloc((n + 1) * sizeof(size_t));
	if (!j.ids || !j.lens || !j.order || !j.batch_start)
	{
		st = pgai_error_set(err, PGAI_ENOMEM, "out of memory embedding %zu texts", n);
		goto done;
	}
	for (size_t i = 0; i < n; i++)
	{
		size_t		len = lens ? lens[i] : strlen(texts[i]);

		st = tok_encode(&model->vocab, texts[i], len, j.ids + i * j.maxlen, j.maxlen, &j.lens[i]);
		if (st != PGAI_OK)
		{
			st = pgai_error_set(err, st, "out of memory tokenizing text %zu", i);
			goto done;
		}
		j.order[i] = i;
	}

	/*
	 * qsort's comparator has no context argument; a mutex keeps concurrent
	 * callers from sharing sort_lens
	 */
	{
		static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;

		pthread_mutex_lock(&sort_lock);
		sort_lens = j.lens;
		qsort(j.order, n, sizeof(size_t), by_length_desc);
		pthread_mutex_unlock(&sort_lock);
	}

	/*
	 * cut into sub-batches of at most BATCH_TOKENS tokens; keep at least
	 * `threads` batches when there is enough work so every core gets some
	 */
	{
		size_t		total = 0;

		for (size_t i = 0; i < n; i++)
			total += j.lens[i];

		/*
		 * about four batches per thread so the last ones even out the load,
		 * but no smaller than one full-length text
		 */
		size_t		budget = total / ((size_t) model->threads * 4) + 1;

		if (budget > BATCH_TOKENS)
			budget = BATCH_TOKENS;
		if (budget < j.maxlen)
			budget = j.maxlen;
		size_t		acc = 0;

		j.nbatches = 0;
		j.batch_start[0] = 0;
		for (size_t i = 0; i < n; i++)
		{
			size_t		l = j.lens[j.order[i]];

			if (acc > 0 && acc + l > budget)
			{
				j.batch_start[++j.nbatches] = i;
				acc = 0;
			}
			acc += l;
		}
		j.batch_start[++j.nbatches] = n;
		/* scratch only as large as the largest batch */
		j.batch_tokens = 0;
		for (size_t b = 0; b < j.nbatches; b++)
		{
			size_t		sum = 0;

			for (size_t i = j.batch_start[b]; i < j.batch_start[b + 1]; i++)
				sum += j.lens[j.order[i]];
			if (sum > j.batch_tokens)
				j.batch_tokens = sum;
		}
	}
	atomic_init(&j.next, 0);
	atomic_init(&j.failed, 0);
	atomic_init(&j.canceled, 0);
	j.cancel = cancel;
	nthreads = model->threads;
	if ((size_t) nthreads > j.nbatches)
		nthreads = (int) j.nbatches;
	if (nthreads > 1)
	{
		/*
		 * helpers start with every signal blocked, so signals (a PostgreSQL
		 * backend's SIGINT, SIGTERM, ...) reach only the calling thread
		 */
		sigset_t	all,
					old;

		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		for (int t = 1; t < nthreads; t++)
		{
			if (pthread_create(&tids[t], NULL, worker, &j) != 0)
				break;			/* the calling thread does the rest */
			started++;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	worker(&j);
	for (int t = 1; t <= started; t++)
		pthread_join(tids[t], NULL);
	if (atomic_load(&j.failed))
		st = pgai_error_set(err, PGAI_ENOMEM, "out of memory for model scratch space");
	else if (atomic_load(&j.canceled))
		st = pgai_error_set(err, PGAI_ECANCELED, "embedding canceled");

done:
	free(j.ids);
	free(j.lens);
	free(j.order);
	free(j.batch_start);
	return st;
}
