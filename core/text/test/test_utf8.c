/*
 * test_utf8.c -- utf8_* helpers: validation like Python's strict decoder,
 * code-point counts, str.isspace / str.strip semantics (text_internal.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "pgai_text.h"
#include "../text_internal.h"

static void
test_validate(void **state)
{
	pgai_error	err = {0};

	(void) state;
	assert_int_equal(utf8_validate("", 0, &err), PGAI_OK);
	assert_int_equal(utf8_validate("h\xc3\xa9llo \xe4\xb8\xad \xf0\x9f\x98\x80", 15, &err), PGAI_OK);
	assert_int_equal(utf8_validate("a\0b", 3, &err), PGAI_OK);
	assert_int_equal(utf8_validate("ab\x80", 3, &err), PGAI_EUTF8);
	assert_non_null(strstr(err.message, "offset 2"));
	assert_int_equal(utf8_validate("\xc0\xaf", 2, NULL), PGAI_EUTF8);	/* overlong */
	assert_int_equal(utf8_validate("\xe0\x80\xaf", 3, NULL), PGAI_EUTF8);	/* overlong */
	assert_int_equal(utf8_validate("\xed\xb0\x80", 3, NULL), PGAI_EUTF8);	/* surrogate */
	assert_int_equal(utf8_validate("\xf4\x90\x80\x80", 4, NULL), PGAI_EUTF8);	/* > U+10FFFF */
	assert_int_equal(utf8_validate("\xf0\x9f\x98", 3, NULL), PGAI_EUTF8);	/* truncated */
	assert_int_equal(utf8_validate("\xe4\xb8x", 3, NULL), PGAI_EUTF8);
}

static void
test_count(void **state)
{
	(void) state;
	assert_int_equal(utf8_count("", 0), 0);
	assert_int_equal(utf8_count("abc", 3), 3);
	assert_int_equal(utf8_count("\xf0\x9f\x98\x80\xe4\xb8\xad\xc3\xa9" "a", 10), 4);
}

static void
test_space_and_strip(void **state)
{
	/* U+3000 ideographic space, U+0085, U+001C, then "x y", then U+2028 */
	const char *txt = "\xe3\x80\x80\xc2\x85\x1cx y\xe2\x80\xa8";

	(void) state;
	assert_true(utf8_py_isspace(0x1C));
	assert_true(utf8_py_isspace(0x85));
	assert_true(utf8_py_isspace(0x200A));
	assert_false(utf8_py_isspace(0x200B));	/* zero width space is not */
	assert_false(utf8_py_isspace(0x180E));
	assert_false(utf8_py_isspace('x'));
	/* the chunkers strip separators and chunks with these, as str.strip() */
	assert_int_equal(text_lead_space(txt, strlen(txt)), 6);
	assert_int_equal(text_trail_space(txt, strlen(txt)), 3);
	assert_int_equal(text_lead_space(" \t\n", 3), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_space_and_strip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
