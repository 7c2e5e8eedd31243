/*
 * copy.c: encodes store rows as COPY data (copy.h says which format when).
 *
 * Binary: each key column in its type's send format (built from its text
 * form: int2/4/8, text, bpchar, varchar, uuid), chunk_seq as int4, the
 * chunk as text, the embedding as pgvector's send format (int16 dims,
 * int16 unused, float4s, all network order). Text: tab-separated fields
 * with backslash, tab, newline and carriage return escaped, the vector as
 * a literal [a,b,...] with %.9g, enough digits to give back the float.
 * Tested by worker/test/c/test_copy.c.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgai_text.h"
#include "copy.h"
#include "util.h"

void
cb_put(copybuf *c, const void *p, size_t n)
{
	if (c->len + n > c->cap)
	{
		c->cap = (c->len + n) * 2 + 4096;
		c->data = xrealloc(c->data, c->cap);
	}
	memcpy(c->data + c->len, p, n);
	c->len += n;
}

static void
cb_i16(copybuf *c, int16_t v)
{
	uint16_t	n = htons((uint16_t) v);

	cb_put(c, &n, 2);
}

static void
cb_i32(copybuf *c, int32_t v)
{
	uint32_t	n = htonl((uint32_t) v);

	cb_put(c, &n, 4);
}

static void
cb_i64(copybuf *c, int64_t v)
{
	cb_i32(c, (int32_t) (v >> 32));
	cb_i32(c, (int32_t) (v & 0xffffffff));
}

/* A key column in binary: its type's send format, from its text form. */
static bool
cb_key(copybuf *c, unsigned type_oid, const char *text)
{
	switch (type_oid)
	{
		case 21:				/* int2 */
			cb_i32(c, 2);
			cb_i16(c, (int16_t) atoi(text));
			return true;
		case 23:				/* int4 */
			cb_i32(c, 4);
			cb_i32(c, (int32_t) atol(text));
			return true;
		case 20:				/* int8 */
			cb_i32(c, 8);
			cb_i64(c, strtoll(text, NULL, 10));
			return true;
		case 25:				/* text */
		case 1042:				/* bpchar */
		case 1043:				/* varchar */
			cb_i32(c, (int32_t) strlen(text));
			cb_put(c, text, strlen(text));
			return true;
		case 2950:				/* uuid */
			{
				unsigned char u[16];
				int			n = 0;

				for (const char *p = text; *p && n < 32; p++)
				{
					int			h = hex_digit_value((unsigned char) *p);

					if (h < 0)
						continue;
					if (n % 2 == 0)
						u[n / 2] = (unsigned char) (h << 4);
					else
						u[n / 2] |= (unsigned char) h;
					n++;
				}
				cb_i32(c, 16);
				cb_put(c, u, 16);
				return n == 32;
			}
		default:
			return false;
	}
}

bool
copy_keys_binary(const pk_column *pk, int n_pk)
{
	static const unsigned ok[] = {21, 23, 20, 25, 1042, 1043, 2950};

	for (int i = 0; i < n_pk; i++)
	{
		bool		found = false;

		for (size_t k = 0; k < sizeof(ok) / sizeof(ok[0]); k++)
			found |= pk[i].type_oid == ok[k];
		if (!found)
			return false;
	}
	return true;
}

/* COPY text format: escape backslash, tab, newline, carriage return. */
static void
cb_text_field(copybuf *c, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		switch (s[i])
		{
			case '\\':
				cb_put(c, "\\\\", 2);
				break;
			case '\t':
				cb_put(c, "\\t", 2);
				break;
			case '\n':
				cb_put(c, "\\n", 2);
				break;
			case '\r':
				cb_put(c, "\\r", 2);
				break;
			default:
				cb_put(c, &s[i], 1);
		}
	}
}

void
copy_begin(copybuf *c, bool binary)
{
	static const char sig[] = "PGCOPY\n\377\r\n";

	if (!binary)
		return;
	cb_put(c, sig, 11);
	cb_i32(c, 0);				/* flags */
	cb_i32(c, 0);				/* header extension length */
}

void
copy_end(copybuf *c, bool binary)
{
	if (binary)
		cb_i16(c, -1);
}

bool
copy_row(copybuf *c, bool binary, const pk_column *pk, int n_pk, char *const *key,
		 int chunk_seq, const char *text, size_t len, const float *vec, int dims)
{
	bool		ok = true;

	if (binary)
	{
		cb_i16(c, (int16_t) (n_pk + 3));
		for (int k = 0; k < n_pk; k++)
			ok &= cb_key(c, pk[k].type_oid, key[k]);
		cb_i32(c, 4);
		cb_i32(c, (int32_t) chunk_seq);
		cb_i32(c, (int32_t) len);
		cb_put(c, text, len);
		cb_i32(c, 4 + 4 * dims);
		cb_i16(c, (int16_t) dims);
		cb_i16(c, 0);
		for (int d = 0; d < dims; d++)
		{
			uint32_t	bits;

			memcpy(&bits, &vec[d], 4);
			bits = htonl(bits);
			cb_put(c, &bits, 4);
		}
	}
	else
	{
		char		num[64];

		for (int k = 0; k < n_pk; k++)
		{
			cb_text_field(c, key[k], strlen(key[k]));
			cb_put(c, "\t", 1);
		}
		snprintf(num, sizeof(num), "%d\t", chunk_seq);
		cb_put(c, num, strlen(num));
		cb_text_field(c, text, len);
		cb_put(c, "\t[", 2);
		for (int d = 0; d < dims; d++)
		{
			int			n = snprintf(num, sizeof(num), "%s%.9g", d ? "," : "", vec[d]);

			cb_put(c, num, (size_t) n);
		}
		cb_put(c, "]\n", 2);
	}
	return ok;
}
