/*
 * test_copy.c: the COPY encoder (worker/src/copy.c), byte for byte, in
 * both formats. The end-to-end tests (the Python suites of worker/test) show the server
 * accepts what it writes; these pin the edges they reach by chance only:
 * every key type, NULL-free escapes, a malformed uuid, negative numbers,
 * the header and trailer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "copy.h"

static pk_column
col(unsigned oid)
{
	pk_column	c = {0};

	c.type_oid = oid;
	return c;
}

/* the bytes at c->data + *at equal `want` (n bytes); moves *at past them */
static void
expect_bytes(const copybuf *c, size_t *at, const void *want, size_t n)
{
	assert_true(*at + n <= c->len);
	assert_memory_equal(c->data + *at, want, n);
	*at += n;
}

static void
test_binary_header_and_trailer(void **state)
{
	copybuf		c = {0};
	static const unsigned char head[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0,
	0, 0, 0, 0, 0, 0, 0, 0};
	static const unsigned char trailer[2] = {0xff, 0xff};
	size_t		at = 0;

	(void) state;
	copy_begin(&c, true);
	copy_end(&c, true);
	expect_bytes(&c, &at, head, sizeof(head));
	expect_bytes(&c, &at, trailer, sizeof(trailer));
	assert_int_equal(at, c.len);
	free(c.data);
}

static void
test_text_has_no_header(void **state)
{
	copybuf		c = {0};

	(void) state;
	copy_begin(&c, false);
	copy_end(&c, false);
	assert_int_equal(c.len, 0);
	free(c.data);
}

static void
test_binary_row_int_keys_and_vector(void **state)
{
	copybuf		c = {0};
	pk_column	pk[3] = {col(21), col(23), col(20)};
	char	   *key[3] = {"-2", "70000", "-5000000000"};
	const float vec[2] = {1.0f, -0.5f};
	size_t		at = 0;
	static const unsigned char want[] = {
		0, 6,					/* fields: 3 keys + chunk_seq, chunk,
								 * embedding */
		0, 0, 0, 2, 0xff, 0xfe, /* int2 -2 */
		0, 0, 0, 4, 0, 1, 0x11, 0x70,	/* int4 70000 */
		0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0xd5, 0xfa, 0x0e, 0x00, /* int8 -5e9 */
		0, 0, 0, 4, 0, 0, 0, 7, /* chunk_seq 7 */
		0, 0, 0, 2, 'h', 'i',	/* chunk */
		0, 0, 0, 12, 0, 2, 0, 0,	/* vector: length, dims, unused */
		0x3f, 0x80, 0, 0, 0xbf, 0, 0, 0,	/* 1.0, -0.5 */
	};

	(void) state;
	assert_true(copy_keys_binary(pk, 3));
	assert_true(copy_row(&c, true, pk, 3, key, 7, "hi", 2, vec, 2));
	expect_bytes(&c, &at, want, sizeof(want));
	assert_int_equal(at, c.len);
	free(c.data);
}

static void
test_binary_text_and_uuid_keys(void **state)
{
	copybuf		c = {0};
	pk_column	pk[2] = {col(25), col(2950)};
	char	   *key[2] = {"a\tb", "0123ABCD-4567-89ab-cdef-0123456789AB"};
	static const unsigned char want[] = {
		0, 5,
		0, 0, 0, 3, 'a', '\t', 'b', /* binary text is not escaped */
		0, 0, 0, 16, 0x01, 0x23, 0xab, 0xcd, 0x45, 0x67, 0x89, 0xab,
		0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
		0, 0, 0, 4, 0, 0, 0, 0,
		0, 0, 0, 0,				/* empty chunk */
		0, 0, 0, 4, 0, 0, 0, 0, /* a vector of no dimensions */
	};
	size_t		at = 0;

	(void) state;
	assert_true(copy_row(&c, true, pk, 2, key, 0, "", 0, NULL, 0));
	expect_bytes(&c, &at, want, sizeof(want));
	assert_int_equal(at, c.len);
	free(c.data);
}

static void
test_binary_malformed_uuid_is_reported(void **state)
{
	copybuf		c = {0};
	pk_column	pk[1] = {col(2950)};
	char	   *key[1] = {"0123"};

	(void) state;
	assert_false(copy_row(&c, true, pk, 1, key, 0, "x", 1, NULL, 0));
	free(c.data);
}

static void
test_keys_binary_only_for_known_types(void **state)
{
	pk_column	known[7] = {col(21), col(23), col(20), col(25), col(1042), col(1043), col(2950)};
	pk_column	mixed[2] = {col(23), col(1700)};	/* numeric has no encoder
													 * here */

	(void) state;
	assert_true(copy_keys_binary(known, 7));
	assert_false(copy_keys_binary(mixed, 2));
	assert_true(copy_keys_binary(NULL, 0));
}

static void
test_text_row_escapes_and_vector_literal(void **state)
{
	copybuf		c = {0};
	pk_column	pk[2] = {col(1700), col(25)};
	char	   *key[2] = {"1.5", "back\\slash"};
	const float vec[3] = {0.1f, -2.0f, 3.25f};
	const char *text = "line\none\ttab\rcr";
	static const char want[] =
	"1.5\tback\\\\slash\t3\tline\\none\\ttab\\rcr\t[0.100000001,-2,3.25]\n";

	(void) state;
	assert_true(copy_row(&c, false, pk, 2, key, 3, text, strlen(text), vec, 3));
	assert_int_equal(c.len, strlen(want));
	assert_memory_equal(c.data, want, c.len);
	free(c.data);
}

static void
test_rows_append(void **state)
{
	copybuf		c = {0};
	pk_column	pk[1] = {col(23)};
	char	   *k1[1] = {"1"};
	char	   *k2[1] = {"2"};
	const float vec[1] = {1};
	static const char want[] = "1\t0\ta\t[1]\n2\t1\tb\t[1]\n";

	(void) state;
	copy_begin(&c, false);
	copy_row(&c, false, pk, 1, k1, 0, "a", 1, vec, 1);
	copy_row(&c, false, pk, 1, k2, 1, "b", 1, vec, 1);
	copy_end(&c, false);
	assert_int_equal(c.len, strlen(want));
	assert_memory_equal(c.data, want, c.len);
	free(c.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binary_header_and_trailer),
		cmocka_unit_test(test_text_has_no_header),
		cmocka_unit_test(test_binary_row_int_keys_and_vector),
		cmocka_unit_test(test_binary_text_and_uuid_keys),
		cmocka_unit_test(test_binary_malformed_uuid_is_reported),
		cmocka_unit_test(test_keys_binary_only_for_known_types),
		cmocka_unit_test(test_text_row_escapes_and_vector_literal),
		cmocka_unit_test(test_rows_append),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
