/*
 * unicode_tables.h: the generated character tables the tokenizer reads
 * (see gen/gen_unicode.py). All data is static and read-only, so any number
 * of threads may use it at once.
 */
#ifndef PGAI_MODEL_UNICODE_TABLES_H
#define PGAI_MODEL_UNICODE_TABLES_H

#include <stddef.h>
#include <stdint.h>

#define TOK_UC_DROP  1			/* removed by text cleaning */
#define TOK_UC_SPACE 2			/* White_Space: becomes ' ' */
#define TOK_UC_PUNCT 4			/* split off as its own word */
#define TOK_UC_MN    8			/* nonspacing mark: removed by accent
								 * stripping */

typedef struct tok_uc_map
{
	uint32_t	cp;				/* code point */
	uint16_t	off;			/* first code point of the mapping in the pool */
	uint16_t	len;			/* number of code points */
} tok_uc_map;

typedef struct tok_uc_ccc
{
	uint32_t	cp;
	uint8_t		ccc;			/* canonical combining class, never 0 here */
} tok_uc_ccc;

extern const char tok_uc_unicode_version[];
extern const uint16_t tok_uc_stage1[0x1100];
extern const uint8_t tok_uc_stage2[];
extern const tok_uc_map tok_uc_decomp[];
extern const size_t tok_uc_decomp_len;
extern const uint32_t tok_uc_decomp_pool[];
extern const tok_uc_map tok_uc_lower[];
extern const size_t tok_uc_lower_len;
extern const uint32_t tok_uc_lower_pool[];
extern const tok_uc_ccc tok_uc_ccc_table[];
extern const size_t tok_uc_ccc_table_len;

static inline unsigned
tok_uc_flags(uint32_t cp)
{
	if (cp >= 0x110000)
		return 0;
	return tok_uc_stage2[(size_t) tok_uc_stage1[cp >> 8] * 256 + (cp & 0xFF)];
}

#endif
