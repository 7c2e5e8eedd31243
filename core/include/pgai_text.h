/*
 * pgai_text.h -- text handling shared by the extension and the worker:
 * UTF-8 helpers (utf8_), Python string.Template formatting (tmpl_) and
 * LangChain-compatible text splitters (chunk_).
 *
 * Plain C11, no PostgreSQL headers, memory from malloc/free.  Every
 * function that can fail returns a pgai_status and fills the caller-owned
 * pgai_error (which may be NULL when the caller does not want a message).
 * On failure, nothing is left allocated and output parameters are reset.
 *
 * Text is UTF-8 given as (pointer, byte length); it need not be
 * NUL-terminated and may contain NUL bytes.  "Length" of text in the
 * chunkers means Unicode code points, as Python's len().
 */
#ifndef PGAI_TEXT_H
#define PGAI_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pgai_error.h"

/* ------------------------------------------------------------------ */
/* UTF-8                                                              */
/* ------------------------------------------------------------------ */

/*
 * Check that s[0..len) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF), i.e. decodable by Python's
 * bytes.decode("utf-8").  Returns PGAI_OK or PGAI_EUTF8 (the message gives
 * the byte offset of the first bad sequence).
 */
pgai_status utf8_validate(const char *s, size_t len, pgai_error *err);

/* Number of code points in valid UTF-8 s[0..len). */
size_t		utf8_count(const char *s, size_t len);

/* True if code point cp is whitespace for Python's str.isspace(). */
bool		utf8_py_isspace(uint32_t cp);

/* The value of hexadecimal digit c (either case), or -1. */
int			hex_digit_value(int c);

/* ------------------------------------------------------------------ */
/* Templates: Python string.Template.substitute (CPython 3.11)        */
/* ------------------------------------------------------------------ */

/*
 * Syntax: "$$" is a literal "$"; "$name" and "${name}" are placeholders
 * where name is ASCII [_a-zA-Z][_a-zA-Z0-9]* (the longest such run after
 * "$"); any other "$" is an invalid placeholder.  Names are
 * case-sensitive.
 */
typedef struct tmpl tmpl;

/*
 * Parse src[0..len) (UTF-8).  On PGAI_OK *out is a new template owned by
 * the caller (free with tmpl_free); it keeps its own copy of src.  Errors:
 * PGAI_ETEMPLATE_SYNTAX with Python's message "Invalid placeholder in
 * string: line L, col C" (both 1-based, columns in code points, lines
 * split as str.splitlines), PGAI_EUTF8, PGAI_ENOMEM.  *out is NULL on
 * failure.
 */
pgai_status tmpl_parse(const char *src, size_t len, tmpl **out, pgai_error *err);

/* Number of distinct placeholder names. */
size_t		tmpl_name_count(const tmpl *t);

/*
 * The i-th distinct name (0-based, in order of first appearance), a
 * NUL-terminated string owned by the template; NULL if i is out of range.
 */
const char *tmpl_name(const tmpl *t, size_t i);

/*
 * Look up `name` (NUL-terminated, owned by the template).  Return PGAI_OK
 * and set *value and *value_len (the value must stay valid until tmpl_render
 * returns; tmpl_render copies it), or PGAI_ETEMPLATE_NAME if the name is
 * unknown (tmpl_render then writes the message), or any other status after
 * filling err yourself (it is passed through).
 */
typedef pgai_status (*tmpl_lookup_fn) (void *arg, const char *name,
									   const char **value, size_t *value_len,
									   pgai_error *err);

/*
 * Substitute every placeholder, calling lookup once per occurrence in
 * order.  On PGAI_OK *out is a malloc'd NUL-terminated string owned by the
 * caller (free()) and *out_len its byte length (out_len may be NULL).  A
 * missing name gives PGAI_ETEMPLATE_NAME with the message
 * `template references unknown name "NAME"`.  *out is NULL on failure.
 */
pgai_status tmpl_render(const tmpl *t, tmpl_lookup_fn lookup, void *arg,
						char **out, size_t *out_len, pgai_error *err);

/* Free a template; NULL is allowed. */
void		tmpl_free(tmpl *t);

/* ------------------------------------------------------------------ */
/* Chunkers: langchain_text_splitters CharacterTextSplitter and       */
/* RecursiveCharacterTextSplitter (length_function=len,               */
/* strip_whitespace=True, add_start_index=False)                      */
/* ------------------------------------------------------------------ */

typedef enum chunk_keep
{
	CHUNK_KEEP_DEFAULT = 0,		/* the class default: NONE for character,
								 * START for recursive */
	CHUNK_KEEP_NONE,			/* keep_separator=False */
	CHUNK_KEEP_START,			/* keep_separator=True or "start" */
	CHUNK_KEEP_END				/* keep_separator="end" */
} chunk_keep;

/*
 * Splitter configuration; zero-initialise, then set what you need.  The
 * struct and the strings it points to stay owned by the caller and are
 * only read during the call.
 */
typedef struct chunk_config
{
	int64_t		chunk_size;		/* must be > 0 (code points) */
	int64_t		chunk_overlap;	/* must be >= 0 and <= chunk_size */

	/*
	 * NUL-terminated UTF-8 separators.  Character splitter: uses
	 * separators[0] (n_separators 0 means the default "\n\n").  Recursive
	 * splitter: tried in order (n_separators 0 means the default {"\n\n",
	 * "\n", " ", ""}).  An empty separator splits into single characters.
	 */
	const char *const *separators;
	size_t		n_separators;

	/*
	 * false: separators are literal strings (as re.escape(sep)).  true: they
	 * are Python regular expressions, run with PCRE2 in UTF+UCP mode (newline
	 * LF) after translating the Python-only spellings (\Z, \v, \uHHHH,
	 * \UHHHHHHHH, \xhh, {,n}, Python's \s set, '[' in a class); escapes
	 * Python rejects and global flags after the start are rejected.  Known
	 * gaps: the inline flags a/L/u, \N{name}, and \S inside a character class
	 * keep PCRE2 meanings.
	 */
	bool		is_separator_regex;
	chunk_keep	keep_separator;
} chunk_config;

/* One chunk: bytes ptr[0..len), followed by a NUL not counted in len. */
typedef struct chunk_span
{
	const char *ptr;
	size_t		len;
} chunk_span;

struct chunk_block;				/* private storage */

/*
 * The result of a splitter.  items[0..count) are owned by the list (their
 * bytes live in `blocks`) and stay valid until chunk_list_free.
 * n_oversized counts the "Created a chunk of size N, which is longer than
 * the specified M" warnings LangChain would have logged (such chunks are
 * kept whole).
 */
typedef struct chunk_list
{
	chunk_span *items;
	size_t		count;
	size_t		capacity;
	size_t		n_oversized;
	struct chunk_block *blocks;
} chunk_list;

/*
 * CharacterTextSplitter(separator, is_separator_regex, keep_separator,
 * chunk_size, chunk_overlap).split_text(text).
 *
 * *out is (re)initialised first: do not pass a list that still owns chunks.
 * On PGAI_OK the caller owns *out and must chunk_list_free it; on failure
 * *out is empty and owns nothing.  Errors: PGAI_EINVAL (bad config, same
 * conditions as LangChain's ValueError), PGAI_EUTF8 (text or a separator
 * not UTF-8), PGAI_EREGEX (regex does not compile, hits PCRE2's match
 * limit, or has a capture group that does not take part in a match when
 * Python would concatenate it), PGAI_ENOMEM.
 *
 * Runs in time linear in len(text) + total output size (per separator).
 */
pgai_status chunk_character(const char *text, size_t len, const chunk_config *cfg,
							chunk_list *out, pgai_error *err);

/*
 * RecursiveCharacterTextSplitter(separators, keep_separator,
 * is_separator_regex, chunk_size, chunk_overlap).split_text(text).
 * Ownership, errors and complexity as chunk_character.  As in LangChain,
 * a piece that no remaining separator can split is emitted whole and
 * without stripping.
 */
pgai_status chunk_recursive(const char *text, size_t len, const chunk_config *cfg,
							chunk_list *out, pgai_error *err);

/*
 * Compile, without splitting anything, every separator regex that
 * chunk_recursive (recursive true) or chunk_character would compile for
 * cfg: the same translation and PCRE2 options, and the grouped form the
 * splitters use to keep separators.  So a configuration accepted here
 * never fails a row for a regex that does not compile.  PGAI_OK when
 * is_separator_regex is false.  On PGAI_EREGEX, *bad (if not NULL) is the
 * index of the separator and the message quotes at most 64 bytes of it;
 * other errors as chunk_character (PGAI_EINVAL, PGAI_EUTF8, PGAI_ENOMEM).
 */
pgai_status chunk_check_separators(const chunk_config *cfg, bool recursive,
								   size_t *bad, pgai_error *err);

/* Free everything the list owns and reset it to empty; NULL is allowed. */
void		chunk_list_free(chunk_list *list);

#endif							/* PGAI_TEXT_H */
