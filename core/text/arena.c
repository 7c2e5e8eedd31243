/*
 * arena.c -- the bump allocator behind chunk lists and splitter scratch
 * space.  The arena owns every block; callers own the arena head.
 */
#include <stdlib.h>

#include "text_internal.h"

#define ARENA_MIN_BLOCK (64 * 1024)

void *
text_arena_alloc(struct chunk_block **head, size_t n)
{
	struct chunk_block *b = *head;
	size_t		need = (n + 7) & ~(size_t) 7;

	if (need < n)
		return NULL;
	if (b == NULL || b->cap - b->used < need)
	{
		size_t		cap = need > ARENA_MIN_BLOCK ? need : ARENA_MIN_BLOCK;

		if (cap > SIZE_MAX - sizeof(struct chunk_block))
			return NULL;
		b = malloc(sizeof(struct chunk_block) + cap);
		if (b == NULL)
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = *head;
		*head = b;
	}
	b->used += need;
	return b->data + b->used - need;
}

void
text_arena_free(struct chunk_block **head)
{
	struct chunk_block *b = *head;

	while (b != NULL)
	{
		struct chunk_block *next = b->next;

		free(b);
		b = next;
	}
	*head = NULL;
}
