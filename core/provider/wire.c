/*
 * wire.c -- what each provider sends and receives.
 *
 *   OpenAI  POST {base}/embeddings
 *           {"model", "input": [..], "encoding_format": "base64",
 *            ["dimensions"], ["user"]}
 *           -> {"data": [{"index", "embedding": "<base64 f32 LE>"}, ..]}
 *   Ollama  POST {base}/api/embed
 *           {"model", "input": [..], ["dimensions"], ["keep_alive"],
 *            ["options"]}
 *           -> {"embeddings": [[f, ..], ..]}
 *   Voyage  POST {base}/embeddings
 *           {"model", "input": [..], ["input_type"], ["output_dimension"],
 *            "output_dtype": "float", "encoding_format": "base64"}
 *           -> {"data": [{"index", "embedding": "<base64 f32 LE>"}, ..]}
 *
 * Neither "truncate" nor "truncation" is sent: both servers then cut an
 * over-long input to the model's limit, as pgai's SQL functions let them.
 *
 * "data" items may also carry float arrays (compatible servers that
 * ignore encoding_format), which are accepted.  Every response is checked:
 * count, a permutation of indexes, dimensions, finite values.
 *
 * No state; buffers belong to the caller.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "provider_internal.h"

static size_t
opt_len(const char *s)
{
	return s ? json_string_size(s, strlen(s)) : 0;
}

size_t
wire_overhead(const wire_config *cfg)
{
	return 160 + opt_len(cfg->model) + opt_len(cfg->user) +
		opt_len(cfg->input_type) + opt_len(cfg->keep_alive) +
		(cfg->options_json ? strlen(cfg->options_json) : 0);
}

/* True if s is a plain JSON number (keep_alive given as seconds). */
static bool
is_number_text(const char *s)
{
	double		d;

	return json_parse_number(s, strlen(s), &d);
}

pgai_status
wire_build(const wire_config *cfg, const char *const *texts,
		   const size_t *lens, const size_t *idx, size_t m, json_buf *b,
		   pgai_error *err)
{
	json_buf_reset(b);
	json_buf_puts(b, "{\"model\":");
	json_write_string(b, cfg->model, strlen(cfg->model));
	json_buf_puts(b, ",\"input\":[");
	for (size_t k = 0; k < m; k++)
	{
		size_t		i = idx[k];

		if (k > 0)
			json_buf_append(b, ",", 1);
		json_write_string(b, texts[i], lens ? lens[i] : strlen(texts[i]));
	}
	json_buf_puts(b, "]");
	switch (cfg->kind)
	{
		case PROVIDER_OPENAI:
			json_buf_puts(b, ",\"encoding_format\":\"base64\"");
			if (cfg->send_dimensions)
			{
				json_buf_puts(b, ",\"dimensions\":");
				json_write_int(b, cfg->dimensions);
			}
			if (cfg->user)
			{
				json_buf_puts(b, ",\"user\":");
				json_write_string(b, cfg->user, strlen(cfg->user));
			}
			break;
		case PROVIDER_OLLAMA:
			if (cfg->send_dimensions)
			{
				json_buf_puts(b, ",\"dimensions\":");
				json_write_int(b, cfg->dimensions);
			}
			if (cfg->keep_alive)
			{
				json_buf_puts(b, ",\"keep_alive\":");
				if (is_number_text(cfg->keep_alive))
					json_buf_puts(b, cfg->keep_alive);
				else
					json_write_string(b, cfg->keep_alive, strlen(cfg->keep_alive));
			}
			if (cfg->options_json)
			{
				json_buf_puts(b, ",\"options\":");
				json_buf_puts(b, cfg->options_json);
			}
			break;
		case PROVIDER_VOYAGE:
			if (cfg->input_type)
			{
				json_buf_puts(b, ",\"input_type\":");
				json_write_string(b, cfg->input_type, strlen(cfg->input_type));
			}
			if (cfg->send_dimensions)
			{
				json_buf_puts(b, ",\"output_dimension\":");
				json_write_int(b, cfg->dimensions);
			}
			json_buf_puts(b, ",\"output_dtype\":\"float\",\"encoding_format\":\"base64\"");
			break;
	}
	json_buf_puts(b, "}");
	return json_buf_status(b, err);
}

static pgai_status
dims_error(const wire_config *cfg, size_t got, pgai_error *err)
{
	return pgai_error_set(err, PGAI_EPROVIDER,
						  "%s returned an embedding with %zu dimensions, expected %d",
						  provider_kind_name(cfg->kind), got, cfg->dimensions);
}

static pgai_status
check_finite(const wire_config *cfg, const float *v, pgai_error *err)
{
	for (int i = 0; i < cfg->dimensions; i++)
		if (!isfinite(v[i]))
			return pgai_error_set(err, PGAI_EPROVIDER,
								  "%s returned a non-finite value in an embedding",
								  provider_kind_name(cfg->kind));
	return PGAI_OK;
}

/* A JSON array of numbers into dst[0..dimensions). */
static pgai_status
read_float_array(const wire_config *cfg, const json_doc *doc, json_ref arr,
				 float *dst, pgai_error *err)
{
	json_iter	it;
	json_ref	k,
				v;
	size_t		i = 0;

	if (json_size(doc, arr) != (size_t) cfg->dimensions)
		return dims_error(cfg, json_size(doc, arr), err);
	json_iter_init(&it, doc, arr);
	while (json_iter_next(&it, &k, &v))
	{
		double		d;

		if (!json_number(doc, v, &d))
			return pgai_error_set(err, PGAI_EPROVIDER,
								  "%s returned a non-number in an embedding",
								  provider_kind_name(cfg->kind));
		dst[i++] = (float) d;
	}
	return check_finite(cfg, dst, err);
}

/* An embedding given as a base64 string into dst[0..dimensions). */
static pgai_status
read_base64(const wire_config *cfg, const json_doc *doc, json_ref str,
			float *dst, pgai_error *err)
{
	const char *s;
	size_t		n;
	bool		escaped;
	char	   *copy = NULL;
	size_t		got = 0;
	int			rc;

	json_string_raw(doc, str, &s, &n, &escaped);
	if (escaped)
	{
		/* some encoders write "\/" */
		pgai_status st = json_string_dup(doc, str, &copy, &n, err);

		if (st != PGAI_OK)
			return st;
		s = copy;
	}
	rc = pv_base64_f32(s, n, dst, (size_t) cfg->dimensions, &got);
	free(copy);
	if (rc == 0)
		return pgai_error_set(err, PGAI_EPROVIDER,
							  "%s returned an embedding that is not valid base64",
							  provider_kind_name(cfg->kind));
	if (rc < 0)
		return dims_error(cfg, got, err);
	return check_finite(cfg, dst, err);
}

static pgai_status
parse_data(const wire_config *cfg, const json_doc *doc, json_ref root,
		   const size_t *idx, size_t m, float *out, pgai_error *err)
{
	const char *name = provider_kind_name(cfg->kind);
	json_ref	data = json_get(doc, root, "data");
	json_iter	it;
	json_ref	k,
				item;
	unsigned char *seen;
	size_t		pos = 0;
	pgai_status st = PGAI_OK;

	if (json_type_of(doc, data) != JSON_ARRAY)
		return pgai_error_set(err, PGAI_EPROVIDER,
							  "%s response has no \"data\" array", name);
	if (json_size(doc, data) != m)
		return pgai_error_set(err, PGAI_EPROVIDER,
							  "%s returned %zu embeddings for %zu inputs",
							  name, json_size(doc, data), m);
	seen = calloc(m, 1);
	if (seen == NULL)
		return pgai_error_set(err, PGAI_ENOMEM, "out of memory");
	json_iter_init(&it, doc, data);
	while (json_iter_next(&it, &k, &item))
	{
		json_ref	jidx = json_get(doc, item, "index");
		json_ref	emb = json_get(doc, item, "embedding");
		int64_t		index = (int64_t) pos;
		float	   *dst;

		pos++;
		if (jidx != JSON_NONE && !json_int(doc, jidx, &index))
		{
			st = pgai_error_set(err, PGAI_EPROVIDER,
								"%s returned a non-integer embedding index", name);
			break;
		}
		if (index < 0 || (uint64_t) index >= m || seen[index])
		{
			st = pgai_error_set(err, PGAI_EPROVIDER,
								"%s returned embedding indexes that are not a permutation of 0..%zu (bad or repeated index %lld)",
								name, m - 1, (long long) index);
			break;
		}
		seen[index] = 1;
		dst = out + idx[index] * (size_t) cfg->dimensions;
		if (json_type_of(doc, emb) == JSON_STRING)
			st = read_base64(cfg, doc, emb, dst, err);
		else if (json_type_of(doc, emb) == JSON_ARRAY)
			st = read_float_array(cfg, doc, emb, dst, err);
		else
			st = pgai_error_set(err, PGAI_EPROVIDER,
								"%s response item has no \"embedding\"", name);
		if (st != PGAI_OK)
			break;
	}
	free(seen);
	return st;
}

static pgai_status
parse_ollama(const wire_config *cfg, const json_doc *doc, json_ref root,
			 const size_t *idx, size_t m, float *out, pgai_error *err)
{
	json_ref	embs = json_get(doc, root, "embeddings");
	json_iter	it;
	json_ref	k,
				v;
	size_t		pos = 0;

	if (json_type_of(doc, embs) != JSON_ARRAY)
		return pgai_error_set(err, PGAI_EPROVIDER,
							  "ollama response has no \"embeddings\" array");
	if (json_size(doc, embs) != m)
		return pgai_error_set(err, PGAI_EPROVIDER,
							  "ollama returned %zu embeddings for %zu inputs",
							  json_size(doc, embs), m);
	json_iter_init(&it, doc, embs);
	while (json_iter_next(&it, &k, &v))
	{
		pgai_status st;

		if (json_type_of(doc, v) != JSON_ARRAY)
			return pgai_error_set(err, PGAI_EPROVIDER,
								  "ollama returned an embedding that is not an array");
		st = read_float_array(cfg, doc, v, out + idx[pos] * (size_t) cfg->dimensions, err);
		if (st != PGAI_OK)
			return st;
		pos++;
	}
	return PGAI_OK;
}

pgai_status
wire_parse(const wire_config *cfg, const char *body, size_t len,
		   const size_t *idx, size_t m, float *out, pgai_error *err)
{
	json_doc   *doc;
	pgai_status st;
	pgai_error	jerr;

	st = json_parse(body, len, &doc, &jerr);
	if (st == PGAI_ENOMEM)
		return pgai_error_set(err, st, "%s", jerr.message);
	if (st != PGAI_OK)
		return pgai_error_set(err, PGAI_EJSON, "%s returned malformed JSON: %s",
							  provider_kind_name(cfg->kind), jerr.message);
	if (json_type_of(doc, json_root(doc)) != JSON_OBJECT)
		st = pgai_error_set(err, PGAI_EJSON, "%s response is not a JSON object",
							provider_kind_name(cfg->kind));
	else if (cfg->kind == PROVIDER_OLLAMA)
		st = parse_ollama(cfg, doc, json_root(doc), idx, m, out, err);
	else
		st = parse_data(cfg, doc, json_root(doc), idx, m, out, err);
	json_doc_free(doc);
	return st;
}
