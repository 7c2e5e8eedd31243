/*
 * safetensors.h: read-only access to a .safetensors file (internal to
 * core/model).
 *
 * The format: 8 bytes little-endian header length N, N bytes of JSON
 * mapping tensor names to {"dtype", "shape", "data_offsets": [begin, end]}
 * (offsets relative to the byte after the header) plus an optional
 * "__metadata__" object of strings, then the raw tensor data.
 *
 * st_open maps the whole file with PROT_READ / MAP_SHARED, so every process
 * that opens the same file shares its pages. The st_file owns the mapping
 * and the tensor table; tensor data pointers stay valid until st_close.
 * An st_file is read-only after st_open and may be shared between threads.
 */
#ifndef PGAI_MODEL_SAFETENSORS_H
#define PGAI_MODEL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "pgai_model.h"

#define ST_MAX_DIMS 8
#define ST_MAX_NAME 256
#define ST_MAX_HEADER (100u * 1024 * 1024)	/* the format's own limit */

typedef enum st_dtype
{
	ST_BOOL, ST_U8, ST_I8, ST_I16, ST_U16, ST_F16, ST_BF16, ST_I32, ST_U32,
	ST_F32, ST_F64, ST_I64, ST_U64
} st_dtype;

typedef struct st_tensor
{
	char		name[ST_MAX_NAME];
	st_dtype	dtype;
	int			ndim;
	int64_t		shape[ST_MAX_DIMS];
	const void *data;			/* points into the mapping */
	size_t		nbytes;
} st_tensor;

typedef struct st_file
{
	void	   *map;			/* NULL when parsing a caller's buffer */
	size_t		map_len;
	st_tensor  *tensors;		/* owned */
	int			ntensors;
} st_file;

/* Map `path` and validate every tensor entry against the file size. */
pgai_status st_open(st_file *f, const char *path, pgai_error *err);

/*
 * Parse a whole safetensors image already in memory (not copied: `buf` must
 * outlive `f`). `what` names it in messages. Used by st_open and tests.
 */
pgai_status st_parse(st_file *f, const unsigned char *buf, size_t len,
					 const char *what, pgai_error *err);

/* The tensor called `name`, or NULL. */
const st_tensor *st_find(const st_file *f, const char *name);

/* Unmap and free. Safe on a zeroed or already closed st_file. */
void		st_close(st_file *f);

/* Size in bytes of one element of a dtype. */
size_t		st_dtype_size(st_dtype dtype);
const char *st_dtype_name(st_dtype dtype);

#endif
