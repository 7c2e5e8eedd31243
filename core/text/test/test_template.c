/*
 * test_template.c -- tmpl_* against CPython 3.11 string.Template.substitute
 * (expected values were produced with Python).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pgai_text.h"

/* name=value pairs, NULL-terminated */
typedef struct kv
{
	const char *const *pairs;
	int			calls;
}			kv;

static pgai_status
lookup(void *arg, const char *name, const char **value, size_t *value_len, pgai_error *err)
{
	kv		   *m = arg;

	(void) err;
	m->calls++;
	for (size_t i = 0; m->pairs[i] != NULL; i += 2)
	{
		if (strcmp(m->pairs[i], name) == 0)
		{
			*value = m->pairs[i + 1];
			*value_len = strlen(m->pairs[i + 1]);
			return PGAI_OK;
		}
	}
	return PGAI_ETEMPLATE_NAME;
}

static const char *const VARS[] = {
	"title", "My Post", "chunk", "some text", "x", "1", "x_y", "XY", "A", "upper",
	"dollar", "$x", NULL
};

/* Render src with VARS; check status and (on success) the output. */
static void
render_check(const char *src, pgai_status want, const char *expect)
{
	tmpl	   *t = NULL;
	pgai_error	err = {0};
	kv			m = {VARS, 0};
	char	   *out = (char *) 1;
	size_t		out_len = 99;
	pgai_status st = tmpl_parse(src, strlen(src), &t, &err);

	assert_int_equal(st, PGAI_OK);
	st = tmpl_render(t, lookup, &m, &out, &out_len, &err);
	assert_int_equal(st, want);
	if (want == PGAI_OK)
	{
		assert_non_null(out);
		assert_string_equal(out, expect);
		assert_int_equal(out_len, strlen(expect));
	}
	else
		assert_null(out);
	free(out);
	tmpl_free(t);
}

static void
parse_error(const char *src, size_t len, pgai_status want, const char *message)
{
	tmpl	   *t = (tmpl *) 1;
	pgai_error	err = {0};

	assert_int_equal(tmpl_parse(src, len, &t, &err), want);
	assert_null(t);
	assert_int_equal(err.code, want);
	if (message)
		assert_string_equal(err.message, message);
}

static void
test_escaped_dollar(void **state)
{
	(void) state;
	render_check("$$", PGAI_OK, "$");
	render_check("cost: $$5 $$x", PGAI_OK, "cost: $5 $x");
	render_check("$$$$", PGAI_OK, "$$");
	/* a value containing '$' is not substituted again */
	render_check("[$dollar]", PGAI_OK, "[$x]");
}

static void
test_braced_and_named(void **state)
{
	(void) state;
	render_check("${x}y", PGAI_OK, "1y");
	render_check("$x.y", PGAI_OK, "1.y");
	render_check("$x_y", PGAI_OK, "XY");
	render_check("${x}_y", PGAI_OK, "1_y");
	render_check("$x-$x", PGAI_OK, "1-1");
	render_check("$x}", PGAI_OK, "1}");
	render_check("$x\xc3\xa9", PGAI_OK, "1\xc3\xa9");	/* é ends the name */
	render_check("Title: $title\nContent: $chunk", PGAI_OK,
				 "Title: My Post\nContent: some text");
	render_check("", PGAI_OK, "");
	render_check("no placeholders", PGAI_OK, "no placeholders");
}

static void
test_case_sensitive_names(void **state)
{
	tmpl	   *t = NULL;

	(void) state;
	render_check("$A", PGAI_OK, "upper");
	render_check("$a", PGAI_ETEMPLATE_NAME, NULL);
	assert_int_equal(tmpl_parse("$b $a $b ${a} $B", 16, &t, NULL), PGAI_OK);
	assert_int_equal(tmpl_name_count(t), 3);
	assert_string_equal(tmpl_name(t, 0), "b");
	assert_string_equal(tmpl_name(t, 1), "a");
	assert_string_equal(tmpl_name(t, 2), "B");
	assert_null(tmpl_name(t, 3));
	tmpl_free(t);
}

static void
test_unknown_name(void **state)
{
	tmpl	   *t = NULL;
	pgai_error	err = {0};
	kv			m = {VARS, 0};
	char	   *out = NULL;
	const char *src = "Title: $title $missing_one $other";

	(void) state;
	assert_int_equal(tmpl_parse(src, strlen(src), &t, &err), PGAI_OK);
	assert_int_equal(tmpl_render(t, lookup, &m, &out, NULL, &err), PGAI_ETEMPLATE_NAME);
	assert_null(out);
	assert_int_equal(err.code, PGAI_ETEMPLATE_NAME);
	assert_non_null(strstr(err.message, "\"missing_one\""));
	assert_int_equal(m.calls, 2);	/* stops at the first missing name */
	tmpl_free(t);
}

static void
test_invalid_placeholders(void **state)
{
	(void) state;
	parse_error("$ ", 2, PGAI_ETEMPLATE_SYNTAX, "Invalid placeholder in string: line 1, col 1");
	parse_error("ab\ncd $1", 8, PGAI_ETEMPLATE_SYNTAX, "Invalid placeholder in string: line 2, col 4");
	parse_error("${x", 3, PGAI_ETEMPLATE_SYNTAX, "Invalid placeholder in string: line 1, col 1");
	parse_error("x$", 2, PGAI_ETEMPLATE_SYNTAX, "Invalid placeholder in string: line 1, col 2");
	parse_error("${}", 3, PGAI_ETEMPLATE_SYNTAX, "Invalid placeholder in string: line 1, col 1");
	parse_error("${ x}", 5, PGAI_ETEMPLATE_SYNTAX, "Invalid placeholder in string: line 1, col 1");
	parse_error("a\r\nb$", 5, PGAI_ETEMPLATE_SYNTAX, "Invalid placeholder in string: line 2, col 2");
	parse_error("\xc3\xa9\xc3\xa9$", 5, PGAI_ETEMPLATE_SYNTAX, "Invalid placeholder in string: line 1, col 3");
	parse_error("a\vb\xe2\x80\xa8" "c$!", 9, PGAI_ETEMPLATE_SYNTAX,
				"Invalid placeholder in string: line 3, col 2");
	parse_error("\r\r$", 3, PGAI_ETEMPLATE_SYNTAX, "Invalid placeholder in string: line 3, col 1");
	parse_error("$$$", 3, PGAI_ETEMPLATE_SYNTAX, "Invalid placeholder in string: line 1, col 3");
	parse_error("$\xc3\xa9", 3, PGAI_ETEMPLATE_SYNTAX, "Invalid placeholder in string: line 1, col 1");
}

static void
test_bad_utf8_and_nul(void **state)
{
	tmpl	   *t = NULL;
	kv			m = {VARS, 0};
	char	   *out = NULL;
	size_t		len = 0;

	(void) state;
	parse_error("ok \xff", 4, PGAI_EUTF8, NULL);
	parse_error("\xed\xa0\x80", 3, PGAI_EUTF8, NULL);	/* a surrogate */
	/* explicit length: an embedded NUL is kept */
	assert_int_equal(tmpl_parse("a\0$x", 4, &t, NULL), PGAI_OK);
	assert_int_equal(tmpl_render(t, lookup, &m, &out, &len, NULL), PGAI_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(out, "a\0" "1", 3);
	free(out);
	tmpl_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaped_dollar),
		cmocka_unit_test(test_braced_and_named),
		cmocka_unit_test(test_case_sensitive_names),
		cmocka_unit_test(test_unknown_name),
		cmocka_unit_test(test_invalid_placeholders),
		cmocka_unit_test(test_bad_utf8_and_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
