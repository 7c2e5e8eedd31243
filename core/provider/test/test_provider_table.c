/*
 * test_provider_table.c -- the provider table (providers.c): the one
 * place the extension, the worker and the client look up a provider's
 * names, endpoint, environment variables, limits and known models.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../provider_internal.h"

static void
test_names(void **state)
{
	provider_kind k;

	(void) state;
	for (k = PROVIDER_OPENAI; k <= PROVIDER_VOYAGE; k++)
	{
		const provider_info *p = provider_info_of(k);
		provider_kind back;

		assert_non_null(p);
		assert_int_equal(p->kind, k);
		assert_string_equal(provider_kind_name(k), p->name);
		assert_true(provider_kind_parse(p->name, &back));
		assert_int_equal(back, k);
	}
	assert_true(provider_kind_parse("voyage", &k));
	assert_int_equal(k, PROVIDER_VOYAGE);
	assert_false(provider_kind_parse("OpenAI", &k));
	assert_false(provider_kind_parse("", &k));
	assert_null(provider_info_of((provider_kind) 0));
	assert_string_equal(provider_kind_name((provider_kind) 99), "unknown provider");
}

static void
test_endpoints_and_environment(void **state)
{
	const provider_info *o = provider_info_of(PROVIDER_OPENAI);
	const provider_info *l = provider_info_of(PROVIDER_OLLAMA);
	const provider_info *v = provider_info_of(PROVIDER_VOYAGE);

	(void) state;
	assert_string_equal(o->default_url, "https://api.openai.com/v1");
	assert_string_equal(l->default_url, "http://localhost:11434");
	assert_string_equal(v->default_url, "https://api.voyageai.com/v1");
	assert_string_equal(o->path, "/embeddings");
	assert_string_equal(l->path, "/api/embed");
	assert_string_equal(v->path, "/embeddings");
	assert_string_equal(o->key_env, "OPENAI_API_KEY");
	assert_null(l->key_env);
	assert_string_equal(v->key_env, "VOYAGE_API_KEY");
	assert_string_equal(o->url_env, "OPENAI_BASE_URL");
	assert_string_equal(l->url_env, "OLLAMA_HOST");
	assert_null(v->url_env);
}

static void
test_limits_are_the_option_defaults(void **state)
{
	(void) state;
	for (provider_kind k = PROVIDER_OPENAI; k <= PROVIDER_VOYAGE; k++)
	{
		provider_options o;

		provider_options_init(&o, k);
		assert_int_equal(o.max_inputs, provider_info_of(k)->max_inputs);
		assert_int_equal(o.max_request_bytes, provider_info_of(k)->max_request_bytes);
	}
	assert_int_equal(provider_info_of(PROVIDER_OPENAI)->max_inputs, 2048);
	assert_int_equal(provider_info_of(PROVIDER_OLLAMA)->max_request_bytes, 4 << 20);
	assert_int_equal(provider_info_of(PROVIDER_VOYAGE)->max_inputs, 128);
}

static void
test_models(void **state)
{
	(void) state;
	assert_int_equal(provider_model_dimensions("text-embedding-3-small"), 1536);
	assert_int_equal(provider_model_dimensions("text-embedding-3-large"), 3072);
	assert_int_equal(provider_model_dimensions("voyage-3-lite"), 512);
	assert_int_equal(provider_model_dimensions("nomic-embed-text"), 768);
	assert_int_equal(provider_model_dimensions("no-such-model"), 0);
	assert_int_equal(provider_model_dimensions(NULL), 0);
	/* the worker's rule, as pgai's: every OpenAI model but ada-002 */
	assert_true(provider_sends_dimensions(PROVIDER_OPENAI, "text-embedding-3-small"));
	assert_true(provider_sends_dimensions(PROVIDER_OPENAI, "some-compatible-model"));
	assert_false(provider_sends_dimensions(PROVIDER_OPENAI, "text-embedding-ada-002"));
	assert_false(provider_sends_dimensions(PROVIDER_OLLAMA, "nomic-embed-text"));
	assert_false(provider_sends_dimensions(PROVIDER_VOYAGE, "voyage-3"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_endpoints_and_environment),
		cmocka_unit_test(test_limits_are_the_option_defaults),
		cmocka_unit_test(test_models),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
