/*
 * tokenizer.c: BERT uncased WordPiece for all-MiniLM-L6-v2.
 *
 * Follows Hugging Face tokenizers' BertNormalizer (clean_text,
 * handle_chinese_chars, strip_accents = lowercase = true), BertPreTokenizer
 * and WordPiece (greedy longest match first, "##" continuation,
 * max_input_chars_per_word 100), then [CLS] ... [SEP] with truncation.
 * Character classes come from the generated unicode_tables.c.
 *
 * The input is processed in segments cut at ASCII spaces, so a huge text
 * costs only as much work as the tokens that survive truncation. The vocab
 * is read-only after tok_vocab_init; tok_encode owns only its local scratch.
 */
#include "tokenizer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unicode_tables.h"

/* ---- vocabulary ---- */

static uint32_t
hash_bytes(const char *s, size_t len)
{
	uint32_t	h = 2166136261u;

	for (size_t i = 0; i < len; i++)
	{
		h ^= (unsigned char) s[i];
		h *= 16777619u;
	}
	return h;
}

pgai_status
tok_vocab_init(tok_vocab *vocab, const char *data, size_t len,
			   const char *what, pgai_error *err)
{
	size_t		lines = 0;
	size_t		slots = 1;

	memset(vocab, 0, sizeof(*vocab));
	if (len >= UINT32_MAX)
		return pgai_error_set(err, PGAI_ECORRUPT,
							  "vocabulary file \"%s\" is too large", what);
	for (size_t i = 0; i < len; i++)
		if (data[i] == '\n')
			lines++;
	if (len > 0 && data[len - 1] != '\n')
		lines++;
	if (lines == 0 || lines > INT32_MAX / 4)
		return pgai_error_set(err, PGAI_ECORRUPT,
							  "vocabulary file \"%s\" is empty", what);
	while (slots < lines * 2)
		slots <<= 1;

	vocab->text = malloc(len + 1);
	vocab->offsets = malloc(lines * sizeof(uint32_t));
	vocab->lengths = malloc(lines * sizeof(uint32_t));
	vocab->slots = malloc(slots * sizeof(int32_t));
	if (!vocab->text || !vocab->offsets || !vocab->lengths || !vocab->slots)
	{
		tok_vocab_free(vocab);
		return pgai_error_set(err, PGAI_ENOMEM,
							  "out of memory loading vocabulary \"%s\"", what);
	}
	memcpy(vocab->text, data, len);
	vocab->text[len] = '\0';
	vocab->mask = (uint32_t) (slots - 1);
	memset(vocab->slots, 0xff, slots * sizeof(int32_t));

	size_t		start = 0;
	int32_t		id = 0;

	for (size_t i = 0; i <= len && (size_t) id < lines; i++)
	{
		if (i < len && data[i] != '\n')
			continue;
		size_t		end = i;

		if (end > start && data[end - 1] == '\r')
			end--;
		vocab->text[end] = '\0';
		vocab->offsets[id] = (uint32_t) start;
		vocab->lengths[id] = (uint32_t) (end - start);

		/*
		 * first occurrence wins on duplicates, as a dict built in order would
		 * not; the real vocab has none, so keep it simple and deterministic
		 */
		uint32_t	h = hash_bytes(data + start, end - start) & vocab->mask;

		while (vocab->slots[h] >= 0)
			h = (h + 1) & vocab->mask;
		vocab->slots[h] = id;
		id++;
		start = i + 1;
	}
	vocab->size = id;
	vocab->unk_id = tok_vocab_find(vocab, "[UNK]", 5);
	vocab->cls_id = tok_vocab_find(vocab, "[CLS]", 5);
	vocab->sep_id = tok_vocab_find(vocab, "[SEP]", 5);
	vocab->pad_id = tok_vocab_find(vocab, "[PAD]", 5);
	if (vocab->unk_id < 0 || vocab->cls_id < 0 || vocab->sep_id < 0 || vocab->pad_id < 0)
	{
		tok_vocab_free(vocab);
		return pgai_error_set(err, PGAI_ECORRUPT,
							  "vocabulary file \"%s\" lacks [UNK], [CLS], [SEP] or [PAD]", what);
	}
	return PGAI_OK;
}

pgai_status
tok_vocab_load(tok_vocab *vocab, const char *path, pgai_error *err)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf = NULL;
	size_t		cap = 0,
				len = 0;
	pgai_status st;

	memset(vocab, 0, sizeof(*vocab));
	if (f == NULL)
		return pgai_error_set(err, errno == ENOENT ? PGAI_ENOENT : PGAI_EIO, "could not open vocabulary file \"%s\": %s",
							  path, strerror(errno));
	for (;;)
	{
		if (len == cap)
		{
			size_t		ncap = cap ? cap * 2 : 262144;
			char	   *nbuf = realloc(buf, ncap);

			if (nbuf == NULL)
			{
				free(buf);
				fclose(f);
				return pgai_error_set(err, PGAI_ENOMEM,
									  "out of memory reading \"%s\"", path);
			}
			buf = nbuf;
			cap = ncap;
		}
		size_t		got = fread(buf + len, 1, cap - len, f);

		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
	{
		free(buf);
		fclose(f);
		return pgai_error_set(err, PGAI_EIO,
							  "could not read vocabulary file \"%s\"", path);
	}
	fclose(f);
	st = tok_vocab_init(vocab, buf, len, path, err);
	free(buf);
	return st;
}

void
tok_vocab_free(tok_vocab *vocab)
{
	free(vocab->text);
	free(vocab->offsets);
	free(vocab->lengths);
	free(vocab->slots);
	memset(vocab, 0, sizeof(*vocab));
}

int32_t
tok_vocab_find(const tok_vocab *vocab, const char *s, size_t len)
{
	uint32_t	h = hash_bytes(s, len) & vocab->mask;

	for (;;)
	{
		int32_t		id = vocab->slots[h];

		if (id < 0)
			return -1;
		if (vocab->lengths[id] == len &&
			memcmp(vocab->text + vocab->offsets[id], s, len) == 0)
			return id;
		h = (h + 1) & vocab->mask;
	}
}

/* ---- UTF-8 ---- */

uint32_t
tok_utf8_decode(const unsigned char *s, size_t len, size_t *used)
{
	unsigned char c = s[0];
	uint32_t	cp,
				min;
	size_t		n;

	if (c < 0x80)
	{
		*used = 1;
		return c;
	}
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, cp = c & 0x1F, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, cp = c & 0x0F, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, cp = c & 0x07, min = 0x10000;
	else
	{
		*used = 1;
		return 0xFFFD;
	}
	for (size_t i = 1; i < n; i++)
	{
		if (i >= len || (s[i] & 0xC0) != 0x80)
		{
			*used = i;
			return 0xFFFD;
		}
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	*used = n;
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0xFFFD;
	return cp;
}

static size_t
utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80)
	{
		out[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		out[0] = (char) (0xC0 | (cp >> 6));
		out[1] = (char) (0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000)
	{
		out[0] = (char) (0xE0 | (cp >> 12));
		out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char) (0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char) (0xF0 | (cp >> 18));
	out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char) (0x80 | (cp & 0x3F));
	return 4;
}

/* ---- normalisation ---- */

/* A growable array of code points. */
typedef struct cpbuf
{
	uint32_t   *v;
	size_t		n;
	size_t		cap;
	int			oom;
} cpbuf;

static void
cp_push(cpbuf *b, uint32_t cp)
{
	if (b->n == b->cap)
	{
		size_t		ncap = b->cap ? b->cap * 2 : 256;
		uint32_t   *nv;

		if (b->oom)
			return;
		nv = realloc(b->v, ncap * sizeof(uint32_t));
		if (nv == NULL)
		{
			b->oom = 1;
			return;
		}
		b->v = nv;
		b->cap = ncap;
	}
	b->v[b->n++] = cp;
}

static const tok_uc_map *
map_find(const tok_uc_map *map, size_t n, uint32_t cp)
{
	size_t		lo = 0,
				hi = n;

	while (lo < hi)
	{
		size_t		mid = (lo + hi) / 2;

		if (map[mid].cp == cp)
			return &map[mid];
		if (map[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static unsigned
ccc_of(uint32_t cp)
{
	size_t		lo = 0,
				hi = tok_uc_ccc_table_len;

	if (cp < 0x300)
		return 0;
	while (lo < hi)
	{
		size_t		mid = (lo + hi) / 2;

		if (tok_uc_ccc_table[mid].cp == cp)
			return tok_uc_ccc_table[mid].ccc;
		if (tok_uc_ccc_table[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int
is_chinese(uint32_t cp)
{
	return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
		(cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
		(cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
		(cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

/* Canonical decomposition of one code point, appended to `b`. */
static void
decompose(cpbuf *b, uint32_t cp)
{
	if (cp >= 0xAC00 && cp <= 0xD7A3)
	{
		uint32_t	s = cp - 0xAC00;

		cp_push(b, 0x1100 + s / (21 * 28));
		cp_push(b, 0x1161 + (s % (21 * 28)) / 28);
		if (s % 28)
			cp_push(b, 0x11A7 + s % 28);
		return;
	}
	if (cp >= 0xC0)
	{
		const tok_uc_map *m = map_find(tok_uc_decomp, tok_uc_decomp_len, cp);

		if (m != NULL)
		{
			for (unsigned i = 0; i < m->len; i++)
				cp_push(b, tok_uc_decomp_pool[m->off + i]);
			return;
		}
	}
	cp_push(b, cp);
}

/*
 * Normalise input bytes into code points: clean, CJK spacing, NFD (with
 * canonical reordering), drop nonspacing marks, lowercase. `out` receives
 * the result; `tmp` is scratch.
 */
static void
normalize_segment(const unsigned char *s, size_t len, cpbuf *tmp, cpbuf *out)
{
	size_t		i = 0;

	tmp->n = 0;
	while (i < len)
	{
		size_t		used;
		uint32_t	cp = tok_utf8_decode(s + i, len - i, &used);
		unsigned	fl;

		i += used;
		if (cp < 0x80)
		{
			/* ASCII fast path: the same rules, without table look-ups */
			if (cp == 0 || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F)
				continue;
			if (cp == '\t' || cp == '\n' || cp == '\r')
				cp = ' ';
			else if (cp >= 'A' && cp <= 'Z')
				cp += 32;
			cp_push(tmp, cp);
			continue;
		}
		fl = tok_uc_flags(cp);
		if (fl & TOK_UC_DROP)
			continue;
		if (fl & TOK_UC_SPACE)
		{
			cp_push(tmp, ' ');
			continue;
		}
		if (is_chinese(cp))
		{
			/*
			 * compatibility ideographs (U+F900.., U+2F800..) still decompose
			 * to unified ones below
			 */
			cp_push(tmp, ' ');
			decompose(tmp, cp);
			cp_push(tmp, ' ');
			continue;
		}
		decompose(tmp, cp);
	}

	/* canonical ordering: stable insertion sort of each run of non-starters */
	for (size_t k = 1; k < tmp->n; k++)
	{
		unsigned	c = ccc_of(tmp->v[k]);

		if (c == 0)
			continue;
		size_t		j = k;
		uint32_t	cp = tmp->v[k];

		while (j > 0)
		{
			unsigned	pc = ccc_of(tmp->v[j - 1]);

			if (pc == 0 || pc <= c)
				break;
			tmp->v[j] = tmp->v[j - 1];
			j--;
		}
		tmp->v[j] = cp;
	}

	/* strip nonspacing marks, then lowercase */
	out->n = 0;
	for (size_t k = 0; k < tmp->n; k++)
	{
		uint32_t	cp = tmp->v[k];

		if (cp < 0x80)
		{
			/* decompositions can yield ASCII capitals (U+00C5 -> A + ring) */
			cp_push(out, (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp);
			continue;
		}
		if (tok_uc_flags(cp) & TOK_UC_MN)
			continue;
		const tok_uc_map *m = map_find(tok_uc_lower, tok_uc_lower_len, cp);

		if (m == NULL)
			cp_push(out, cp);
		else
			for (unsigned q = 0; q < m->len; q++)
				cp_push(out, tok_uc_lower_pool[m->off + q]);
	}
}

char *
tok_normalize(const char *text, size_t len)
{
	cpbuf		tmp = {0},
				out = {0};
	char	   *res;
	size_t		n = 0;

	normalize_segment((const unsigned char *) text, len, &tmp, &out);
	res = (tmp.oom || out.oom) ? NULL : malloc(out.n * 4 + 1);
	if (res != NULL)
	{
		for (size_t k = 0; k < out.n; k++)
			n += utf8_encode(out.v[k], res + n);
		res[n] = '\0';
	}
	free(tmp.v);
	free(out.v);
	return res;
}

/* ---- WordPiece ---- */

typedef struct encoder
{
	const tok_vocab *vocab;
	int32_t    *ids;
	size_t		n;
	size_t		limit;			/* stop once n == limit */
	char		word[TOK_MAX_CHARS_PER_WORD * 4 + 8];
	size_t		bounds[TOK_MAX_CHARS_PER_WORD + 1];
	char		piece[TOK_MAX_CHARS_PER_WORD * 4 + 8];
} encoder;

static void
emit(encoder *e, int32_t id)
{
	if (e->n < e->limit)
		e->ids[e->n++] = id;
}

/* Tokenize one pre-token of `nchars` code points. */
static void
wordpiece(encoder *e, const uint32_t *cps, size_t nchars)
{
	size_t		len = 0;
	size_t		first = e->n;

	if (nchars > TOK_MAX_CHARS_PER_WORD)
	{
		emit(e, e->vocab->unk_id);
		return;
	}
	for (size_t i = 0; i < nchars; i++)
	{
		e->bounds[i] = len;
		len += utf8_encode(cps[i], e->word + len);
	}
	e->bounds[nchars] = len;

	size_t		start = 0;

	while (start < nchars)
	{
		int32_t		found = -1;
		size_t		end;

		for (end = nchars; end > start; end--)
		{
			size_t		b0 = e->bounds[start],
						b1 = e->bounds[end];

			if (start == 0)
				found = tok_vocab_find(e->vocab, e->word, b1);
			else
			{
				e->piece[0] = '#';
				e->piece[1] = '#';
				memcpy(e->piece + 2, e->word + b0, b1 - b0);
				found = tok_vocab_find(e->vocab, e->piece, b1 - b0 + 2);
			}
			if (found >= 0)
				break;
		}
		if (found < 0)
		{
			/* no piece matches: the whole word is [UNK] */
			e->n = first;
			emit(e, e->vocab->unk_id);
			return;
		}
		emit(e, found);
		start = end;
	}
}

/* Split normalised code points into words (whitespace, punctuation). */
static void
pretokenize(encoder *e, const uint32_t *cps, size_t n)
{
	size_t		start = 0;

	for (size_t i = 0; i <= n && e->n < e->limit; i++)
	{
		unsigned	fl = 0;

		if (i < n)
		{
			uint32_t	cp = cps[i];

			if (cp < 0x80)
				fl = cp == ' ' ? TOK_UC_SPACE :
					((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) ||
					 (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) ? TOK_UC_PUNCT : 0;
			else
				fl = tok_uc_flags(cp);
			if (!(fl & (TOK_UC_SPACE | TOK_UC_PUNCT)))
				continue;
		}
		if (i > start)
			wordpiece(e, cps + start, i - start);
		if ((fl & TOK_UC_PUNCT) && !(fl & TOK_UC_SPACE) && e->n < e->limit)
			wordpiece(e, cps + i, 1);
		start = i + 1;
	}
}

#define TOK_SEGMENT 8192

pgai_status
tok_encode(const tok_vocab *vocab, const char *text, size_t len,
		   int32_t *ids, size_t max_tokens, size_t *n_ids)
{
	encoder    *e;
	cpbuf		tmp = {0},
				norm = {0};
	const unsigned char *s = (const unsigned char *) text;
	size_t		pos = 0;
	pgai_status st = PGAI_OK;

	*n_ids = 0;
	if (max_tokens < 2)
		return PGAI_EINVAL;
	e = malloc(sizeof(encoder));
	if (e == NULL)
		return PGAI_ENOMEM;
	e->vocab = vocab;
	e->ids = ids;
	e->n = 0;
	e->limit = max_tokens - 1;	/* room for [SEP] */
	emit(e, vocab->cls_id);

	/*
	 * segments end at an ASCII whitespace byte, which every step treats as a
	 * hard boundary, so segmenting never changes the result
	 */
	while (pos < len && e->n < e->limit)
	{
		size_t		end = pos + TOK_SEGMENT;

		if (end >= len)
			end = len;
		else
		{
			while (end < len && s[end] != ' ' && s[end] != '\n' && s[end] != '\t' && s[end] != '\r')
				end++;
		}
		normalize_segment(s + pos, end - pos, &tmp, &norm);
		if (tmp.oom || norm.oom)
		{
			st = PGAI_ENOMEM;
			break;
		}
		pretokenize(e, norm.v, norm.n);
		pos = end;
	}
	if (st == PGAI_OK)
	{
		e->ids[e->n++] = vocab->sep_id;
		*n_ids = e->n;
	}
	free(tmp.v);
	free(norm.v);
	free(e);
	return st;
}
