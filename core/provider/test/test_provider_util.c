/*
 * test_provider_util.c -- base64 float decoding, Retry-After parsing,
 * jittered backoff, too-long classification, provider error messages and
 * key redaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../provider_internal.h"

static void
test_base64(void **state)
{
	/* [1.0, -2.0, 0.5] little-endian: 0000803f 000000c0 0000003f */
	float		out[3];
	size_t		got = 0;

	(void) state;
	assert_int_equal(pv_base64_f32("AACAPwAAAMAAAAA/", 16, out, 3, &got), 1);
	assert_true(out[0] == 1.0f && out[1] == -2.0f && out[2] == 0.5f);
	/* one float: 4 bytes -> "AACAPw==" with and without padding */
	assert_int_equal(pv_base64_f32("AACAPw==", 8, out, 1, &got), 1);
	assert_true(out[0] == 1.0f);
	assert_int_equal(pv_base64_f32("AACAPw", 6, out, 1, &got), 1);
	assert_true(out[0] == 1.0f);
	/* wrong size: 3 floats where 2 expected */
	assert_int_equal(pv_base64_f32("AACAPwAAAMAAAAA/", 16, out, 2, &got), -1);
	assert_int_equal(got, 3);
	/* not base64 */
	assert_int_equal(pv_base64_f32("AACA*w==", 8, out, 1, &got), 0);
	assert_int_equal(pv_base64_f32("AACAP", 5, out, 1, &got), 0);
	assert_int_equal(pv_base64_f32("AACAPw=", 7, out, 1, &got), 0);
	assert_int_equal(pv_base64_f32("", 0, out, 0, &got), 1);
}

static void
test_retry_after(void **state)
{
	time_t		now = 784111777;	/* Sun, 06 Nov 1994 08:49:37 GMT */

	(void) state;
	assert_int_equal(pv_retry_after_ms("3", now), 3000);
	assert_int_equal(pv_retry_after_ms(" 0 \r\n", now), 0);
	assert_int_equal(pv_retry_after_ms("120", now), 120000);
	assert_int_equal(pv_retry_after_ms("1.5", now), 2000);
	assert_int_equal(pv_retry_after_ms("Sun, 06 Nov 1994 08:49:47 GMT", now), 10000);
	assert_int_equal(pv_retry_after_ms("Sun, 06 Nov 1994 08:49:30 GMT", now), 0);
	assert_int_equal(pv_retry_after_ms("Sunday, 06-Nov-94 08:49:39 GMT", now), 2000);
	assert_int_equal(pv_retry_after_ms("soon", now), -1);
	assert_int_equal(pv_retry_after_ms("", now), -1);
	assert_int_equal(pv_retry_after_ms("5x", now), -1);
	assert_int_equal(pv_retry_after_ms_header(" 250\r\n"), 250);
	assert_int_equal(pv_retry_after_ms_header("12.5"), 13);
	assert_int_equal(pv_retry_after_ms_header("x"), -1);
}

static void
test_backoff(void **state)
{
	uint64_t	rng = 42;
	long		max_seen = 0;

	(void) state;
	for (int i = 0; i < 1000; i++)
	{
		long		d = pv_backoff_ms(0, 100, 1000, &rng);

		assert_true(d >= 0 && d <= 100);
	}
	for (int i = 0; i < 1000; i++)
	{
		long		d = pv_backoff_ms(3, 100, 1000, &rng);

		assert_true(d >= 0 && d <= 800);
		if (d > max_seen)
			max_seen = d;
	}
	assert_true(max_seen > 400);	/* jitter covers the range */
	for (int i = 0; i < 100; i++)
		assert_true(pv_backoff_ms(40, 100, 1000, &rng) <= 1000);	/* capped */
	assert_int_equal(pv_backoff_ms(2, 0, 1000, &rng), 0);
}

static void
test_classify(void **state)
{
	(void) state;
	assert_true(pv_status_retryable(429));
	assert_true(pv_status_retryable(500));
	assert_true(pv_status_retryable(503));
	assert_true(pv_status_retryable(408));
	assert_false(pv_status_retryable(400));
	assert_false(pv_status_retryable(401));
	assert_false(pv_status_retryable(404));
	assert_true(pv_is_too_long(400, "This model's maximum context length is 8192 tokens, however you requested 9000 tokens"));
	assert_true(pv_is_too_long(400, "Invalid 'input[3]': maximum input length is 8192 tokens."));
	assert_true(pv_is_too_long(400, "the input length exceeds the context length"));
	assert_true(pv_is_too_long(400, "Request to model 'voyage-3' failed. The example at index 0 in your batch has too many tokens and does not fit into the model's context window of 32000 tokens."));
	assert_true(pv_is_too_long(400, "Request to model 'voyage-3' failed. The max allowed tokens per submitted batch is 120000."));
	assert_true(pv_is_too_long(400, "Requested 310000 tokens, max 300000 tokens per request"));
	assert_true(pv_is_too_long(413, ""));
	assert_false(pv_is_too_long(400, "'$.input' is invalid"));
	assert_false(pv_is_too_long(401, "maximum context length"));
	assert_false(pv_is_too_long(500, "maximum context length"));
}

static void
test_error_message(void **state)
{
	char		buf[PGAI_ERROR_MESSAGE_SIZE];
	const char *openai = "{\"error\": {\"message\": \"Incorrect API key\\nprovided\", \"type\": \"invalid_request_error\"}}";
	const char *ollama = "{\"error\":\"model \\\"x\\\" not found\"}";
	const char *voyage = "{\"detail\":\"Provided API key is invalid.\"}";
	const char *fastapi = "{\"detail\":[{\"loc\":[\"body\"],\"msg\":\"field required\"}]}";
	const char *html = "<html>\n<body>502 Bad\tGateway</body>\xff</html>";

	(void) state;
	pv_error_message(openai, strlen(openai), buf, sizeof(buf));
	assert_string_equal(buf, "Incorrect API key provided");
	pv_error_message(ollama, strlen(ollama), buf, sizeof(buf));
	assert_string_equal(buf, "model \"x\" not found");
	pv_error_message(voyage, strlen(voyage), buf, sizeof(buf));
	assert_string_equal(buf, "Provided API key is invalid.");
	pv_error_message(fastapi, strlen(fastapi), buf, sizeof(buf));
	assert_string_equal(buf, "field required");
	pv_error_message(html, strlen(html), buf, sizeof(buf));
	assert_string_equal(buf, "<html> <body>502 Bad Gateway</body>?</html>");
	pv_error_message("", 0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	pv_error_message("{}", 2, buf, sizeof(buf));
	assert_string_equal(buf, "");
	pv_error_message(html, strlen(html), buf, 6);
	assert_string_equal(buf, "<html");
}

static void
test_redact(void **state)
{
	char		msg[64];
	char		tiny[16];

	(void) state;
	strcpy(msg, "Incorrect API key provided: sk-abcdef123456.");
	pv_redact(msg, sizeof(msg), "sk-abcdef123456");
	assert_string_equal(msg, "Incorrect API key provided: [redacted].");
	/* a partial echo of 8+ characters too */
	strcpy(msg, "key ****def12345 rejected");
	pv_redact(msg, sizeof(msg), "sk-abcdef123456");
	assert_null(strstr(msg, "def12345"));
	/* short fragments stay */
	strcpy(msg, "sk-a is fine");
	pv_redact(msg, sizeof(msg), "sk-abcdef123456");
	assert_string_equal(msg, "sk-a is fine");
	/* no key */
	pv_redact(msg, sizeof(msg), NULL);
	pv_redact(msg, sizeof(msg), "");
	assert_string_equal(msg, "sk-a is fine");
	/* the mark does not fit: truncate */
	strcpy(tiny, "abcd SECRETKEY1");
	pv_redact(tiny, sizeof(tiny), "SECRETKEY1");
	assert_string_equal(tiny, "abcd [redacted]");
	strcpy(tiny, "abcdef SECRETKE");
	pv_redact(tiny, sizeof(tiny), "SECRETKEY1");
	assert_null(strstr(tiny, "SECRET"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_error_message),
		cmocka_unit_test(test_redact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
