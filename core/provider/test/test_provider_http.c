/*
 * test_provider_http.c -- the size limit of a reply, over real HTTP: a
 * server thread on 127.0.0.1 answers with a gzip bomb (built here, by
 * hand, as a fixed-Huffman deflate stream of back-references, so the test
 * needs no zlib of its own) or a plain body of a chosen size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../provider_internal.h"

/* ---- a gzip stream of n spaces ---- */

typedef struct bits
{
	uint8_t    *p;
	size_t		len;
	size_t		cap;
	uint32_t	acc;
	int			nacc;
}			bits;

static void
put_byte(bits * b, uint8_t v)
{
	if (b->len == b->cap)
	{
		b->cap = b->cap ? b->cap * 2 : 1024;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	b->p[b->len++] = v;
}

/* n bits of v, least significant first (deflate's packing). */
static void
put_bits(bits * b, uint32_t v, int n)
{
	b->acc |= v << b->nacc;
	b->nacc += n;
	while (b->nacc >= 8)
	{
		put_byte(b, (uint8_t) b->acc);
		b->acc >>= 8;
		b->nacc -= 8;
	}
}

/* A Huffman code of n bits: written most significant bit first. */
static void
put_code(bits * b, uint32_t code, int n)
{
	for (int i = n - 1; i >= 0; i--)
		put_bits(b, (code >> i) & 1, 1);
}

static uint32_t
crc32_spaces(size_t n)
{
	uint32_t	table[256];
	uint32_t	crc = 0xFFFFFFFFu;

	for (uint32_t i = 0; i < 256; i++)
	{
		uint32_t	c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	for (size_t i = 0; i < n; i++)
		crc = table[(crc ^ ' ') & 0xFF] ^ (crc >> 8);
	return crc ^ 0xFFFFFFFFu;
}

/*
 * n = 1 + 258 k spaces: one literal ' ', then k copies of (length 258,
 * distance 1); 13 bits a copy, so about 160 inflated bytes per byte sent.
 */
static uint8_t *
gzip_spaces(size_t k, size_t *len)
{
	static const uint8_t header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
	bits		b = {0};
	size_t		n = 1 + 258 * k;
	uint32_t	crc = crc32_spaces(n);

	for (size_t i = 0; i < sizeof(header); i++)
		put_byte(&b, header[i]);
	put_bits(&b, 1, 1);			/* BFINAL */
	put_bits(&b, 1, 2);			/* BTYPE 01: fixed Huffman codes */
	put_code(&b, 0x30 + ' ', 8);	/* literal 0..143: 8 bits from 0x30 */
	for (size_t i = 0; i < k; i++)
	{
		put_code(&b, 0xC0 + (285 - 280), 8);	/* length 258 */
		put_code(&b, 0, 5);		/* distance code 0: distance 1 */
	}
	put_code(&b, 0, 7);			/* end of block (256) */
	if (b.nacc > 0)
		put_bits(&b, 0, 8 - b.nacc);
	for (int i = 0; i < 4; i++)
		put_byte(&b, (uint8_t) (crc >> (8 * i)));
	for (int i = 0; i < 4; i++)
		put_byte(&b, (uint8_t) ((uint32_t) n >> (8 * i)));
	*len = b.len;
	return b.p;
}

/* ---- a server thread answering every request with one body ---- */

typedef struct server
{
	int			fd;
	int			port;
	pthread_t	thread;
	const uint8_t *body;
	size_t		body_len;
	bool		gzip;
	int			requests;
}			server;

static void *
serve(void *arg)
{
	server	   *s = arg;
	int			c;

	while ((c = accept(s->fd, NULL, NULL)) >= 0)
	{
		char		req[65536];
		size_t		got = 0;
		char	   *end = NULL;
		char		head[256];
		int			n;
		size_t		off = 0;

		/* headers, then the Content-Length body */
		while (end == NULL && got < sizeof(req) - 1)
		{
			ssize_t		r = recv(c, req + got, sizeof(req) - 1 - got, 0);

			if (r <= 0)
				break;
			got += (size_t) r;
			req[got] = '\0';
			end = strstr(req, "\r\n\r\n");
		}
		if (end != NULL)
		{
			const char *cl = strstr(req, "Content-Length: ");
			size_t		want = (size_t) (end + 4 - req) + (cl ? strtoul(cl + 16, NULL, 10) : 0);

			while (got < want && got < sizeof(req) - 1)
			{
				ssize_t		r = recv(c, req + got, sizeof(req) - 1 - got, 0);

				if (r <= 0)
					break;
				got += (size_t) r;
			}
			s->requests++;
			n = snprintf(head, sizeof(head),
						 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%s"
						 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
						 s->gzip ? "Content-Encoding: gzip\r\n" : "", s->body_len);
			(void) send(c, head, (size_t) n, MSG_NOSIGNAL);
			while (off < s->body_len)
			{
				ssize_t		w = send(c, s->body + off, s->body_len - off, MSG_NOSIGNAL);

				if (w <= 0)
					break;		/* the client gave up on the reply */
				off += (size_t) w;
			}
		}
		close(c);
	}
	return NULL;
}

static void
server_start(server * s, const uint8_t *body, size_t len, bool gzip)
{
	struct sockaddr_in a = {0};
	socklen_t	alen = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->body = body;
	s->body_len = len;
	s->gzip = gzip;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->fd, (struct sockaddr *) &a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 8), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *) &a, &alen), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void
server_stop(server * s)
{
	shutdown(s->fd, SHUT_RDWR);
	close(s->fd);
	pthread_join(s->thread, NULL);
}

static int
setup(void **state)
{
	pgai_error	err;

	(void) state;
	return provider_global_init(&err) == PGAI_OK ? 0 : -1;
}

/*
 * A reply that inflates to 16 MiB for one input of 8 dimensions fails as
 * too large, having buffered no more than its limit, and is not retried.
 */
static void
test_gzip_bomb_is_refused(void **state)
{
	size_t		len;
	uint8_t    *bomb = gzip_spaces((16u << 20) / 258, &len);
	server		s;
	provider_options o;
	provider_client *c;
	provider_stats st;
	pgai_error	err;
	char		url[64];
	float		out[8];
	const char *texts[] = {"x"};

	(void) state;
	assert_true(len < 200 * 1024);
	server_start(&s, bomb, len, true);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1", s.port);
	provider_options_init(&o, PROVIDER_OPENAI);
	o.base_url = url;
	o.model = "fake-8";
	o.dimensions = 8;
	o.retry_base_ms = 1;
	assert_int_equal(provider_client_new(&o, &c, &err), PGAI_OK);
	assert_int_equal(provider_client_embed(c, texts, NULL, 1, out, NULL, &err), PGAI_EPROVIDER);
	assert_non_null(strstr(err.message, "larger than"));
	provider_client_stats(c, &st);
	assert_true(st.bytes_received <= pv_max_response_bytes(1, 8));
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.oversized, 1);
	provider_client_free(c);
	server_stop(&s);
	assert_int_equal(s.requests, 1);
	free(bomb);
}

/* http_post: a body of exactly the limit arrives; one byte more does not. */
static void
test_limit_is_exact(void **state)
{
	size_t		limit = 100000;
	uint8_t    *body = malloc(limit + 1);
	server		s;
	http_conn	h;
	http_request req = {0};
	http_result res;
	json_buf	resp;
	pgai_error	err;
	char		url[64];

	(void) state;
	memset(body, ' ', limit + 1);
	json_buf_init(&resp);
	assert_int_equal(http_conn_init(&h, NULL, &err), PGAI_OK);
	req.url = url;
	req.body = "{}";
	req.body_len = 2;
	req.connect_timeout_ms = 5000;
	req.timeout_ms = 10000;
	req.max_response_bytes = limit;

	server_start(&s, body, limit, false);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", s.port);
	assert_int_equal(http_post(&h, &req, &resp, &res, &err), PGAI_OK);
	assert_int_equal(resp.len, limit);
	assert_false(res.oversized);
	server_stop(&s);

	server_start(&s, body, limit + 1, false);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", s.port);
	assert_int_equal(http_post(&h, &req, &resp, &res, &err), PGAI_EPROVIDER);
	assert_true(res.oversized);
	assert_false(res.transient);
	assert_true(resp.len <= limit);
	server_stop(&s);

	http_conn_free(&h);
	json_buf_free(&resp);
	free(body);
}

/* The limit grows with inputs and dimensions, and stops at the ceiling. */
static void
test_limit_formula(void **state)
{
	(void) state;
	assert_int_equal(pv_max_response_bytes(1, 8), (1u << 20) + 4096 + 8 * 48);
	assert_true(pv_max_response_bytes(1, 1536) < 2u << 20);
	/* the worker's largest OpenAI batch: numbers as JSON would still fit */
	assert_true(pv_max_response_bytes(2048, 3072) > (size_t) 2048 * 3072 * 24);
	assert_int_equal(pv_max_response_bytes(2048, 1000000), HTTP_MAX_RESPONSE_BYTES);
	assert_int_equal(pv_max_response_bytes(SIZE_MAX, 8), HTTP_MAX_RESPONSE_BYTES);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gzip_bomb_is_refused),
		cmocka_unit_test(test_limit_is_exact),
		cmocka_unit_test(test_limit_formula),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
