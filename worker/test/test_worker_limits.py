"""The worker bounds a provider's reply as the SQL functions do (both use
core/provider): a gzip bomb from a listener on 127.0.0.1 becomes an error
row, not hundreds of MB of worker memory."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
PGAI = Path(os.environ.get("PGAI_BIN") or ROOT / "worker" / "build" / "pgai")
sys.path.insert(0, str(ROOT / "extension" / "test"))

from test_embed_limits import _Bomb, _gzip_bomb  # noqa: E402  (the same bomb)


@pytest.fixture
def bomb_url() -> Iterator[str]:
    handler = type("Bomb", (_Bomb,), {"body": _gzip_bomb(), "hits": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


# Runs the worker as the only child of a fresh interpreter, which prints
# the child's peak resident size (ru_maxrss, kB) on its last line.
PEAK = ("import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:])\n"
        "print(p.returncode)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


def test_worker_refuses_a_gzip_bomb(conn: psycopg.Connection, dbname: str, bomb_url: str) -> None:
    conn.execute("CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)")
    conn.execute("INSERT INTO notes VALUES (1, 'one'), (2, 'two')")
    vid = conn.execute(
        "SELECT ai.create_vectorizer('notes', embedding => ai.embedding_openai('fake-8', 8), "
        "chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none())"
    ).fetchone()[0]  # type: ignore[index]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "OLLAMA_", "VOYAGE_"))}
    env.update(OPENAI_API_KEY="sk-test-0123456789", OPENAI_BASE_URL=bomb_url)
    run = subprocess.run([sys.executable, "-c", PEAK, str(PGAI), "vectorizer", "worker",
                          "--db-url", f"dbname={dbname}", "--once", "--retry-backoff", "0",
                          "--max-attempts", "1"],
                         capture_output=True, text=True, timeout=120, env=env)
    rc, peak_kb = (int(x) for x in run.stdout.split()[-2:])
    assert rc != 0, run.stderr
    assert peak_kb < 100 * 1024, f"the worker peaked at {peak_kb // 1024} MB"
    errors = conn.execute("SELECT message FROM ai.vectorizer_errors WHERE id = %s", (vid,)).fetchall()
    assert errors and all("larger than" in e[0] for e in errors), errors
