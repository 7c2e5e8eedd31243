"""The worker against HTTP embedding providers, through the fake OpenAI,
Ollama and Voyage servers of testing/fake_providers.py on 127.0.0.1: what
reaches the provider, what comes back, and what happens when it fails."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import fake_providers as fakes
import numpy as np
import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
PGAI = Path(os.environ.get("PGAI_BIN") or ROOT / "worker" / "build" / "pgai")
KEY = "sk-test-3f9a7c1e0b2d"




def worker(dbname: str, *args: str, env: dict[str, str] | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "OLLAMA_", "VOYAGE_"))}
    return subprocess.run([str(PGAI), "vectorizer", "worker", "--db-url", f"dbname={dbname}", *args],
                          capture_output=True, text=True, timeout=timeout, env={**base, **(env or {})})


def openai_env(fake: Any) -> dict[str, str]:
    return {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": fake.openai_url}


def blog_posts(conn: psycopg.Connection, rows: list[tuple[int, str, str]], **vectorizer: str) -> int:
    conn.execute("CREATE TABLE blog_posts (id int PRIMARY KEY, title text NOT NULL, content text NOT NULL)")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO blog_posts VALUES (%s, %s, %s)", rows)
    embedding = vectorizer.get("embedding",
                               "ai.embedding_openai('text-embedding-3-small', 768, chat_user => 'blog-app')")
    row = conn.execute(
        f"""SELECT ai.create_vectorizer('blog_posts',
               embedding => {embedding},
               chunking => ai.chunking_character_text_splitter('content', 500, 50),
               formatting => ai.formatting_python_template(%s),
               indexing => ai.indexing_none())""",
        (vectorizer.get("template", "Title: $title\nContent: $chunk"),),
    ).fetchone()
    assert row is not None
    return int(row[0])


def stored(conn: psycopg.Connection) -> dict[tuple[int, int], tuple[str, np.ndarray]]:
    return {(i, s): (c, np.array(e)) for i, s, c, e in conn.execute(
        "SELECT id, chunk_seq, chunk, embedding::real[] FROM blog_posts_embedding_store")}


def pending(conn: psycopg.Connection, vid: int) -> int:
    row = conn.execute("SELECT ai.vectorizer_queue_pending(%s, true)", (vid,)).fetchone()
    assert row is not None
    return int(row[0])


def test_spec_blog_posts_reach_openai_exactly(conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    vid = blog_posts(conn, [(1, "Postgres", "Vectors live next to rows."),
                            (2, "Quotes", 'He said "hi" & left $5\nbehind.')])
    done = worker(dbname, "--once", env=openai_env(fake))
    assert done.returncode == 0, done.stderr
    bodies = [r["body"] for r in fake.requests if r["path"].endswith("/embeddings")]
    sent = [t for b in bodies for t in b["input"]]
    assert sorted(sent) == sorted(["Title: Postgres\nContent: Vectors live next to rows.",
                                   'Title: Quotes\nContent: He said "hi" & left $5\nbehind.'])
    assert all(b["model"] == "text-embedding-3-small" and b["dimensions"] == 768
               and b["user"] == "blog-app" and b["encoding_format"] == "base64" for b in bodies)
    assert all(r["headers"].get("authorization") == f"Bearer {KEY}" for r in fake.requests)
    got = stored(conn)
    # the store keeps the text that was embedded, as pgai does
    assert {k: v[0] for k, v in got.items()} == {
        (1, 0): "Title: Postgres\nContent: Vectors live next to rows.",
        (2, 0): 'Title: Quotes\nContent: He said "hi" & left $5\nbehind.'}
    for (i, _), (_, vec) in got.items():
        title, content = conn.execute("SELECT title, content FROM blog_posts WHERE id = %s", (i,)).fetchone()
        want = fake.expected("text-embedding-3-small", f"Title: {title}\nContent: {content}", 768)
        assert np.allclose(vec, want, atol=1e-7)
    assert pending(conn, vid) == 0


def test_four_workers_on_ten_thousand_rows(conn: psycopg.Connection, dbname: str) -> None:
    rows = [(i, f"t{i}", " ".join(f"word{i}-{k}" for k in range(i % 150 + 1))) for i in range(1, 10_001)]
    with fakes.FakeProviders(fast=True, record=False) as fast:
        vid = blog_posts(conn, rows, template="$chunk")
        procs = [subprocess.Popen([str(PGAI), "vectorizer", "worker", "--db-url", f"dbname={dbname}",
                                   "--once", "--batch-size", "200"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env={**os.environ, **openai_env(fast)}) for _ in range(4)]
        outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [
        line for o in outs for line in o[1].splitlines() if "failed:" in line or "error" in line]
    from langchain_text_splitters import CharacterTextSplitter
    split = CharacterTextSplitter(chunk_size=500, chunk_overlap=50, separator="\n\n")
    want = {(i, s): c for i, _, body in rows for s, c in enumerate(split.split_text(body))}
    got = {(i, s): c for i, s, c in
           conn.execute("SELECT id, chunk_seq, chunk FROM blog_posts_embedding_store")}
    assert got == want
    assert pending(conn, vid) == 0
    # the work was shared
    assert sum("keys claimed" in o[1] for o in outs) >= 2


def test_outage_then_recovery(conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    vid = blog_posts(conn, [(i, f"t{i}", f"body {i}") for i in range(1, 6)])
    fake.faults.status(503, count=1000)
    down = worker(dbname, "--once", "--http-retries", "1", "--retry-backoff", "1s", env=openai_env(fake))
    assert down.returncode == 1
    errs = conn.execute("SELECT message, details FROM ai.vectorizer_errors WHERE id = %s", (vid,)).fetchall()
    assert errs and all("503" in m for m, _ in errs)
    assert pending(conn, vid) == 5 and stored(conn) == {}
    fake.faults.clear()
    time.sleep(1.1)  # the backoff
    up = worker(dbname, "--once", env=openai_env(fake))
    assert up.returncode == 0, up.stderr
    assert pending(conn, vid) == 0 and len(stored(conn)) == 5


def test_retry_after_is_honoured(conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    blog_posts(conn, [(1, "t", "b")])
    fake.faults.status(429, count=1, retry_after="1")
    start = time.monotonic()
    done = worker(dbname, "--once", env=openai_env(fake))
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start >= 1.0
    assert len(fake.requests) == 2


def test_too_long_input_fails_only_its_row(conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    vid = blog_posts(conn, [(1, "ok", "fine"), (2, "long", f"x {fakes.TOO_LONG_MARKER} y"),
                            (3, "ok", "also fine")])
    done = worker(dbname, "--once", "--retry-backoff", "1h", env=openai_env(fake))
    assert done.returncode == 1
    assert sorted(k[0] for k in stored(conn)) == [1, 3]
    errs = conn.execute("SELECT message, details->>'key' FROM ai.vectorizer_errors WHERE id = %s",
                        (vid,)).fetchall()
    assert len(errs) == 1 and errs[0][1] == "2" and "maximum input length" in errs[0][0]
    assert pending(conn, vid) == 1


@pytest.mark.parametrize("fault", ["wrong_dims", "wrong_count", "malformed"])
def test_bad_responses_are_errors(conn: psycopg.Connection, dbname: str, fake: Any, fault: str) -> None:
    vid = blog_posts(conn, [(1, "t", "b")])
    getattr(fake.faults, fault)(count=100)
    done = worker(dbname, "--once", "--http-retries", "0", "--retry-backoff", "1h", env=openai_env(fake))
    assert done.returncode == 1
    assert stored(conn) == {} and pending(conn, vid) == 1
    assert conn.execute("SELECT count(*) FROM ai.vectorizer_errors").fetchone() == (1,)


def test_hung_provider_times_out(conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    vid = blog_posts(conn, [(1, "t", "b")])
    fake.faults.hang(5, count=1)
    start = time.monotonic()
    done = worker(dbname, "--once", "--request-timeout", "1s", "--http-retries", "0",
                  "--retry-backoff", "0", env=openai_env(fake))
    assert time.monotonic() - start < 4.5
    # the first attempt timed out and was recorded; the retry succeeded
    assert done.returncode == 1
    assert pending(conn, vid) == 0 and len(stored(conn)) == 1
    msg = conn.execute("SELECT message FROM ai.vectorizer_errors").fetchone()
    assert msg is not None and "time" in msg[0].lower()


def test_stale_result_is_not_written(conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    """The row changes while the provider is working: the old embedding is
    dropped and the new content is embedded in the same run."""
    vid = blog_posts(conn, [(1, "t", "old content")])
    fake.faults.hang(1.5, count=1)

    def change() -> None:
        time.sleep(0.5)
        with psycopg.connect(f"dbname={dbname}", autocommit=True) as c:
            c.execute("UPDATE blog_posts SET content = 'new content' WHERE id = 1")

    t = threading.Thread(target=change)
    t.start()
    done = worker(dbname, "--once", env=openai_env(fake))
    t.join()
    assert done.returncode == 0, done.stderr
    sent = [t for r in fake.requests for t in r["body"]["input"]]
    assert sent[0].endswith("old content") and sent[-1].endswith("new content")
    got = stored(conn)
    assert [c for c, _ in got.values()] == ["Title: t\nContent: new content"]
    want = fake.expected("text-embedding-3-small", "Title: t\nContent: new content", 768)
    assert np.allclose(next(iter(got.values()))[1], want, atol=1e-7)
    assert pending(conn, vid) == 0


def test_api_key_never_leaks(conn: psycopg.Connection, dbname: str) -> None:
    secret = "sk-very-secret-0123456789"
    with fakes.FakeProviders() as f:
        f.faults.require_key = "the-right-key"
        blog_posts(conn, [(1, "t", "b")])
        done = worker(dbname, "--once", "--retry-backoff", "1h",
                      env={"OPENAI_API_KEY": secret, "OPENAI_BASE_URL": f.openai_url})
    assert done.returncode == 1
    assert len(f.requests) == 1  # a 401 is not retried
    rows = conn.execute("SELECT message, details::text FROM ai.vectorizer_errors").fetchall()
    assert rows and "401" in rows[0][0]
    assert all(secret not in m and secret not in d for m, d in rows)
    assert secret not in done.stderr and secret not in done.stdout


def test_missing_key_is_a_clear_error(conn: psycopg.Connection, dbname: str) -> None:
    blog_posts(conn, [(1, "t", "b")])
    done = worker(dbname, "--once", "--retry-backoff", "1h")
    assert done.returncode == 1
    msg = conn.execute("SELECT message FROM ai.vectorizer_errors").fetchone()
    assert msg is not None and "OPENAI_API_KEY" in msg[0]


def test_ollama_and_voyage(conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    conn.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
    conn.execute("INSERT INTO notes VALUES (1, 'a note'), (2, 'another note')")
    conn.execute("""SELECT ai.create_vectorizer('notes',
        embedding => ai.embedding_ollama('nomic-embed-text', 768, keep_alive => '5m',
                                         options => '{"num_ctx": 2048}'),
        chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
        target_table => 'notes_ollama', view_name => 'notes_ollama_v')""")
    conn.execute("""SELECT ai.create_vectorizer('notes',
        embedding => ai.embedding_voyageai('voyage-3-lite', 512),
        chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
        target_table => 'notes_voyage', view_name => 'notes_voyage_v')""")
    done = worker(dbname, "--once", env={"OLLAMA_HOST": fake.ollama_url.split("://")[1],
                                         "VOYAGE_API_KEY": KEY})
    # Voyage has no base-URL variable in pgai's contract: point it at the fake
    assert done.returncode == 1  # Voyage went to its public endpoint, unreachable here
    conn.execute("UPDATE ai.vectorizer SET config = jsonb_set(config, '{embedding,base_url}', %s) "
                 "WHERE id = 2", (f'"{fake.voyage_url}"',))
    conn.execute("UPDATE ai._vectorizer_q_lease_2 SET retry_after = now()")
    # a base_url in the catalog: the worker's operator allows it
    done = worker(dbname, "--once", env={"OLLAMA_HOST": fake.ollama_url.split("://")[1],
                                         "VOYAGE_API_KEY": KEY,
                                         "PGAI_ALLOWED_BASE_URLS": fake.voyage_url})
    assert done.returncode == 0, done.stderr
    ollama = [r["body"] for r in fake.requests if r["path"].endswith("/api/embed")]
    assert ollama and ollama[0]["keep_alive"] == "5m" and ollama[0]["options"] == {"num_ctx": 2048}
    voyage = [r["body"] for r in fake.requests if r["path"].startswith("/voyage")]
    assert voyage and voyage[-1]["input_type"] == "document" and voyage[-1]["model"] == "voyage-3-lite"
    for table, model, dims, kind in (("notes_ollama", "nomic-embed-text", 768, None),
                                     ("notes_voyage", "voyage-3-lite", 512, "document")):
        for body, vec in conn.execute(
                f"SELECT n.body, s.embedding::real[] FROM {table} s JOIN notes n USING (id)"):
            assert np.allclose(np.array(vec), fake.expected(model, body, dims, input_type=kind), atol=1e-7)


def test_vectorizers_never_share_request_settings(conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    """Two vectorizers on one model, one with a chat_user: each request
    carries its own vectorizer's settings, even on one thread."""
    conn.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
    conn.execute("INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 3) g")
    for user, table in (("alice", "notes_a"), (None, "notes_b")):
        conn.execute("""SELECT ai.create_vectorizer('notes',
            embedding => ai.embedding_openai('fake-8', 8, chat_user => %s),
            chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
            target_table => %s, view_name => %s)""", (user, table, table + "_v"))
    done = worker(dbname, "--once", "-c", "1", env=openai_env(fake))
    assert done.returncode == 0, done.stderr
    users = [r["body"].get("user") for r in fake.requests]
    assert sorted(users, key=str) == [None, "alice"], users
