/*
 * safetensors.c: parse and map .safetensors files.
 *
 * The JSON header is read by a small recursive-descent parser that knows
 * exactly what the format needs: objects, arrays, strings, integers, and
 * skipping of anything else. Every offset and shape is checked against the
 * file size before a tensor pointer is handed out, so a truncated or
 * tampered file yields PGAI_ECORRUPT naming the path, never a read
 * past the mapping. Ownership: see safetensors.h.
 */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct
{
	const char *name;
	size_t		size;
}			dtypes[] = {
	[ST_BOOL] = {"BOOL", 1},[ST_U8] = {"U8", 1},[ST_I8] = {"I8", 1},
	[ST_I16] = {"I16", 2},[ST_U16] = {"U16", 2},[ST_F16] = {"F16", 2},
	[ST_BF16] = {"BF16", 2},[ST_I32] = {"I32", 4},[ST_U32] = {"U32", 4},
	[ST_F32] = {"F32", 4},[ST_F64] = {"F64", 8},[ST_I64] = {"I64", 8},
	[ST_U64] = {"U64", 8},
};

size_t
st_dtype_size(st_dtype dtype)
{
	return dtypes[dtype].size;
}

const char *
st_dtype_name(st_dtype dtype)
{
	return dtypes[dtype].name;
}

/* ---- minimal JSON reader ---- */

typedef struct jreader
{
	const char *start;
	const char *p;
	const char *end;
	const char *what;			/* file name for messages */
	pgai_error *err;			/* the caller's, may be NULL */
} jreader;

#define JSON_MAX_DEPTH 16

static pgai_status
jfail(jreader *r, const char *msg)
{
	return pgai_error_set(r->err, PGAI_ECORRUPT,
						  "invalid safetensors header in \"%s\": %s", r->what, msg);
}

static void
jspace(jreader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int
jpeek(jreader *r, char c)
{
	jspace(r);
	return r->p < r->end && *r->p == c;
}

static pgai_status
jexpect(jreader *r, char c)
{
	jspace(r);
	if (r->p >= r->end || *r->p != c)
	{
		char		msg[40];

		snprintf(msg, sizeof(msg), "expected '%c' at byte %zu", c,
				 (size_t) (r->p - r->start));
		return jfail(r, msg);
	}
	r->p++;
	return PGAI_OK;
}

/* Read a string into out (truncation is an error); out may be NULL to skip. */
static pgai_status
jstring(jreader *r, char *out, size_t outlen)
{
	size_t		n = 0;

	if (jexpect(r, '"'))
		return jfail(r, "expected a string");
	while (r->p < r->end && *r->p != '"')
	{
		unsigned char c = (unsigned char) *r->p++;

		if (c < 0x20)
			return jfail(r, "control character in string");
		if (c == '\\')
		{
			if (r->p >= r->end)
				break;
			c = (unsigned char) *r->p++;
			switch (c)
			{
				case 'n':
					c = '\n';
					break;
				case 't':
					c = '\t';
					break;
				case 'r':
					c = '\r';
					break;
				case 'b':
					c = '\b';
					break;
				case 'f':
					c = '\f';
					break;
				case '"':
				case '\\':
				case '/':
					break;
				case 'u':
					/* names in practice are ASCII; keep \u escapes of
					 * ASCII, replace others with '?' */
					{
						unsigned	v = 0;

						for (int i = 0; i < 4; i++)
						{
							if (r->p >= r->end)
								return jfail(r, "truncated \\u escape");
							char		h = *r->p++;

							v <<= 4;
							if (h >= '0' && h <= '9')
								v |= (unsigned) (h - '0');
							else if (h >= 'a' && h <= 'f')
								v |= (unsigned) (h - 'a' + 10);
							else if (h >= 'A' && h <= 'F')
								v |= (unsigned) (h - 'A' + 10);
							else
								return jfail(r, "bad \\u escape");
						}
						c = v < 0x80 ? (unsigned char) v : '?';
					}
					break;
				default:
					return jfail(r, "bad escape in string");
			}
		}
		if (out != NULL)
		{
			if (n + 1 >= outlen)
				return jfail(r, "string too long");
			out[n++] = (char) c;
		}
	}
	if (r->p >= r->end)
		return jfail(r, "unterminated string");
	r->p++;
	if (out != NULL)
		out[n] = '\0';
	return PGAI_OK;
}

/* A non-negative integer that fits in int64. */
static pgai_status
juint(jreader *r, int64_t *out)
{
	int64_t		v = 0;
	int			digits = 0;

	jspace(r);
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
	{
		if (v > (INT64_MAX - 9) / 10)
			return jfail(r, "integer out of range");
		v = v * 10 + (*r->p++ - '0');
		digits++;
	}
	if (digits == 0)
		return jfail(r, "expected a non-negative integer");
	if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))
		return jfail(r, "expected an integer");
	*out = v;
	return PGAI_OK;
}

static pgai_status jskip(jreader *r, int depth);

static pgai_status
jskip_container(jreader *r, int depth, char close, int is_object)
{
	r->p++;
	if (jpeek(r, close))
	{
		r->p++;
		return PGAI_OK;
	}
	for (;;)
	{
		if (is_object)
		{
			if (jstring(r, NULL, 0) || jexpect(r, ':'))
				return PGAI_ECORRUPT;
		}
		if (jskip(r, depth + 1))
			return PGAI_ECORRUPT;
		if (jpeek(r, ','))
		{
			r->p++;
			continue;
		}
		return jexpect(r, close);
	}
}

/* Skip any JSON value. */
static pgai_status
jskip(jreader *r, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return jfail(r, "nested too deeply");
	jspace(r);
	if (r->p >= r->end)
		return jfail(r, "unexpected end");
	switch (*r->p)
	{
		case '"':
			return jstring(r, NULL, 0);
		case '{':
			return jskip_container(r, depth, '}', 1);
		case '[':
			return jskip_container(r, depth, ']', 0);
		default:
			{
				const char *s = r->p;

				while (r->p < r->end && strchr(",}] \t\r\n", *r->p) == NULL)
					r->p++;
				if (r->p == s)
					return jfail(r, "unexpected character");
				return PGAI_OK;
			}
	}
}

/* Read one tensor description object into t (offsets returned separately). */
static pgai_status
jtensor(jreader *r, st_tensor *t, int64_t *begin, int64_t *finish)
{
	int			have_dtype = 0,
				have_shape = 0,
				have_off = 0;

	if (jexpect(r, '{'))
		return PGAI_ECORRUPT;
	if (jpeek(r, '}'))
		return jfail(r, "empty tensor entry");
	for (;;)
	{
		char		key[32];

		if (jstring(r, key, sizeof(key)) || jexpect(r, ':'))
			return PGAI_ECORRUPT;
		if (strcmp(key, "dtype") == 0)
		{
			char		dt[16];
			size_t		i;

			if (jstring(r, dt, sizeof(dt)))
				return PGAI_ECORRUPT;
			for (i = 0; i < sizeof(dtypes) / sizeof(dtypes[0]); i++)
				if (strcmp(dt, dtypes[i].name) == 0)
					break;
			if (i == sizeof(dtypes) / sizeof(dtypes[0]))
				return jfail(r, "unknown dtype");
			t->dtype = (st_dtype) i;
			have_dtype = 1;
		}
		else if (strcmp(key, "shape") == 0)
		{
			if (jexpect(r, '['))
				return PGAI_ECORRUPT;
			t->ndim = 0;
			if (jpeek(r, ']'))
				r->p++;
			else
				for (;;)
				{
					if (t->ndim == ST_MAX_DIMS)
						return jfail(r, "too many dimensions");
					if (juint(r, &t->shape[t->ndim++]))
						return PGAI_ECORRUPT;
					if (jpeek(r, ','))
					{
						r->p++;
						continue;
					}
					if (jexpect(r, ']'))
						return PGAI_ECORRUPT;
					break;
				}
			have_shape = 1;
		}
		else if (strcmp(key, "data_offsets") == 0)
		{
			if (jexpect(r, '[') || juint(r, begin) || jexpect(r, ',') ||
				juint(r, finish) || jexpect(r, ']'))
				return PGAI_ECORRUPT;
			have_off = 1;
		}
		else if (jskip(r, 2))
			return PGAI_ECORRUPT;
		if (jpeek(r, ','))
		{
			r->p++;
			continue;
		}
		if (jexpect(r, '}'))
			return PGAI_ECORRUPT;
		break;
	}
	if (!have_dtype || !have_shape || !have_off)
		return jfail(r, "tensor entry lacks dtype, shape or data_offsets");
	return PGAI_OK;
}

pgai_status
st_parse(st_file *f, const unsigned char *buf, size_t len, const char *what,
		 pgai_error *err)
{
	uint64_t	hlen = 0;
	size_t		data_len;
	const unsigned char *data;
	jreader		r;
	int			cap = 0;

	memset(f, 0, sizeof(*f));
	if (len < 8)
		return pgai_error_set(err, PGAI_ECORRUPT,
							  "safetensors file \"%s\" is truncated (%zu bytes)", what, len);
	for (int i = 7; i >= 0; i--)
		hlen = (hlen << 8) | buf[i];
	if (hlen < 2 || hlen > ST_MAX_HEADER || hlen > len - 8)
		return pgai_error_set(err, PGAI_ECORRUPT,
							  "safetensors file \"%s\" has an invalid header length %llu for a file of %zu bytes",
							  what, (unsigned long long) hlen, len);
	data = buf + 8 + hlen;
	data_len = len - 8 - (size_t) hlen;

	r.start = r.p = (const char *) buf + 8;
	r.end = r.p + hlen;
	r.what = what;
	r.err = err;

	if (jexpect(&r, '{'))
		return PGAI_ECORRUPT;
	if (jpeek(&r, '}'))
		r.p++;
	else
		for (;;)
		{
			char		name[ST_MAX_NAME];

			if (jstring(&r, name, sizeof(name)) || jexpect(&r, ':'))
				goto fail;
			if (strcmp(name, "__metadata__") == 0)
			{
				if (jskip(&r, 1))
					goto fail;
			}
			else
			{
				st_tensor  *t;
				int64_t		begin = 0,
							finish = 0;
				uint64_t	count = 1;

				if (f->ntensors == cap)
				{
					int			ncap = cap ? cap * 2 : 128;
					st_tensor  *nt = realloc(f->tensors, (size_t) ncap * sizeof(st_tensor));

					if (nt == NULL)
					{
						st_close(f);
						return pgai_error_set(err, PGAI_ENOMEM,
											  "out of memory reading \"%s\"", what);
					}
					f->tensors = nt;
					cap = ncap;
				}
				t = &f->tensors[f->ntensors];
				memset(t, 0, sizeof(*t));
				memcpy(t->name, name, strlen(name) + 1);
				if (jtensor(&r, t, &begin, &finish))
					goto fail;
				for (int d = 0; d < t->ndim; d++)
				{
					if (t->shape[d] != 0 && count > UINT64_MAX / 16 / (uint64_t) t->shape[d])
					{
						pgai_error_set(err, PGAI_ECORRUPT,
									   "tensor \"%s\" in \"%s\" has an absurd shape", name, what);
						goto fail;
					}
					count *= (uint64_t) t->shape[d];
				}
				if (begin > finish || (uint64_t) finish > data_len)
				{
					pgai_error_set(err, PGAI_ECORRUPT,
								   "tensor \"%s\" in \"%s\" lies outside the file (bytes %lld..%lld of %zu): the file is truncated or corrupt",
								   name, what, (long long) begin, (long long) finish, data_len);
					goto fail;
				}
				count *= st_dtype_size(t->dtype);
				if (count != (uint64_t) (finish - begin))
				{
					pgai_error_set(err, PGAI_ECORRUPT,
								   "tensor \"%s\" in \"%s\" has %lld bytes but its shape needs %llu",
								   name, what, (long long) (finish - begin), (unsigned long long) count);
					goto fail;
				}
				t->data = data + begin;
				t->nbytes = (size_t) (finish - begin);
				f->ntensors++;
			}
			if (jpeek(&r, ','))
			{
				r.p++;
				continue;
			}
			if (jexpect(&r, '}'))
				goto fail;
			break;
		}
	jspace(&r);
	if (r.p != r.end)
	{
		jfail(&r, "trailing bytes after the header object");
		goto fail;
	}
	return PGAI_OK;

fail:
	st_close(f);
	return PGAI_ECORRUPT;
}

pgai_status
st_open(st_file *f, const char *path, pgai_error *err)
{
	int			fd;
	struct stat sb;
	void	   *map;
	pgai_status st;

	memset(f, 0, sizeof(*f));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pgai_error_set(err, errno == ENOENT ? PGAI_ENOENT : PGAI_EIO, "could not open model file \"%s\": %s",
							  path, strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
	{
		close(fd);
		return pgai_error_set(err, PGAI_EIO,
							  "model file \"%s\" is not a regular file", path);
	}
	if (sb.st_size < 8)
	{
		close(fd);
		return pgai_error_set(err, PGAI_ECORRUPT,
							  "safetensors file \"%s\" is truncated (%lld bytes)",
							  path, (long long) sb.st_size);
	}
	map = mmap(NULL, (size_t) sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return pgai_error_set(err, errno == ENOMEM ? PGAI_ENOMEM : PGAI_EIO, "could not map model file \"%s\": %s",
							  path, strerror(errno));
	st = st_parse(f, map, (size_t) sb.st_size, path, err);
	if (st != PGAI_OK)
	{
		munmap(map, (size_t) sb.st_size);
		return st;
	}
	f->map = map;
	f->map_len = (size_t) sb.st_size;
	return PGAI_OK;
}

const st_tensor *
st_find(const st_file *f, const char *name)
{
	for (int i = 0; i < f->ntensors; i++)
		if (strcmp(f->tensors[i].name, name) == 0)
			return &f->tensors[i];
	return NULL;
}

void
st_close(st_file *f)
{
	if (f->map != NULL)
		munmap(f->map, f->map_len);
	free(f->tensors);
	memset(f, 0, sizeof(*f));
}
