/*
 * test_provider_policy.c -- the URL allow list and the key-name rule,
 * including the spellings an attacker would try.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "pgai_provider.h"

static void
test_url_allowed(void **state)
{
	const char *list[] = {"https://api.openai.com/v1", "http://127.0.0.1:8080", NULL, ""};
	const size_t n = 4;

	(void) state;
	assert_true(provider_url_allowed("https://api.openai.com/v1", list, n));
	assert_true(provider_url_allowed("https://api.openai.com/v1/", list, n));
	assert_true(provider_url_allowed("https://API.OpenAI.com:443/v1/embeddings", list, n));
	assert_true(provider_url_allowed("http://127.0.0.1:8080/anything", list, n));
	/* another path, host, port or scheme */
	assert_false(provider_url_allowed("https://api.openai.com/v10", list, n));
	assert_false(provider_url_allowed("https://api.openai.com/", list, n));
	assert_false(provider_url_allowed("https://api.openai.com.evil.example/v1", list, n));
	assert_false(provider_url_allowed("https://api.openai.com:8443/v1", list, n));
	assert_false(provider_url_allowed("http://api.openai.com/v1", list, n));
	assert_false(provider_url_allowed("http://127.0.0.1:8081/", list, n));
	assert_false(provider_url_allowed("http://127.0.0.1/", list, n));
	/* credentials, other schemes, junk */
	assert_false(provider_url_allowed("https://api.openai.com@evil.example/v1", list, n));
	assert_false(provider_url_allowed("https://u:p@api.openai.com/v1", list, n));
	assert_false(provider_url_allowed("file:///etc/passwd", list, n));
	assert_false(provider_url_allowed("gopher://127.0.0.1:8080/", list, n));
	assert_false(provider_url_allowed("not a url", list, n));
	assert_false(provider_url_allowed("", list, n));
	assert_false(provider_url_allowed(NULL, list, n));
	assert_false(provider_url_allowed("https://api.openai.com/v1", list, 0));
}

static void
test_url_allowed_csv(void **state)
{
	(void) state;
	assert_true(provider_url_allowed_csv("http://localhost:11434/api/embed",
										 " https://a.example/v1 , http://localhost:11434 "));
	assert_true(provider_url_allowed_csv("https://a.example/v1/embeddings",
										 "https://a.example/v1,http://localhost:11434"));
	assert_false(provider_url_allowed_csv("https://b.example/v1", "https://a.example/v1"));
	assert_false(provider_url_allowed_csv("https://a.example/v1", ""));
	assert_false(provider_url_allowed_csv("https://a.example/v1", ",,"));
	assert_false(provider_url_allowed_csv("https://a.example/v1", NULL));
}

static void
test_key_name_allowed(void **state)
{
	(void) state;
	assert_true(provider_key_name_allowed("OPENAI_API_KEY"));
	assert_true(provider_key_name_allowed("VOYAGE_API_KEY"));
	assert_true(provider_key_name_allowed("TEAM2_API_KEY"));
	assert_false(provider_key_name_allowed("_API_KEY"));
	assert_false(provider_key_name_allowed("PGDATA"));
	assert_false(provider_key_name_allowed("AWS_SECRET_ACCESS_KEY"));
	assert_false(provider_key_name_allowed("openai_api_key"));
	assert_false(provider_key_name_allowed("OPENAI_API_KEY2"));
	assert_false(provider_key_name_allowed("1_API_KEY"));
	assert_false(provider_key_name_allowed("X-Y_API_KEY"));
	assert_false(provider_key_name_allowed(""));
	assert_false(provider_key_name_allowed(NULL));
	assert_false(provider_key_name_allowed(
										   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_API_KEY"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_allowed),
		cmocka_unit_test(test_url_allowed_csv),
		cmocka_unit_test(test_key_name_allowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
