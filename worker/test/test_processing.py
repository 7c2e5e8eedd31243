"""processing.concurrency is honoured (issue 10, defect 4): at most that many
of a worker's threads work on the vectorizer at once, whatever -c says."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[2]
PGAI = ROOT / "worker" / "build" / "pgai"
HANG = 0.4


def vectorizer(conn: psycopg.Connection, table: str, processing: str) -> int:
    conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, body text)")
    conn.execute(f"INSERT INTO {table} SELECT g, 'row ' || g FROM generate_series(1, 8) g")
    row = conn.execute(f"""SELECT ai.create_vectorizer('{table}',
        embedding => ai.embedding_openai('fake-8', 8),
        chunking => ai.chunking_character_text_splitter('body', 100, 0),
        indexing => ai.indexing_none(), processing => {processing})""").fetchone()
    assert row is not None
    return int(row[0])


def most_in_flight(fake: Any) -> int:
    """Requests answered after HANG seconds each: how many overlapped."""
    starts = sorted(r["time"] for r in fake.requests if r["path"].endswith("/embeddings"))
    assert len(starts) == 8
    return max(sum(1 for s in starts if s <= t < s + HANG * 0.9) for t in starts)


def run(dbname: str, vid: int, fake: Any) -> None:
    fake.reset()
    fake.faults.hang(HANG, count=100)
    done = subprocess.run([str(PGAI), "vectorizer", "worker", "--db-url", f"dbname={dbname}",
                           "--once", "-c", "4", "--batch-size", "1", "-i", str(vid)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OPENAI_API_KEY": "sk-test-proc",
                               "OPENAI_BASE_URL": fake.openai_url})
    assert done.returncode == 0, done.stderr


def test_processing_concurrency_caps_the_threads_on_a_vectorizer(
        conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    capped = vectorizer(conn, "capped", "ai.processing_default(concurrency => 2)")
    free = vectorizer(conn, "free", "ai.processing_default()")
    run(dbname, free, fake)
    # the control: four threads do work on one vectorizer side by side
    assert most_in_flight(fake) >= 3
    run(dbname, capped, fake)
    assert most_in_flight(fake) == 2
    for table in ("capped", "free"):
        assert conn.execute(f"SELECT count(*) FROM {table}_embedding_store").fetchone() == (8,)
