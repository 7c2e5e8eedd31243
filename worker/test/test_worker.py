"""The worker end to end, against the private cluster, with the built-in
model (no network): embeddings follow inserts, updates, deletes and
truncates; concurrent workers never embed a row twice; a killed worker
loses nothing; failures are recorded, retried, and set aside."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psycopg
import pytest
from langchain_text_splitters import RecursiveCharacterTextSplitter

ROOT = Path(__file__).resolve().parents[2]
PGAI = Path(os.environ.get("PGAI_BIN") or ROOT / "worker" / "build" / "pgai")
SEPARATORS = ["\n\n", "\n", ".", "?", "!", " ", ""]


def run_worker(dbname: str, *args: str, env: dict[str, str] | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PGAI), "vectorizer", "worker", "--db-url", f"dbname={dbname}", *args],
        capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def text_for(i: int) -> str:
    topics = ["databases store rows in tables", "cats sleep most of the day",
              "rivers flow to the sea", "compilers turn code into machine instructions"]
    return " ".join(f"Sentence {k} of doc {i}: {topics[(i + k) % 4]}." for k in range(i % 7 + 1))


def make_posts(conn: psycopg.Connection, n: int, template: str = "$chunk",
               chunk_size: int = 120, overlap: int = 20) -> int:
    conn.execute("CREATE TABLE posts (id int PRIMARY KEY, title text NOT NULL, body text)")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO posts VALUES (%s, %s, %s)",
                        [(i, f"Title {i}", text_for(i)) for i in range(1, n + 1)])
    row = conn.execute(
        """SELECT ai.create_vectorizer('posts',
               embedding => ai.embedding_sentence_transformers(),
               chunking => ai.chunking_recursive_character_text_splitter('body', %s, %s),
               formatting => ai.formatting_python_template(%s),
               indexing => ai.indexing_none())""",
        (chunk_size, overlap, template),
    ).fetchone()
    assert row is not None
    return int(row[0])


def expected_chunks(conn: psycopg.Connection, chunk_size: int = 120,
                    overlap: int = 20) -> dict[int, list[str]]:
    splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=overlap,
                                              separators=SEPARATORS)
    return {i: splitter.split_text(body) if body is not None else []
            for i, body in conn.execute("SELECT id, body FROM posts")}


def stored_chunks(conn: psycopg.Connection) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for i, seq, chunk in conn.execute(
            "SELECT id, chunk_seq, chunk FROM posts_embedding_store ORDER BY id, chunk_seq"):
        out.setdefault(i, []).append(chunk)
        assert seq == len(out[i]) - 1
    return out


def pending(conn: psycopg.Connection, vid: int) -> int:
    row = conn.execute("SELECT ai.vectorizer_queue_pending(%s, true)", (vid,)).fetchone()
    assert row is not None
    return int(row[0])


def test_help_and_bad_usage() -> None:
    ok = subprocess.run([str(PGAI), "vectorizer", "worker", "--help"], capture_output=True, text=True)
    assert ok.returncode == 0 and "--db-url" in ok.stdout
    bad = subprocess.run([str(PGAI), "vectorizer", "worker", "--poll-interval", "soon"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid duration" in bad.stderr


def test_embeddings_follow_the_data(conn: psycopg.Connection, dbname: str) -> None:
    vid = make_posts(conn, 12)
    done = run_worker(dbname, "--once")
    assert done.returncode == 0, done.stderr
    assert stored_chunks(conn) == {k: v for k, v in expected_chunks(conn).items() if v}
    assert pending(conn, vid) == 0

    # vectors are the model's: unit length, 384 dimensions, similar texts close
    vecs = [np.array(v) for (v,) in conn.execute(
        "SELECT embedding::real[] FROM posts_embedding_store ORDER BY id, chunk_seq")]
    assert all(v.shape == (384,) and abs(np.linalg.norm(v) - 1) < 1e-3 for v in vecs)

    # update: the row is re-embedded and its chunk count changes
    conn.execute("UPDATE posts SET body = %s WHERE id = 3", (text_for(6),))
    conn.execute("UPDATE posts SET body = 'short' WHERE id = 6")
    # an update of a column no input uses queues nothing
    conn.execute("ALTER TABLE posts ADD COLUMN views int DEFAULT 0")
    conn.execute("UPDATE posts SET views = 1")
    assert pending(conn, vid) == 2
    assert run_worker(dbname, "--once").returncode == 0
    assert stored_chunks(conn) == {k: v for k, v in expected_chunks(conn).items() if v}

    # NULL text: no chunks; delete: gone; insert: embedded
    conn.execute("UPDATE posts SET body = NULL WHERE id = 4")
    conn.execute("DELETE FROM posts WHERE id = 5")
    conn.execute("INSERT INTO posts VALUES (100, 'New', 'A new post about rivers.')")
    assert run_worker(dbname, "--once").returncode == 0
    got = stored_chunks(conn)
    assert 4 not in got and 5 not in got and got[100] == ["A new post about rivers."]
    assert got == {k: v for k, v in expected_chunks(conn).items() if v}

    # truncate empties store and queue
    conn.execute("INSERT INTO posts VALUES (101, 'x', 'y')")
    conn.execute("TRUNCATE posts CASCADE")
    assert stored_chunks(conn) == {} and pending(conn, vid) == 0
    assert run_worker(dbname, "--once").returncode == 0


def test_template_reaches_the_model(conn: psycopg.Connection, dbname: str) -> None:
    """The formatted text, not the bare chunk, is what gets embedded: the
    stored vector equals the model's embedding of 'Title: ...\\nContent: ...'."""
    make_posts(conn, 2, template="Title: $title\nContent: $chunk", chunk_size=500, overlap=0)
    conn.execute("CREATE TABLE probe (id int PRIMARY KEY, body text)")
    conn.execute("INSERT INTO probe VALUES (1, %s), (2, %s)",
                 ("Title: Title 1\nContent: " + text_for(1), text_for(1)))
    conn.execute("""SELECT ai.create_vectorizer('probe',
        embedding => ai.embedding_sentence_transformers(),
        chunking => ai.chunking_character_text_splitter('body', 1000, 0),
        indexing => ai.indexing_none())""")
    assert run_worker(dbname, "--once").returncode == 0
    row = conn.execute("""
        SELECT (SELECT embedding FROM posts_embedding_store WHERE id = 1)
                 <=> (SELECT embedding FROM probe_embedding_store WHERE id = 1),
               (SELECT embedding FROM posts_embedding_store WHERE id = 1)
                 <=> (SELECT embedding FROM probe_embedding_store WHERE id = 2)""").fetchone()
    assert row is not None
    assert row[0] < 1e-5 < row[1]


def test_concurrent_workers_embed_each_row_once(conn: psycopg.Connection, dbname: str) -> None:
    vid = make_posts(conn, 120, chunk_size=400, overlap=0)
    procs = [subprocess.Popen([str(PGAI), "vectorizer", "worker", "--db-url", f"dbname={dbname}",
                               "--once", "--batch-size", "5"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1] for o in outs]
    # every worker did some of the work, and each row was written once
    claimed = [sum(int(line.split(" keys claimed")[0].split()[-1])
                   for line in err.splitlines() if "keys claimed" in line) for _, err in outs]
    assert sum(claimed) == 120, claimed
    assert stored_chunks(conn) == expected_chunks(conn, 400, 0)
    assert pending(conn, vid) == 0


def test_killed_worker_loses_nothing(conn: psycopg.Connection, dbname: str) -> None:
    vid = make_posts(conn, 60, chunk_size=60, overlap=0)
    proc = subprocess.Popen([str(PGAI), "vectorizer", "worker", "--db-url", f"dbname={dbname}",
                             "--batch-size", "4"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # wait until it has written something, then kill it mid-run
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        n = conn.execute("SELECT count(*) FROM posts_embedding_store").fetchone()
        if n is not None and n[0] > 0:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < pending(conn, vid) < 60
    # the dead worker's leases free at once: the next run completes
    done = run_worker(dbname, "--once")
    assert done.returncode == 0, done.stderr
    assert pending(conn, vid) == 0
    assert stored_chunks(conn) == expected_chunks(conn, 60, 0)


def test_sigterm_finishes_the_batch(conn: psycopg.Connection, dbname: str) -> None:
    """SIGTERM while a batch is being embedded: the worker stops, and what
    it had claimed goes back to the queue as it was (no attempt counted,
    no backoff, no error row), so the next run finishes everything."""
    vid = make_posts(conn, 200, chunk_size=60, overlap=0)
    proc = subprocess.Popen([str(PGAI), "vectorizer", "worker", "--db-url", f"dbname={dbname}",
                             "--batch-size", "50", "-c", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:        # the first batch is written: the next embeds
        n = conn.execute("SELECT count(*) FROM posts_embedding_store").fetchone()
        if n is not None and n[0] > 0:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, 1), err
    # whatever it claimed it wrote or released: no lease, no backoff, no error
    leases = conn.execute("SELECT count(*) FILTER (WHERE lease_token IS NOT NULL),"
                          " count(*) FILTER (WHERE retry_after IS NOT NULL)"
                          " FROM ai._vectorizer_q_lease_1").fetchone()
    assert leases == (0, 0), err
    assert conn.execute("SELECT count(*) FROM ai.vectorizer_errors").fetchone() == (0,)
    assert pending(conn, vid) > 0
    assert run_worker(dbname, "--once").returncode == 0
    assert pending(conn, vid) == 0


def test_failures_are_recorded_retried_and_set_aside(conn: psycopg.Connection, dbname: str,
                                                     tmp_path: Path) -> None:
    vid = make_posts(conn, 5)
    broken = {"PGAI_MODEL_DIR": str(tmp_path / "no-model-here")}
    failed = run_worker(dbname, "--once", "--retry-backoff", "0", "--max-attempts", "2", env=broken)
    assert failed.returncode == 1
    errors = conn.execute("SELECT message, details FROM ai.vectorizer_errors WHERE id = %s",
                          (vid,)).fetchall()
    assert errors and "no-model-here" in errors[0][0] and "make setup" in errors[0][0]
    # nothing lost: the rows are still queued, or set aside after 2 attempts
    failed_rows = conn.execute("SELECT count(*) FROM ai._vectorizer_q_failed_1").fetchone()
    assert failed_rows == (5,)
    assert stored_chunks(conn) == {}
    # an operator puts them back; a working model then embeds them
    conn.execute("SELECT ai.vectorizer_retry_failed(%s)", (vid,))
    assert pending(conn, vid) == 5
    done = run_worker(dbname, "--once")
    assert done.returncode == 0, done.stderr
    assert stored_chunks(conn) == expected_chunks(conn)
    assert conn.execute("SELECT count(*) FROM ai._vectorizer_q_failed_1").fetchone() == (0,)


def test_backoff_keeps_rows_until_they_succeed(conn: psycopg.Connection, dbname: str,
                                               tmp_path: Path) -> None:
    vid = make_posts(conn, 3)
    broken = {"PGAI_MODEL_DIR": str(tmp_path / "missing")}
    assert run_worker(dbname, "--once", "--retry-backoff", "1h", env=broken).returncode == 1
    attempts = conn.execute("SELECT attempts, retry_after > now() + interval '50 min' "
                            "FROM ai._vectorizer_q_lease_1").fetchall()
    assert attempts == [(1, True)] * 3
    # still broken: a --once run tries each row once more, and says so
    assert run_worker(dbname, "--once", "--retry-backoff", "1h", env=broken).returncode == 1
    assert pending(conn, vid) == 3
    conn.execute("UPDATE ai._vectorizer_q_lease_1 SET retry_after = now()")
    assert run_worker(dbname, "--once").returncode == 0
    assert pending(conn, vid) == 0


def test_index_is_created_at_min_rows(conn: psycopg.Connection, dbname: str) -> None:
    conn.execute("CREATE TABLE docs (id int PRIMARY KEY, body text)")
    conn.execute("INSERT INTO docs SELECT g, 'document number ' || g FROM generate_series(1, 30) g")
    conn.execute("""SELECT ai.create_vectorizer('docs',
        embedding => ai.embedding_sentence_transformers(),
        chunking => ai.chunking_character_text_splitter('body', 100, 0),
        indexing => ai.indexing_hnsw(min_rows => 20, opclass => 'vector_l2_ops', m => 8,
                                     ef_construction => 32))""")
    conn.execute("""SELECT ai.create_vectorizer('docs',
        embedding => ai.embedding_sentence_transformers(),
        chunking => ai.chunking_character_text_splitter('body', 100, 0),
        indexing => ai.indexing_diskann(min_rows => 20),
        target_table => 'docs_disk_store', view_name => 'docs_disk')""")
    assert run_worker(dbname, "--once").returncode == 0
    idx = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'docs_embedding_store' "
                       "AND indexdef LIKE '%hnsw%'").fetchall()
    assert len(idx) == 1 and "vector_l2_ops" in idx[0][0] and "m='8'" in idx[0][0]
    # no diskann access method here: said once, and the vectorizer still works
    assert run_worker(dbname, "--once").returncode == 0
    msgs = conn.execute("SELECT message FROM ai.vectorizer_errors WHERE id = 2").fetchall()
    assert len(msgs) == 1 and "diskann" in msgs[0][0]
    assert conn.execute("SELECT count(*) FROM docs_disk_store").fetchone() == (30,)


def test_continuous_worker_wakes_on_new_rows(conn: psycopg.Connection, dbname: str) -> None:
    make_posts(conn, 1)
    proc = subprocess.Popen([str(PGAI), "vectorizer", "worker", "--db-url", f"dbname={dbname}",
                             "--poll-interval", "60s"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while conn.execute("SELECT count(*) FROM posts_embedding_store").fetchone() == (0,):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # it is now idle with a 60 s poll interval: only the notification can wake it
        start = time.monotonic()
        conn.execute("INSERT INTO posts VALUES (2, 't', 'woken by a notification')")
        while conn.execute("SELECT count(*) FROM posts_embedding_store WHERE id = 2").fetchone() == (0,):
            assert time.monotonic() - start < 10
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_disabled_vectorizer_is_left_alone(conn: psycopg.Connection, dbname: str) -> None:
    vid = make_posts(conn, 3)
    conn.execute("SELECT ai.disable_vectorizer_schedule(%s)", (vid,))
    assert run_worker(dbname, "--once").returncode == 0
    assert pending(conn, vid) == 3
    conn.execute("SELECT ai.enable_vectorizer_schedule(%s)", (vid,))
    assert run_worker(dbname, "--once", "-i", str(vid)).returncode == 0
    assert pending(conn, vid) == 0


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))


def test_schedule_interval_is_honoured(conn: psycopg.Connection, dbname: str) -> None:
    """A vectorizer scheduled every hour is processed once by a running
    worker, then left alone; one without a schedule keeps up at once."""
    conn.execute("CREATE TABLE hourly (id int PRIMARY KEY, body text)")
    conn.execute("CREATE TABLE live (id int PRIMARY KEY, body text)")
    conn.execute("INSERT INTO hourly VALUES (1, 'first')")
    conn.execute("INSERT INTO live VALUES (1, 'first')")
    for table, sched in (("hourly", "ai.scheduling_timescaledb('1h')"), ("live", "ai.scheduling_none()")):
        conn.execute(f"""SELECT ai.create_vectorizer('{table}',
            embedding => ai.embedding_sentence_transformers(),
            chunking => ai.chunking_character_text_splitter('body'),
            indexing => ai.indexing_none(), scheduling => {sched})""")
    proc = subprocess.Popen([str(PGAI), "vectorizer", "worker", "--db-url", f"dbname={dbname}",
                             "--poll-interval", "200ms"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def count(table: str) -> int:
            row = conn.execute(f"SELECT count(*) FROM {table}_embedding_store").fetchone()
            assert row is not None
            return int(row[0])

        deadline = time.monotonic() + 30
        while count("hourly") + count("live") < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        conn.execute("INSERT INTO hourly VALUES (2, 'second')")
        conn.execute("INSERT INTO live VALUES (2, 'second')")
        while count("live") < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.0)  # several polls later, the hourly one still waits
        assert count("hourly") == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    # a --once run is a scheduled run: it processes what waits
    assert run_worker(dbname, "--once").returncode == 0
    assert conn.execute("SELECT count(*) FROM hourly_embedding_store").fetchone() == (2,)
