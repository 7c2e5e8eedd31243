/*
 * test_chunk.c -- chunk_character / chunk_recursive edge cases.  Expected
 * chunk lists were produced with langchain-text-splitters 1.1.3; the
 * differential pytest (test_differential.py) covers a real corpus.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pgai_text.h"

enum kind
{
	CHAR, REC
};

static const char *const PGAI_SEPS[] = {"\n\n", "\n", ".", "?", "!", " ", ""};

static chunk_config
config(int64_t size, int64_t overlap, const char *const *seps, size_t nseps, bool regex)
{
	chunk_config c = {0};

	c.chunk_size = size;
	c.chunk_overlap = overlap;
	c.separators = seps;
	c.n_separators = nseps;
	c.is_separator_regex = regex;
	return c;
}

static pgai_status
run(enum kind k, const char *text, size_t len, const chunk_config *cfg, chunk_list *out,
	pgai_error *err)
{
	return k == CHAR ? chunk_character(text, len, cfg, out, err)
		: chunk_recursive(text, len, cfg, out, err);
}

/* Split text and compare with the NULL-terminated list `want`. */
static void
expect(enum kind k, const char *text, const chunk_config *cfg, const char *const *want)
{
	chunk_list	l;
	pgai_error	err = {0};
	size_t		n = 0;

	assert_int_equal(run(k, text, strlen(text), cfg, &l, &err), PGAI_OK);
	while (want[n] != NULL)
		n++;
	assert_int_equal(l.count, n);
	for (size_t i = 0; i < n; i++)
	{
		assert_int_equal(l.items[i].len, strlen(want[i]));
		assert_memory_equal(l.items[i].ptr, want[i], l.items[i].len);
		assert_int_equal(l.items[i].ptr[l.items[i].len], '\0');
	}
	chunk_list_free(&l);
	assert_null(l.items);
	assert_int_equal(l.count, 0);
}

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_empty_and_blank(void **state)
{
	const char *const none[] = {NULL};
	chunk_config c = config(10, 2, NULL, 0, false);
	chunk_config p = config(800, 400, PGAI_SEPS, 7, false);

	(void) state;
	expect(CHAR, "", &c, none);
	expect(REC, "", &c, none);
	expect(REC, "", &p, none);
	expect(CHAR, "   \n\n  \t \n\n\n\n ", &c, none);
	expect(REC, "   \n\n  \t \n\n\n\n ", &c, none);
	expect(REC, " \xe3\x80\x80 \xc2\x85 ", &p, none);	/* Unicode blanks */
}

static void
test_crlf(void **state)
{
	const char *const want[] = {"line one", "line two", "line three", NULL};
	chunk_config c = config(12, 0, NULL, 0, false);

	(void) state;
	expect(REC, "line one\r\nline two\r\n\r\nline three", &c, want);
}

static void
test_emoji_cjk(void **state)
{
	/*
	 * sizes count code points, not bytes; GRIN is U+1F600, written as a
	 * universal character name so that the indenter keeps it intact
	 */
#define GRIN "\U0001F600"
	const char *const want[] = {GRIN GRIN GRIN, "中文字符", "符测试", "más", NULL};
	const char *const want_chars[] = {GRIN GRIN GRIN, GRIN " 中", "中文", NULL};
	const char *const empty_sep[] = {""};
	chunk_config c = config(5, 1, NULL, 0, false);
	chunk_config e = config(3, 1, empty_sep, 1, false);

	(void) state;
	expect(REC, GRIN GRIN GRIN " 中文字符测试 más", &c, want);
	expect(CHAR, GRIN GRIN GRIN " 中文", &e, want_chars);
}

static void
test_separators_at_edges(void **state)
{
	const char *const abc[] = {"abc", NULL};
	const char *const rec[] = {"a", "b", " cd", NULL};
	const char *const sp[] = {" "};
	chunk_config c = config(10, 0, NULL, 0, false);
	chunk_config r = config(3, 0, sp, 1, false);

	(void) state;
	expect(CHAR, "\n\nabc\n\n", &c, abc);
	expect(REC, "\n\nabc\n\n", &c, abc);
	/* " cd" cannot be split further and is emitted unstripped */
	expect(REC, " a b  cd ", &r, rec);
}

static void
test_overlap(void **state)
{
	const char *const sp[] = {" "};
	const char *const want[] = {"a b c", "c d e", "e f g", NULL};
	const char *const want_rec[] = {"one two", "two three", "four five", "six",
	". seven", "? eight!", NULL};
	chunk_config c = config(5, 2, sp, 1, false);
	chunk_config r = config(10, 4, PGAI_SEPS, 7, false);

	(void) state;
	expect(CHAR, "a b c d e f g", &c, want);
	expect(REC, "one two three four five six. seven? eight!", &r, want_rec);
}

static void
test_oversized_kept_whole(void **state)
{
	const char *const sp[] = {" "};
	const char *const want[] = {"tiny", "enormousword", "ok", NULL};
	const char *const nl[] = {"\n"};
	const char *const want_rec[] = {"  abcdefgh  ", "x", NULL};
	chunk_config c = config(4, 0, sp, 1, false);
	chunk_config r = config(4, 0, nl, 1, false);
	chunk_list	l;

	(void) state;
	expect(CHAR, "tiny enormousword ok", &c, want);
	assert_int_equal(chunk_character("tiny enormousword ok", 20, &c, &l, NULL), PGAI_OK);
	assert_int_equal(l.n_oversized, 1); /* LangChain's warning */
	chunk_list_free(&l);
	expect(REC, "  abcdefgh  \nx", &r, want_rec);
}

static void
test_regex_separators(void **state)
{
	const char *const nl[] = {"\\n+"};

	/* without keep_separator the regex source itself is the joiner */
	const char *const want_nl[] = {"ab\\n+cd", "ef\\n+gh", NULL};
	const char *const sent[] = {"[.!?]\\s", " "};
	const char *const want_sent[] = {"Hi there", ". How are you", "? Fine", "! Thanks a lot.", NULL};
	const char *const look[] = {"(?=\\n)"};
	const char *const want_look[] = {"ab", "cd", "ef", NULL};
	const char *const star[] = {"x*"};
	const char *const want_star[] = {"a", "b", "c", NULL};
	chunk_config a = config(8, 0, nl, 1, true);
	chunk_config b = config(15, 0, sent, 2, true);
	chunk_config c = config(4, 0, look, 1, true);
	chunk_config d = config(3, 0, star, 1, true);

	(void) state;
	expect(CHAR, "ab\n\n\ncd\nef\n\ngh", &a, want_nl);
	expect(REC, "Hi there. How are you? Fine! Thanks a lot.", &b, want_sent);
	expect(CHAR, "ab\ncd\nef", &c, want_look);
	expect(CHAR, "axbxxc", &d, want_star);	/* empty matches split too */
}

static void
test_keep_end(void **state)
{
	const char *const dot[] = {"."};
	const char *const want[] = {"ab.cd.", "ef.gh", NULL};
	chunk_config c = config(6, 0, dot, 1, false);

	(void) state;
	c.keep_separator = CHUNK_KEEP_END;
	expect(REC, "ab.cd.ef.gh", &c, want);
}

static void
test_huge_word_linear(void **state)
{
	size_t		n = 1 << 20;
	char	   *text = malloc(n);
	chunk_config c = config(800, 400, PGAI_SEPS, 7, false);
	chunk_list	l;
	double		t0;

	(void) state;
	assert_non_null(text);
	memset(text, 'x', n);
	t0 = seconds();
	assert_int_equal(chunk_recursive(text, n, &c, &l, NULL), PGAI_OK);
	/* LangChain: windows of 800 characters advancing by 400 */
	assert_int_equal(l.count, (n - 800) / 400 + 1 + ((n - 800) % 400 != 0));
	for (size_t i = 0; i + 1 < l.count; i++)
		assert_int_equal(l.items[i].len, 800);
	assert_true(seconds() - t0 < 5.0);	/* quadratic would take minutes */
	chunk_list_free(&l);
	free(text);
}

static void
test_separator_only_megabyte(void **state)
{
	size_t		n = 1 << 20;
	char	   *text = malloc(n);
	chunk_config rec = config(800, 400, PGAI_SEPS, 7, false);
	chunk_config chr = config(800, 400, NULL, 0, false);
	chunk_config tight = config(800, 799, PGAI_SEPS, 7, false);
	chunk_list	l;
	double		t0;

	(void) state;
	assert_non_null(text);
	memset(text, '\n', n);
	t0 = seconds();
	assert_int_equal(chunk_recursive(text, n, &rec, &l, NULL), PGAI_OK);
	assert_int_equal(l.count, 0);
	chunk_list_free(&l);
	assert_int_equal(chunk_recursive(text, n, &tight, &l, NULL), PGAI_OK);
	assert_int_equal(l.count, 0);
	chunk_list_free(&l);
	assert_int_equal(chunk_character(text, n, &chr, &l, NULL), PGAI_OK);
	assert_int_equal(l.count, 0);
	chunk_list_free(&l);
	memset(text, ' ', n);
	assert_int_equal(chunk_recursive(text, n, &tight, &l, NULL), PGAI_OK);
	assert_int_equal(l.count, 0);
	chunk_list_free(&l);
	printf("separator-only runs: %.3f s\n", seconds() - t0);
	assert_true(seconds() - t0 < 5.0);
	free(text);
}

static void
test_invalid_config(void **state)
{
	const char *const bad_re[] = {"(unclosed"};
	const char *const bad_escape[] = {"\\K"};
	const char *const groups[] = {"(\\s)"};
	const char *const bad_utf8_sep[] = {"\xff"};
	chunk_config c;
	chunk_list	l;
	pgai_error	err = {0};
	enum kind	kinds[] = {CHAR, REC};

	(void) state;
	for (int i = 0; i < 2; i++)
	{
		enum kind	k = kinds[i];

		c = config(0, 0, NULL, 0, false);
		assert_int_equal(run(k, "abc", 3, &c, &l, &err), PGAI_EINVAL);
		assert_string_equal(err.message, "chunk_size must be > 0, got 0");
		assert_int_equal(l.count, 0);
		c = config(10, 11, NULL, 0, false);
		assert_int_equal(run(k, "abc", 3, &c, &l, &err), PGAI_EINVAL);
		assert_non_null(strstr(err.message, "larger chunk overlap (11) than chunk size (10)"));
		c = config(10, -1, NULL, 0, false);
		assert_int_equal(run(k, "abc", 3, &c, &l, &err), PGAI_EINVAL);
		c = config(10, 0, NULL, 3, false);	/* count without array */
		assert_int_equal(run(k, "abc", 3, &c, &l, &err), PGAI_EINVAL);
		c = config(10, 0, bad_re, 1, true);
		assert_int_equal(run(k, "a(b", 3, &c, &l, &err), PGAI_EREGEX);
		assert_non_null(strstr(err.message, "(unclosed"));
		c = config(10, 0, bad_escape, 1, true);
		assert_int_equal(run(k, "abc", 3, &c, &l, &err), PGAI_EREGEX);
		c = config(10, 0, bad_utf8_sep, 1, false);
		assert_int_equal(run(k, "abc", 3, &c, &l, &err), PGAI_EUTF8);
		c = config(10, 0, NULL, 0, false);
		assert_int_equal(run(k, "ab\xe2\x82", 4, &c, &l, &err), PGAI_EUTF8);
		assert_int_equal(err.code, PGAI_EUTF8);
		assert_null(l.items);
	}

	/*
	 * LangChain raises IndexError here: an extra group makes re.split's list
	 * even-sized
	 */
	c = config(10, 0, groups, 1, true);
	c.keep_separator = CHUNK_KEEP_START;
	assert_int_equal(chunk_character("   ", 3, &c, &l, &err), PGAI_EREGEX);
	/* the character splitter takes exactly one separator */
	c = config(10, 0, PGAI_SEPS, 7, false);
	assert_int_equal(chunk_character("abc", 3, &c, &l, &err), PGAI_EINVAL);
}

static void
test_nul_bytes(void **state)
{
	chunk_config c = config(4, 0, NULL, 0, false);
	chunk_list	l;

	(void) state;
	assert_int_equal(chunk_recursive("a\0b c\0d", 7, &c, &l, NULL), PGAI_OK);
	assert_int_equal(l.count, 2);
	assert_memory_equal(l.items[0].ptr, "a\0b", 3);
	assert_memory_equal(l.items[1].ptr, "c\0d", 3);
	chunk_list_free(&l);
}

/*
 * chunk_check_separators fails exactly where a split would: here the
 * recursive splitter's grouped pattern, which a text must be long enough
 * to reach, and a message that quotes no more than 64 bytes.
 */
static void
test_check_separators(void **state)
{
	static const char *const flag_late[] = {"(?i)x"};
	static const char *const fine[] = {"\\s+", "(?<=\\.) ", "", "("};
	static const char *const unclosed[] = {"a", "(b"};
	static const char *const half[] = {"a)(b"};
	const char *longtext = "a text that is much longer than the chunk size, with an x in it";
	char		big[300];
	const char *big_sep[] = {big};
	chunk_config c;
	chunk_list	l;
	pgai_error	err;
	size_t		bad;

	(void) state;
	/* the worker fails this row; the check fails the config up front */
	c = config(10, 0, flag_late, 1, true);
	assert_int_equal(chunk_recursive(longtext, strlen(longtext), &c, &l, &err), PGAI_EREGEX);
	assert_int_equal(chunk_check_separators(&c, true, &bad, &err), PGAI_EREGEX);
	assert_int_equal(bad, 0);
	assert_non_null(strstr(err.message, "\"(?i)x\" (in a group"));
	/* the character splitter matches it plain (no kept separators) */
	assert_int_equal(chunk_check_separators(&c, false, &bad, &err), PGAI_OK);
	assert_int_equal(chunk_character(longtext, strlen(longtext), &c, &l, &err), PGAI_OK);
	chunk_list_free(&l);
	/* ... unless it keeps them: then only the grouped form is compiled */
	c = config(10, 0, half, 1, true);
	c.keep_separator = CHUNK_KEEP_END;
	assert_int_equal(chunk_check_separators(&c, false, &bad, &err), PGAI_OK);
	c.keep_separator = CHUNK_KEEP_DEFAULT;
	assert_int_equal(chunk_check_separators(&c, false, &bad, &err), PGAI_EREGEX);

	/*
	 * an empty separator ends the recursive list but is never a regex;
	 * literal separators are never compiled
	 */
	c = config(10, 0, fine, 3, true);
	assert_int_equal(chunk_check_separators(&c, true, &bad, &err), PGAI_OK);
	c = config(10, 0, fine, 4, false);
	assert_int_equal(chunk_check_separators(&c, true, &bad, &err), PGAI_OK);
	c = config(10, 0, unclosed, 2, true);
	assert_int_equal(chunk_check_separators(&c, true, &bad, &err), PGAI_EREGEX);
	assert_int_equal(bad, 1);
	assert_string_equal(err.message, "invalid separator regex \"(b\": missing closing parenthesis");

	/* quoted to 64 bytes, cut between characters (here two-byte ones) */
	big[0] = '(';
	for (size_t i = 1; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[sizeof(big) - 1] = '\0';
	c = config(10, 0, big_sep, 1, true);
	assert_int_equal(chunk_check_separators(&c, false, &bad, &err), PGAI_EREGEX);
	assert_non_null(strstr(err.message, "\xc3\xa9...\": missing closing parenthesis"));
	assert_true(strlen(err.message) <= strlen("invalid separator regex \"\": missing closing parenthesis") + 64 + 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_blank),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_emoji_cjk),
		cmocka_unit_test(test_separators_at_edges),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_oversized_kept_whole),
		cmocka_unit_test(test_regex_separators),
		cmocka_unit_test(test_keep_end),
		cmocka_unit_test(test_huge_word_linear),
		cmocka_unit_test(test_separator_only_megabyte),
		cmocka_unit_test(test_invalid_config),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_check_separators),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
