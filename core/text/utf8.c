/*
 * utf8.c -- UTF-8 validation, counting and Python-compatible whitespace.
 *
 * Stateless helpers over caller-owned buffers; nothing here allocates.
 * The decoding helpers assume input already accepted by utf8_validate.
 */
#include <string.h>

#include "pgai_text.h"
#include "text_internal.h"

pgai_status
utf8_validate(const char *str, size_t len, pgai_error *err)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = s[i];
		size_t		n;
		uint32_t	cp;

		if (c < 0x80)
		{
			/* fast path over ASCII runs, a word at a time */
			i++;
			while (len - i >= 8)
			{
				uint64_t	w;

				memcpy(&w, s + i, 8);
				if (w & UINT64_C(0x8080808080808080))
					break;
				i += 8;
			}
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			n = 2, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			n = 3, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			n = 4, cp = c & 0x07;
		else
			goto bad;
		if (len - i < n)
			goto bad;
		for (size_t k = 1; k < n; k++)
		{
			if ((s[i + k] & 0xC0) != 0x80)
				goto bad;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
			cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad;
		i += n;
	}
	return PGAI_OK;

bad:
	return pgai_error_set(err, PGAI_EUTF8,
						  "invalid byte sequence for encoding \"UTF8\" at byte offset %zu",
						  i);
}

size_t
utf8_count(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t		cont = 0;
	size_t		i = 0;

	/*
	 * Count continuation bytes (10xxxxxx) eight at a time: each byte lane of
	 * `acc` gathers 0/1 flags for at most 255 words, then the lanes are
	 * summed with one multiply.
	 */
	while (len - i >= 8)
	{
		uint64_t	acc = 0;

		for (int k = 0; k < 255 && len - i >= 8; k++, i += 8)
		{
			uint64_t	w;

			memcpy(&w, s + i, 8);
			acc += (w & ~(w << 1) & UINT64_C(0x8080808080808080)) >> 7;
		}
		cont += (size_t) ((acc * UINT64_C(0x0101010101010101)) >> 56);
	}
	for (; i < len; i++)
		cont += (s[i] & 0xC0) == 0x80;
	return len - cont;
}

int
hex_digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
utf8_py_isspace(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20);
	switch (cp)
	{
		case 0x85:
		case 0xA0:
		case 0x1680:
		case 0x2028:
		case 0x2029:
		case 0x202F:
		case 0x205F:
		case 0x3000:
			return true;
		default:
			return cp >= 0x2000 && cp <= 0x200A;
	}
}

static inline bool
ascii_space(unsigned char c)
{
	return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
}

uint32_t
text_decode(const char *str, size_t len, size_t *adv)
{
	const unsigned char *s = (const unsigned char *) str;
	unsigned char c = s[0];

	if (c < 0x80 || len < 2)
	{
		*adv = 1;
		return c;
	}
	if (c < 0xE0)
	{
		*adv = 2;
		return ((uint32_t) (c & 0x1F) << 6) | (s[1] & 0x3F);
	}
	if (c < 0xF0 || len < 4)
	{
		*adv = 3;
		return ((uint32_t) (c & 0x0F) << 12) | ((uint32_t) (s[1] & 0x3F) << 6) |
			(s[2] & 0x3F);
	}
	*adv = 4;
	return ((uint32_t) (c & 0x07) << 18) | ((uint32_t) (s[1] & 0x3F) << 12) |
		((uint32_t) (s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}

size_t
text_lead_space(const char *s, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		size_t		adv;
		unsigned char c = (unsigned char) s[i];

		if (c < 0x80)
		{
			if (!ascii_space(c))
				break;
			i++;
			continue;
		}
		if (!utf8_py_isspace(text_decode(s + i, len - i, &adv)))
			break;
		i += adv;
	}
	return i;
}

size_t
text_trail_space(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t		end = len;

	while (end > 0)
	{
		size_t		start = end - 1;
		size_t		adv;

		if (s[start] < 0x80)
		{
			if (!ascii_space(s[start]))
				break;
			end = start;
			continue;
		}
		while (start > 0 && (s[start] & 0xC0) == 0x80)
			start--;
		if (!utf8_py_isspace(text_decode(str + start, end - start, &adv)))
			break;
		end = start;
	}
	return len - end;
}
