"""The operator commands of the `pgai` program against the private cluster:
`pgai vectorizer status / errors / retry` and `pgai search`, with the
built-in model (no network). Output is checked in its three forms (tab-
separated when piped, a table on a terminal, --json), and so are the exit
statuses scripts rely on: 0 done, 1 failed or not found, 2 bad usage,
3 cannot connect."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import termios
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
PGAI = Path(os.environ.get("PGAI_BIN") or ROOT / "worker" / "build" / "pgai")
NOWHERE = "host=/nonexistent-pgai-socket-dir port=1 connect_timeout=2"
ESC = re.compile(r"\x1b\[[0-9;]*m")


def pgai(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PGAI), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def pgai_tty(*args: str, env: dict[str, str] | None = None, columns: int = 200) -> str:
    """Runs pgai with stdout on a pseudo-terminal of the given width."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    full_env = {**os.environ, **(env or {})}
    full_env.pop("COLUMNS", None)
    proc = subprocess.Popen([str(PGAI), *args], stdout=slave, stderr=subprocess.PIPE,
                            env=full_env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    return b"".join(chunks).decode().replace("\r\n", "\n")


def worker(dbname: str, *args: str, env: dict[str, str] | None = None) -> int:
    return subprocess.run([str(PGAI), "vectorizer", "worker", "--db-url", f"dbname={dbname}",
                           "--once", *args], capture_output=True, text=True, timeout=180,
                          env={**os.environ, **(env or {})}).returncode


def tsv(out: str) -> list[list[str]]:
    return [line.split("\t") for line in out.splitlines()]


def make_vectorizer(conn: psycopg.Connection, table: str, rows: list[tuple[int, str]],
                    indexing: str = "ai.indexing_none()") -> int:
    conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, body text)")
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {table} VALUES (%s, %s)", rows)
    row = conn.execute(
        f"""SELECT ai.create_vectorizer('{table}',
               embedding => ai.embedding_sentence_transformers(),
               chunking => ai.chunking_recursive_character_text_splitter('body'),
               indexing => {indexing})""").fetchone()
    assert row is not None
    return int(row[0])


SENTENCES = [
    (1, "The cat curled up on the warm windowsill and slept all afternoon."),
    (2, "PostgreSQL stores rows in tables and finds them quickly with B-tree indexes."),
    (3, "The river carried melting snow from the mountains down to the sea."),
    (4, "A compiler translates source code into machine instructions."),
    (5, "Fresh bread from the bakery smelled of yeast and butter."),
]

COMMANDS = [["vectorizer", "status"], ["vectorizer", "errors"], ["vectorizer", "retry"],
            ["search"]]


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_help_on_every_command(words: list[str]) -> None:
    for flag in ("--help", "-h"):
        out = pgai(*words, flag)
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith(f"usage: pgai {' '.join(words)}")
        assert "-d, --db-url URL" in out.stdout and "Exit status:" in out.stdout
    group = pgai("vectorizer", "--help")
    assert group.returncode == 0 and "status" in group.stdout and "retry" in group.stdout


@pytest.mark.parametrize("args, message", [
    (["vectorizer", "status", "--frobnicate"], 'unknown option "--frobnicate"'),
    (["vectorizer", "status", "extra"], 'unexpected argument "extra"'),
    (["vectorizer", "status", "-i", "abc"], 'invalid vectorizer id "abc"'),
    (["vectorizer", "status", "-i"], "needs a value"),
    (["vectorizer", "errors", "0"], 'invalid vectorizer id "0"'),
    (["vectorizer", "errors", "--limit", "0"], 'invalid limit "0"'),
    (["vectorizer", "retry"], "an ID is required"),
    (["vectorizer", "retry", "--json", "1"], 'unknown option "--json"'),
    (["search", "cats"], "name one vectorizer with -i ID"),
    (["search", "-i", "1"], "the query text is missing"),
    (["vectorizer", "frobnicate"], "usage: pgai COMMAND"),
    (["vectorizer"], "usage: pgai vectorizer"),
])
def test_bad_usage_exits_2(args: list[str], message: str) -> None:
    out = pgai(*args)
    assert out.returncode == 2
    assert message in out.stderr
    assert out.stdout == ""


@pytest.mark.parametrize("args", [["vectorizer", "status"], ["vectorizer", "errors"],
                                  ["vectorizer", "retry", "1"], ["search", "-i", "1", "cats"]],
                         ids=" ".join)
def test_cannot_connect_exits_3(args: list[str]) -> None:
    out = pgai(*args, "--db-url", NOWHERE)
    assert out.returncode == 3
    assert out.stderr.startswith("pgai: cannot connect:")
    # without --db-url the PG* variables apply
    out = pgai(*args, env={"PGHOST": "/nonexistent-pgai-socket-dir", "PGPORT": "1"})
    assert out.returncode == 3 and "/nonexistent-pgai-socket-dir" in out.stderr


def test_unknown_vectorizer_exits_1(conn: psycopg.Connection, dbname: str) -> None:
    vid = make_vectorizer(conn, "posts", SENTENCES[:1])
    db = f"dbname={dbname}"
    for args in (["vectorizer", "status", "-i", "99"], ["vectorizer", "errors", "99"],
                 ["vectorizer", "retry", "99"], ["search", "-i", "99", "cats"]):
        out = pgai(*args, "-d", db)
        assert out.returncode == 1, args
        assert "pgai: vectorizer 99 does not exist" in out.stderr
    # the known one of several is still reported
    out = pgai("vectorizer", "status", "-d", db, "-i", str(vid), "-i", "99")
    assert out.returncode == 1 and tsv(out.stdout)[0][0] == str(vid)


def test_status_follows_queue_and_index(conn: psycopg.Connection, dbname: str) -> None:
    posts = make_vectorizer(conn, "posts", SENTENCES, "ai.indexing_hnsw(min_rows => 3)")
    notes = make_vectorizer(conn, "notes", SENTENCES[:2])
    env = {"PGDATABASE": dbname}      # no --db-url: libpq's PG* variables

    before = pgai("vectorizer", "status", env=env)
    assert before.returncode == 0, before.stderr
    assert tsv(before.stdout) == [
        [str(posts), "public.posts", "public.posts_embedding_store", "5", "0",
         "waiting for 3 rows (0 so far)", "f", "", ""],
        [str(notes), "public.notes", "public.notes_embedding_store", "2", "0",
         "none configured", "f", "", ""],
    ]

    assert worker(dbname) == 0
    after = tsv(pgai("vectorizer", "status", env=env).stdout)
    assert after[0][3:6] == ["0", "0", "hnsw index"]
    assert after[1][3:6] == ["0", "0", "none configured"]

    # without its index: due while the queue is empty, else waiting for it
    index = conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'posts_embedding_store'"
                         " AND indexdef LIKE '%hnsw%'").fetchone()
    assert index is not None
    conn.execute(f'DROP INDEX "{index[0]}"')
    only = ["vectorizer", "status", "-i", str(posts), "--db-url", f"dbname={dbname}"]
    assert tsv(pgai(*only).stdout)[0][5] == "hnsw due"
    conn.execute("INSERT INTO posts VALUES (6, 'Another row about owls at night.')")
    row = tsv(pgai(*only).stdout)[0]
    assert row[3] == "1" and row[5] == "waiting for the queue to empty"

    conn.execute("UPDATE ai.vectorizer SET disabled = true WHERE id = %s", (notes,))
    data = json.loads(pgai("vectorizer", "status", "--json", env=env).stdout)
    assert [d["id"] for d in data] == [posts, notes]
    assert data[0]["pending"] == 1 and data[0]["failed"] == 0 and data[0]["disabled"] is False
    assert data[1]["disabled"] is True and data[1]["last_error"] is None


def test_failed_rows_show_in_status_and_retry_puts_them_back(
        conn: psycopg.Connection, dbname: str, tmp_path: Path) -> None:
    vid = make_vectorizer(conn, "posts", SENTENCES)
    db = f"dbname={dbname}"
    broken = {"PGAI_MODEL_DIR": str(tmp_path / "no-model-here")}
    assert worker(dbname, "--max-attempts", "1", "--retry-backoff", "0", env=broken) == 1

    row = tsv(pgai("vectorizer", "status", "-d", db).stdout)[0]
    assert row[3:5] == ["0", "5"]                       # pending, failed
    assert row[7] != "" and "no-model-here" in row[8]   # last error, with its time

    errors = pgai("vectorizer", "errors", str(vid), "-d", db)
    assert errors.returncode == 0
    lines = tsv(errors.stdout)
    assert lines and all(line[1] == str(vid) and "no-model-here" in line[2] for line in lines)
    assert all(isinstance(json.loads(line[3]), dict) for line in lines)

    retry = pgai("vectorizer", "retry", str(vid), "-d", db)
    assert retry.returncode == 0, retry.stderr
    assert retry.stdout == f"vectorizer {vid}: 5 rows queued again\n"
    assert tsv(pgai("vectorizer", "status", "-d", db).stdout)[0][3:5] == ["5", "0"]
    # nothing left to retry; -i works as the positional ID does
    again = pgai("vectorizer", "retry", "-i", str(vid), "-d", db)
    assert again.returncode == 0 and again.stdout == f"vectorizer {vid}: 0 rows queued again\n"

    assert worker(dbname) == 0
    assert tsv(pgai("vectorizer", "status", "-d", db).stdout)[0][3:5] == ["0", "0"]
    assert conn.execute("SELECT count(*) FROM posts_embedding_store").fetchone() == (5,)


def test_errors_newest_first_filtered_and_limited(conn: psycopg.Connection, dbname: str) -> None:
    a = make_vectorizer(conn, "posts", SENTENCES[:1])
    b = make_vectorizer(conn, "notes", SENTENCES[:1])
    db = f"dbname={dbname}"
    empty = pgai("vectorizer", "errors", "-d", db)
    assert empty.returncode == 0 and empty.stdout == ""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO ai.vectorizer_errors (id, message, details, recorded)"
            " VALUES (%s, %s, %s::jsonb, now() - %s::interval)",
            [(a, "oldest", '{"n": 1}', "3 hours"),
             (b, "middle\twith a tab\nand a newline", '{"n": 2, "s": "x\\\\y"}', "2 hours"),
             (a, "newest", '{"n": 3}', "1 hour")])

    rows = tsv(pgai("vectorizer", "errors", "-d", db).stdout)
    assert [r[2] for r in rows] == ["newest", "middle\\twith a tab\\nand a newline", "oldest"]
    assert [r[1] for r in rows] == [str(a), str(b), str(a)]
    assert json.loads(rows[0][3]) == {"n": 3}
    assert [r[2] for r in tsv(pgai("vectorizer", "errors", str(a), "-d", db).stdout)] == \
        ["newest", "oldest"]
    assert [r[2] for r in tsv(pgai("vectorizer", "errors", "-d", db, "--limit", "1").stdout)] == \
        ["newest"]
    data = json.loads(pgai("vectorizer", "errors", "-i", str(b), "-d", db, "--json").stdout)
    assert data == [{"recorded": data[0]["recorded"], "id": b,
                     "message": "middle\twith a tab\nand a newline",
                     "details": {"n": 2, "s": "x\\y"}}]

    # status shows each vectorizer's newest error
    status = tsv(pgai("vectorizer", "status", "-d", db).stdout)
    assert [r[8] for r in status] == ["newest", "middle\\twith a tab\\nand a newline"]


def test_search_finds_the_nearest_row_first(conn: psycopg.Connection, dbname: str) -> None:
    vid = make_vectorizer(conn, "posts", SENTENCES)
    db = f"dbname={dbname}"
    empty = pgai("search", "-d", db, "-i", str(vid), "anything")
    assert empty.returncode == 0 and empty.stdout == ""
    assert worker(dbname) == 0

    for query, expected in [("a kitten napping in the sun", "1"),
                            ("which database index makes lookups fast", "2"),
                            ("water flowing to the ocean", "3"),
                            ("baking a loaf", "5")]:
        out = pgai("search", "-d", db, "-i", str(vid), query)
        assert out.returncode == 0, out.stderr
        rows = tsv(out.stdout)
        assert len(rows) == 5 and rows[0][1] == expected, (query, rows)
        distances = [float(r[0]) for r in rows]
        assert distances == sorted(distances) and 0 <= distances[0] < 1
        assert rows[0][2] == dict(SENTENCES)[int(expected)]

    # words are joined, options may follow them, --limit caps the rows
    out = pgai("search", "compiler", "machine", "code", "-i", str(vid), "-d", db, "-n", "2")
    assert out.returncode == 0, out.stderr
    rows = tsv(out.stdout)
    assert len(rows) == 2 and rows[0][1] == "4"
    data = json.loads(pgai("search", "--json", "-d", db, "-i", str(vid), "bread").stdout)
    assert data[0]["key"] == "5" and isinstance(data[0]["distance"], float)


def test_search_composite_key(conn: psycopg.Connection, dbname: str) -> None:
    conn.execute("CREATE TABLE docs (lang text, n int, body text, PRIMARY KEY (lang, n))")
    conn.execute("INSERT INTO docs VALUES ('en', 1, 'The cat sleeps.'), ('en', 2, 'Tax forms are due.')")
    row = conn.execute("""SELECT ai.create_vectorizer('docs',
        embedding => ai.embedding_sentence_transformers(),
        chunking => ai.chunking_recursive_character_text_splitter('body'),
        indexing => ai.indexing_none())""").fetchone()
    assert row is not None
    vid = row[0]
    assert worker(dbname) == 0
    rows = tsv(pgai("search", "-d", f"dbname={dbname}", "-i", str(vid), "kitty").stdout)
    assert [r[1] for r in rows] == ["(en,1)", "(en,2)"]


def test_terminal_table_colour_and_width(conn: psycopg.Connection, dbname: str) -> None:
    vid = make_vectorizer(conn, "posts", SENTENCES)
    db = f"dbname={dbname}"
    conn.execute("INSERT INTO ai.vectorizer_errors (id, message) VALUES (%s, 'it broke')", (vid,))

    coloured = pgai_tty("vectorizer", "status", "-d", db, env={"NO_COLOR": ""})
    assert ESC.search(coloured)
    plain = pgai_tty("vectorizer", "status", "-d", db, env={"NO_COLOR": "1"})
    assert not ESC.search(plain)
    assert ESC.sub("", coloured) == plain
    header, line = plain.splitlines()
    assert header.split()[:5] == ["ID", "SOURCE", "STORE", "PENDING", "FAILED"]
    # columns line up: each value starts under its header (numbers end under it)
    assert line.index("public.posts ") == header.index("SOURCE")
    assert line.index("none configured") == header.index("INDEX")
    assert line.rstrip().endswith("it broke")

    errors = pgai_tty("vectorizer", "errors", "-d", db, env={"NO_COLOR": "1"})
    assert f"vectorizer {vid}" in errors and "\n  it broke\n" in errors

    assert worker(dbname) == 0
    narrow = pgai_tty("search", "-d", db, "-i", str(vid), "cat", env={"NO_COLOR": "1"},
                      columns=50)
    lines = narrow.splitlines()
    assert lines[0].split() == ["DISTANCE", "KEY", "CHUNK"]
    assert len(lines) == 6 and all(len(x) <= 50 for x in lines)
    assert lines[1].endswith("…") and "The cat curled" in lines[1]


def test_search_with_openai_key_from_the_environment(conn: psycopg.Connection, dbname: str) -> None:
    """The key reaches the provider, from this shell's environment, without
    travelling as a statement parameter: the server logs no trace of it."""
    import fake_providers as fakes

    key = "sk-shell-5e6f7a8b9c0d"
    conn.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
    conn.execute("INSERT INTO notes VALUES (1, 'alpha'), (2, 'beta')")
    with fakes.FakeProviders() as fake:
        conn.execute("""SELECT ai.create_vectorizer('notes',
            embedding => ai.embedding_openai('fake-8', 8, base_url => %s),
            chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none())""",
                     (fake.openai_url,))
        env = {"OPENAI_API_KEY": key}
        # the worker's operator allows this provider too
        assert worker(dbname, "--once", env={**env, "PGAI_ALLOWED_BASE_URLS": fake.url}) == 0
        # the administrator allows the server to call this provider
        conn.execute(sql.SQL("ALTER DATABASE {} SET ai.allowed_base_urls = {}").format(
            sql.Identifier(dbname), sql.Literal(fake.url)))
        conn.execute("ALTER DATABASE " + dbname + " SET log_statement = 'all'")
        done = pgai("search", "-d", f"dbname={dbname}", "-i", "1", "beta", env=env)
        conn.execute("ALTER DATABASE " + dbname + " RESET log_statement")
        assert done.returncode == 0, done.stderr
        rows = tsv(done.stdout)
        assert rows[0][1] == "2" and float(rows[0][0]) < 1e-6
        assert fake.requests[-1]["headers"]["authorization"] == f"Bearer {key}"
    log = (ROOT / ".pgdata" / "server.log").read_text(errors="replace")
    assert key not in log


def test_search_with_pgvector_outside_public() -> None:
    """pgvector may live in any schema (CREATE EXTENSION vector SCHEMA vec):
    search finds its type and operator there, as the extension does, rather
    than assuming public."""
    import uuid

    name = f"pgai_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect("dbname=postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with psycopg.connect(f"dbname={name}", autocommit=True) as c:
            c.execute("CREATE SCHEMA vec")
            c.execute("CREATE EXTENSION vector SCHEMA vec")
            c.execute("CREATE EXTENSION ai")
            assert c.execute("SELECT to_regtype('public.vector')").fetchone() == (None,)
            vid = make_vectorizer(c, "posts", SENTENCES)
        assert worker(name) == 0
        out = pgai("search", "-d", f"dbname={name}", "-i", str(vid), "a kitten napping in the sun")
        assert out.returncode == 0, out.stderr
        rows = tsv(out.stdout)
        assert len(rows) == 5 and rows[0][1] == "1", rows
    finally:
        with psycopg.connect("dbname=postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_status_index_state_is_the_indexers(conn: psycopg.Connection, dbname: str) -> None:
    """Status says what the indexer would do, by the indexer's own rules:
    without a diskann access method the worker never builds a DiskANN
    index (it records why, once), so status must not call it due."""
    assert conn.execute("SELECT 1 FROM pg_am WHERE amname = 'diskann'").fetchone() is None, \
        "this test needs a database without pgvectorscale's diskann access method"
    vid = make_vectorizer(conn, "posts", SENTENCES, "ai.indexing_diskann(min_rows => 3)")
    assert worker(dbname) == 0
    again = worker(dbname)      # a second pass finds the same: nothing to build
    assert again == 0
    row = tsv(pgai("vectorizer", "status", "-d", f"dbname={dbname}", "-i", str(vid)).stdout)[0]
    assert row[5] == 'diskann unavailable (no "diskann" access method)', row
    notes = conn.execute("SELECT count(*) FROM ai.vectorizer_errors WHERE id = %s"
                         " AND message LIKE '%%diskann%%'", (vid,)).fetchone()
    assert notes == (1,)
