/*
 * test_json.c -- the JSON writer (escaping, numbers, OOM flag) and reader
 * (grammar edge cases, strings, numbers, iteration, depth limit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgai_json.h"

static void
test_write_string(void **state)
{
	json_buf	b;
	const char	ctl[] = "a\"b\\c/\b\f\n\r\t\x01\x1f\x7f\0z";

	(void) state;
	json_buf_init(&b);
	json_write_string(&b, "", 0);
	assert_string_equal(b.data, "\"\"");
	json_buf_reset(&b);
	json_write_string(&b, ctl, sizeof(ctl) - 1);
	assert_string_equal(b.data,
						"\"a\\\"b\\\\c/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\\u0000z\"");
	assert_int_equal(json_string_size(ctl, sizeof(ctl) - 1), b.len);
	json_buf_reset(&b);
	/* UTF-8 passes through untouched */
	json_write_string(&b, "h\xc3\xa9 \xf0\x9f\x98\x80", 8);
	assert_string_equal(b.data, "\"h\xc3\xa9 \xf0\x9f\x98\x80\"");
	assert_int_equal(json_buf_status(&b, NULL), PGAI_OK);
	json_buf_free(&b);
}

static void
test_write_long_string(void **state)
{
	json_buf	b;
	size_t		n = 100000;
	char	   *s = malloc(n);

	(void) state;
	for (size_t i = 0; i < n; i++)
		s[i] = (i % 7 == 0) ? '\n' : 'x';
	json_buf_init(&b);
	json_write_string(&b, s, n);
	assert_int_equal(b.len, json_string_size(s, n));
	assert_int_equal(b.data[b.len], '\0');
	free(s);
	json_buf_free(&b);
}

static void
test_write_numbers(void **state)
{
	json_buf	b;

	(void) state;
	json_buf_init(&b);
	json_buf_puts(&b, "[");
	json_write_int(&b, -42);
	json_buf_puts(&b, "]");
	assert_string_equal(b.data, "[-42]");
	json_buf_free(&b);
	json_buf_free(&b);			/* idempotent */
	json_buf_free(NULL);
}

/* Numbers are read with '.' whatever LC_NUMERIC says. */
static void
test_read_decimal_comma_locale(void **state)
{
	const char *loc;
	double		d = 0;

	(void) state;
	loc = setlocale(LC_NUMERIC, "de_DE.UTF-8");
	if (loc == NULL)
		loc = setlocale(LC_NUMERIC, "fr_FR.UTF-8");
	assert_true(json_parse_number("1.5", 3, &d));
	assert_true(d == 1.5);
	setlocale(LC_NUMERIC, "C");
}

static json_doc *
parse_ok(const char *s)
{
	json_doc   *doc = NULL;
	pgai_error	err = {0};

	if (json_parse(s, strlen(s), &doc, &err) != PGAI_OK)
		fail_msg("parse failed for %s: %s", s, err.message);
	return doc;
}

static void
test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", " ", "{", "[", "]", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{a:1}",
		"{\"a\":1,}", "01", "1.", ".5", "-", "1e", "1e+", "+1", "tru", "nul",
		"\"abc", "\"\\x\"", "\"\\u12\"", "\"a\x01\"", "[1 2]", "{} {}", "1 2",
		"\"\xff\"", "[\"\xc3\"]", "NaN", "Infinity", "[1]x", "'a'",
	};

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		json_doc   *doc = (json_doc *) 1;
		pgai_error	err = {0};
		pgai_status st = json_parse(bad[i], strlen(bad[i]), &doc, &err);

		if (st == PGAI_OK)
			fail_msg("accepted bad JSON: %s", bad[i]);
		assert_true(st == PGAI_EJSON || st == PGAI_EUTF8);
		assert_null(doc);
		assert_true(err.message[0] != '\0');
	}
}

static void
test_parse_depth(void **state)
{
	char		buf[2 * (JSON_MAX_DEPTH + 2) + 1];
	json_doc   *doc;
	size_t		d;

	(void) state;
	for (d = 0; d < JSON_MAX_DEPTH; d++)
		buf[d] = '[';
	for (size_t i = 0; i < JSON_MAX_DEPTH; i++)
		buf[d + i] = ']';
	buf[2 * JSON_MAX_DEPTH] = '\0';
	doc = parse_ok(buf);
	json_doc_free(doc);
	for (d = 0; d < JSON_MAX_DEPTH + 1; d++)
		buf[d] = '[';
	for (size_t i = 0; i < JSON_MAX_DEPTH + 1; i++)
		buf[d + i] = ']';
	buf[2 * (JSON_MAX_DEPTH + 1)] = '\0';
	assert_int_equal(json_parse(buf, strlen(buf), &doc, NULL), PGAI_EJSON);
}

static void
test_parse_structure(void **state)
{
	json_doc   *doc = parse_ok(" {\"data\": [ {\"index\": 1, \"e\": [1, 2.5e1, -0.0]},"
							   " {\"index\": 0, \"e\": []} , {} ], \"x\": null, "
							   "\"t\": true, \"f\": false, \"data\": 7} ");
	json_ref	root = json_root(doc);
	json_ref	data = json_get(doc, root, "data");
	json_iter	it;
	json_ref	k,
				v;
	int64_t		idx;
	double		d;
	size_t		count = 0;

	(void) state;
	assert_int_equal(json_type_of(doc, root), JSON_OBJECT);
	assert_int_equal(json_size(doc, root), 5);
	assert_int_equal(json_type_of(doc, data), JSON_ARRAY);	/* first wins */
	assert_int_equal(json_size(doc, data), 3);
	assert_int_equal(json_type_of(doc, json_get(doc, root, "x")), JSON_NULL);
	assert_int_equal(json_type_of(doc, json_get(doc, root, "t")), JSON_TRUE);
	assert_int_equal(json_type_of(doc, json_get(doc, root, "f")), JSON_FALSE);
	assert_int_equal(json_get(doc, root, "missing"), JSON_NONE);
	assert_int_equal(json_get(doc, data, "index"), JSON_NONE);	/* not an object */

	json_iter_init(&it, doc, data);
	assert_true(json_iter_next(&it, &k, &v));
	assert_int_equal(k, JSON_NONE);
	assert_true(json_int(doc, json_get(doc, v, "index"), &idx));
	assert_int_equal(idx, 1);
	{
		json_ref	e = json_get(doc, v, "e");
		json_iter	it2;
		double		want[] = {1, 25, -0.0};
		size_t		i = 0;

		json_iter_init(&it2, doc, e);
		while (json_iter_next(&it2, &k, &v))
		{
			assert_true(json_number(doc, v, &d));
			assert_true(d == want[i]);
			i++;
		}
		assert_int_equal(i, 3);
	}
	while (json_iter_next(&it, &k, &v))
		count++;
	assert_int_equal(count, 2);

	/* iterate members of the root: keys in order */
	json_iter_init(&it, doc, root);
	assert_true(json_iter_next(&it, &k, &v));
	assert_true(json_string_equals(doc, k, "data"));
	assert_true(json_iter_next(&it, &k, &v));
	assert_true(json_string_equals(doc, k, "x"));
	json_doc_free(doc);

	doc = parse_ok("42");
	assert_true(json_int(doc, json_root(doc), &idx));
	assert_int_equal(idx, 42);
	assert_false(json_string_equals(doc, json_root(doc), "42"));
	json_iter_init(&it, doc, json_root(doc));
	assert_false(json_iter_next(&it, &k, &v));
	json_doc_free(doc);
}

static void
test_strings(void **state)
{
	json_doc   *doc = parse_ok("[\"plain\", \"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", "
							   "\"\\u00e9\\u4e2d\\ud83d\\ude00\", \"\\ud800x\", "
							   "\"\\u0000z\", \"h\xc3\xa9\"]");
	json_iter	it;
	json_ref	k,
				v[6];
	char	   *s;
	size_t		n;
	const char *raw;
	bool		esc;
	char		small[5];

	(void) state;
	json_iter_init(&it, doc, json_root(doc));
	for (int i = 0; i < 6; i++)
		assert_true(json_iter_next(&it, &k, &v[i]));
	assert_true(json_string_raw(doc, v[0], &raw, &n, &esc));
	assert_false(esc);
	assert_int_equal(n, 5);
	assert_memory_equal(raw, "plain", 5);

	assert_int_equal(json_string_dup(doc, v[1], &s, &n, NULL), PGAI_OK);
	assert_string_equal(s, "a\"b\\c/d\b\f\n\r\t");
	free(s);
	assert_int_equal(json_string_dup(doc, v[2], &s, &n, NULL), PGAI_OK);
	assert_string_equal(s, "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80");
	free(s);
	assert_int_equal(json_string_dup(doc, v[3], &s, &n, NULL), PGAI_OK);
	assert_string_equal(s, "\xef\xbf\xbdx");	/* lone surrogate -> U+FFFD */
	free(s);
	assert_int_equal(json_string_dup(doc, v[4], &s, &n, NULL), PGAI_OK);
	assert_int_equal(n, 2);
	assert_memory_equal(s, "\0z", 2);
	free(s);
	assert_true(json_string_equals(doc, v[1], "a\"b\\c/d\b\f\n\r\t"));
	assert_false(json_string_equals(doc, v[1], "a\"b"));

	/* truncation keeps whole characters */
	assert_true(json_string_copy(doc, v[2], small, sizeof(small)));
	assert_string_equal(small, "\xc3\xa9");
	assert_true(json_string_copy(doc, v[5], small, 3));
	assert_string_equal(small, "h");
	assert_int_equal(json_string_dup(doc, json_root(doc), &s, &n, NULL), PGAI_EJSON);
	assert_null(s);
	json_doc_free(doc);
}

static void
test_numbers(void **state)
{
	static const struct
	{
		const char *s;
		double		v;
	}			cases[] = {
		{"0", 0.0}, {"-0", -0.0}, {"1", 1.0}, {"-12.5", -12.5},
		{"0.1", 0.1}, {"1e3", 1000.0}, {"1E-3", 0.001}, {"2.5e+2", 250.0},
		{"0.015625", 0.015625}, {"123456789012345678901234567890", 1.2345678901234568e29},
		{"1e-400", 0.0}, {"4.9406564584124654e-324", 4.9406564584124654e-324},
		{"1.7976931348623157e308", 1.7976931348623157e308},
		{"0.0000000000000000000000000001", 1e-28},
		{"-0.029296875", -0.029296875},
		{"0.33333334", 0.33333334},
	};
	double		d;

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		assert_true(json_parse_number(cases[i].s, strlen(cases[i].s), &d));
		if (d != cases[i].v && fabs(d - cases[i].v) > fabs(cases[i].v) * 4 * DBL_EPSILON)
			fail_msg("%s parsed as %.17g", cases[i].s, d);
		/* exact for float32 targets */
		assert_true((float) d == (float) cases[i].v);
	}
	assert_true(json_parse_number("-0", 2, &d) && signbit(d));
	assert_false(json_parse_number("1e400", 5, &d));
	assert_false(json_parse_number("1.", 2, &d));
	assert_false(json_parse_number("", 0, &d));
	assert_false(json_parse_number("1x", 2, &d));
}

static void
test_float32_roundtrip(void **state)
{
	uint32_t	seed = 12345;
	json_buf	b;

	(void) state;
	json_buf_init(&b);
	for (int i = 0; i < 20000; i++)
	{
		float		f;
		double		d;
		uint32_t	bits;
		char		tmp[32];

		seed = seed * 1664525u + 1013904223u;
		bits = seed;
		memcpy(&f, &bits, 4);
		if (!isfinite(f))
			continue;
		/* as a provider writes a float32: %.9g in the C locale */
		json_buf_reset(&b);
		snprintf(tmp, sizeof(tmp), "%.9g", (double) f);
		json_buf_puts(&b, tmp);
		assert_true(json_parse_number(b.data, b.len, &d));
		if ((float) d != f)
			fail_msg("%s -> %.9g != %.9g", b.data, (double) (float) d, (double) f);
	}
	json_buf_free(&b);
}

/* A caller's allocator: counts what it holds, and can be made to fail. */
typedef struct counting
{
	size_t		held;
	size_t		grows;
	size_t		limit;
}			counting;

static void *
counting_grow(void *arg, void *p, size_t used, size_t n)
{
	counting   *c = arg;
	size_t	   *q;

	if (n > c->limit)
		return NULL;
	q = malloc(sizeof(size_t) + n);
	if (q == NULL)
		return NULL;
	q[0] = n;
	if (p != NULL)
	{
		size_t	   *old = (size_t *) p - 1;

		memcpy(q + 1, p, used);
		c->held -= old[0];
		free(old);
	}
	c->held += n;
	c->grows++;
	return q + 1;
}

static void
counting_release(void *arg, void *p)
{
	counting   *c = arg;
	size_t	   *old = (size_t *) p - 1;

	c->held -= old[0];
	free(old);
}

static void
test_buf_allocator(void **state)
{
	counting	c = {0, 0, 1 << 20};
	json_allocator a = {counting_grow, counting_release, &c};
	json_buf	b;
	char		chunk[1000];

	(void) state;
	memset(chunk, 'x', sizeof(chunk));
	json_buf_init(&b);
	b.alloc = &a;
	for (int i = 0; i < 100; i++)
		json_buf_append(&b, chunk, sizeof(chunk));
	assert_int_equal(b.len, 100000);
	assert_int_equal(c.held, b.cap);
	assert_true(c.grows > 1);
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] != 'x')
			fail();
	assert_int_equal(b.data[b.len], '\0');
	/* freeing gives it back and keeps the allocator for the next use */
	json_buf_free(&b);
	assert_int_equal(c.held, 0);
	assert_ptr_equal(b.alloc, &a);
	json_buf_puts(&b, "again");
	assert_string_equal(b.data, "again");
	assert_true(c.held > 0);
	/* a refusal marks the buffer failed, and keeps what it held */
	c.limit = b.cap;
	for (int i = 0; i < 10; i++)
		json_buf_append(&b, chunk, sizeof(chunk));
	assert_true(b.failed);
	assert_string_equal(b.data, "again");
	assert_int_equal(json_buf_status(&b, NULL), PGAI_ENOMEM);
	json_buf_free(&b);
	assert_int_equal(c.held, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_string),
		cmocka_unit_test(test_write_long_string),
		cmocka_unit_test(test_write_numbers),
		cmocka_unit_test(test_read_decimal_comma_locale),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_depth),
		cmocka_unit_test(test_parse_structure),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_float32_roundtrip),
		cmocka_unit_test(test_buf_allocator),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
