/*
 * test_safetensors.c: the safetensors reader on hand-built images, and the
 * errors a missing or corrupt model gives (they must name the path).
 */
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
#include "../safetensors.h"

/* Build an image: 8-byte length, header, then `datalen` bytes of data. */
static unsigned char *
image(const char *header, size_t datalen, size_t *len)
{
	size_t		h = strlen(header);
	unsigned char *buf = calloc(1, 8 + h + datalen + 1);

	assert_non_null(buf);
	for (int i = 0; i < 8; i++)
		buf[i] = (unsigned char) (((uint64_t) h >> (8 * i)) & 0xff);
	memcpy(buf + 8, header, h);
	for (size_t i = 0; i < datalen; i++)
		buf[8 + h + i] = (unsigned char) i;
	*len = 8 + h + datalen;
	return buf;
}

static pgai_status
parse(const char *header, size_t datalen, pgai_error *err)
{
	size_t		len;
	unsigned char *buf = image(header, datalen, &len);
	st_file		f;
	pgai_status st = st_parse(&f, buf, len, "mem.safetensors", err);

	st_close(&f);
	free(buf);
	return st;
}

static void
test_valid(void **state)
{
	const char *hdr =
	"{\"__metadata__\":{\"format\":\"pt\"},"
	"\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
	" \"b\" : { \"shape\" : [ ] , \"dtype\" : \"I64\", \"data_offsets\":[24,32]},"
	"\"c\\u0041\":{\"dtype\":\"BF16\",\"shape\":[0],\"data_offsets\":[32,32]}}   ";
	size_t		len;
	unsigned char *buf = image(hdr, 32, &len);
	st_file		f;
	pgai_error	err;
	const st_tensor *t;

	(void) state;
	assert_int_equal(st_parse(&f, buf, len, "mem", &err), PGAI_OK);
	assert_int_equal(f.ntensors, 3);
	t = st_find(&f, "a");
	assert_non_null(t);
	assert_int_equal(t->dtype, ST_F32);
	assert_int_equal(t->ndim, 2);
	assert_int_equal(t->shape[1], 3);
	assert_int_equal(t->nbytes, 24);
	assert_ptr_equal(t->data, buf + 8 + strlen(hdr));
	t = st_find(&f, "b");
	assert_non_null(t);
	assert_int_equal(t->ndim, 0);
	assert_non_null(st_find(&f, "cA"));
	assert_null(st_find(&f, "zz"));
	st_close(&f);
	st_close(&f);				/* closing twice is harmless */
	free(buf);
}

static void
test_corrupt_headers(void **state)
{
	pgai_error	err;

	(void) state;
	/* offsets past the end of the data */
	assert_int_equal(parse("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, &err),
					 PGAI_ECORRUPT);
	assert_non_null(strstr(err.message, "mem.safetensors"));
	assert_non_null(strstr(err.message, "truncated"));
	/* shape disagrees with the byte count */
	assert_int_equal(parse("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", 16, &err),
					 PGAI_ECORRUPT);
	/* begin after end */
	assert_int_equal(parse("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[8,4]}}", 16, &err),
					 PGAI_ECORRUPT);
	/* unknown dtype, missing keys, bad JSON, trailing bytes, negative */
	assert_int_equal(parse("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, &err),
					 PGAI_ECORRUPT);
	assert_int_equal(parse("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1, &err), PGAI_ECORRUPT);
	assert_int_equal(parse("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}", 1, &err),
					 PGAI_ECORRUPT);
	assert_int_equal(parse("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}} x", 1, &err),
					 PGAI_ECORRUPT);
	assert_int_equal(parse("{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}", 1, &err),
					 PGAI_ECORRUPT);
	assert_int_equal(parse("{\"a\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,1]}}", 1, &err),
					 PGAI_ECORRUPT);
	assert_int_equal(parse("[1,2]", 0, &err), PGAI_ECORRUPT);
	assert_int_equal(parse("{\"a\":{\"dtype\":\"U8\",\"shape\":[99999999999,99999999999,99999999999],"
						   "\"data_offsets\":[0,1]}}", 1, &err), PGAI_ECORRUPT);
	/* a name longer than st_tensor holds, and a header that is not UTF-8 */
	{
		char		hdr[600];

		snprintf(hdr, sizeof(hdr), "{\"%0300d\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 0);
		assert_int_equal(parse(hdr, 1, &err), PGAI_ECORRUPT);
		assert_non_null(strstr(err.message, "too long"));
	}
	assert_int_equal(parse("{\"\xff\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, &err),
					 PGAI_ECORRUPT);
	/* deep nesting in metadata is refused, not recursed without bound */
	{
		char		deep[200] = "{\"__metadata__\":";

		for (int i = 0; i < 40; i++)
			strcat(deep, "[");
		assert_int_equal(parse(deep, 0, &err), PGAI_ECORRUPT);
	}
}

static void
test_bad_lengths(void **state)
{
	unsigned char small[4] = {0};
	unsigned char big[16] = {0xff, 0xff, 0, 0, 0, 0, 0, 0};
	st_file		f;
	pgai_error	err;

	(void) state;
	assert_int_equal(st_parse(&f, small, sizeof(small), "x", &err), PGAI_ECORRUPT);
	assert_int_equal(st_parse(&f, big, sizeof(big), "x", &err), PGAI_ECORRUPT);
	assert_non_null(strstr(err.message, "header length"));
}

/* A model directory with a valid vocab and config but a broken weights file. */
static void
test_model_open_errors(void **state)
{
	char		dir[] = "/tmp/pgai_model_test_XXXXXX";
	char		path[256];
	pgai_error	err;
	pgai_model *m = (pgai_model *) 1;
	FILE	   *f;

	(void) state;
	assert_int_equal(pgai_model_open("/nonexistent/model/dir", &m, &err), PGAI_ENOENT);
	assert_null(m);
	assert_non_null(strstr(err.message, "/nonexistent/model/dir"));

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	f = fopen(path, "w");
	fputs("{\"num_attention_heads\": 2, \"hidden_act\": \"gelu\"}", f);
	fclose(f);
	/* no vocab.txt yet */
	assert_int_equal(pgai_model_open(dir, &m, &err), PGAI_ENOENT);
	assert_non_null(strstr(err.message, "vocab.txt"));

	snprintf(path, sizeof(path), "%s/vocab.txt", dir);
	f = fopen(path, "w");
	fputs("[PAD]\n[UNK]\n[CLS]\n[SEP]\n", f);
	fclose(f);
	/* no weights */
	assert_int_equal(pgai_model_open(dir, &m, &err), PGAI_ENOENT);
	assert_non_null(strstr(err.message, "model.safetensors"));
	/* weights file cut short */
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	f = fopen(path, "w");
	fputs("\x40\x00\x00\x00\x00\x00\x00\x00{\"a\":", f);
	fclose(f);
	assert_int_equal(pgai_model_open(dir, &m, &err), PGAI_ECORRUPT);
	assert_non_null(strstr(err.message, path));
	/* valid file without the tensors the model needs */
	{
		size_t		len;
		unsigned char *buf = image("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, &len);

		f = fopen(path, "wb");
		fwrite(buf, 1, len, f);
		fclose(f);
		free(buf);
	}
	assert_int_equal(pgai_model_open(dir, &m, &err), PGAI_ECORRUPT);
	assert_non_null(strstr(err.message, "word_embeddings"));
	assert_null(m);

	unlink(path);
	snprintf(path, sizeof(path), "%s/vocab.txt", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_corrupt_headers),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_model_open_errors),
	};

	return cmocka_run_group_tests_name("model_safetensors", tests, NULL, NULL);
}
