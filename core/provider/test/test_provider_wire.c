/*
 * test_provider_wire.c -- request bodies of each provider, response
 * validation (count, index permutation, dimensions, base64 and float
 * arrays, malformed JSON), option validation, and offline client
 * behaviour (connection refused, cancellation, UTF-8 row errors).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../provider_internal.h"

static const char *const texts[] = {"hello", "wo\"rld\n", "\xc3\xa9"};
static const size_t idx3[] = {0, 1, 2};

static wire_config
config(provider_kind kind)
{
	wire_config c;

	memset(&c, 0, sizeof(c));
	c.kind = kind;
	c.model = "m";
	c.dimensions = 2;
	return c;
}

static void
build(const wire_config *c, const size_t *idx, size_t m, const char *want)
{
	json_buf	b;

	json_buf_init(&b);
	assert_int_equal(wire_build(c, texts, NULL, idx, m, &b, NULL), PGAI_OK);
	assert_string_equal(b.data, want);
	assert_true(b.len + 0 <= wire_overhead(c) + 64);
	json_buf_free(&b);
}

static void
test_build_openai(void **state)
{
	wire_config c = config(PROVIDER_OPENAI);
	size_t		one[] = {1};

	(void) state;
	build(&c, idx3, 3,
		  "{\"model\":\"m\",\"input\":[\"hello\",\"wo\\\"rld\\n\",\"\xc3\xa9\"],\"encoding_format\":\"base64\"}");
	c.send_dimensions = true;
	c.user = "u1";
	build(&c, one, 1,
		  "{\"model\":\"m\",\"input\":[\"wo\\\"rld\\n\"],\"encoding_format\":\"base64\",\"dimensions\":2,\"user\":\"u1\"}");
}

static void
test_build_ollama(void **state)
{
	wire_config c = config(PROVIDER_OLLAMA);
	size_t		one[] = {0};

	(void) state;
	build(&c, one, 1, "{\"model\":\"m\",\"input\":[\"hello\"]}");
	c.keep_alive = "5m";
	c.options_json = "{\"num_ctx\": 4096}";
	c.send_dimensions = true;
	build(&c, one, 1,
		  "{\"model\":\"m\",\"input\":[\"hello\"],\"dimensions\":2,\"keep_alive\":\"5m\",\"options\":{\"num_ctx\": 4096}}");
	c.keep_alive = "-1";
	c.options_json = NULL;
	c.send_dimensions = false;
	build(&c, one, 1, "{\"model\":\"m\",\"input\":[\"hello\"],\"keep_alive\":-1}");
}

static void
test_build_voyage(void **state)
{
	wire_config c = config(PROVIDER_VOYAGE);
	size_t		one[] = {0};

	(void) state;
	build(&c, one, 1,
		  "{\"model\":\"m\",\"input\":[\"hello\"],\"output_dtype\":\"float\",\"encoding_format\":\"base64\"}");
	c.input_type = "document";
	c.send_dimensions = true;
	build(&c, one, 1,
		  "{\"model\":\"m\",\"input\":[\"hello\"],\"input_type\":\"document\",\"output_dimension\":2,\"output_dtype\":\"float\",\"encoding_format\":\"base64\"}");
}

/* [1.0, -2.0] = "AACAPwAAAMA=", [0.5, 0.25] = "AAAAPwAAgD4=" */
static void
test_parse_openai(void **state)
{
	wire_config c = config(PROVIDER_OPENAI);
	float		out[6] = {0};
	size_t		idx[] = {2, 0};
	pgai_error	err = {0};
	const char *ok = "{\"object\":\"list\",\"data\":[{\"index\":1,\"embedding\":\"AAAAPwAAgD4=\"},"
	"{\"index\":0,\"embedding\":\"AACAPwAAAMA=\"}],\"model\":\"m\"}";
	const char *arrays = "{\"data\":[{\"index\":0,\"embedding\":[1,-2]},{\"index\":1,\"embedding\":[0.5,0.25]}]}";
	const char *slash = "{\"data\":[{\"index\":0,\"embedding\":\"AACAPwAAAMA=\"},{\"index\":1,\"embedding\":\"AAAAPwAAgD4\\u003d\"}]}";

	(void) state;
	assert_int_equal(wire_parse(&c, ok, strlen(ok), idx, 2, out, &err), PGAI_OK);
	/* response index 0 -> input idx[0] = 2, index 1 -> input 0 */
	assert_true(out[4] == 1.0f && out[5] == -2.0f);
	assert_true(out[0] == 0.5f && out[1] == 0.25f);
	memset(out, 0, sizeof(out));
	assert_int_equal(wire_parse(&c, arrays, strlen(arrays), idx, 2, out, &err), PGAI_OK);
	assert_true(out[4] == 1.0f && out[1] == 0.25f);
	assert_int_equal(wire_parse(&c, slash, strlen(slash), idx, 2, out, &err), PGAI_OK);
	assert_true(out[0] == 0.5f);
}

static void
expect_error(const wire_config *c, const char *body, size_t m, pgai_status code,
			 const char *fragment)
{
	float		out[8];
	size_t		idx[] = {0, 1, 2, 3};
	pgai_error	err = {0};

	assert_int_equal(wire_parse(c, body, strlen(body), idx, m, out, &err), code);
	if (strstr(err.message, fragment) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err.message, fragment);
}

static void
test_parse_errors(void **state)
{
	wire_config c = config(PROVIDER_OPENAI);
	wire_config o = config(PROVIDER_OLLAMA);

	(void) state;
	expect_error(&c, "{\"data\":[", 1, PGAI_EJSON, "malformed JSON");
	expect_error(&c, "[]", 1, PGAI_EJSON, "not a JSON object");
	expect_error(&c, "{}", 1, PGAI_EPROVIDER, "no \"data\"");
	expect_error(&c, "{\"data\":[{\"index\":0,\"embedding\":\"AACAPwAAAMA=\"}]}", 2,
				 PGAI_EPROVIDER, "1 embeddings for 2 inputs");
	expect_error(&c, "{\"data\":[{\"index\":0,\"embedding\":\"AACAPwAAAMA=\"},{\"index\":0,\"embedding\":\"AACAPwAAAMA=\"}]}", 2,
				 PGAI_EPROVIDER, "permutation");
	expect_error(&c, "{\"data\":[{\"index\":5,\"embedding\":\"AACAPwAAAMA=\"}]}", 1,
				 PGAI_EPROVIDER, "permutation");
	expect_error(&c, "{\"data\":[{\"index\":0.5,\"embedding\":\"AACAPwAAAMA=\"}]}", 1,
				 PGAI_EPROVIDER, "non-integer");
	expect_error(&c, "{\"data\":[{\"index\":0,\"embedding\":\"AACAPw==\"}]}", 1,
				 PGAI_EPROVIDER, "1 dimensions, expected 2");
	expect_error(&c, "{\"data\":[{\"index\":0,\"embedding\":[1,2,3]}]}", 1,
				 PGAI_EPROVIDER, "3 dimensions, expected 2");
	expect_error(&c, "{\"data\":[{\"index\":0,\"embedding\":[1,\"x\"]}]}", 1,
				 PGAI_EPROVIDER, "non-number");
	expect_error(&c, "{\"data\":[{\"index\":0,\"embedding\":\"!!!!!!!!!!!!\"}]}", 1,
				 PGAI_EPROVIDER, "base64");
	expect_error(&c, "{\"data\":[{\"index\":0}]}", 1, PGAI_EPROVIDER, "no \"embedding\"");
	/* NaN bits 0x7fc00000 = "AADAfw==" */
	expect_error(&c, "{\"data\":[{\"index\":0,\"embedding\":\"AACAPwAAwH8=\"}]}", 1,
				 PGAI_EPROVIDER, "non-finite");

	expect_error(&o, "{\"embeddings\":[[1,2]]}", 2, PGAI_EPROVIDER, "1 embeddings for 2 inputs");
	expect_error(&o, "{\"embeddings\":[[1,2,3]]}", 1, PGAI_EPROVIDER, "3 dimensions, expected 2");
	expect_error(&o, "{\"embeddings\":[1]}", 1, PGAI_EPROVIDER, "not an array");
	expect_error(&o, "{\"embedding\":[1,2]}", 1, PGAI_EPROVIDER, "no \"embeddings\"");
	expect_error(&o, "{\"embeddings\":[[1e999,2]]}", 1, PGAI_EPROVIDER, "non-number");
}

static void
test_parse_ollama(void **state)
{
	wire_config o = config(PROVIDER_OLLAMA);
	float		out[4];
	size_t		idx[] = {1, 0};
	const char *body = "{\"model\":\"m\",\"embeddings\":[[0.1,-0.2],[3e-1,4E0]],\"total_duration\":1}";

	(void) state;
	assert_int_equal(wire_parse(&o, body, strlen(body), idx, 2, out, NULL), PGAI_OK);
	assert_true(out[2] == 0.1f && out[3] == -0.2f && out[0] == 0.3f && out[1] == 4.0f);
}

static void
test_options(void **state)
{
	provider_options o;
	provider_client *c = (provider_client *) 1;
	pgai_error	err = {0};

	(void) state;
	assert_int_equal(provider_global_init(&err), PGAI_OK);
	provider_options_init(&o, PROVIDER_OPENAI);
	assert_int_equal(o.max_inputs, 2048);
	assert_int_equal(provider_client_new(&o, &c, &err), PGAI_EINVAL);	/* no model */
	assert_null(c);
	o.model = "text-embedding-3-small";
	assert_int_equal(provider_client_new(&o, &c, &err), PGAI_EINVAL);	/* no dims */
	assert_non_null(strstr(err.message, "dimensions"));
	o.dimensions = 4;
	o.input_type = "passage";
	assert_int_equal(provider_client_new(&o, &c, &err), PGAI_EINVAL);
	o.input_type = NULL;
	o.options_json = "[1]";
	assert_int_equal(provider_client_new(&o, &c, &err), PGAI_EINVAL);
	o.options_json = "{\"num_ctx\":";
	assert_int_equal(provider_client_new(&o, &c, &err), PGAI_EINVAL);
	o.options_json = NULL;
	o.api_key = "sk-secret-123456789";
	assert_int_equal(provider_client_new(&o, &c, &err), PGAI_OK);
	provider_client_free(c);
	provider_client_free(NULL);
	assert_true(provider_kind_parse("voyage", &o.kind) && o.kind == PROVIDER_VOYAGE);
	assert_false(provider_kind_parse("cohere", &o.kind));
	assert_string_equal(provider_kind_name(PROVIDER_OLLAMA), "ollama");
}

static bool
always_cancel(void *arg)
{
	(*(int *) arg)++;
	return true;
}

static void
test_offline_client(void **state)
{
	provider_options o;
	provider_client *c;
	pgai_error	err = {0};
	pgai_error	rows[3];
	float		out[12];
	const char *bad[] = {"ok", "\xff\xfe", "fine"};
	int			calls = 0;
	provider_stats st;

	(void) state;
	provider_options_init(&o, PROVIDER_OPENAI);
	o.model = "m";
	o.dimensions = 4;
	o.api_key = "sk-secret-123456789";
	o.base_url = "http://127.0.0.1:1/v1/";	/* nothing listens on port 1 */
	o.max_retries = 1;
	o.retry_base_ms = 1;
	o.retry_max_ms = 2;
	o.connect_timeout_ms = 2000;
	assert_int_equal(provider_client_new(&o, &c, &err), PGAI_OK);
	assert_int_equal(provider_client_embed(c, texts, NULL, 0, out, NULL, &err), PGAI_OK);
	assert_int_equal(provider_client_embed(c, texts, NULL, 3, out, NULL, &err), PGAI_EHTTP);
	assert_non_null(strstr(err.message, "openai embeddings request failed after 2 attempts"));
	assert_null(strstr(err.message, "secret"));
	provider_client_stats(c, &st);
	assert_int_equal(st.requests, 2);
	assert_int_equal(st.retries, 1);

	/* invalid UTF-8 -> row error, or the whole call without row_errors */
	assert_int_equal(provider_client_embed(c, bad, NULL, 3, out, NULL, &err), PGAI_EUTF8);
	assert_non_null(strstr(err.message, "input 1"));
	assert_int_equal(provider_client_embed(c, bad, NULL, 3, out, rows, &err), PGAI_EHTTP);
	assert_int_equal(rows[1].code, PGAI_EUTF8);
	assert_int_equal(rows[0].code, PGAI_OK);
	provider_client_free(c);

	/* cancellation before anything is sent */
	o.should_cancel = always_cancel;
	o.cancel_arg = &calls;
	assert_int_equal(provider_client_new(&o, &c, &err), PGAI_OK);
	assert_int_equal(provider_client_embed(c, texts, NULL, 3, out, NULL, &err), PGAI_ECANCELED);
	assert_true(calls >= 1);
	assert_int_equal(provider_client_embed(c, texts, NULL, 3, out, NULL, NULL), PGAI_ECANCELED);
	provider_client_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_openai),
		cmocka_unit_test(test_build_ollama),
		cmocka_unit_test(test_build_voyage),
		cmocka_unit_test(test_parse_openai),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_ollama),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_offline_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
