"""The worker after renames (issue 9, item 9): the catalog follows its
tables by OID, so renaming or moving the source, the store or the queues
leaves the worker embedding new rows into the right store; and a dump
restored into another database (where every OID differs) works too."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_worker import make_posts, pending, run_worker, text_for  # noqa: E402


def chunks(conn: psycopg.Connection, store: str) -> dict[int, int]:
    """Chunks per source key in `store` (a qualified, quoted name)."""
    return dict(conn.execute(f"SELECT id, count(*) FROM {store} GROUP BY id ORDER BY id")
                .fetchall())


def test_worker_follows_renamed_source_store_and_queue(conn: psycopg.Connection,
                                                       dbname: str) -> None:
    vid = make_posts(conn, 4)
    done = run_worker(dbname, "--once")
    assert done.returncode == 0, done.stderr
    assert set(chunks(conn, "posts_embedding_store")) == {1, 2, 3, 4}

    # the source renamed and moved, the store renamed, the queue renamed
    conn.execute("CREATE SCHEMA blog")
    conn.execute("ALTER TABLE posts RENAME TO articles")
    conn.execute("ALTER TABLE articles SET SCHEMA blog")
    conn.execute("ALTER TABLE posts_embedding_store RENAME TO articles_store")
    conn.execute(f"ALTER TABLE ai._vectorizer_q_{vid} RENAME TO renamed_queue")
    conn.execute(f"ALTER TABLE ai._vectorizer_q_lease_{vid} RENAME TO renamed_lease")

    conn.execute("INSERT INTO blog.articles VALUES (10, 'New', %s), (11, 'Newer', %s)",
                 (text_for(3), text_for(5)))
    conn.execute("UPDATE blog.articles SET body = 'rewritten entirely' WHERE id = 2")
    conn.execute("DELETE FROM blog.articles WHERE id = 4")
    assert pending(conn, vid) == 3

    done = run_worker(dbname, "--once")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "failed" not in done.stderr.replace("0 failed", "")
    assert pending(conn, vid) == 0
    got = chunks(conn, "public.articles_store")
    assert set(got) == {1, 2, 3, 10, 11}
    assert got[2] == 1
    assert conn.execute("SELECT chunk FROM articles_store WHERE id = 2").fetchall() == [
        ("rewritten entirely",)]

    # the schema renamed too: still embedded
    conn.execute("ALTER SCHEMA blog RENAME TO journal")
    conn.execute("INSERT INTO journal.articles VALUES (12, 'Latest', 'A post about cats.')")
    done = run_worker(dbname, "--once")
    assert done.returncode == 0, done.stderr
    assert conn.execute("SELECT chunk FROM articles_store WHERE id = 12").fetchall() == [
        ("A post about cats.",)]

    # the operator commands show the current names
    status = subprocess.run([str(Path(__file__).resolve().parents[2] / "worker" / "build" / "pgai"),
                             "vectorizer", "status", "-d", f"dbname={dbname}", "--json"],
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stderr
    assert "journal.articles" in status.stdout and "articles_store" in status.stdout


def test_dump_and_restore_keeps_the_vectorizer(conn: psycopg.Connection, dbname: str) -> None:
    """The catalog's OIDs dump as names (regclass) and restore as the new
    database's OIDs: the restored vectorizer captures and embeds."""
    vid = make_posts(conn, 3)
    conn.execute("ALTER TABLE posts RENAME TO posts_renamed")
    bindir = subprocess.run([os.environ.get("PG_CONFIG", "/usr/lib/postgresql/15/bin/pg_config"), "--bindir"],
                            capture_output=True, text=True, check=True).stdout.strip()
    dump = subprocess.run([f"{bindir}/pg_dump", "--no-owner", "-d", dbname],
                          capture_output=True, text=True, timeout=120)
    assert dump.returncode == 0, dump.stderr

    other = f"pgai_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect("dbname=postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(other)))
    try:
        restore = subprocess.run([f"{bindir}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                                  "-d", other], input=dump.stdout,
                                 capture_output=True, text=True, timeout=120)
        assert restore.returncode == 0, restore.stderr
        with psycopg.connect(f"dbname={other}", autocommit=True) as c2:
            assert c2.execute(
                "SELECT source_schema, source_table, target_table, view_name, queue_table"
                " FROM ai.vectorizer WHERE id = %s", (vid,)).fetchone() == (
                "public", "posts_renamed", "posts_embedding_store", "posts_embedding",
                f"_vectorizer_q_{vid}")
            assert pending(c2, vid) == 3
            c2.execute("INSERT INTO posts_renamed VALUES (9, 'Nine', 'Nine is a number.')")
            done = run_worker(other, "--once")
            assert done.returncode == 0, done.stderr
            assert set(chunks(c2, "posts_embedding_store")) == {1, 2, 3, 9}
    finally:
        with psycopg.connect("dbname=postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(other)))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
