/*
 * test_tokenizer.c: the BERT WordPiece pipeline on a small hand-made
 * vocabulary (no model files needed). Exact parity with Hugging Face on the
 * real vocabulary is checked by test_parity.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../tokenizer.h"

static const char vocab_txt[] =
"[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\nun\n##aff\n##able\n,\n!\n"
"a\n##a\n\xe4\xb8\xad\ncafe\nnaive\ni\n##\xcc\x87\n.\n\xe8\xb1\x88\n";
enum
{
	PAD, UNK, CLS, SEP, HELLO, WORLD, UN, AFF, ABLE, COMMA, BANG, A, HASH_A,
	ZHONG, CAFE, NAIVE, I, DOT_ABOVE, PERIOD, KAI
};

static int
setup(void **state)
{
	tok_vocab  *v = malloc(sizeof(tok_vocab));
	pgai_error	err;

	assert_non_null(v);
	assert_int_equal(tok_vocab_init(v, vocab_txt, strlen(vocab_txt), "test", &err),
					 PGAI_OK);
	*state = v;
	return 0;
}

static int
teardown(void **state)
{
	tok_vocab_free(*state);
	free(*state);
	return 0;
}

/* Encode `text` and compare with the expected ids (terminated by -1). */
static void
check(const tok_vocab *v, const char *text, size_t len, size_t max,...)
{
	int32_t		ids[300];
	size_t		n,
				k = 0;
	va_list		ap;

	assert_int_equal(tok_encode(v, text, len, ids, max, &n), PGAI_OK);
	va_start(ap, max);
	for (;;)
	{
		int			want = va_arg(ap, int);

		if (want < 0)
			break;
		assert_true(k < n);
		assert_int_equal(ids[k], want);
		k++;
	}
	va_end(ap);
	assert_int_equal(n, k);
}

#define CHECK(v, s, ...) check(v, s, strlen(s), 256, __VA_ARGS__, -1)

static void
test_basic(void **state)
{
	tok_vocab  *v = *state;

	CHECK(v, "Hello, World!", CLS, HELLO, COMMA, WORLD, BANG, SEP);
	CHECK(v, "", CLS, SEP);
	CHECK(v, " \t\n ", CLS, SEP);
	assert_int_equal(tok_vocab_find(v, "world", 5), WORLD);
	assert_int_equal(tok_vocab_find(v, "nothere", 7), -1);
	assert_int_equal(v->unk_id, UNK);
}

static void
test_wordpiece(void **state)
{
	tok_vocab  *v = *state;

	CHECK(v, "unaffable", CLS, UN, AFF, ABLE, SEP);
	/* a word with an unmatched remainder is [UNK] as a whole */
	CHECK(v, "unaffablex hello", CLS, UNK, HELLO, SEP);
	CHECK(v, "aaa", CLS, A, HASH_A, HASH_A, SEP);
}

static void
test_long_word(void **state)
{
	tok_vocab  *v = *state;
	char		buf[128];

	memset(buf, 'a', 101);
	check(v, buf, 101, 256, CLS, UNK, SEP, -1);
	/* exactly 100 characters is still tokenized: 1 + 99 pieces */
	{
		int32_t		ids[300];
		size_t		n;

		assert_int_equal(tok_encode(v, buf, 100, ids, 256, &n), PGAI_OK);
		assert_int_equal(n, 102);
		assert_int_equal(ids[1], A);
		assert_int_equal(ids[100], HASH_A);
		assert_int_equal(ids[101], SEP);
	}
}

static void
test_truncation(void **state)
{
	tok_vocab  *v = *state;
	char		text[6 * 300 + 1] = "";

	for (int i = 0; i < 300; i++)
		strcat(text, "hello ");
	check(v, text, strlen(text), 5, CLS, HELLO, HELLO, HELLO, SEP, -1);
	/* a word cut by truncation keeps its first pieces */
	check(v, "unaffable", 9, 4, CLS, UN, AFF, SEP, -1);
	/* a word that turns out to be [UNK] after the limit is still [UNK] */
	check(v, "unaffablex", 10, 3, CLS, UNK, SEP, -1);
}

static void
test_normalization(void **state)
{
	tok_vocab  *v = *state;

	/* accents stripped after NFD, case folded */
	CHECK(v, "Caf\xc3\xa9 NA\xc3\x8fVE", CLS, CAFE, NAIVE, SEP);
	/* precomposed vs combining sequence give the same ids */
	CHECK(v, "cafe\xcc\x81", CLS, CAFE, SEP);
	/* CJK ideographs are split into single characters */
	CHECK(v, "\xe4\xb8\xad\xe4\xb8\xad", CLS, ZHONG, ZHONG, SEP);

	/*
	 * U+F900, a compatibility ideograph, is split off and then decomposed to
	 * U+8C48
	 */
	CHECK(v, "a\xef\xa4\x80" "a", CLS, A, KAI, A, SEP);
	/* control characters vanish, other whitespace separates */
	CHECK(v, "hel\x01lo\xc2\xa0world\x7f", CLS, HELLO, WORLD, SEP);
	/* NUL is dropped like any control character */
	check(v, "hel\0lo", 6, 256, CLS, HELLO, SEP, -1);

	/*
	 * U+0130 decomposes to I + U+0307 under NFD, the mark is stripped, then I
	 * is lowercased (HF strips before lowercasing)
	 */
	CHECK(v, "\xc4\xb0", CLS, I, SEP);
	/* a lone combining dot after a word is stripped too */
	CHECK(v, "i\xcc\x87", CLS, I, SEP);
	/* Unicode punctuation splits: U+3002 ideographic full stop is [UNK] */
	CHECK(v, "hello\xe3\x80\x82world", CLS, HELLO, UNK, WORLD, SEP);

	char	   *s = tok_normalize("\xc3\x85ngstr\xc3\xb6m \xe6\x9d\xb1\tX", 17);

	assert_non_null(s);
	assert_string_equal(s, "angstrom  \xe6\x9d\xb1  x");
	free(s);
}

static void
test_invalid_utf8(void **state)
{
	tok_vocab  *v = *state;
	size_t		used;

	/* invalid bytes decode to U+FFFD, which cleaning drops */
	check(v, "hel\xfflo", 6, 256, CLS, HELLO, SEP, -1);
	check(v, "hello\xe4\xb8", 7, 256, CLS, HELLO, SEP, -1);
	assert_int_equal(tok_utf8_decode((const unsigned char *) "\xc0\x80", 2, &used), 0xFFFD);
	assert_int_equal(tok_utf8_decode((const unsigned char *) "\xed\xa0\x80", 3, &used), 0xFFFD);
	assert_int_equal(tok_utf8_decode((const unsigned char *) "\xf0\x9f\xa4\x97", 4, &used), 0x1F917);
	assert_int_equal(used, 4);
}

static void
test_vocab_errors(void **state)
{
	tok_vocab	v;
	pgai_error	err;

	(void) state;
	assert_int_equal(tok_vocab_init(&v, "a\nb\n", 4, "tiny.txt", &err),
					 PGAI_ECORRUPT);
	assert_non_null(strstr(err.message, "tiny.txt"));
	assert_int_equal(tok_vocab_load(&v, "/nonexistent/vocab.txt", &err),
					 PGAI_ENOENT);
	assert_non_null(strstr(err.message, "/nonexistent/vocab.txt"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wordpiece, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_word, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_normalization, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
		cmocka_unit_test(test_vocab_errors),
	};

	return cmocka_run_group_tests_name("model_tokenizer", tests, NULL, NULL);
}
