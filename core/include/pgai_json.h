/*
 * pgai_json.h -- a small JSON writer and reader for provider requests and
 * responses (RFC 8259).  No global state; every object belongs to one
 * thread at a time.
 *
 * Writer: json_buf is a growable byte buffer.  Append functions never
 * fail loudly: an allocation failure sets buf->failed, later appends do
 * nothing, and json_buf_status() reports PGAI_ENOMEM once at the end.
 * The data is always NUL-terminated (when data != NULL) for convenience;
 * len excludes the NUL.  The caller owns the buffer and frees it with
 * json_buf_free().
 *
 * Reader: json_parse() validates a whole document (UTF-8, grammar,
 * nesting depth at most JSON_MAX_DEPTH, size below 4 GiB) and builds a
 * flat array of nodes in document order that point into the caller's
 * text; the text must outlive the json_doc.  Nodes are addressed by
 * json_ref.  Objects are walked with json_iter (duplicate keys are kept;
 * json_get returns the first).  Numbers are converted without the C
 * locale (strtod depends on LC_NUMERIC).
 */
#ifndef PGAI_JSON_H
#define PGAI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pgai_error.h"

/* ------------------------------------------------------------------ */
/* Writer                                                             */
/* ------------------------------------------------------------------ */

/*
 * Where a json_buf's bytes come from, when not from malloc (the extension
 * puts a provider's reply in a memory context, so the backend counts it).
 * grow returns a block of n bytes whose first `used` bytes are those of p
 * (p NULL: used is 0) and gives p back, or returns NULL and leaves p as
 * it was; release gives p back.  Neither may longjmp: they run inside
 * libcurl's callbacks.
 */
typedef struct json_allocator
{
	void	   *(*grow) (void *arg, void *p, size_t used, size_t n);
	void		(*release) (void *arg, void *p);
	void	   *arg;
} json_allocator;

typedef struct json_buf
{
	char	   *data;			/* NUL-terminated, or NULL */
	size_t		len;			/* bytes written, excluding the NUL */
	size_t		cap;			/* bytes allocated */
	bool		failed;			/* an allocation failed; content is partial */
	const json_allocator *alloc;	/* NULL: malloc; must outlive the data */
} json_buf;

/* An empty buffer (no allocation until the first append), using malloc. */
void		json_buf_init(json_buf *b);

/* Free the data and reset to empty, keeping the allocator.  b may be NULL. */
void		json_buf_free(json_buf *b);

/* Keep the allocation, set len to 0 and clear `failed`. */
void		json_buf_reset(json_buf *b);

/* Make room for `extra` more bytes; false (and failed set) on OOM. */
bool		json_buf_reserve(json_buf *b, size_t extra);

/* Append raw bytes / a NUL-terminated string, unescaped. */
void		json_buf_append(json_buf *b, const char *s, size_t n);
void		json_buf_puts(json_buf *b, const char *s);

/*
 * Append s[0..n) as a JSON string literal with its quotes.  Escapes '"',
 * '\\' and every byte below 0x20 (\b \f \n \r \t, others as \u00XX);
 * other bytes, including UTF-8 sequences, are copied as they are, so
 * the caller validates UTF-8 when the text may not be.
 */
void		json_write_string(json_buf *b, const char *s, size_t n);

/* Bytes json_write_string would append for s[0..n) (quotes included). */
size_t		json_string_size(const char *s, size_t n);

/* Append an integer. */
void		json_write_int(json_buf *b, long long v);

/* PGAI_OK, or PGAI_ENOMEM (with a message) if an append failed. */
pgai_status json_buf_status(const json_buf *b, pgai_error *err);

/* ------------------------------------------------------------------ */
/* Reader                                                             */
/* ------------------------------------------------------------------ */

#define JSON_MAX_DEPTH 256

typedef enum json_type
{
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT
} json_type;

/* Index of a node in a json_doc; JSON_NONE means "absent". */
typedef uint32_t json_ref;
#define JSON_NONE ((json_ref) UINT32_MAX)

typedef struct json_doc json_doc;

/*
 * Parse text[0..len) (need not be NUL-terminated).  On success *out is a
 * new document the caller frees with json_doc_free.  On failure *out is
 * NULL and the status is PGAI_EJSON (message names the byte offset and
 * what was expected), PGAI_EUTF8 or PGAI_ENOMEM.
 */
pgai_status json_parse(const char *text, size_t len, json_doc **out,
					   pgai_error *err);

void		json_doc_free(json_doc *doc);

/* The top-level value. */
json_ref	json_root(const json_doc *doc);

/* Type of node r (JSON_NULL for JSON_NONE). */
json_type	json_type_of(const json_doc *doc, json_ref r);

/* Elements of an array / members of an object; 0 for other nodes. */
size_t		json_size(const json_doc *doc, json_ref r);

/* Value of the first member named `key` of object r, or JSON_NONE. */
json_ref	json_get(const json_doc *doc, json_ref r, const char *key);

/*
 * Iterate over an array or object:
 *   json_iter it; json_ref k, v;
 *   json_iter_init(&it, doc, r);
 *   while (json_iter_next(&it, &k, &v)) ...
 * k is the key node (a string) for objects, JSON_NONE for arrays.
 */
typedef struct json_iter
{
	const json_doc *doc;
	json_ref	cur;
	json_ref	end;
	bool		object;
} json_iter;

void		json_iter_init(json_iter *it, const json_doc *doc, json_ref r);
bool		json_iter_next(json_iter *it, json_ref *key, json_ref *value);

/*
 * Number value of r as a double.  False if r is not a number or is out
 * of double range.  json_int requires an integral value in int64 range.
 */
bool		json_number(const json_doc *doc, json_ref r, double *out);
bool		json_int(const json_doc *doc, json_ref r, int64_t *out);

/*
 * Raw bytes between the quotes of string node r (pointing into the
 * caller's text); *escaped tells whether they contain backslash escapes
 * and so differ from the decoded value.  False if r is not a string.
 */
bool		json_string_raw(const json_doc *doc, json_ref r, const char **s,
							size_t *n, bool *escaped);

/*
 * Decoded value of string node r into a new malloc'd, NUL-terminated
 * buffer (*out, caller frees; *n its length, may contain NULs).  Escaped
 * surrogate pairs become UTF-8; a lone escaped surrogate becomes U+FFFD.
 */
pgai_status json_string_dup(const json_doc *doc, json_ref r, char **out,
							size_t *n, pgai_error *err);

/*
 * Decode string node r into buf[0..cap) with a NUL, truncating at a
 * UTF-8 character boundary if it does not fit.  Returns false if r is
 * not a string.
 */
bool		json_string_copy(const json_doc *doc, json_ref r, char *buf,
							 size_t cap);

/* True if r is a string whose decoded value equals the C string s. */
bool		json_string_equals(const json_doc *doc, json_ref r, const char *s);

/*
 * Convert the JSON number text s[0..n) (RFC 8259 grammar) to a double
 * without depending on the locale.  False on bad syntax or overflow.
 */
bool		json_parse_number(const char *s, size_t n, double *out);

#endif							/* PGAI_JSON_H */
