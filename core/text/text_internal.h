/*
 * text_internal.h -- helpers shared by the files of core/text only.
 * Not installed, not part of the public API (see pgai_text.h).
 */
#ifndef TEXT_INTERNAL_H
#define TEXT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "pgai_text.h"

/*
 * Decode one code point at s (valid UTF-8, len >= 1 bytes available);
 * *adv gets its byte length.
 */
uint32_t	text_decode(const char *s, size_t len, size_t *adv);

/* Bytes of leading / trailing Python whitespace of valid UTF-8 s[0..len). */
size_t		text_lead_space(const char *s, size_t len);
size_t		text_trail_space(const char *s, size_t len);

/*
 * A bump allocator: a singly linked list of blocks, newest first.  Memory
 * is released only all at once by text_arena_free.  Pointers handed out
 * stay valid until then.
 */
struct chunk_block
{
	struct chunk_block *next;
	size_t		used;
	size_t		cap;
	char		data[];
};

/* n bytes (8-aligned) from the arena at *head, or NULL when out of memory. */
void	   *text_arena_alloc(struct chunk_block **head, size_t n);
void		text_arena_free(struct chunk_block **head);

/*
 * Translate a Python `re` pattern into PCRE2 syntax (see chunk_regex.c).
 * On PGAI_OK *out is malloc'd, NUL-terminated, owned by the caller.
 */
pgai_status text_regex_translate(const char *pat, size_t len, char **out,
								 size_t *out_len, pgai_error *err);

#endif							/* TEXT_INTERNAL_H */
