"""The worker builds a vectorizer's ANN index once, however many workers
and threads reach the decision together (issue 10, defect 3): whether an
index exists is decided under the advisory lock that admits one builder,
not only before it."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import fake_providers as fakes
import psycopg

ROOT = Path(__file__).resolve().parents[2]
PGAI = ROOT / "worker" / "build" / "pgai"


def ann_indexes(conn: psycopg.Connection, store: str) -> int:
    row = conn.execute(
        """SELECT count(*) FROM pg_index i
             JOIN pg_class c ON c.oid = i.indexrelid
             JOIN pg_am a ON a.oid = c.relam
            WHERE i.indrelid = %s::regclass AND a.amname IN ('hnsw', 'diskann', 'ivfflat')""",
        (store,)).fetchone()
    assert row is not None
    return int(row[0])


def worker(dbname: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([str(PGAI), "vectorizer", "worker", "--db-url", f"dbname={dbname}", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})




def posts_with_a_full_store(conn: psycopg.Connection, indexing: str) -> int:
    """20 posts whose store already holds every embedding (written here, not
    by a worker), so a worker pass goes straight to the indexer; returns the
    vectorizer's id."""
    conn.execute("CREATE TABLE posts (id int PRIMARY KEY, body text)")
    conn.execute("INSERT INTO posts SELECT g, 'post ' || g FROM generate_series(1, 20) g")
    row = conn.execute(f"""SELECT ai.create_vectorizer('posts',
        embedding => ai.embedding_sentence_transformers(),
        chunking => ai.chunking_character_text_splitter('body', 100, 0),
        indexing => {indexing}, enqueue_existing => false)""").fetchone()
    assert row is not None
    conn.execute("""INSERT INTO posts_embedding_store (id, chunk_seq, chunk, embedding)
                    SELECT id, 0, body, array_fill(id::real, ARRAY[384])::vector FROM posts""")
    return int(row[0])

def threads_waiting_on_a_lock(conn: psycopg.Connection, want: int) -> int:
    """How many worker threads wait on a lock, polled for up to 30 s until
    `want` do."""
    deadline = time.monotonic() + 30
    waiting = 0
    while time.monotonic() < deadline and waiting < want:
        got = conn.execute("""SELECT count(*) FROM pg_stat_activity
                               WHERE application_name = 'pgai vectorizer worker'
                                 AND wait_event_type = 'Lock'""").fetchone()
        waiting = int(got[0]) if got else 0
        time.sleep(0.05)
    return waiting

def test_index_built_meanwhile_is_not_built_again(conn: psycopg.Connection, dbname: str) -> None:
    """Another builder finishes between a worker's first look and its lock.

    The store is filled by hand and the queue left empty, so a --once
    worker's threads go straight to the indexer. The test holds the store
    locked: each thread has seen "no index" and waits in the min_rows count.
    Meanwhile the index is built (as another worker would have) and the lock
    let go. A thread that does not look again under its lock builds a
    second, identical index."""
    posts_with_a_full_store(conn, "ai.indexing_hnsw(min_rows => 5)")

    with psycopg.connect(f"dbname={dbname}") as locker:
        locker.execute("LOCK TABLE posts_embedding_store IN ACCESS EXCLUSIVE MODE")
        proc = worker(dbname, "--once", "-c", "4")
        try:
            waiting = threads_waiting_on_a_lock(conn, 4)
            assert waiting >= 1, "no worker thread reached the indexer"
            locker.execute("CREATE INDEX ON posts_embedding_store USING hnsw (embedding vector_cosine_ops)")
        except BaseException:
            proc.kill()
            raise
        # commit: the index appears and the threads go on
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert ann_indexes(conn, "posts_embedding_store") == 1, err
    assert "creating the HNSW index" not in err


def test_many_workers_build_one_index(conn: psycopg.Connection, dbname: str) -> None:
    """Three worker processes of four threads each on one vectorizer with a
    low min_rows, ten times over: each store ends with exactly one index."""
    n_rows = 60
    with fakes.FakeProviders(fast=True, record=False) as fast:
        env = {"OPENAI_API_KEY": "sk-test-index", "OPENAI_BASE_URL": fast.openai_url}
        for rep in range(10):
            table = f"posts_{rep}"
            conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, body text)")
            conn.execute(f"INSERT INTO {table} SELECT g, 'post ' || g FROM generate_series(1, {n_rows}) g")
            row = conn.execute(f"""SELECT ai.create_vectorizer('{table}',
                embedding => ai.embedding_openai('fake-8', 8),
                chunking => ai.chunking_character_text_splitter('body', 100, 0),
                indexing => ai.indexing_hnsw(min_rows => 10, create_when_queue_empty => false))""").fetchone()
            assert row is not None
            procs = [worker(dbname, "--once", "-c", "4", "--batch-size", "3", "-i", str(row[0]), env=env)
                     for _ in range(3)]
            outs = [p.communicate(timeout=120) for p in procs]
            assert [p.returncode for p in procs] == [0, 0, 0], [o[1] for o in outs]
            assert conn.execute(f"SELECT count(*) FROM {table}_embedding_store").fetchone() == (n_rows,)
            built = sum(o[1].count("creating the HNSW index") for o in outs)
            assert (ann_indexes(conn, f"{table}_embedding_store"), built) == (1, 1), \
                (rep, [o[1] for o in outs])


def test_missing_diskann_is_said_once(conn: psycopg.Connection, dbname: str) -> None:
    """Without a diskann access method the problem is recorded once, not
    once per thread that reached the indexer together."""
    vid = posts_with_a_full_store(conn, "ai.indexing_diskann(min_rows => 5)")
    with psycopg.connect(f"dbname={dbname}") as locker:
        locker.execute("LOCK TABLE posts_embedding_store IN ACCESS EXCLUSIVE MODE")
        proc = worker(dbname, "--once", "-c", "4")
        try:
            waiting = threads_waiting_on_a_lock(conn, 4)
            assert waiting >= 2, "the threads did not reach the indexer together"
        except BaseException:
            proc.kill()
            raise
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    msgs = conn.execute("SELECT message FROM ai.vectorizer_errors WHERE id = %s", (vid,)).fetchall()
    assert len(msgs) == 1 and "diskann" in msgs[0][0], msgs
