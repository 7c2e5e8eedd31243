/*
 * providers.c -- the provider table: one row per provider kind (names,
 * endpoint, environment variables, batch limits, whether "dimensions" is
 * sent by default) and the models whose dimensions are known.
 *
 * The client (client.c, wire.c), the extension's SQL functions and the
 * worker all read these facts here, so adding a provider or a model is
 * one edit.  Static data only: safe from any thread.
 */
#include <stddef.h>
#include <string.h>

#include "pgai_provider.h"

static const provider_info providers[] = {
	{
		.kind = PROVIDER_OPENAI,
		.name = "openai",
		.default_url = PROVIDER_OPENAI_DEFAULT_URL,
		.path = "/embeddings",
		.key_env = "OPENAI_API_KEY",
		.url_env = "OPENAI_BASE_URL",
		.max_inputs = 2048,
		.max_request_bytes = 1 << 20,
		.sends_dimensions = true,
	},
	{
		.kind = PROVIDER_OLLAMA,
		.name = "ollama",
		.default_url = PROVIDER_OLLAMA_DEFAULT_URL,
		.path = "/api/embed",
		.url_env = "OLLAMA_HOST",
		.max_inputs = 512,
		.max_request_bytes = 4 << 20,
	},
	{
		.kind = PROVIDER_VOYAGE,
		.name = "voyageai",
		.alias = "voyage",
		.default_url = PROVIDER_VOYAGE_DEFAULT_URL,
		.path = "/embeddings",
		.key_env = "VOYAGE_API_KEY",
		.max_inputs = 128,
		.max_request_bytes = 512 << 10,
	},
};

/*
 * Native dimensions of models whose size a caller need not state, and
 * the one model that refuses a "dimensions" field (older than the
 * text-embedding-3 family).
 */
static const struct
{
	const char *model;
	int			dims;
	bool		rejects_dimensions;
}			known_models[] = {
	{"text-embedding-3-small", 1536, false}, {"text-embedding-3-large", 3072, false},
	{"text-embedding-ada-002", 1536, true},
	{"voyage-3", 1024, false}, {"voyage-3-lite", 512, false}, {"voyage-3.5", 1024, false},
	{"voyage-3.5-lite", 1024, false}, {"voyage-3-large", 1024, false},
	{"voyage-code-3", 1024, false}, {"voyage-finance-2", 1024, false},
	{"voyage-law-2", 1024, false}, {"voyage-multilingual-2", 1024, false},
	{"nomic-embed-text", 768, false}, {"mxbai-embed-large", 1024, false},
	{"all-minilm", 384, false}, {"snowflake-arctic-embed", 1024, false},
	{"bge-m3", 1024, false},
};

#define N_PROVIDERS (sizeof(providers) / sizeof(providers[0]))
#define N_MODELS (sizeof(known_models) / sizeof(known_models[0]))

const provider_info *
provider_info_of(provider_kind kind)
{
	for (size_t i = 0; i < N_PROVIDERS; i++)
		if (providers[i].kind == kind)
			return &providers[i];
	return NULL;
}

const char *
provider_kind_name(provider_kind kind)
{
	const provider_info *p = provider_info_of(kind);

	return p != NULL ? p->name : "unknown provider";
}

bool
provider_kind_parse(const char *name, provider_kind *kind)
{
	for (size_t i = 0; i < N_PROVIDERS; i++)
		if (strcmp(name, providers[i].name) == 0 ||
			(providers[i].alias != NULL && strcmp(name, providers[i].alias) == 0))
		{
			*kind = providers[i].kind;
			return true;
		}
	return false;
}

int
provider_model_dimensions(const char *model)
{
	if (model == NULL)
		return 0;
	for (size_t i = 0; i < N_MODELS; i++)
		if (strcmp(known_models[i].model, model) == 0)
			return known_models[i].dims;
	return 0;
}

bool
provider_sends_dimensions(provider_kind kind, const char *model)
{
	const provider_info *p = provider_info_of(kind);

	if (p == NULL || !p->sends_dimensions)
		return false;
	for (size_t i = 0; i < N_MODELS; i++)
		if (model != NULL && strcmp(known_models[i].model, model) == 0)
			return !known_models[i].rejects_dimensions;
	return true;
}
