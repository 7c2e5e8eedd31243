"""The SQL embedding functions bound what a provider's reply may cost the
backend: a gzip bomb (a few hundred KB on the wire, hundreds of MB once
inflated) from a listener on 127.0.0.1 fails the call with SQLSTATE 38000
instead of growing the backend by the inflated size, and nothing of the
aborted reply stays behind."""

from __future__ import annotations

import http.server
import threading
import zlib
from collections.abc import Iterator

import psycopg
import pytest

INFLATED_MB = 320


def _gzip_bomb() -> bytes:
    """A gzip body that inflates to INFLATED_MB MiB: the start of an OpenAI
    reply, then blanks (valid JSON whitespace, so only its size is wrong)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [z.compress(b'{"object": "list", "data": [')]
    blanks = b" " * (1 << 20)
    for _ in range(INFLATED_MB):
        parts.append(z.compress(blanks))
    parts.append(z.compress(b"]}"))
    parts.append(z.flush())
    return b"".join(parts)


class _Bomb(http.server.BaseHTTPRequestHandler):
    body = b""
    hits = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        try:
            self.wfile.write(self.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on the reply, as it should

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def bomb_body() -> bytes:
    body = _gzip_bomb()
    assert len(body) < 400 * 1024, len(body)
    return body


@pytest.fixture
def bomb(conn: psycopg.Connection, bomb_body: bytes) -> Iterator[str]:
    handler = type("Bomb", (_Bomb,), {"body": bomb_body, "hits": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    conn.execute("SELECT set_config('ai.allowed_base_urls', %s, false)", (url,))
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def _vm_kb(conn: psycopg.Connection, field: str) -> int:
    """VmHWM (peak) or VmRSS of this connection's backend, in kB."""
    row = conn.execute(
        "SELECT split_part(regexp_replace(l, '\\s+', ' ', 'g'), ' ', 2)::bigint "
        "FROM regexp_split_to_table(pg_read_file('/proc/self/status'), E'\\n') l "
        "WHERE l LIKE %s", (field + ":%",)).fetchone()
    assert row is not None
    return int(row[0])


def test_a_gzip_bomb_fails_without_growing_the_backend(conn: psycopg.Connection, bomb: str) -> None:
    before = _vm_kb(conn, "VmHWM")
    with pytest.raises(psycopg.errors.ExternalRoutineException) as e:
        conn.execute("SELECT ai.openai_embed('fake-8', 'x', api_key => 'k', base_url => %s, "
                     "dimensions => 8)", (bomb,))
    grown_mb = (_vm_kb(conn, "VmHWM") - before) / 1024
    assert grown_mb < 100, f"the backend's peak grew by {grown_mb:.0f} MB"
    assert "larger than" in str(e.value)
    assert e.value.diag.message_hint is not None
    # the backend is fine afterwards
    assert conn.execute("SELECT 1").fetchone() == (1,)


def test_the_limit_follows_the_request(conn: psycopg.Connection, bomb: str) -> None:
    """The cap is derived from the inputs and dimensions asked for: a
    thousand inputs of 1,536 dimensions may take more than one of 8, and
    the message names the limit."""
    with pytest.raises(psycopg.errors.ExternalRoutineException) as small:
        conn.execute("SELECT ai.openai_embed('fake-8', 'x', api_key => 'k', base_url => %s, "
                     "dimensions => 8)", (bomb,))
    with pytest.raises(psycopg.errors.ExternalRoutineException) as large:
        conn.execute("SELECT count(*) FROM ai.openai_embed('fake-8', "
                     "array(SELECT 'x' || i FROM generate_series(1, 1000) i), "
                     "api_key => 'k', base_url => %s, dimensions => 1536)", (bomb,))

    def limit(e: pytest.ExceptionInfo[psycopg.errors.ExternalRoutineException]) -> int:
        words = str(e.value).split("larger than ", 1)[1].split()
        return int(words[0])

    assert limit(small) < 2 * 1024 * 1024 < limit(large)


def test_aborted_replies_leave_nothing_behind(conn: psycopg.Connection, bomb: str) -> None:
    """Every error path frees the reply buffer (the client is owned by a
    memory context callback): repeated failures do not add up."""
    def once() -> None:
        with pytest.raises(psycopg.errors.ExternalRoutineException):
            conn.execute("SELECT ai.openai_embed('fake-8', 'x', api_key => 'k', base_url => %s, "
                         "dimensions => 8)", (bomb,))

    once()
    before = _vm_kb(conn, "VmRSS")
    for _ in range(30):
        once()
    grown_mb = (_vm_kb(conn, "VmRSS") - before) / 1024
    assert grown_mb < 16, f"30 failed calls left {grown_mb:.0f} MB behind"


class _Trickle(http.server.BaseHTTPRequestHandler):
    """Sends the first 400 KB of a 600 KB reply, then nothing more."""
    protocol_version = "HTTP/1.1"
    sent = threading.Event()
    stop = threading.Event()

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(600 * 1024))
        self.end_headers()
        try:
            self.wfile.write(b'{"data": [' + b" " * (400 * 1024))
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return
        type(self).sent.set()
        type(self).stop.wait(20)

    def log_message(self, *args: object) -> None:
        pass


def test_a_reply_is_counted_in_a_memory_context(dbname: str, conn: psycopg.Connection) -> None:
    """While a reply arrives, its bytes sit in the backend's memory context
    "ai provider reply", where PostgreSQL's own accounting sees them."""
    import os
    import re
    import time
    from pathlib import Path

    handler = type("Trickle", (_Trickle,), {"sent": threading.Event(), "stop": threading.Event()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    log = Path(os.environ["PGHOST"]) / "server.log"
    start = log.stat().st_size
    conn.execute("SELECT set_config('ai.allowed_base_urls', %s, false)", (url,))
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
    failure: list[BaseException] = []

    def call() -> None:
        try:
            conn.execute("SELECT ai.openai_embed('fake-8', 'x', api_key => 'k', base_url => %s, "
                         "dimensions => 8)", (url,))
        except BaseException as e:  # noqa: BLE001 (handed to the test's thread)
            failure.append(e)

    t = threading.Thread(target=call)
    t.start()
    try:
        assert handler.sent.wait(10)
        time.sleep(0.3)
        with psycopg.connect(f"dbname={dbname}", autocommit=True) as other:
            other.execute("SELECT pg_log_backend_memory_contexts(%s)", (pid,))
            deadline = time.monotonic() + 10
            found = None
            while found is None and time.monotonic() < deadline:
                time.sleep(0.2)
                with log.open("rb") as f:
                    f.seek(start)
                    text = f.read().decode(errors="replace")
                found = re.search(r"ai provider reply: (\d+) total .*?; (\d+) used", text)
            other.execute("SELECT pg_cancel_backend(%s)", (pid,))
    finally:
        handler.stop.set()
        t.join(20)
        server.shutdown()
        server.server_close()
    assert found is not None, "no memory context \"ai provider reply\" in the log"
    assert int(found.group(2)) >= 400 * 1024
    assert failure and isinstance(failure[0], psycopg.errors.QueryCanceled)
