/*
 * template.c -- Python string.Template.substitute (CPython 3.11) in C.
 *
 * tmpl_parse copies the source and splits it into literal pieces and
 * placeholders; the tmpl owns the copy, the pieces and the distinct names,
 * and everything goes with tmpl_free.  tmpl_render returns a malloc'd
 * string the caller frees.
 *
 * Difference from Python: syntax errors are found at parse time, so an
 * invalid placeholder is reported even when a missing name occurs earlier
 * in the text (Python raises whichever it meets first).
 */
#include <stdlib.h>
#include <string.h>

#include "pgai_text.h"
#include "text_internal.h"

typedef struct tmpl_piece
{
	size_t		off;			/* literal: byte offset in src */
	size_t		len;			/* literal: byte length */
	size_t		name;			/* placeholder: index in names, else SIZE_MAX */
} tmpl_piece;

struct tmpl
{
	char	   *src;			/* owned copy of the source */
	tmpl_piece *pieces;
	size_t		npieces;
	char	  **names;			/* distinct names, each malloc'd */
	size_t		nnames;
};

static bool
id_start(char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
id_char(char c)
{
	return id_start(c) || (c >= '0' && c <= '9');
}

/*
 * Line and column of the '$' at byte `dollar`, as string.Template._invalid
 * computes them: lines from str.splitlines(keepends=True) of the text up to
 * and including the '$'; the column counts code points within that line.
 */
static void
invalid_position(const char *s, size_t dollar, size_t *lineno, size_t *colno)
{
	size_t		line = 1;
	size_t		col = 0;
	size_t		i = 0;

	while (i <= dollar)
	{
		size_t		adv;
		uint32_t	cp = text_decode(s + i, dollar + 1 - i, &adv);
		bool		brk;

		col++;
		if (cp == '\r' && i + 1 <= dollar && s[i + 1] == '\n')
		{
			adv = 2;
			brk = true;
		}
		else
			brk = cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C ||
				cp == 0x1C || cp == 0x1D || cp == 0x1E || cp == 0x85 ||
				cp == 0x2028 || cp == 0x2029;
		if (brk)
		{
			line++;
			col = 0;
		}
		i += adv;
	}
	*lineno = line;
	*colno = col;
}

static pgai_status
add_piece(tmpl *t, size_t *cap, size_t off, size_t len, size_t name)
{
	if (t->npieces == *cap)
	{
		size_t		ncap = *cap ? *cap * 2 : 8;
		tmpl_piece *p = realloc(t->pieces, ncap * sizeof(*p));

		if (p == NULL)
			return PGAI_ENOMEM;
		t->pieces = p;
		*cap = ncap;
	}
	t->pieces[t->npieces].off = off;
	t->pieces[t->npieces].len = len;
	t->pieces[t->npieces].name = name;
	t->npieces++;
	return PGAI_OK;
}

/* Index of name src[off..off+len) in t->names, adding it if new. */
static pgai_status
intern_name(tmpl *t, size_t *cap, size_t off, size_t len, size_t *idx)
{
	char	   *copy;

	for (size_t i = 0; i < t->nnames; i++)
	{
		if (strlen(t->names[i]) == len && memcmp(t->names[i], t->src + off, len) == 0)
		{
			*idx = i;
			return PGAI_OK;
		}
	}
	if (t->nnames == *cap)
	{
		size_t		ncap = *cap ? *cap * 2 : 4;
		char	  **n = realloc(t->names, ncap * sizeof(*n));

		if (n == NULL)
			return PGAI_ENOMEM;
		t->names = n;
		*cap = ncap;
	}
	copy = malloc(len + 1);
	if (copy == NULL)
		return PGAI_ENOMEM;
	memcpy(copy, t->src + off, len);
	copy[len] = '\0';
	t->names[t->nnames] = copy;
	*idx = t->nnames++;
	return PGAI_OK;
}

pgai_status
tmpl_parse(const char *src, size_t len, tmpl **out, pgai_error *err)
{
	tmpl	   *t;
	size_t		pcap = 0,
				ncap = 0;
	size_t		i = 0,
				lit = 0;
	pgai_status st;

	*out = NULL;
	st = utf8_validate(src, len, err);
	if (st != PGAI_OK)
		return st;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto nomem;
	t->src = malloc(len + 1);
	if (t->src == NULL)
		goto nomem;
	memcpy(t->src, src, len);
	t->src[len] = '\0';

	while (i < len)
	{
		const char *s = t->src;
		size_t		name_off,
					name_len,
					next,
					idx;

		if (s[i] != '$')
		{
			i++;
			continue;
		}
		if (i > lit && add_piece(t, &pcap, lit, i - lit, SIZE_MAX) != PGAI_OK)
			goto nomem;
		if (i + 1 < len && s[i + 1] == '$')
		{
			/* "$$": a literal "$" (the first of the two) */
			if (add_piece(t, &pcap, i, 1, SIZE_MAX) != PGAI_OK)
				goto nomem;
			i += 2;
			lit = i;
			continue;
		}
		if (i + 1 < len && id_start(s[i + 1]))
		{
			name_off = i + 1;
			next = name_off;
			while (next < len && id_char(s[next]))
				next++;
			name_len = next - name_off;
		}
		else if (i + 2 < len && s[i + 1] == '{' && id_start(s[i + 2]))
		{
			name_off = i + 2;
			next = name_off;
			while (next < len && id_char(s[next]))
				next++;
			name_len = next - name_off;
			if (next >= len || s[next] != '}')
				goto invalid;
			next++;
		}
		else
			goto invalid;
		if (intern_name(t, &ncap, name_off, name_len, &idx) != PGAI_OK ||
			add_piece(t, &pcap, 0, 0, idx) != PGAI_OK)
			goto nomem;
		i = next;
		lit = i;
		continue;

invalid:
		{
			size_t		lineno,
						colno;

			invalid_position(t->src, i, &lineno, &colno);
			tmpl_free(t);
			return pgai_error_set(err, PGAI_ETEMPLATE_SYNTAX,
								  "Invalid placeholder in string: line %zu, col %zu",
								  lineno, colno);
		}
	}
	if (len > lit && add_piece(t, &pcap, lit, len - lit, SIZE_MAX) != PGAI_OK)
		goto nomem;
	*out = t;
	return PGAI_OK;

nomem:
	tmpl_free(t);
	return pgai_error_set(err, PGAI_ENOMEM, "out of memory");
}

size_t
tmpl_name_count(const tmpl *t)
{
	return t ? t->nnames : 0;
}

const char *
tmpl_name(const tmpl *t, size_t i)
{
	if (t == NULL || i >= t->nnames)
		return NULL;
	return t->names[i];
}

/* Append n bytes to the growable buffer *buf (length *len, capacity *cap). */
static bool
buf_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*cap - *len < n + 1)
	{
		size_t		ncap = *cap ? *cap : 64;
		char	   *b;

		while (ncap - *len < n + 1)
		{
			if (ncap > SIZE_MAX / 2)
				return false;
			ncap *= 2;
		}
		b = realloc(*buf, ncap);
		if (b == NULL)
			return false;
		*buf = b;
		*cap = ncap;
	}
	if (n > 0)
		memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return true;
}

pgai_status
tmpl_render(const tmpl *t, tmpl_lookup_fn lookup, void *arg,
			char **out, size_t *out_len, pgai_error *err)
{
	char	   *buf = NULL;
	size_t		len = 0,
				cap = 0;

	*out = NULL;
	if (out_len)
		*out_len = 0;
	if (t == NULL || lookup == NULL)
		return pgai_error_set(err, PGAI_EINVAL, "tmpl_render needs a template and a lookup function");
	if (!buf_append(&buf, &len, &cap, "", 0))
		goto nomem;
	for (size_t i = 0; i < t->npieces; i++)
	{
		const tmpl_piece *p = &t->pieces[i];

		if (p->name == SIZE_MAX)
		{
			if (!buf_append(&buf, &len, &cap, t->src + p->off, p->len))
				goto nomem;
		}
		else
		{
			const char *name = t->names[p->name];
			const char *val = NULL;
			size_t		vlen = 0;
			pgai_status st = lookup(arg, name, &val, &vlen, err);

			if (st == PGAI_ETEMPLATE_NAME)
			{
				free(buf);
				return pgai_error_set(err, st, "template references unknown name \"%s\"", name);
			}
			if (st != PGAI_OK)
			{
				free(buf);
				return st;
			}
			if (!buf_append(&buf, &len, &cap, val, val ? vlen : 0))
				goto nomem;
		}
	}
	*out = buf;
	if (out_len)
		*out_len = len;
	return PGAI_OK;

nomem:
	free(buf);
	return pgai_error_set(err, PGAI_ENOMEM, "out of memory");
}

void
tmpl_free(tmpl *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nnames; i++)
		free(t->names[i]);
	free(t->names);
	free(t->pieces);
	free(t->src);
	free(t);
}
