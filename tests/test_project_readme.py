"""The README's SQL quickstart, run as written: its SQL blocks in a fresh
database and its shell block (the worker) against that database."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]


def quickstart_blocks() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## SQL quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(sql|sh)\n(.*?)```", section, re.S)


@pytest.fixture
def empty_db() -> Iterator[str]:
    name = f"readme_{uuid.uuid4().hex[:10]}"
    with psycopg.connect("dbname=postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect("dbname=postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_sql_quickstart_runs_as_written(empty_db: str) -> None:
    blocks = quickstart_blocks()
    assert [kind for kind, _ in blocks] == ["sql", "sh", "sql"]
    last = None
    with psycopg.connect(f"dbname={empty_db}", autocommit=True) as conn:
        for kind, code in blocks:
            if kind == "sql":
                cur = conn.execute(code)
                last = cur.fetchall() if cur.description else None
            else:
                cmd = code.replace("dbname=mydb", f"dbname={empty_db}").split("#")[0]
                done = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True,
                                      timeout=120, env=os.environ.copy())
                assert done.returncode == 0, done.stderr
    assert last is not None and last[0][0] == "Vectors"
    assert "Title: Vectors" in last[0][1]


def test_operator_commands_run_as_written(empty_db: str) -> None:
    """The README's operator commands, against the quickstart's database."""
    text = (ROOT / "README.md").read_text()
    section = text.split("Operator commands", 1)[1]
    block = re.findall(r"```sh\n(.*?)```", section, re.S)[0]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert [c.split()[:3] for c in commands][:2] == [["pgai", "vectorizer", "status"],
                                                     ["pgai", "vectorizer", "errors"]]
    with psycopg.connect(f"dbname={empty_db}", autocommit=True) as conn:
        for kind, code in quickstart_blocks():
            if kind == "sql":
                conn.execute(code)
            else:
                cmd = code.replace("dbname=mydb", f"dbname={empty_db}").split("#")[0]
                assert subprocess.run(["bash", "-c", cmd], capture_output=True).returncode == 0
    outputs = []
    for cmd in commands:
        done = subprocess.run(["bash", "-c", cmd.replace("dbname=mydb", f"dbname={empty_db}")],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (cmd, done.stderr)
        outputs.append(done.stdout)
    assert "blog_posts" in outputs[0]                     # status names the source
    assert "0 rows queued again" in outputs[2]
    assert "Title: Vectors" in outputs[3]                 # search finds the post


def test_changing_a_vectorizer_runs_as_written(empty_db: str) -> None:
    """The SQL of "Changing a vectorizer": a named vectorizer, created again
    with if_not_exists, then altered in place by name."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Changing a vectorizer", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sql\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    with psycopg.connect(f"dbname={empty_db}", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION ai CASCADE")
        conn.execute("CREATE TABLE blog_posts (id int PRIMARY KEY, content text)")
        conn.execute("DROP ROLE IF EXISTS app_reader")
        conn.execute("CREATE ROLE app_reader")
        try:
            first = conn.execute(blocks[0]).fetchone()
            again = conn.execute(blocks[0]).fetchone()     # if_not_exists: the same id
            assert first is not None and again == first
            conn.execute(blocks[1])
            row = conn.execute("SELECT name, config->'processing'->>'batch_size',"
                               " config->'indexing'->>'min_rows' FROM ai.vectorizer").fetchone()
            assert row == ("blog", "64", "50000")
            assert conn.execute("SELECT has_table_privilege('app_reader', 'blog_posts_embedding_store',"
                                " 'select')").fetchone() == (True,)
        finally:
            conn.execute("SELECT ai.drop_vectorizer('blog', drop_all => true)")
            conn.execute("DROP OWNED BY app_reader")
            conn.execute("DROP ROLE app_reader")
