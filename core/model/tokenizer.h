/*
 * tokenizer.h: BERT uncased WordPiece, as Hugging Face's BertTokenizerFast
 * runs it for all-MiniLM-L6-v2 (internal to core/model).
 *
 * A tok_vocab is built once from vocab.txt and is read-only afterwards, so
 * threads may share it. tok_encode allocates its own scratch per call.
 */
#ifndef PGAI_MODEL_TOKENIZER_H
#define PGAI_MODEL_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "pgai_model.h"

#define TOK_MAX_CHARS_PER_WORD 100	/* longer words become [UNK] */

typedef struct tok_vocab
{
	char	   *text;			/* all tokens, NUL-separated; owned */
	uint32_t   *offsets;		/* offsets[id] = start of token id in text */
	uint32_t   *lengths;		/* byte length of each token */
	int32_t		size;			/* number of tokens */
	int32_t    *slots;			/* open-addressing hash of ids, -1 = empty */
	uint32_t	mask;			/* slot count - 1 (a power of two) */
	int32_t		unk_id;
	int32_t		cls_id;
	int32_t		sep_id;
	int32_t		pad_id;
} tok_vocab;

/*
 * Build a vocabulary from the bytes of a vocab.txt (one token per line, id =
 * line number). `what` names the file in error messages. On success the
 * caller owns *vocab and frees it with tok_vocab_free.
 */
pgai_status tok_vocab_init(tok_vocab *vocab, const char *data, size_t len,
						   const char *what, pgai_error *err);
pgai_status tok_vocab_load(tok_vocab *vocab, const char *path,
						   pgai_error *err);
void		tok_vocab_free(tok_vocab *vocab);

/* Id of a token, or -1. */
int32_t		tok_vocab_find(const tok_vocab *vocab, const char *s, size_t len);

/*
 * Tokenize UTF-8 `text` into [CLS] pieces... [SEP], keeping at most
 * `max_tokens` (>= 2) in total, as truncation does. Writes the ids to the
 * caller's `ids` (room for max_tokens) and the count to *n_ids.
 * Fails only on out-of-memory.
 */
pgai_status tok_encode(const tok_vocab *vocab, const char *text, size_t len,
					   int32_t *ids, size_t max_tokens, size_t *n_ids);

/*
 * The normalisation steps alone (clean, CJK spacing, NFD + accent strip,
 * lowercase), output as UTF-8 into a malloc'ed NUL-terminated string that
 * the caller frees. For tests. NULL on out-of-memory.
 */
char	   *tok_normalize(const char *text, size_t len);

/* Decode one UTF-8 sequence at s[0..len), len > 0: returns its code point
 * (U+FFFD for an invalid sequence) and sets *used to the bytes consumed. */
uint32_t	tok_utf8_decode(const unsigned char *s, size_t len, size_t *used);

#endif
