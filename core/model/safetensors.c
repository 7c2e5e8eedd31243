/*
 * safetensors.c: parse and map .safetensors files.
 *
 * The JSON header is read with core/json (the one JSON reader of core:
 * validating, non-recursive, nesting capped). Every offset and shape is
 * checked against the file size before a tensor pointer is handed out, so
 * a truncated or tampered file yields PGAI_ECORRUPT naming the path, never
 * a read past the mapping. Ownership: see safetensors.h.
 */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pgai_json.h"

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

/* ---- the header, read with core/json ---- */

#define N_DTYPES (sizeof(dtypes) / sizeof(dtypes[0]))

static pgai_status
bad_header(pgai_error *err, const char *what, const char *msg)
{
	return pgai_error_set(err, PGAI_ECORRUPT,
						  "invalid safetensors header in \"%s\": %s", what, msg);
}

/* Node r is a non-negative integer (a dimension or an offset). */
static bool
get_uint(const json_doc *doc, json_ref r, int64_t *out)
{
	return json_int(doc, r, out) && *out >= 0;
}

/* Read one tensor description object v into t (offsets separately). */
static pgai_status
read_tensor(const json_doc *doc, json_ref v, st_tensor *t, int64_t *begin,
			int64_t *finish, const char *what, pgai_error *err)
{
	json_ref	dtype = json_get(doc, v, "dtype"),
				shape = json_get(doc, v, "shape"),
				offs = json_get(doc, v, "data_offsets"),
				k,
				x;
	json_iter	it;
	size_t		i;

	if (json_type_of(doc, v) != JSON_OBJECT)
		return bad_header(err, what, "a tensor entry is not an object");
	if (dtype == JSON_NONE || shape == JSON_NONE || offs == JSON_NONE)
		return bad_header(err, what, "tensor entry lacks dtype, shape or data_offsets");
	for (i = 0; i < N_DTYPES; i++)
		if (json_string_equals(doc, dtype, dtypes[i].name))
			break;
	if (i == N_DTYPES)
		return bad_header(err, what, "unknown dtype");
	t->dtype = (st_dtype) i;
	if (json_type_of(doc, shape) != JSON_ARRAY)
		return bad_header(err, what, "shape is not an array");
	if (json_size(doc, shape) > ST_MAX_DIMS)
		return bad_header(err, what, "too many dimensions");
	t->ndim = 0;
	json_iter_init(&it, doc, shape);
	while (json_iter_next(&it, &k, &x))
		if (!get_uint(doc, x, &t->shape[t->ndim++]))
			return bad_header(err, what, "a dimension is not a non-negative integer");
	if (json_type_of(doc, offs) != JSON_ARRAY || json_size(doc, offs) != 2)
		return bad_header(err, what, "data_offsets is not a pair of integers");
	json_iter_init(&it, doc, offs);
	if (!json_iter_next(&it, &k, &x) || !get_uint(doc, x, begin) ||
		!json_iter_next(&it, &k, &x) || !get_uint(doc, x, finish))
		return bad_header(err, what, "data_offsets is not a pair of non-negative integers");
	return PGAI_OK;
}

/* Check t's shape and offsets against the data section and point it there. */
static pgai_status
place_tensor(st_tensor *t, int64_t begin, int64_t finish, const unsigned char *data,
			 size_t data_len, const char *what, pgai_error *err)
{
	uint64_t	count = 1;

	for (int d = 0; d < t->ndim; d++)
	{
		if (t->shape[d] != 0 && count > UINT64_MAX / 16 / (uint64_t) t->shape[d])
			return pgai_error_set(err, PGAI_ECORRUPT,
								  "tensor \"%s\" in \"%s\" has an absurd shape", t->name, what);
		count *= (uint64_t) t->shape[d];
	}
	if (begin > finish || (uint64_t) finish > data_len)
		return pgai_error_set(err, PGAI_ECORRUPT,
							  "tensor \"%s\" in \"%s\" lies outside the file (bytes %lld..%lld of %zu): the file is truncated or corrupt",
							  t->name, what, (long long) begin, (long long) finish, data_len);
	count *= st_dtype_size(t->dtype);
	if (count != (uint64_t) (finish - begin))
		return pgai_error_set(err, PGAI_ECORRUPT,
							  "tensor \"%s\" in \"%s\" has %lld bytes but its shape needs %llu",
							  t->name, what, (long long) (finish - begin), (unsigned long long) count);
	t->data = data + begin;
	t->nbytes = (size_t) (finish - begin);
	return PGAI_OK;
}

pgai_status
st_parse(st_file *f, const unsigned char *buf, size_t len, const char *what,
		 pgai_error *err)
{
	uint64_t	hlen = 0;
	size_t		data_len;
	const unsigned char *data;
	json_doc   *doc = NULL;
	json_ref	root,
				k,
				v;
	json_iter	it;
	pgai_error	jerr;
	pgai_status st;

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

	st = json_parse((const char *) buf + 8, (size_t) hlen, &doc, &jerr);
	if (st == PGAI_ENOMEM)
		return pgai_error_set(err, st, "out of memory reading \"%s\"", what);
	if (st != PGAI_OK)
		return bad_header(err, what, jerr.message);
	root = json_root(doc);
	if (json_type_of(doc, root) != JSON_OBJECT)
	{
		st = bad_header(err, what, "the header is not an object");
		goto done;
	}
	if (json_size(doc, root) > 0)
	{
		f->tensors = calloc(json_size(doc, root), sizeof(st_tensor));
		if (f->tensors == NULL)
		{
			st = pgai_error_set(err, PGAI_ENOMEM, "out of memory reading \"%s\"", what);
			goto done;
		}
	}
	json_iter_init(&it, doc, root);
	while (json_iter_next(&it, &k, &v))
	{
		st_tensor  *t = &f->tensors[f->ntensors];
		char	   *name;
		size_t		n;
		int64_t		begin = 0,
					finish = 0;

		/* __metadata__ holds strings about the file, not a tensor */
		if (json_string_equals(doc, k, "__metadata__"))
			continue;
		if ((st = json_string_dup(doc, k, &name, &n, err)) != PGAI_OK)
			goto done;
		if (n >= ST_MAX_NAME || memchr(name, '\0', n) != NULL)
			st = bad_header(err, what, "a tensor name is too long or holds a NUL");
		else
			memcpy(t->name, name, n + 1);
		free(name);
		if (st != PGAI_OK ||
			(st = read_tensor(doc, v, t, &begin, &finish, what, err)) != PGAI_OK ||
			(st = place_tensor(t, begin, finish, data, data_len, what, err)) != PGAI_OK)
			goto done;
		f->ntensors++;
	}

done:
	json_doc_free(doc);
	if (st != PGAI_OK)
		st_close(f);
	return st;
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
