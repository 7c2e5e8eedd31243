"""The extension seen from a client: values travel as bound parameters,
change capture under concurrent writers, and the work notifications that
wake workers."""

from __future__ import annotations

import threading

import psycopg
import pytest

NASTY_VALUES = [
    "it's",
    'say "hi"',
    "$chunk and $$ dollars",
    "back\\slash \\n not a newline",
    "'); DROP TABLE docs; --",
    "ünïcødé ✓ 漢字 🙂",
]


def make_docs(conn: psycopg.Connection, rows: int = 3) -> None:
    conn.execute("CREATE TABLE docs (id int PRIMARY KEY, title text, body text)")
    conn.execute(
        "INSERT INTO docs SELECT g, 'title ' || g, 'body ' || g FROM generate_series(1, %s) g",
        (rows,),
    )


@pytest.mark.parametrize("value", NASTY_VALUES)
def test_config_values_are_data(conn: psycopg.Connection, value: str) -> None:
    make_docs(conn)
    vid = conn.execute(
        """SELECT ai.create_vectorizer('docs',
               embedding => ai.embedding_openai(%s, 3, chat_user => %s, api_key_name => %s),
               chunking => ai.chunking_character_text_splitter('body', separator => %s),
               indexing => ai.indexing_none())""",
        (value, value, value, value),
    ).fetchone()
    assert vid is not None
    cfg = conn.execute("SELECT config FROM ai.vectorizer WHERE id = %s", (vid[0],)).fetchone()
    assert cfg is not None
    emb = cfg[0]["embedding"]
    assert (emb["model"], emb["chat_user"], emb["api_key_name"]) == (value, value, value)
    assert cfg[0]["chunking"]["separator"] == value
    # the source table survived whatever the value said
    assert conn.execute("SELECT count(*) FROM docs").fetchone() == (3,)


def test_template_with_dollars_and_quotes(conn: psycopg.Connection) -> None:
    make_docs(conn)
    template = "Title: ${title} costs $$5 'quoted'\nContent: $chunk"
    vid = conn.execute(
        """SELECT ai.create_vectorizer('docs',
               embedding => ai.embedding_openai('m', 3),
               chunking => ai.chunking_character_text_splitter('body'),
               formatting => ai.formatting_python_template(%s),
               indexing => ai.indexing_none())""",
        (template,),
    ).fetchone()
    assert vid is not None
    stored = conn.execute(
        "SELECT config->'formatting'->>'template' FROM ai.vectorizer WHERE id = %s", (vid[0],)
    ).fetchone()
    assert stored == (template,)


def test_notification_wakes_listeners(dbname: str, conn: psycopg.Connection) -> None:
    make_docs(conn, rows=0)
    vid = conn.execute(
        """SELECT ai.create_vectorizer('docs', embedding => ai.embedding_openai('m', 3),
               chunking => ai.chunking_character_text_splitter('body'),
               indexing => ai.indexing_none())"""
    ).fetchone()
    assert vid is not None
    with psycopg.connect(f"dbname={dbname}", autocommit=True) as listener:
        listener.execute("LISTEN ai_vectorizer_work")
        conn.execute("INSERT INTO docs VALUES (1, 't', 'b')")
        conn.execute("UPDATE docs SET title = 'not an input' WHERE id = 1")
        got = [n.payload for n in listener.notifies(timeout=2.0, stop_after=1)]
        assert got == [str(vid[0])]
        # an update that changes no input announces nothing
        conn.execute("UPDATE docs SET id = id WHERE id = 1")
        assert list(listener.notifies(timeout=0.3)) == []


def test_concurrent_writers_lose_no_key(dbname: str, conn: psycopg.Connection) -> None:
    """Four writers insert and update at once: every insert and every update
    of the shared row reaches the queue."""
    make_docs(conn, rows=0)
    conn.execute(
        """SELECT ai.create_vectorizer('docs', embedding => ai.embedding_openai('m', 3),
               chunking => ai.chunking_character_text_splitter('body'),
               indexing => ai.indexing_none())"""
    )
    errors: list[BaseException] = []

    def writer(start: int) -> None:
        try:
            with psycopg.connect(f"dbname={dbname}", autocommit=True) as c:
                for i in range(start, start + 250):
                    c.execute("INSERT INTO docs VALUES (%s, 't', 'b')", (i,))
                    # every writer also updates a shared hot row
                    c.execute("UPDATE docs SET body = body || 'x' WHERE id = 0")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    conn.execute("INSERT INTO docs VALUES (0, 'hot', 'hot')")
    threads = [threading.Thread(target=writer, args=(1 + 1000 * k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = conn.execute(
        "SELECT count(*) FILTER (WHERE id <> 0), count(DISTINCT id), count(*) FILTER (WHERE id = 0) "
        "FROM ai._vectorizer_q_1"
    ).fetchone()
    assert rows == (1000, 1001, 1001)
