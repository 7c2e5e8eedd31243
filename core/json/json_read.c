/*
 * json_read.c -- the JSON reader: a validating, non-recursive parser that
 * builds a flat node array over the caller's text (see pgai_json.h).
 *
 * Layout: nodes are stored in document order.  A container's node is
 * followed by its subtree; for an object that is key, value, key, value...
 * Scalars keep (offset, length) of their raw text; containers keep
 * (member count, index just past their subtree), so skipping a subtree is
 * O(1).  A response of a few million numbers costs 12 bytes a number.
 *
 * Ownership: the json_doc owns only its node array; string and number
 * nodes point into the caller's text, which must outlive the document.
 * No global state.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pgai_json.h"
#include "pgai_text.h"

typedef struct json_node
{
	uint32_t	a;				/* scalar: offset; container: member count */
	uint32_t	b;				/* scalar: length; container: skip index */
	uint8_t		type;			/* json_type */
	uint8_t		escaped;		/* string contains backslash escapes */
} json_node;

struct json_doc
{
	const char *text;
	json_node  *nodes;
	uint32_t	count;
	uint32_t	cap;
};

typedef struct parser
{
	const char *s;
	size_t		len;
	size_t		pos;
	json_doc   *doc;
	pgai_error *err;
} parser;

static pgai_status
syntax_error(parser *p, const char *what)
{
	if (p->pos >= p->len)
		return pgai_error_set(p->err, PGAI_EJSON,
							  "invalid JSON: unexpected end of input, expected %s",
							  what);
	return pgai_error_set(p->err, PGAI_EJSON,
						  "invalid JSON at byte %zu: expected %s", p->pos, what);
}

static json_node *
add_node(parser *p, json_type type, uint32_t a, uint32_t b)
{
	json_doc   *d = p->doc;
	json_node  *n;

	if (d->count == d->cap)
	{
		uint32_t	cap;
		json_node  *nodes;

		if (d->cap >= UINT32_MAX / 2)
			return NULL;
		cap = d->cap * 2;
		nodes = realloc(d->nodes, (size_t) cap * sizeof(json_node));
		if (nodes == NULL)
			return NULL;
		d->nodes = nodes;
		d->cap = cap;
	}
	n = &d->nodes[d->count++];
	n->a = a;
	n->b = b;
	n->type = (uint8_t) type;
	n->escaped = 0;
	return n;
}

static inline void
skip_ws(parser *p)
{
	while (p->pos < p->len)
	{
		char		c = p->s[p->pos];

		if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
			break;
		p->pos++;
	}
}

/* p->pos is at the opening quote; adds a STRING node. */
static pgai_status
parse_string(parser *p)
{
	size_t		start = ++p->pos;
	bool		escaped = false;
	json_node  *n;

	for (;;)
	{
		unsigned char c;

		/* fast path over plain bytes */
		while (p->pos < p->len)
		{
			c = (unsigned char) p->s[p->pos];
			if (c == '"' || c == '\\' || c < 0x20)
				break;
			p->pos++;
		}
		if (p->pos >= p->len)
			return syntax_error(p, "closing quote of string");
		c = (unsigned char) p->s[p->pos];
		if (c == '"')
			break;
		if (c < 0x20)
			return syntax_error(p, "escaped control character in string");
		/* backslash */
		escaped = true;
		p->pos++;
		if (p->pos >= p->len)
			return syntax_error(p, "escape sequence");
		c = (unsigned char) p->s[p->pos];
		if (c == 'u')
		{
			for (int i = 1; i <= 4; i++)
			{
				if (p->pos + i >= p->len || hex_digit_value(p->s[p->pos + i]) < 0)
				{
					p->pos += i;
					return syntax_error(p, "four hex digits after \\u");
				}
			}
			p->pos += 5;
		}
		else if (strchr("\"\\/bfnrt", c) != NULL && c != '\0')
			p->pos++;
		else
			return syntax_error(p, "valid escape sequence");
	}
	n = add_node(p, JSON_STRING, (uint32_t) start, (uint32_t) (p->pos - start));
	if (n == NULL)
		return pgai_error_set(p->err, PGAI_ENOMEM, "out of memory parsing JSON");
	n->escaped = escaped;
	p->pos++;					/* closing quote */
	return PGAI_OK;
}

static pgai_status
parse_number(parser *p)
{
	size_t		start = p->pos;
	const char *s = p->s;

	if (s[p->pos] == '-')
		p->pos++;
	if (p->pos < p->len && s[p->pos] == '0')
		p->pos++;
	else if (p->pos < p->len && s[p->pos] >= '1' && s[p->pos] <= '9')
		while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9')
			p->pos++;
	else
		return syntax_error(p, "digit");
	if (p->pos < p->len && s[p->pos] == '.')
	{
		p->pos++;
		if (p->pos >= p->len || !(s[p->pos] >= '0' && s[p->pos] <= '9'))
			return syntax_error(p, "digit after decimal point");
		while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9')
			p->pos++;
	}
	if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E'))
	{
		p->pos++;
		if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || !(s[p->pos] >= '0' && s[p->pos] <= '9'))
			return syntax_error(p, "digit in exponent");
		while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9')
			p->pos++;
	}
	if (add_node(p, JSON_NUMBER, (uint32_t) start, (uint32_t) (p->pos - start)) == NULL)
		return pgai_error_set(p->err, PGAI_ENOMEM, "out of memory parsing JSON");
	return PGAI_OK;
}

static pgai_status
parse_literal(parser *p, const char *word, json_type type)
{
	size_t		n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return syntax_error(p, "a JSON value");
	if (add_node(p, type, (uint32_t) p->pos, (uint32_t) n) == NULL)
		return pgai_error_set(p->err, PGAI_ENOMEM, "out of memory parsing JSON");
	p->pos += n;
	return PGAI_OK;
}

/* Count the new child in its parent (arrays count values, objects keys). */
static inline void
count_child(parser *p, const uint32_t *stack, int depth, bool is_key)
{
	json_node  *parent;

	if (depth == 0)
		return;
	parent = &p->doc->nodes[stack[depth - 1]];
	if ((parent->type == JSON_ARRAY) != is_key)
		parent->a++;
}

static pgai_status
parse_document(parser *p)
{
	uint32_t	stack[JSON_MAX_DEPTH];
	int			depth = 0;
	pgai_status st;

value:
	skip_ws(p);
	if (p->pos >= p->len)
		return syntax_error(p, "a JSON value");
	count_child(p, stack, depth, false);
	switch (p->s[p->pos])
	{
		case '{':
		case '[':
			{
				json_type	t = p->s[p->pos] == '{' ? JSON_OBJECT : JSON_ARRAY;
				char		close = t == JSON_OBJECT ? '}' : ']';

				if (depth == JSON_MAX_DEPTH)
					return pgai_error_set(p->err, PGAI_EJSON,
										  "invalid JSON at byte %zu: nesting deeper than %d",
										  p->pos, JSON_MAX_DEPTH);
				if (add_node(p, t, 0, 0) == NULL)
					return pgai_error_set(p->err, PGAI_ENOMEM, "out of memory parsing JSON");
				stack[depth++] = p->doc->count - 1;
				p->pos++;
				skip_ws(p);
				if (p->pos < p->len && p->s[p->pos] == close)
				{
					p->pos++;
					p->doc->nodes[stack[--depth]].b = p->doc->count;
					goto after;
				}
				if (t == JSON_OBJECT)
					goto key;
				goto value;
			}
		case '"':
			st = parse_string(p);
			break;
		case 't':
			st = parse_literal(p, "true", JSON_TRUE);
			break;
		case 'f':
			st = parse_literal(p, "false", JSON_FALSE);
			break;
		case 'n':
			st = parse_literal(p, "null", JSON_NULL);
			break;
		default:
			if (p->s[p->pos] == '-' || (p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
				st = parse_number(p);
			else
				st = syntax_error(p, "a JSON value");
			break;
	}
	if (st != PGAI_OK)
		return st;
	goto after;

key:
	skip_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != '"')
		return syntax_error(p, "string key");
	count_child(p, stack, depth, true);
	if ((st = parse_string(p)) != PGAI_OK)
		return st;
	skip_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != ':')
		return syntax_error(p, "':'");
	p->pos++;
	goto value;

after:
	skip_ws(p);
	if (depth == 0)
	{
		if (p->pos != p->len)
			return syntax_error(p, "end of input");
		return PGAI_OK;
	}
	{
		json_node  *top = &p->doc->nodes[stack[depth - 1]];
		bool		obj = top->type == JSON_OBJECT;

		if (p->pos < p->len && p->s[p->pos] == ',')
		{
			p->pos++;
			if (obj)
				goto key;
			goto value;
		}
		if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']'))
		{
			p->pos++;
			top->b = p->doc->count;
			depth--;
			goto after;
		}
		return syntax_error(p, obj ? "',' or '}'" : "',' or ']'");
	}
}

pgai_status
json_parse(const char *text, size_t len, json_doc **out, pgai_error *err)
{
	parser		p;
	json_doc   *doc;
	pgai_status st;

	*out = NULL;
	if (len >= UINT32_MAX - 1)
		return pgai_error_set(err, PGAI_EJSON, "JSON document too large (%zu bytes)", len);
	if ((st = utf8_validate(text, len, err)) != PGAI_OK)
		return st;
	doc = malloc(sizeof(json_doc));
	if (doc == NULL)
		return pgai_error_set(err, PGAI_ENOMEM, "out of memory parsing JSON");
	doc->text = text;

	doc->count = 0;
	doc->cap = (uint32_t) (len / 16 + 16);
	doc->nodes = malloc((size_t) doc->cap * sizeof(json_node));
	if (doc->nodes == NULL)
	{
		free(doc);
		return pgai_error_set(err, PGAI_ENOMEM, "out of memory parsing JSON");
	}
	p.s = text;

	p.len = len;
	p.pos = 0;
	p.doc = doc;
	p.err = err;
	st = parse_document(&p);
	if (st != PGAI_OK)
	{
		json_doc_free(doc);
		return st;
	}
	*out = doc;
	return PGAI_OK;
}

void
json_doc_free(json_doc *doc)
{
	if (doc == NULL)
		return;
	free(doc->nodes);
	free(doc);
}

json_ref
json_root(const json_doc *doc)
{
	return doc->count > 0 ? 0 : JSON_NONE;
}

json_type
json_type_of(const json_doc *doc, json_ref r)
{
	if (r == JSON_NONE || r >= doc->count)
		return JSON_NULL;
	return (json_type) doc->nodes[r].type;
}

static inline bool
is_container(const json_node *n)
{
	return n->type == JSON_ARRAY || n->type == JSON_OBJECT;
}

static inline json_ref
skip_node(const json_doc *doc, json_ref r)
{
	const json_node *n = &doc->nodes[r];

	return is_container(n) ? n->b : r + 1;
}

size_t
json_size(const json_doc *doc, json_ref r)
{
	if (r == JSON_NONE || r >= doc->count || !is_container(&doc->nodes[r]))
		return 0;
	return doc->nodes[r].a;
}

void
json_iter_init(json_iter *it, const json_doc *doc, json_ref r)
{
	it->doc = doc;
	if (r == JSON_NONE || r >= doc->count || !is_container(&doc->nodes[r]))
	{
		it->cur = it->end = 0;
		it->object = false;
		return;
	}
	it->cur = r + 1;
	it->end = doc->nodes[r].b;
	it->object = doc->nodes[r].type == JSON_OBJECT;
}

bool
json_iter_next(json_iter *it, json_ref *key, json_ref *value)
{
	if (it->cur >= it->end)
		return false;
	if (it->object)
	{
		*key = it->cur;
		*value = it->cur + 1;
		it->cur = skip_node(it->doc, it->cur + 1);
	}
	else
	{
		*key = JSON_NONE;
		*value = it->cur;
		it->cur = skip_node(it->doc, it->cur);
	}
	return true;
}

json_ref
json_get(const json_doc *doc, json_ref r, const char *key)
{
	json_iter	it;
	json_ref	k,
				v;

	if (json_type_of(doc, r) != JSON_OBJECT)
		return JSON_NONE;
	json_iter_init(&it, doc, r);
	while (json_iter_next(&it, &k, &v))
		if (json_string_equals(doc, k, key))
			return v;
	return JSON_NONE;
}

/* Exact powers of ten representable in a double. */
static const double exact_pow10[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* Powers of ten exact in x87 extended precision (64-bit mantissa). */
static const long double exact_pow10l[] = {
	1e0L, 1e1L, 1e2L, 1e3L, 1e4L, 1e5L, 1e6L, 1e7L, 1e8L, 1e9L, 1e10L,
	1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L,
	1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L
};

bool
json_parse_number(const char *s, size_t n, double *out)
{
	size_t		i = 0;
	bool		neg = false;
	uint64_t	mant = 0;
	int			digits = 0;		/* significant digits kept in mant */
	long		exp10 = 0;
	bool		any = false;
	double		v;

	if (i < n && s[i] == '-')
	{
		neg = true;
		i++;
	}
	/* integer part */
	while (i < n && s[i] >= '0' && s[i] <= '9')
	{
		any = true;
		if (digits < 19)
		{
			mant = mant * 10 + (uint64_t) (s[i] - '0');
			if (mant != 0)
				digits++;
		}
		else
			exp10++;			/* digit dropped: scale instead */
		i++;
	}
	if (!any)
		return false;
	if (i < n && s[i] == '.')
	{
		bool		frac = false;

		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
		{
			frac = true;
			if (digits < 19)
			{
				mant = mant * 10 + (uint64_t) (s[i] - '0');
				if (mant != 0)
					digits++;
				exp10--;
			}
			i++;
		}
		if (!frac)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E'))
	{
		bool		eneg = false;
		long		e = 0;
		bool		edig = false;

		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		while (i < n && s[i] >= '0' && s[i] <= '9')
		{
			edig = true;
			if (e < 100000)
				e = e * 10 + (s[i] - '0');
			i++;
		}
		if (!edig)
			return false;
		exp10 += eneg ? -e : e;
	}
	if (i != n)
		return false;

	if (mant == 0)
		v = 0.0;
	else if (mant <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22)
	{
		/* exact operands: one correctly rounded operation */
		v = (double) mant;
		v = exp10 >= 0 ? v * exact_pow10[exp10] : v / exact_pow10[-exp10];
	}
	else if (exp10 < -400)
		v = 0.0;
	else if (exp10 > 400)
		return false;
	else
	{
		/*
		 * Extended precision keeps the error well below a double's ulp. The
		 * common case (17-19 digit decimals from float printers) has a small
		 * exponent: one operation on exact operands, no powl.
		 */
		long double lv = (long double) mant;
		long		ae = exp10 < 0 ? -exp10 : exp10;
		long double p10 = ae <= 27 ? exact_pow10l[ae] : powl(10.0L, (long double) ae);

		lv = exp10 >= 0 ? lv * p10 : lv / p10;
		if (lv > (long double) DBL_MAX)
			return false;
		v = (double) lv;
	}
	*out = neg ? -v : v;
	return true;
}

bool
json_number(const json_doc *doc, json_ref r, double *out)
{
	const json_node *n;

	if (json_type_of(doc, r) != JSON_NUMBER)
		return false;
	n = &doc->nodes[r];
	return json_parse_number(doc->text + n->a, n->b, out);
}

bool
json_int(const json_doc *doc, json_ref r, int64_t *out)
{
	double		v;

	if (!json_number(doc, r, &v))
		return false;
	if (v != floor(v) || v < -9007199254740992.0 || v > 9007199254740992.0)
		return false;
	*out = (int64_t) v;
	return true;
}

bool
json_string_raw(const json_doc *doc, json_ref r, const char **s, size_t *n,
				bool *escaped)
{
	const json_node *node;

	if (json_type_of(doc, r) != JSON_STRING)
		return false;
	node = &doc->nodes[r];
	*s = doc->text + node->a;
	*n = node->b;
	if (escaped)
		*escaped = node->escaped != 0;
	return true;
}

static size_t
put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80)
	{
		o[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		o[0] = (char) (0xC0 | (cp >> 6));
		o[1] = (char) (0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000)
	{
		o[0] = (char) (0xE0 | (cp >> 12));
		o[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char) (0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char) (0xF0 | (cp >> 18));
	o[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char) (0x80 | (cp & 0x3F));
	return 4;
}

static uint32_t
hex4(const char *s)
{
	return (uint32_t) ((hex_digit_value(s[0]) << 12) | (hex_digit_value(s[1]) << 8) |
					   (hex_digit_value(s[2]) << 4) | hex_digit_value(s[3]));
}

/*
 * Decode the validated raw string s[0..n) into o, writing whole
 * characters only while they fit in cap bytes.  Returns bytes written.
 */
static size_t
decode_string(const char *s, size_t n, char *o, size_t cap)
{
	size_t		i = 0,
				w = 0;

	while (i < n)
	{
		unsigned char c = (unsigned char) s[i];
		char		tmp[4];
		size_t		k;
		size_t		used;

		if (c != '\\')
		{
			k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
			if (w + k > cap)
				break;
			memcpy(o + w, s + i, k);
			w += k;
			i += k;
			continue;
		}
		used = 2;
		switch (s[i + 1])
		{
			case 'b':
				tmp[0] = '\b';
				k = 1;
				break;
			case 'f':
				tmp[0] = '\f';
				k = 1;
				break;
			case 'n':
				tmp[0] = '\n';
				k = 1;
				break;
			case 'r':
				tmp[0] = '\r';
				k = 1;
				break;
			case 't':
				tmp[0] = '\t';
				k = 1;
				break;
			case 'u':
				{
					uint32_t	cp = hex4(s + i + 2);

					used = 6;
					if (cp >= 0xD800 && cp <= 0xDBFF && i + 12 <= n &&
						s[i + 6] == '\\' && s[i + 7] == 'u')
					{
						uint32_t	lo = hex4(s + i + 8);

						if (lo >= 0xDC00 && lo <= 0xDFFF)
						{
							cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
							used = 12;
						}
					}
					if (cp >= 0xD800 && cp <= 0xDFFF)
						cp = 0xFFFD;
					k = put_utf8(tmp, cp);
					break;
				}
			default:			/* " \ / */
				tmp[0] = s[i + 1];
				k = 1;
				break;
		}
		if (w + k > cap)
			break;
		memcpy(o + w, tmp, k);
		w += k;
		i += used;
	}
	return w;
}

pgai_status
json_string_dup(const json_doc *doc, json_ref r, char **out, size_t *n,
				pgai_error *err)
{
	const char *s;
	size_t		len;
	char	   *buf;
	size_t		w;

	*out = NULL;
	if (!json_string_raw(doc, r, &s, &len, NULL))
		return pgai_error_set(err, PGAI_EJSON, "expected a JSON string");
	/* decoding never lengthens: \uHHHH (6) -> at most 3, pairs 12 -> 4 */
	buf = malloc(len + 1);
	if (buf == NULL)
		return pgai_error_set(err, PGAI_ENOMEM, "out of memory");
	w = decode_string(s, len, buf, len);
	buf[w] = '\0';
	*out = buf;
	if (n)
		*n = w;
	return PGAI_OK;
}

bool
json_string_copy(const json_doc *doc, json_ref r, char *buf, size_t cap)
{
	const char *s;
	size_t		len;
	size_t		w;

	if (cap == 0 || !json_string_raw(doc, r, &s, &len, NULL))
		return false;
	w = decode_string(s, len, buf, cap - 1);
	buf[w] = '\0';
	return true;
}

bool
json_string_equals(const json_doc *doc, json_ref r, const char *want)
{
	const char *s;
	size_t		len;
	bool		escaped;
	size_t		wl = strlen(want);

	if (!json_string_raw(doc, r, &s, &len, &escaped))
		return false;
	if (!escaped)
		return len == wl && memcmp(s, want, len) == 0;
	{
		char		small[256];
		size_t		w;

		if (len > sizeof(small))
		{
			char	   *big;
			bool		eq;

			if (json_string_dup(doc, r, &big, &w, NULL) != PGAI_OK)
				return false;
			eq = w == wl && memcmp(big, want, w) == 0;
			free(big);
			return eq;
		}
		w = decode_string(s, len, small, sizeof(small));
		return w == wl && memcmp(small, want, w) == 0;
	}
}
