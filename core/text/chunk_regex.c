/*
 * chunk_regex.c -- translate Python `re` separator patterns to PCRE2.
 *
 * Separators are written for Python's re module; we run them with PCRE2
 * (UTF + UCP mode, newline = LF).  The two agree on the syntax people use
 * in separators except for the spellings handled here:
 *
 *   \Z           end of string only        -> \z
 *   \v           vertical tab only         -> \x{0b}  (PCRE2: any vertical space)
 *   \s, \S       Python's str.isspace set: adds U+001C..U+001F and
 *                U+0085, drops U+180E (outside classes; in a class only
 *                the additions are made)
 *   (?i) etc.    global flags after the start are an error, as in 3.11
 *   \uHHHH, \UHHHHHHHH, \xhh               -> \x{...}
 *   x{,n}, x{,}  lower bound 0             -> x{0,n}, x{0,}
 *   '[' inside a class is literal          -> \[  (no POSIX [:alpha:])
 *   unknown ASCII-letter escapes (\K, \Q, \R, \h, \p, \N{...}, ...) are
 *   errors, as Python raises re.error for them.
 *
 * Not translated (PCRE2 reports an error or behaves as PCRE): the inline
 * flags a/L/u, and \S inside a character class keeps PCRE2's meaning.
 * The result is a malloc'd string owned by the caller.
 */
#include <stdlib.h>
#include <string.h>

#include "text_internal.h"

typedef struct obuf
{
	char	   *p;
	size_t		len;
	size_t		cap;
} obuf;

static bool
put(obuf *b, const char *s, size_t n)
{
	if (b->cap - b->len < n + 1)
	{
		size_t		ncap = b->cap ? b->cap : 64;
		char	   *np;

		while (ncap - b->len < n + 1)
			ncap *= 2;
		np = realloc(b->p, ncap);
		if (np == NULL)
			return false;
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return true;
}

static bool
puts_(obuf *b, const char *s)
{
	return put(b, s, strlen(s));
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

#define PY_SPACE_EXTRA "\\x{1c}-\\x{1f}\\x{85}"

pgai_status
text_regex_translate(const char *pat, size_t len, char **out, size_t *out_len,
					 pgai_error *err)
{
	obuf		b = {0};
	bool		in_class = false;
	size_t		i = 0;

	*out = NULL;
	if (!put(&b, "", 0))
		goto nomem;
	while (i < len)
	{
		char		c = pat[i];

		if (c == '\\')
		{
			char		d;
			bool		ok = true;

			if (i + 1 >= len)
			{
				free(b.p);
				return pgai_error_set(err, PGAI_EREGEX,
									  "invalid separator regex: bad escape (end of pattern) at position %zu", i);
			}
			d = pat[i + 1];
			if ((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z'))
			{
				size_t		ndig = 0;

				switch (d)
				{
					case 'v':
						ok = puts_(&b, "\\x{0b}");
						break;
					case 'Z':
						if (in_class)
							goto bad_escape;
						ok = puts_(&b, "\\z");
						break;
					case 'A':
					case 'B':
						if (in_class)
							goto bad_escape;
						ok = put(&b, pat + i, 2);
						break;
					case 's':
						/* PCRE2 also counts U+180E as \s, Python does not */
						ok = puts_(&b, in_class ? "\\s" PY_SPACE_EXTRA
								   : "(?:(?!\\x{180e})[\\s" PY_SPACE_EXTRA "])");
						break;
					case 'S':
						ok = puts_(&b, in_class ? "\\S"
								   : "(?:\\x{180e}|[^\\s" PY_SPACE_EXTRA "])");
						break;
					case 'b':
					case 'd':
					case 'D':
					case 'w':
					case 'W':
					case 'a':
					case 'f':
					case 'n':
					case 'r':
					case 't':
						ok = put(&b, pat + i, 2);
						break;
					case 'x':
						ndig = 2;
						/* FALLTHROUGH */
					case 'u':
						if (ndig == 0)
							ndig = 4;
						/* FALLTHROUGH */
					case 'U':
						{
							if (ndig == 0)
								ndig = 8;
							if (len - (i + 2) < ndig)
								goto bad_escape;
							for (size_t k = 0; k < ndig; k++)
								if (!is_hex(pat[i + 2 + k]))
									goto bad_escape;
							if (ndig == 8)
							{
								char		hex[9];

								memcpy(hex, pat + i + 2, 8);
								hex[8] = '\0';
								if (strtoul(hex, NULL, 16) > 0x10FFFF)
									goto bad_escape;
							}
							ok = puts_(&b, "\\x{") && put(&b, pat + i + 2, ndig) && puts_(&b, "}");
							i += ndig;
							break;
						}
					default:
						goto bad_escape;
				}
				if (!ok)
					goto nomem;
				i += 2;
				continue;
			}

			/*
			 * digits (back references, octal) and escaped punctuation or
			 * non-ASCII characters pass through unchanged
			 */
			{
				size_t		n = 2;

				while (i + n < len && ((unsigned char) pat[i + n] & 0xC0) == 0x80)
					n++;
				if (!put(&b, pat + i, n))
					goto nomem;
				i += n;
				continue;
			}

	bad_escape:
			{
				size_t		n = 1;

				while (i + 1 + n < len && ((unsigned char) pat[i + 1 + n] & 0xC0) == 0x80)
					n++;
				free(b.p);
				return pgai_error_set(err, PGAI_EREGEX,
									  "invalid separator regex: bad escape \\%.*s at position %zu",
									  (int) n, pat + i + 1, i);
			}
		}
		if (in_class)
		{
			if (c == ']')
				in_class = false;
			if (!(c == '[' ? puts_(&b, "\\[") : put(&b, &c, 1)))
				goto nomem;
			i++;
			continue;
		}
		if (c == '[')
		{
			in_class = true;
			if (!put(&b, "[", 1))
				goto nomem;
			i++;
			if (i < len && pat[i] == '^')
			{
				if (!put(&b, "^", 1))
					goto nomem;
				i++;
			}
			if (i < len && pat[i] == ']')
			{
				if (!puts_(&b, "\\]"))
					goto nomem;
				i++;
			}
			continue;
		}
		if (c == '(' && i > 0 && i + 2 < len && pat[i + 1] == '?')
		{
			/* Python 3.11: global flags such as (?i) only at the very start */
			size_t		k = i + 2;

			while (k < len && strchr("aiLmsux", pat[k]) != NULL && pat[k] != '\0')
				k++;
			if (k > i + 2 && k < len && pat[k] == ')')
			{
				free(b.p);
				return pgai_error_set(err, PGAI_EREGEX,
									  "invalid separator regex: global flags not at the start of the expression at position %zu",
									  i);
			}
		}
		if (c == '{' && i + 1 < len && pat[i + 1] == ',')
		{
			size_t		k = i + 2;

			while (k < len && is_digit(pat[k]))
				k++;
			if (k < len && pat[k] == '}')
			{
				if (!puts_(&b, "{0,"))
					goto nomem;
				i += 2;
				continue;
			}
		}
		if (!put(&b, &c, 1))
			goto nomem;
		i++;
	}
	*out = b.p;
	if (out_len)
		*out_len = b.len;
	return PGAI_OK;

nomem:
	free(b.p);
	return pgai_error_set(err, PGAI_ENOMEM, "out of memory");
}
