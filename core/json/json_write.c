/*
 * json_write.c -- json_buf, the growable output buffer, and the JSON
 * value writers (see pgai_json.h).
 *
 * Ownership: the caller owns the json_buf struct and, through it, the
 * data; nothing here keeps state between calls.  An allocation failure
 * makes the buffer "failed": later appends are no-ops and the caller
 * checks json_buf_status() once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgai_json.h"

void
json_buf_init(json_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = false;
	b->alloc = NULL;
}

void
json_buf_free(json_buf *b)
{
	const json_allocator *a;

	if (b == NULL)
		return;
	a = b->alloc;
	if (a == NULL)
		free(b->data);
	else if (b->data != NULL)
		a->release(a->arg, b->data);
	json_buf_init(b);
	b->alloc = a;
}

void
json_buf_reset(json_buf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->data != NULL)
		b->data[0] = '\0';
}

bool
json_buf_reserve(json_buf *b, size_t extra)
{
	size_t		need;
	size_t		cap;
	char	   *p;

	if (b->failed)
		return false;
	/* +1 for the NUL kept after the data */
	if (extra > SIZE_MAX / 2 - b->len - 1)
	{
		b->failed = true;
		return false;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	cap = b->cap < 256 ? 256 : b->cap;
	while (cap < need)
		cap *= 2;
	if (b->alloc == NULL)
		p = realloc(b->data, cap);
	else
		p = b->alloc->grow(b->alloc->arg, b->data, b->data ? b->len + 1 : 0, cap);
	if (p == NULL)
	{
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void
json_buf_append(json_buf *b, const char *s, size_t n)
{
	if (!json_buf_reserve(b, n))
		return;
	if (n > 0)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
json_buf_puts(json_buf *b, const char *s)
{
	json_buf_append(b, s, strlen(s));
}

/* For each byte: 0 = copy, otherwise the escape letter or 'u' for \u00XX. */
static const char escape_table[256] = {
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
};

size_t
json_string_size(const char *s, size_t n)
{
	size_t		size = n + 2;

	for (size_t i = 0; i < n; i++)
	{
		char		e = escape_table[(unsigned char) s[i]];

		if (e != 0)
			size += (e == 'u') ? 5 : 1;
	}
	return size;
}

void
json_write_string(json_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t		run = 0;		/* start of the pending unescaped run */
	char	   *o;

	/* worst case every byte becomes \u00XX */
	if (n > (SIZE_MAX / 8) || !json_buf_reserve(b, n + 2))
	{
		b->failed = true;
		return;
	}
	b->data[b->len++] = '"';
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char		e = escape_table[c];

		if (e == 0)
			continue;
		/* flush the run, then the escape (6 bytes at most) */
		if (!json_buf_reserve(b, (i - run) + 6 + (n - i) + 1))
			return;
		memcpy(b->data + b->len, s + run, i - run);
		b->len += i - run;
		o = b->data + b->len;
		o[0] = '\\';
		if (e == 'u')
		{
			o[1] = 'u';
			o[2] = '0';
			o[3] = '0';
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			b->len += 6;
		}
		else
		{
			o[1] = e;
			b->len += 2;
		}
		run = i + 1;
	}
	if (!json_buf_reserve(b, (n - run) + 1))
		return;
	memcpy(b->data + b->len, s + run, n - run);
	b->len += n - run;
	b->data[b->len++] = '"';
	b->data[b->len] = '\0';
}

void
json_write_int(json_buf *b, long long v)
{
	char		tmp[32];
	int			k = snprintf(tmp, sizeof(tmp), "%lld", v);

	json_buf_append(b, tmp, (size_t) k);
}

pgai_status
json_buf_status(const json_buf *b, pgai_error *err)
{
	if (b->failed)
		return pgai_error_set(err, PGAI_ENOMEM, "out of memory building JSON");
	return PGAI_OK;
}
