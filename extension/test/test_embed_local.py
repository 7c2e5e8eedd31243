"""The built-in model inside a backend: repeated calls do not grow the
backend's memory (the model's scratch is freed on every return), and the
backend stays usable after a canceled call."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest


def anon_kb(pid: int) -> int:
    """Private memory only: the model's weights are a shared file mapping whose
    pages fault in as new tokens are met, which is not growth."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    raise AssertionError("no RssAnon")


def test_no_growth_across_calls(conn: psycopg.Connection) -> None:
    row = conn.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    pid = row[0]
    text = "PostgreSQL keeps embeddings next to the rows they describe. " * 8
    def round_of_calls() -> None:
        for i in range(30):
            conn.execute("SELECT ai.sentence_transformers_embed('all-MiniLM-L6-v2', %s)", (f"{i} {text}",))
        conn.execute("SELECT count(*) FROM ai.sentence_transformers_embed('all-MiniLM-L6-v2', %s)",
                     ([f"{i} {text}" for i in range(64)],))

    # warm up: the model maps its weights, malloc's arenas reach their size
    round_of_calls()
    before = anon_kb(pid)
    for _ in range(3):
        round_of_calls()
    after = anon_kb(pid)
    # a leak of the ~15 KB per token scratch would add megabytes here
    assert after - before < 2048, (before, after)


def test_canceled_call_leaves_the_backend_usable(conn: psycopg.Connection) -> None:
    conn.execute("SET statement_timeout = '100ms'")
    with pytest.raises(psycopg.errors.QueryCanceled):
        conn.execute("SELECT count(*) FROM ai.sentence_transformers_embed('all-MiniLM-L6-v2', "
                     "array(SELECT repeat('many words here ', 80) FROM generate_series(1, 500)))")
    conn.execute("RESET statement_timeout")
    row = conn.execute(
        "SELECT vector_dims(ai.sentence_transformers_embed('all-MiniLM-L6-v2', 'ok'))").fetchone()
    assert row == (384,)
