/*
 * chunk.c -- LangChain's CharacterTextSplitter and
 * RecursiveCharacterTextSplitter, same output, linear time.
 *
 * Ownership: the caller owns the input text, the config and the chunk_list
 * it passes; the list owns the chunk bytes (in its arena) and its items
 * array.  A `splitter` lives on the stack of one call and owns the compiled
 * regexes, a scratch arena (for the rare split that Python builds by
 * concatenating two non-adjacent strings) and the re.split piece buffer;
 * all are released before the call returns, on every path.
 *
 * Where Python is slow and we are not:
 *  - _merge_splits pops the window with list slicing and joins/strips the
 *    whole window on every flush.  Here splits are streamed (never stored
 *    for the whole text, except for regex separators) into a window that
 *    is compacted in place; every split carries its code-point length and
 *    the byte lengths of its leading/trailing whitespace, so the stripped
 *    join is located in O(1) amortised and only its bytes are copied.
 *  - lengths are counted once per split, never per join.
 * The cost is O(len(text) * depth + output size), depth <= #separators.
 */
#define _GNU_SOURCE				/* memmem */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgai_text.h"
#include "text_internal.h"

/* One element of re.split's result: NULL p means Python's None. */
typedef struct chunk_piece
{
	const char *p;
	size_t		len;
} chunk_piece;

/* One non-empty split, with what the merge needs to know about it. */
typedef struct split
{
	const char *p;
	size_t		len;			/* bytes */
	size_t		cp;				/* code points (Python len) */
	size_t		lead;			/* bytes of leading whitespace (== len: blank) */
	size_t		trail;			/* bytes of trailing whitespace */
} split;

typedef struct split_vec
{
	split	   *v;
	size_t		n;
	size_t		cap;
} split_vec;

typedef struct sepinfo
{
	const char *s;
	size_t		len;
	size_t		cp;
	size_t		lead;
	size_t		trail;
	pcre2_code *re[2];			/* [0] the pattern, [1] "(" pattern ")" */
	pcre2_match_data *md[2];
} sepinfo;

typedef struct splitter
{
	size_t		size;
	size_t		overlap;
	chunk_keep	keep;
	bool		regex;
	bool		ascii;			/* the text is all ASCII: bytes == code points */
	sepinfo    *seps;
	size_t		nseps;
	sepinfo		nosep;			/* "" as merge separator */
	pcre2_compile_context *cctx;
	struct chunk_block *scratch;
	chunk_piece *parts;
	size_t		nparts;
	size_t		partcap;
	/* the _merge_splits window, see merge_push */
	split	   *win;
	size_t		wincap;
	size_t		head;
	size_t		tail;
	size_t		total;
	size_t		first;
	size_t		last;
	const sepinfo *msep;
	chunk_list *out;
	pgai_error *err;
} splitter;

static const char *const default_recursive[] = {"\n\n", "\n", " ", ""};
static const char *const default_character[] = {"\n\n"};

static pgai_status
nomem(splitter *S)
{
	return pgai_error_set(S->err, PGAI_ENOMEM, "out of memory");
}

/* ---------------------------------------------------------------- */
/* output                                                           */
/* ---------------------------------------------------------------- */

/* Reserve a chunk of n bytes (plus NUL) in the output; NULL on OOM. */
static char *
out_reserve(splitter *S, size_t n)
{
	chunk_list *l = S->out;
	char	   *mem;

	if (l->count == l->capacity)
	{
		size_t		ncap = l->capacity ? l->capacity * 2 : 16;
		chunk_span *items = realloc(l->items, ncap * sizeof(*items));

		if (items == NULL)
			return NULL;
		l->items = items;
		l->capacity = ncap;
	}
	mem = text_arena_alloc(&l->blocks, n + 1);
	if (mem == NULL)
		return NULL;
	mem[n] = '\0';
	l->items[l->count].ptr = mem;
	l->items[l->count].len = n;
	l->count++;
	return mem;
}

static pgai_status
emit_raw(splitter *S, const split *s)
{
	char	   *dst = out_reserve(S, s->len);

	if (dst == NULL)
		return nomem(S);
	memcpy(dst, s->p, s->len);
	return PGAI_OK;
}

/* ---------------------------------------------------------------- */
/* separators and regexes                                           */
/* ---------------------------------------------------------------- */

/*
 * First occurrence of needle (m >= 1 bytes) in hay[0..n), or NULL.  Short
 * needles (what separators are) use memchr + memcmp, at most 8 compares
 * per byte; longer ones use glibc's linear two-way memmem.
 */
static const char *
find_literal(const char *hay, size_t n, const char *needle, size_t m)
{
	const char *end = hay + n;
	const char *p = hay;

	if (m > 8)
		return memmem(hay, n, needle, m);
	while ((size_t) (end - p) >= m)
	{
		p = memchr(p, (unsigned char) needle[0], (end - p) - (m - 1));
		if (p == NULL)
			return NULL;
		{
			size_t		k = 1;

			while (k < m && p[k] == needle[k])
				k++;
			if (k == m)
				return p;
		}
		p++;
	}
	return NULL;
}

static void
sep_describe(sepinfo *sep, const char *s)
{
	sep->s = s;
	sep->len = strlen(s);
	sep->cp = utf8_count(s, sep->len);
	sep->lead = text_lead_space(s, sep->len);
	sep->trail = sep->lead == sep->len ? sep->len : text_trail_space(s, sep->len);
}

/*
 * Bytes of a separator quoted in a message: at most 64, cut between two
 * characters (separators are valid UTF-8 by now), so that an error row or
 * an ereport never carries a whole pasted document.
 */
#define SEP_QUOTE_MAX 64

static int
sep_quote_len(const sepinfo *sep)
{
	size_t		n = sep->len;

	if (n <= SEP_QUOTE_MAX)
		return (int) n;
	n = SEP_QUOTE_MAX;
	while (n > 0 && ((unsigned char) sep->s[n] & 0xC0) == 0x80)
		n--;
	return (int) n;
}

/* Set S->err: this separator (quoted, bounded) is not a valid regex, why. */
static pgai_status
sep_regex_error(splitter *S, const sepinfo *sep, int wrapped, const char *why)
{
	return pgai_error_set(S->err, PGAI_EREGEX, "invalid separator regex \"%.*s%s\"%s: %s",
						  sep_quote_len(sep), sep->s,
						  (size_t) sep_quote_len(sep) < sep->len ? "..." : "",
						  wrapped ? " (in a group, as kept separators are matched)" : "",
						  why);
}

static pgai_status
sep_compile(splitter *S, sepinfo *sep, int wrapped)
{
	char	   *src = NULL;
	char	   *pat = NULL;
	size_t		patlen;
	int			errcode;
	PCRE2_SIZE	erroff;
	pgai_status st;

	if (sep->re[wrapped] != NULL)
		return PGAI_OK;
	src = malloc(sep->len + 3);
	if (src == NULL)
		return nomem(S);
	if (wrapped)
	{
		src[0] = '(';
		memcpy(src + 1, sep->s, sep->len);
		src[sep->len + 1] = ')';
		src[sep->len + 2] = '\0';
	}
	else
		memcpy(src, sep->s, sep->len + 1);
	st = text_regex_translate(src, strlen(src), &pat, &patlen, S->err);
	free(src);
	if (st == PGAI_EREGEX)
	{
		/* the translator's reason, restated with the separator it is about */
		static const char prefix[] = "invalid separator regex: ";
		char		why[PGAI_ERROR_MESSAGE_SIZE];
		const char *m = S->err->message;

		if (strncmp(m, prefix, sizeof(prefix) - 1) == 0)
			m += sizeof(prefix) - 1;
		snprintf(why, sizeof(why), "%s", m);
		return sep_regex_error(S, sep, wrapped, why);
	}
	if (st != PGAI_OK)
		return st;
	sep->re[wrapped] = pcre2_compile((PCRE2_SPTR) pat, patlen,
									 PCRE2_UTF | PCRE2_UCP, &errcode, &erroff,
									 S->cctx);
	free(pat);
	if (sep->re[wrapped] == NULL)
	{
		PCRE2_UCHAR msg[256];

		if (errcode == PCRE2_ERROR_NOMEMORY)
			return nomem(S);
		pcre2_get_error_message(errcode, msg, sizeof(msg));
		return sep_regex_error(S, sep, wrapped, (const char *) msg);
	}
	/* JIT is an optimisation only; the interpreter is used if it fails */
	(void) pcre2_jit_compile(sep->re[wrapped], PCRE2_JIT_COMPLETE);
	sep->md[wrapped] = pcre2_match_data_create_from_pattern(sep->re[wrapped], NULL);
	if (sep->md[wrapped] == NULL)
		return nomem(S);
	return PGAI_OK;
}

static pgai_status
match_error(splitter *S, int rc)
{
	PCRE2_UCHAR msg[256];

	if (rc == PCRE2_ERROR_NOMEMORY)
		return nomem(S);
	pcre2_get_error_message(rc, msg, sizeof(msg));
	return pgai_error_set(S->err, PGAI_EREGEX, "separator regex failed: %s", (char *) msg);
}

/* re.search(sep, t) is not None; sep is non-empty. */
static pgai_status
sep_search(splitter *S, sepinfo *sep, const char *t, size_t n, bool *found)
{
	int			rc;
	pgai_status st;

	if (!S->regex)
	{
		*found = find_literal(t, n, sep->s, sep->len) != NULL;
		return PGAI_OK;
	}
	st = sep_compile(S, sep, 0);
	if (st != PGAI_OK)
		return st;
	rc = pcre2_match(sep->re[0], (PCRE2_SPTR) t, n, 0, PCRE2_NO_UTF_CHECK, sep->md[0], NULL);
	if (rc == PCRE2_ERROR_NOMATCH)
	{
		*found = false;
		return PGAI_OK;
	}
	if (rc < 0)
		return match_error(S, rc);
	*found = true;
	return PGAI_OK;
}

static bool
push_part(splitter *S, const char *p, size_t len)
{
	if (S->nparts == S->partcap)
	{
		size_t		ncap = S->partcap ? S->partcap * 2 : 64;
		chunk_piece *np = realloc(S->parts, ncap * sizeof(*np));

		if (np == NULL)
			return false;
		S->parts = np;
		S->partcap = ncap;
	}
	S->parts[S->nparts].p = p;
	S->parts[S->nparts].len = len;
	S->nparts++;
	return true;
}

/*
 * S->parts = re.split(pattern, t) where pattern is the separator
 * (wrapped in a group when `wrapped`), with Python 3.7+ semantics for
 * empty matches: after an empty match the next match may not be empty at
 * the same position.  Groups that did not participate are None (p NULL).
 */
static pgai_status
find_parts(splitter *S, sepinfo *sep, int wrapped, const char *t, size_t n)
{
	size_t		last = 0;

	S->nparts = 0;
	if (!S->regex)
	{
		const char *at = t;
		const char *end = t + n;

		while ((size_t) (end - at) >= sep->len)
		{
			const char *m = find_literal(at, end - at, sep->s, sep->len);

			if (m == NULL)
				break;
			if (!push_part(S, at, m - at) ||
				(wrapped && !push_part(S, m, sep->len)))
				return nomem(S);
			at = m + sep->len;
		}
		last = at - t;
	}
	else
	{
		pgai_status st = sep_compile(S, sep, wrapped);
		pcre2_code *re;
		pcre2_match_data *md;
		uint32_t	ngroups;
		size_t		pos = 0;
		bool		must_advance = false;

		if (st != PGAI_OK)
			return st;
		re = sep->re[wrapped];
		md = sep->md[wrapped];
		pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &ngroups);
		for (;;)
		{
			uint32_t	opts = PCRE2_NO_UTF_CHECK | (must_advance ? PCRE2_NOTEMPTY_ATSTART : 0);
			int			rc = pcre2_match(re, (PCRE2_SPTR) t, n, pos, opts, md, NULL);
			PCRE2_SIZE *ov;

			if (rc == PCRE2_ERROR_NOMATCH)
				break;
			if (rc < 0)
				return match_error(S, rc);
			ov = pcre2_get_ovector_pointer(md);
			if (ov[0] > ov[1] || ov[0] < last)
				return pgai_error_set(S->err, PGAI_EREGEX,
									  "separator regex \"%s\" reported a match Python cannot produce", sep->s);
			if (!push_part(S, t + last, ov[0] - last))
				return nomem(S);
			for (uint32_t g = 1; g <= ngroups; g++)
			{
				bool		ok;

				if (g >= (uint32_t) rc || ov[2 * g] == PCRE2_UNSET)
					ok = push_part(S, NULL, 0);
				else
					ok = push_part(S, t + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
				if (!ok)
					return nomem(S);
			}
			must_advance = ov[1] == ov[0];
			last = pos = ov[1];
		}
	}
	if (!push_part(S, t + last, n - last))
		return nomem(S);
	return PGAI_OK;
}

static bool
push_split(split_vec *v, const char *p, size_t len)
{
	split	   *s;

	if (len == 0)
		return true;			/* [s for s in splits if s] */
	if (v->n == v->cap)
	{
		size_t		ncap = v->cap ? v->cap * 2 : 64;
		split	   *nv = realloc(v->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return false;
		v->v = nv;
		v->cap = ncap;
	}
	s = &v->v[v->n++];
	s->p = p;
	s->len = len;
	return true;
}

/* Python's a + b for two pieces; concatenating None is a TypeError. */
static pgai_status
concat(splitter *S, chunk_piece a, chunk_piece b, chunk_piece *out)
{
	char	   *mem;

	if (a.p == NULL || b.p == NULL)
		return pgai_error_set(S->err, PGAI_EREGEX,
							  "separator regex has a capture group that did not take part in a match");
	if (a.len == 0)
		*out = b;
	else if (b.len == 0)
		*out = a;
	else if (a.p + a.len == b.p)
	{
		out->p = a.p;
		out->len = a.len + b.len;
	}
	else
	{
		mem = text_arena_alloc(&S->scratch, a.len + b.len);
		if (mem == NULL)
			return nomem(S);
		memcpy(mem, a.p, a.len);
		memcpy(mem + a.len, b.p, b.len);
		out->p = mem;
		out->len = a.len + b.len;
	}
	return PGAI_OK;
}

/*
 * Regex case of _split_text_with_regex(t, sep, keep_separator=S->keep):
 * the splits go into *v (which the caller frees), not yet described.  The
 * pieces of re.split may come with capture groups, so the splits are
 * collected first (S->parts is reused by nested calls).
 */
static pgai_status
regex_splits(splitter *S, sepinfo *sep, const char *t, size_t n, split_vec *v)
{
	pgai_status st;

	if (S->keep == CHUNK_KEEP_NONE)
	{
		st = find_parts(S, sep, 0, t, n);
		if (st != PGAI_OK)
			return st;
		for (size_t i = 0; i < S->nparts; i++)
			if (S->parts[i].p != NULL && !push_split(v, S->parts[i].p, S->parts[i].len))
				return nomem(S);
	}
	else
	{
		chunk_piece *P;
		size_t		np;
		chunk_piece c;

		st = find_parts(S, sep, 1, t, n);
		if (st != PGAI_OK)
			return st;
		P = S->parts;
		np = S->nparts;
		if (S->keep == CHUNK_KEEP_START)
		{
			/*
			 * [P0] + [P[i] + P[i+1] for odd i < len]: with an even count
			 * (only possible when the regex has capture groups of its own)
			 * the last P[i+1] is out of range and Python raises IndexError.
			 */
			if (np % 2 == 0)
				return pgai_error_set(S->err, PGAI_EREGEX,
									  "separator regex capture groups make keep_separator=start fail (IndexError in LangChain)");
			if (!push_split(v, P[0].p, P[0].len))
				return nomem(S);
			for (size_t i = 1; i + 1 < np; i += 2)
			{
				st = concat(S, P[i], P[i + 1], &c);
				if (st != PGAI_OK)
					return st;
				if (!push_split(v, c.p, c.len))
					return nomem(S);
			}
		}
		else
		{
			/* [P[i] + P[i+1] for even i] + ([P[-1]] if len even) + [P[-1]] */
			for (size_t i = 0; i + 1 < np; i += 2)
			{
				st = concat(S, P[i], P[i + 1], &c);
				if (st != PGAI_OK)
					return st;
				if (!push_split(v, c.p, c.len))
					return nomem(S);
			}
			if (np % 2 == 0 && P[np - 1].p != NULL && !push_split(v, P[np - 1].p, P[np - 1].len))
				return nomem(S);
			if (P[np - 1].p != NULL && !push_split(v, P[np - 1].p, P[np - 1].len))
				return nomem(S);
		}
	}
	return PGAI_OK;
}

static inline void
describe(const splitter *S, split *s)
{
	s->cp = S->ascii ? s->len : utf8_count(s->p, s->len);
	s->lead = text_lead_space(s->p, s->len);
	s->trail = s->lead == s->len ? s->len : text_trail_space(s->p, s->len);
}

/* What to do with each split, in order. */
typedef pgai_status (*split_fn) (splitter *S, split *s, void *ctx);

/*
 * _split_text_with_regex(t, sep, keep_separator=S->keep), streamed: fn is
 * called on each non-empty split, described, in order.  Literal and empty
 * separators need no memory at all.
 */
static pgai_status
each_split(splitter *S, sepinfo *sep, const char *t, size_t n, split_fn fn, void *ctx)
{
	split		sp;
	pgai_status st = PGAI_OK;

	if (sep->len == 0)
	{
		/* list(text): one split per code point */
		size_t		i = 0;

		while (i < n && st == PGAI_OK)
		{
			size_t		k = 1;
			size_t		adv;

			while (i + k < n && ((unsigned char) t[i + k] & 0xC0) == 0x80)
				k++;
			sp.p = t + i;
			sp.len = k;
			sp.cp = 1;
			sp.lead = sp.trail = utf8_py_isspace(text_decode(t + i, k, &adv)) ? k : 0;
			st = fn(S, &sp, ctx);
			i += k;
		}
		return st;
	}
	if (!S->regex)
	{
		/*
		 * Literal separator: re.split gives text pieces t0..tk between the
		 * matches m0..m(k-1), never None, so splits are plain ranges: NONE
		 * t_i; START t0, m_i + t_(i+1); END t_i + m_i, t_k.
		 */
		const char *at = t;		/* start of the current split */
		const char *scan = t;	/* where to look for the next match */
		const char *end = t + n;

		for (;;)
		{
			const char *m = find_literal(scan, end - scan, sep->s, sep->len);
			const char *cut;

			if (m == NULL)
				break;
			cut = S->keep == CHUNK_KEEP_END ? m + sep->len : m;
			if (cut > at)
			{
				sp.p = at;
				sp.len = cut - at;
				describe(S, &sp);
				st = fn(S, &sp, ctx);
				if (st != PGAI_OK)
					return st;
			}
			at = S->keep == CHUNK_KEEP_NONE ? m + sep->len : cut;
			scan = m + sep->len;
		}
		if (end > at)
		{
			sp.p = at;
			sp.len = end - at;
			describe(S, &sp);
			st = fn(S, &sp, ctx);
		}
		return st;
	}
	else
	{
		split_vec	v = {0};

		st = regex_splits(S, sep, t, n, &v);
		for (size_t i = 0; st == PGAI_OK && i < v.n; i++)
		{
			describe(S, &v.v[i]);
			st = fn(S, &v.v[i], ctx);
		}
		free(v.v);
		return st;
	}
}

/* ---------------------------------------------------------------- */
/* _merge_splits                                                    */
/* ---------------------------------------------------------------- */

#define BLANK(s) ((s)->lead == (s)->len)

/*
 * Emit _join_docs(d[h..t), sep) = sep.join(...).strip(), unless empty.
 * The joined string is the element sequence d[h], sep, d[h+1], ..., d[t-1];
 * element 2k is d[h+k], element 2k+1 the separator after it.  *first is a
 * cursor (monotone across calls) on the first non-blank split >= h;
 * `last` is the last non-blank split appended so far (< t).
 */
static pgai_status
emit_join(splitter *S, const split *d, size_t h, size_t t, const sepinfo *sep,
		  size_t *first, size_t last)
{
	bool		sep_text = sep->len > 0 && sep->lead != sep->len;
	bool		multi = t - h >= 2;
	size_t		se,
				so,
				ee,
				eo,
				total = 0;
	char	   *dst;

	if (h == t)
		return PGAI_OK;
	if (*first < h)
		*first = h;
	while (*first < t && BLANK(&d[*first]))
		(*first)++;

	/* where the stripped text starts: element se, byte so */
	if (!BLANK(&d[h]))
		se = 0, so = d[h].lead;
	else if (sep_text && multi)
		se = 1, so = sep->lead;
	else if (*first < t)
		se = 2 * (*first - h), so = d[*first].lead;
	else
		return PGAI_OK;			/* all whitespace: None, not appended */

	/* where it ends: element ee, byte eo (exclusive) */
	if (!BLANK(&d[t - 1]))
		ee = 2 * (t - 1 - h), eo = d[t - 1].len - d[t - 1].trail;
	else if (sep_text && multi)
		ee = 2 * (t - 1 - h) - 1, eo = sep->len - sep->trail;
	else
		ee = 2 * (last - h), eo = d[last].len - d[last].trail;

	for (size_t e = se; e <= ee; e++)
	{
		size_t		from = e == se ? so : 0;
		size_t		to = e == ee ? eo : (e % 2 ? sep->len : d[h + e / 2].len);

		total += to - from;
	}
	dst = out_reserve(S, total);
	if (dst == NULL)
		return nomem(S);
	/* copy, one memcpy per run of elements adjacent in memory */
	{
		const char *run = NULL;
		size_t		runlen = 0;

		for (size_t e = se; e <= ee; e++)
		{
			const char *p = e % 2 ? sep->s : d[h + e / 2].p;
			size_t		from = e == se ? so : 0;
			size_t		to = e == ee ? eo : (e % 2 ? sep->len : d[h + e / 2].len);

			if (to == from)
				continue;
			if (run != NULL && run + runlen == p + from)
			{
				runlen += to - from;
				continue;
			}
			if (runlen > 0)
				memcpy(dst, run, runlen);
			dst += runlen;
			run = p + from;
			runlen = to - from;
		}
		if (runlen > 0)
			memcpy(dst, run, runlen);
	}
	return PGAI_OK;
}

/*
 * TextSplitter._merge_splits, fed one split at a time.  The window
 * (current_doc) is S->win[head..tail); it is compacted to the front when
 * head passes half the buffer, so it holds O(chunk_size) splits however
 * long the text is.  merge_finish emits the last chunk and empties it.
 */
static pgai_status
merge_push(splitter *S, split *d, void *ctx)
{
	const sepinfo *sep = ctx;
	size_t		seplen = sep->cp;
	size_t		len = d->cp;
	pgai_status st;

	S->msep = sep;
	if (S->total + len + (S->tail > S->head ? seplen : 0) > S->size)
	{
		if (S->total > S->size)
			S->out->n_oversized++;	/* LangChain logs a warning */
		if (S->tail > S->head)
		{
			st = emit_join(S, S->win, S->head, S->tail, sep, &S->first, S->last);
			if (st != PGAI_OK)
				return st;
			while (S->head < S->tail &&
				   (S->total > S->overlap ||
					(S->total + len + (S->tail > S->head ? seplen : 0) > S->size &&
					 S->total > 0)))
			{
				S->total -= S->win[S->head].cp + (S->tail - S->head > 1 ? seplen : 0);
				S->head++;
			}
		}
	}
	if (S->tail == S->wincap)
	{
		if (S->head > 0)
		{
			size_t		h = S->head;

			memmove(S->win, S->win + h, (S->tail - h) * sizeof(split));
			S->tail -= h;
			S->head = 0;
			S->first = S->first > h ? S->first - h : 0;
			S->last = S->last >= h ? S->last - h : SIZE_MAX;
		}
		if (S->tail * 2 > S->wincap || S->wincap == 0)
		{
			size_t		ncap = S->wincap ? S->wincap * 2 : 256;
			split	   *nw = realloc(S->win, ncap * sizeof(split));

			if (nw == NULL)
				return nomem(S);
			S->win = nw;
			S->wincap = ncap;
		}
	}
	S->win[S->tail++] = *d;
	S->total += len + (S->tail - S->head > 1 ? seplen : 0);
	if (!BLANK(d))
		S->last = S->tail - 1;
	return PGAI_OK;
}

static pgai_status
merge_finish(splitter *S)
{
	pgai_status st = PGAI_OK;

	if (S->tail > S->head)
		st = emit_join(S, S->win, S->head, S->tail, S->msep, &S->first, S->last);
	S->head = S->tail = S->total = S->first = 0;
	S->last = SIZE_MAX;
	return st;
}

/* ---------------------------------------------------------------- */
/* the splitters                                                    */
/* ---------------------------------------------------------------- */

static pgai_status recursive_split(splitter *S, const char *t, size_t n, size_t from);

/* One level of RecursiveCharacterTextSplitter._split_text. */
typedef struct level
{
	size_t		next;			/* start of new_separators; nseps: none */
	const sepinfo *msep;		/* separator for _merge_splits */
} level;

/* The body of the `for s in splits` loop of _split_text. */
static pgai_status
recursive_piece(splitter *S, split *s, void *ctx)
{
	level	   *L = ctx;
	pgai_status st;

	if (s->cp < S->size)
		return merge_push(S, s, (void *) L->msep);	/* good_splits.append */
	st = merge_finish(S);
	if (st != PGAI_OK)
		return st;
	if (L->next >= S->nseps)
		return emit_raw(S, s);
	return recursive_split(S, s->p, s->len, L->next);
}

/* RecursiveCharacterTextSplitter._split_text(t, separators[from:]) */
static pgai_status
recursive_split(splitter *S, const char *t, size_t n, size_t from)
{
	size_t		chosen = S->nseps - 1;
	level		L;
	pgai_status st;

	L.next = S->nseps;
	for (size_t i = from; i < S->nseps; i++)
	{
		bool		found = false;

		if (S->seps[i].len == 0)
		{
			chosen = i;
			break;
		}
		st = sep_search(S, &S->seps[i], t, n, &found);
		if (st != PGAI_OK)
			return st;
		if (found)
		{
			chosen = i;
			L.next = i + 1;
			break;
		}
	}
	L.msep = S->keep != CHUNK_KEEP_NONE ? &S->nosep : &S->seps[chosen];
	st = each_split(S, &S->seps[chosen], t, n, recursive_piece, &L);
	if (st != PGAI_OK)
		return st;
	return merge_finish(S);
}

static void
splitter_free(splitter *S)
{
	for (size_t i = 0; i < S->nseps; i++)
	{
		for (int w = 0; w < 2; w++)
		{
			pcre2_match_data_free(S->seps[i].md[w]);
			pcre2_code_free(S->seps[i].re[w]);
		}
	}
	free(S->seps);
	pcre2_compile_context_free(S->cctx);
	text_arena_free(&S->scratch);
	free(S->parts);
	free(S->win);
}

static pgai_status
splitter_init(splitter *S, const char *text, size_t len, const chunk_config *cfg,
			  bool recursive, chunk_list *out, pgai_error *err)
{
	const char *const *seps;
	size_t		nseps;
	pgai_status st;

	memset(S, 0, sizeof(*S));
	S->err = err;
	S->out = out;
	if (out == NULL || cfg == NULL || (text == NULL && len > 0))
		return pgai_error_set(err, PGAI_EINVAL, "chunker needs text, a config and an output list");
	memset(out, 0, sizeof(*out));
	if (cfg->chunk_size <= 0)
		return pgai_error_set(err, PGAI_EINVAL, "chunk_size must be > 0, got %lld",
							  (long long) cfg->chunk_size);
	if (cfg->chunk_overlap < 0)
		return pgai_error_set(err, PGAI_EINVAL, "chunk_overlap must be >= 0, got %lld",
							  (long long) cfg->chunk_overlap);
	if (cfg->chunk_overlap > cfg->chunk_size)
		return pgai_error_set(err, PGAI_EINVAL,
							  "got a larger chunk overlap (%lld) than chunk size (%lld), should be smaller",
							  (long long) cfg->chunk_overlap, (long long) cfg->chunk_size);
	if (cfg->keep_separator < CHUNK_KEEP_DEFAULT || cfg->keep_separator > CHUNK_KEEP_END)
		return pgai_error_set(err, PGAI_EINVAL, "invalid keep_separator %d", (int) cfg->keep_separator);
	if (cfg->n_separators > 0 && cfg->separators == NULL)
		return pgai_error_set(err, PGAI_EINVAL, "n_separators is %zu but separators is NULL",
							  cfg->n_separators);
	if (!recursive && cfg->n_separators > 1)
		return pgai_error_set(err, PGAI_EINVAL, "the character splitter takes one separator, got %zu",
							  cfg->n_separators);
	if (cfg->n_separators == 0)
	{
		seps = recursive ? default_recursive : default_character;
		nseps = recursive ? 4 : 1;
	}
	else
	{
		seps = cfg->separators;
		nseps = cfg->n_separators;
	}
	S->size = (size_t) cfg->chunk_size;
	S->overlap = (size_t) cfg->chunk_overlap;
	S->regex = cfg->is_separator_regex;
	S->keep = cfg->keep_separator != CHUNK_KEEP_DEFAULT ? cfg->keep_separator
		: recursive ? CHUNK_KEEP_START : CHUNK_KEEP_NONE;
	sep_describe(&S->nosep, "");
	S->msep = &S->nosep;
	S->last = SIZE_MAX;

	S->seps = calloc(nseps, sizeof(*S->seps));
	if (S->seps == NULL)
		return nomem(S);
	S->nseps = nseps;
	for (size_t i = 0; i < nseps; i++)
	{
		if (seps[i] == NULL)
			return pgai_error_set(err, PGAI_EINVAL, "separator %zu is NULL", i);
		st = utf8_validate(seps[i], strlen(seps[i]), err);
		if (st != PGAI_OK)
			return st;
		sep_describe(&S->seps[i], seps[i]);
	}
	if (S->regex)
	{
		S->cctx = pcre2_compile_context_create(NULL);
		if (S->cctx == NULL)
			return nomem(S);
		pcre2_set_newline(S->cctx, PCRE2_NEWLINE_LF);
	}
	st = utf8_validate(text, len, err);
	if (st == PGAI_OK)
		S->ascii = utf8_count(text, len) == len;
	return st;
}

pgai_status
chunk_character(const char *text, size_t len, const chunk_config *cfg,
				chunk_list *out, pgai_error *err)
{
	splitter	S;
	pgai_status st;

	st = splitter_init(&S, text, len, cfg, false, out, err);
	if (st == PGAI_OK)
	{
		static const char *const look[] = {"(?=", "(?<!", "(?<=", "(?!"};
		bool		lookaround = false;
		const sepinfo *msep;

		for (size_t i = 0; S.regex && i < 4; i++)
			lookaround |= strncmp(S.seps[0].s, look[i], strlen(look[i])) == 0;
		msep = S.keep != CHUNK_KEEP_NONE || lookaround ? &S.nosep : &S.seps[0];
		S.msep = msep;
		st = each_split(&S, &S.seps[0], text ? text : "", len, merge_push, (void *) msep);
		if (st == PGAI_OK)
			st = merge_finish(&S);
	}
	splitter_free(&S);
	if (st != PGAI_OK && out != NULL)
		chunk_list_free(out);
	return st;
}

pgai_status
chunk_recursive(const char *text, size_t len, const chunk_config *cfg,
				chunk_list *out, pgai_error *err)
{
	splitter	S;
	pgai_status st;

	st = splitter_init(&S, text, len, cfg, true, out, err);
	if (st == PGAI_OK)
		st = recursive_split(&S, text ? text : "", len, 0);
	splitter_free(&S);
	if (st != PGAI_OK && out != NULL)
		chunk_list_free(out);
	return st;
}

/*
 * Every regex the splitter may compile for cfg, compiled now: the plain
 * pattern where it is searched or split on (the recursive splitter's
 * re.search, the character splitter without kept separators) and the
 * pattern in a group where separators are kept (re.split(f"({sep})")).
 * The empty separator is never a regex.  Separators after an empty one,
 * which the recursive splitter never reaches, are checked all the same:
 * an invalid pattern is a mistake wherever it stands.
 */
pgai_status
chunk_check_separators(const chunk_config *cfg, bool recursive, size_t *bad,
					   pgai_error *err)
{
	splitter	S;
	chunk_list	out;
	pgai_status st;

	if (bad != NULL)
		*bad = SIZE_MAX;
	st = splitter_init(&S, "", 0, cfg, recursive, &out, err);
	for (size_t i = 0; st == PGAI_OK && S.regex && i < S.nseps; i++)
	{
		if (S.seps[i].len == 0)
			continue;
		if (recursive || S.keep == CHUNK_KEEP_NONE)
			st = sep_compile(&S, &S.seps[i], 0);
		if (st == PGAI_OK && S.keep != CHUNK_KEEP_NONE)
			st = sep_compile(&S, &S.seps[i], 1);
		if (st != PGAI_OK && bad != NULL)
			*bad = i;
	}
	splitter_free(&S);
	chunk_list_free(&out);
	return st;
}

void
chunk_list_free(chunk_list *list)
{
	if (list == NULL)
		return;
	free(list->items);
	text_arena_free(&list->blocks);
	memset(list, 0, sizeof(*list));
}
