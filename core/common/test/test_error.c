/*
 * test_error.c -- the pgai_error record and the status names: every core
 * module reports through these, so a code without a name or a message
 * that overruns its buffer would show up in every caller's errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "pgai_error.h"

static void
test_set_and_clear(void **state)
{
	pgai_error	err;

	(void) state;
	assert_int_equal(pgai_error_set(&err, PGAI_EINVAL, "bad %s %d", "value", 7), PGAI_EINVAL);
	assert_int_equal(err.code, PGAI_EINVAL);
	assert_string_equal(err.message, "bad value 7");
	pgai_error_clear(&err);
	assert_int_equal(err.code, PGAI_OK);
	assert_string_equal(err.message, "");
	/* NULL records are allowed on both paths */
	assert_int_equal(pgai_error_set(NULL, PGAI_EIO, "x"), PGAI_EIO);
	pgai_error_clear(NULL);
}

static void
test_truncated(void **state)
{
	pgai_error	err;
	char		big[2 * PGAI_ERROR_MESSAGE_SIZE];

	(void) state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pgai_error_set(&err, PGAI_EINTERNAL, "%s", big);
	assert_int_equal(strlen(err.message), PGAI_ERROR_MESSAGE_SIZE - 1);
}

static void
test_every_status_named(void **state)
{
	(void) state;
	for (int c = PGAI_OK; c < PGAI_STATUS_MAX; c++)
		assert_string_not_equal(pgai_status_name((pgai_status) c), "PGAI_UNKNOWN");
	assert_string_equal(pgai_status_name(PGAI_ENOMEM), "PGAI_ENOMEM");
	assert_string_equal(pgai_status_name(PGAI_STATUS_MAX), "PGAI_UNKNOWN");
	assert_string_equal(pgai_status_name((pgai_status) -1), "PGAI_UNKNOWN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_and_clear),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_every_status_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
