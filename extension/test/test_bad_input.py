"""Bad-input battery: every function of schema ai, found in pg_proc (so a
new function is covered without editing this file), called as an
unprivileged role and as the extension's owner with NULL in each argument
in turn, all NULLs, empty values ('' / '{}' / empty arrays / 0 / -1) and
huge values (10 MB text, 100k-element arrays), each in its own rolled-back
transaction under a statement_timeout. Trigger and event-trigger functions
are called directly and also fired by the statements that fire them.

It asserts that no backend crashed (every connection survives, the
postmaster did not restart, the server log has no "terminated by signal")
and that every error carries a SQLSTATE outside classes XX (internal) and
08 (connection) with a message, detail and hint under 400 bytes.

No call reaches the network: the superuser settings point OpenAI and
Ollama at a 127.0.0.1 listener of this test that answers every request
with HTTP 400 (a refusal the client does not retry, where a closed port
would be retried until the timeout), and ai.allowed_base_urls lists it,
so base_url arguments go to it too. The only calls that could still reach
a public endpoint are those that ask for it explicitly (base_url '' or,
for Voyage, NULL); they run only when that host does not resolve, and are
otherwise listed as skipped, by name, in the test's output.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from psycopg import sql

TIMEOUT = "3s"
WATCHDOG = 20.0
MAX_TEXT = 400
HUGE_TEXT = "repeat('x', 10485760)"
N = 100000

# Per argument type: the value a call uses when this argument is not the
# one under test, the empty values, and the huge ones (SQL expressions).
# A type missing here fails the test: it must be added, not skipped.
TYPES: dict[str, tuple[str, list[str], list[str]]] = {
    "text": ("'x'", ["''"], [HUGE_TEXT]),
    "name": ("'x'", ["''"], [HUGE_TEXT]),  # name truncates to 63 bytes
    "integer": ("1", ["0", "-1"], ["2147483647", "(-2147483648)"]),
    "bigint": ("1", ["0", "-1"], ["9223372036854775807", "(-9223372036854775808)"]),
    "boolean": ("false", ["true"], []),  # no empty or huge boolean
    "double precision": ("1", ["0", "-1", "'NaN'"], ["'Infinity'", "'-Infinity'", "1e308"]),
    "jsonb": ("'{}'", ["'{}'", "'[]'", "'null'", "'\"\"'", "'0'"],
              [f"jsonb_build_object('k', {HUGE_TEXT})",
               f"(SELECT jsonb_agg(g) FROM generate_series(1, {N}) g)",
               f"(SELECT jsonb_object_agg('k' || g, g) FROM generate_series(1, {N}) g)",
               # 10k levels deep
               "repeat('[', 10000) || repeat(']', 10000)",
               # a chunking config whose size has 5,000 digits
               "jsonb_build_object('implementation', 'character_text_splitter', "
               "'config_type', 'chunking', 'chunk_column', 'body', "
               "'chunk_size', ('1' || repeat('0', 5000))::numeric)"]),
    "text[]": ("ARRAY['x']", ["'{}'", "ARRAY['']", "ARRAY[NULL]::text[]"],
               [f"array_fill('x'::text, ARRAY[{N}])", f"ARRAY[{HUGE_TEXT}]"]),
    "name[]": ("'{}'", ["'{}'", "ARRAY['']::name[]", "ARRAY[NULL]::name[]"],
               [f"array_fill('x'::name, ARRAY[{N}])"]),
    # COPY data as the worker sends it: garbage, a bare binary header, a
    # header then a tuple claiming 32767 fields of 2 GB, 10 MB of zeros, a
    # text row whose key is 10 MB
    "bytea": ("'\\x'", ["'\\x'", "'\\x00'", "'\\x5047434f50590aff0d0a00'",
                        "'\\x5047434f50590aff0d0a00000000000000000007fff7fffffff'",
                        "convert_to(E'1\\t\\\\N\\n', 'UTF8')"],
              ["decode(repeat('00', 10485760), 'hex')",
               f"convert_to({HUGE_TEXT} || E'\\t0\\tx\\t[1]\\n', 'UTF8')"]),
    "regclass": ("'pg_class'", ["0", "'-1'::oid"], ["4294967295::oid"]),
    "interval": ("'1 hour'", ["'0'", "'-1 second'"], ["'178000000 years'", "'-178000000 years'"]),
    "timestamp with time zone": ("now()", ["'epoch'"], ["'infinity'", "'-infinity'", "'294276-12-31'"]),
}

# Where a plain value would stop every call at the first check, a better
# one lets the other arguments reach deeper code: (function, argument).
# {src}, {vid} and {dead} are the role's source table, its vectorizer
# and the closed port's URL.
BASELINE: dict[tuple[str, str], str] = {
    ("create_vectorizer", "source"): "'{src}'",
    ("create_vectorizer", "embedding"): "ai.embedding_sentence_transformers()",
    ("create_vectorizer", "chunking"): "ai.chunking_character_text_splitter('body')",
    ("create_vectorizer", "target_table"): "'battery_store'",
    ("create_vectorizer", "view_name"): "'battery_view'",
    ("create_vectorizer", "queue_table"): "'battery_q'",
    ("chunking_character_text_splitter", "chunk_column"): "'body'",
    ("chunking_recursive_character_text_splitter", "chunk_column"): "'body'",
    ("_vectorizer_config", "config_type"): "'embedding'",
    ("_queue_readable", "queue"): "'ai._vectorizer_q_{vid}'",
    ("_vectorizer_relname", "rel"): "'{src}'",
    ("_vectorizer_store_replace", "keys"): "ARRAY['1']",
    ("embedding_openai", "model"): "'text-embedding-3-small'",
    ("embedding_openai", "dimensions"): "768",
    ("embedding_ollama", "model"): "'nomic-embed-text'",
    ("embedding_ollama", "dimensions"): "768",
    ("embedding_voyageai", "model"): "'voyage-3-lite'",
    ("embedding_voyageai", "dimensions"): "512",
    ("sentence_transformers_embed", "model"): "'all-MiniLM-L6-v2'",
    ("openai_embed", "model"): "'text-embedding-3-small'",
    ("openai_embed", "api_key"): "'sk-battery'",
    ("openai_embed", "base_url"): "'{dead}/v1'",
    ("ollama_embed", "model"): "'nomic-embed-text'",
    ("ollama_embed", "host"): "'{dead}'",
    ("voyageai_embed", "model"): "'voyage-3-lite'",
    ("voyageai_embed", "api_key"): "'pa-battery'",
    ("voyageai_embed", "base_url"): "'{dead}/v1'",
}
for _f in ("_vectorizer_record_error", "_vectorizer_store_replace", "drop_vectorizer",
           "vectorizer_queue_pending", "vectorizer_queue_failed", "vectorizer_retry_failed",
           "enable_vectorizer_schedule", "disable_vectorizer_schedule"):
    BASELINE[(_f, "vectorizer_id")] = "{vid}"

# Functions that may call a public endpoint when one argument asks for it.
PUBLIC = {"openai_embed": "api.openai.com", "voyageai_embed": "api.voyageai.com"}


@dataclass
class Function:
    oid: int
    name: str
    signature: str
    args: list[tuple[str, str]]  # (name, type) of the input arguments
    variadic: bool
    kind: str  # "plain", "trigger" or "event_trigger"


@dataclass
class Tally:
    calls: int = 0
    slowest: list[tuple[float, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass
class Env:
    dbname: str
    user: str
    dead: str
    log: str
    log_start: int
    started: Any
    roles: dict[str, dict[str, str]] = field(default_factory=dict)


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 443)
        return True
    except OSError:
        return False


class Refuse(BaseHTTPRequestHandler):
    """Reads the request, whatever its size, and refuses it."""

    def do_POST(self) -> None:
        left = int(self.headers.get("Content-Length") or 0)
        while left > 0:
            got = self.rfile.read(min(left, 1 << 20))
            if not got:
                break
            left -= len(got)
        body = b'{"error": {"message": "the battery refuses every request"}}'
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    if "PGHOST" not in os.environ:
        pytest.fail("PGHOST is not set: run the tests with `make test`")
    name = f"pgai_battery_{uuid.uuid4().hex[:10]}"
    user = f"pgai_battery_{uuid.uuid4().hex[:6]}"
    refuser = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=refuser.serve_forever, daemon=True).start()
    dead = f"http://127.0.0.1:{refuser.server_address[1]}"
    with psycopg.connect("dbname=postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(user)))
        for guc, value in (("ai.openai_base_url", f"{dead}/v1"), ("ai.ollama_host", dead),
                           ("ai.allowed_base_urls", f"{dead}/")):
            admin.execute(sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                sql.Identifier(name), sql.Identifier(*guc.split(".")), sql.Literal(value)))
        data = admin.execute("SHOW data_directory").fetchone()
        assert data is not None
        log = os.path.join(os.path.dirname(data[0]), "server.log")
        size = admin.execute("SELECT size FROM pg_stat_file(%s)", (log,)).fetchone()
        started = admin.execute("SELECT pg_postmaster_start_time()").fetchone()
        assert size is not None and started is not None
    e = Env(name, user, dead, log, int(size[0]), started[0])
    try:
        with psycopg.connect(f"dbname={name}", autocommit=True) as c:
            c.execute("CREATE EXTENSION ai CASCADE")
            c.execute(sql.SQL("CREATE SCHEMA battery AUTHORIZATION {}").format(sql.Identifier(user)))
            c.execute("CREATE TABLE public.owner_docs (id int PRIMARY KEY, body text)")
            c.execute("INSERT INTO public.owner_docs VALUES (1, 'one'), (2, 'two')")
            vid = c.execute("""SELECT ai.create_vectorizer('public.owner_docs',
                embedding => ai.embedding_sentence_transformers(),
                chunking => ai.chunking_character_text_splitter('body'))""").fetchone()
            assert vid is not None
            e.roles["owner"] = {"src": "public.owner_docs", "vid": str(vid[0]), "user": "postgres",
                                "schema": "public", "table": "owner_docs"}
        with psycopg.connect(f"dbname={name} user={user}", autocommit=True) as c:
            c.execute("CREATE TABLE battery.docs (id int PRIMARY KEY, body text)")
            c.execute("INSERT INTO battery.docs VALUES (1, 'one'), (2, 'two')")
            vid = c.execute("""SELECT ai.create_vectorizer('battery.docs',
                embedding => ai.embedding_sentence_transformers(),
                chunking => ai.chunking_character_text_splitter('body'))""").fetchone()
            assert vid is not None
            e.roles["unprivileged"] = {"src": "battery.docs", "vid": str(vid[0]), "user": user,
                                       "schema": "battery", "table": "docs"}
        yield e
    finally:
        refuser.shutdown()
        refuser.server_close()
        with psycopg.connect("dbname=postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(user)))


def functions(conn: psycopg.Connection) -> list[Function]:
    rows = conn.execute("""
        SELECT p.oid, p.proname, p.oid::regprocedure::text,
               coalesce(p.proargnames, '{}'), coalesce(p.proargmodes::text[], '{}'),
               (SELECT array_agg(t::regtype::text ORDER BY o)
                  FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY u(t, o)),
               p.provariadic <> 0, p.prorettype::regtype::text
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'ai' ORDER BY 3""").fetchall()
    out = []
    for oid, name, sig, names, modes, types, variadic, ret in rows:
        args = []
        for i, typ in enumerate(types or []):
            mode = modes[i] if modes else "i"
            if mode in ("i", "b", "v"):
                args.append((names[i] if i < len(names) and names[i] else f"${i + 1}", typ))
        kind = {"trigger": "trigger", "event_trigger": "event_trigger"}.get(ret, "plain")
        out.append(Function(oid, name, sig, args, variadic, kind))
    return out


def call_sets(f: Function, role: dict[str, str], dead: str) -> list[tuple[str, list[str]]]:
    """(what, argument expressions) for every call the battery makes."""
    base = []
    for name, typ in f.args:
        if typ not in TYPES:
            raise AssertionError(f"{f.signature}: no bad values for type {typ}: add it to TYPES")
        value = BASELINE.get((f.name, name), TYPES[typ][0])
        base.append(value.replace("{src}", role["src"]).replace("{vid}", role["vid"])
                    .replace("{dead}", dead))
    sets = [("baseline", base), ("all NULL", ["NULL"] * len(base))]
    for i, (name, typ) in enumerate(f.args):
        _, empties, huges = TYPES[typ]
        for label, values in (("NULL", ["NULL"]), ("empty", empties), ("huge", huges)):
            for v in values:
                args = list(base)
                args[i] = v
                sets.append((f"{name} {label} {v[:40]}", args))
    return sets


def render(f: Function, args: list[str]) -> str:
    exprs = [f"({a})::{typ}" for a, (_, typ) in zip(args, f.args, strict=True)]
    if f.variadic and exprs:
        exprs[-1] = "VARIADIC " + exprs[-1]
    schema, _, fname = f.signature.partition("(")[0].rpartition(".")
    # in FROM, so a set-returning form works too; only a count comes back
    return f"SELECT count(*) FROM {schema or 'ai'}.{fname}({', '.join(exprs)}) AS r"


def reaches_public(f: Function, args: list[str]) -> str | None:
    if f.name not in PUBLIC:
        return None
    names = [n for n, _ in f.args]
    url = args[names.index("base_url")] if "base_url" in names else "NULL"
    # openai's NULL takes ai.openai_base_url (the closed port); '' is the default
    if url == "''" or (url == "NULL" and f.name == "voyageai_embed"):
        return PUBLIC[f.name]
    return None


class Caller:
    """One connection per role; a call runs in its own transaction, always
    rolled back, and a lost connection is a crash to report."""

    def __init__(self, e: Env, role: str, tally: Tally) -> None:
        self.e, self.role, self.tally = e, role, tally
        self.conn = self._connect()

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(f"dbname={self.e.dbname} user={self.e.roles[self.role]['user']}",
                               autocommit=True)

    def run(self, what: str, statements: list[str]) -> None:
        self.tally.calls += 1
        where = f"[{self.role}] {what}"
        t0 = time.monotonic()
        # a call that ignores statement_timeout would hang the suite: cancel
        # it from here, and say so
        watchdog = threading.Timer(WATCHDOG, self.conn.cancel)
        watchdog.start()
        try:
            self.conn.execute("BEGIN")
            self.conn.execute(f"SET LOCAL statement_timeout = '{TIMEOUT}'")
            for s in statements:
                self.conn.execute(s)
        except psycopg.Error as err:
            self.judge(where, err)
        finally:
            watchdog.cancel()
            if time.monotonic() - t0 >= WATCHDOG:
                self.tally.problems.append(f"{where}: ran past statement_timeout ({TIMEOUT}) "
                                           f"until cancelled after {WATCHDOG} s")
            if self.conn.broken or self.conn.closed:
                self.tally.problems.append(f"{where}: the connection was lost")
                self.conn = self._connect()
            else:
                self.conn.execute("ROLLBACK")
            self.tally.slowest = sorted(self.tally.slowest + [(time.monotonic() - t0, where)])[-8:]

    def judge(self, where: str, err: psycopg.Error) -> None:
        state = err.sqlstate or ""
        if not state:
            self.tally.problems.append(f"{where}: error without SQLSTATE: {str(err)[:200]}")
            return
        d = err.diag
        if state[:2] in ("XX", "08") or state in ("57P01", "57P02", "57P03"):
            self.tally.problems.append(f"{where}: SQLSTATE {state}: {(d.message_primary or '')[:200]}")
        for part, text in (("message", d.message_primary), ("detail", d.message_detail),
                           ("hint", d.message_hint)):
            if text is not None and len(text.encode()) >= MAX_TEXT:
                self.tally.problems.append(f"{where}: {part} of {len(text.encode())} bytes "
                                           f"({state}): {text[:100]}...")

    def close(self) -> None:
        self.conn.close()


def server_survived(e: Env) -> list[str]:
    with psycopg.connect("dbname=postgres", autocommit=True) as admin:
        started = admin.execute("SELECT pg_postmaster_start_time()").fetchone()
        size = admin.execute("SELECT size FROM pg_stat_file(%s)", (e.log,)).fetchone()
        assert size is not None
        log = admin.execute("SELECT pg_read_file(%s, %s, %s)",
                            (e.log, e.log_start, max(int(size[0]) - e.log_start, 0))).fetchone()
    out = []
    if started is None or started[0] != e.started:
        out.append(f"the postmaster restarted: {e.started} -> {started}")
    for line in (log[0] if log else "").splitlines():
        if any(s in line for s in ("terminated by signal", "was terminated by exception",
                                   "PANIC:", "TRAP:", "all server processes terminated")):
            out.append(f"server log: {line[:300]}")
    return out


def report(tally: Tally, e: Env) -> None:
    problems = tally.problems + server_survived(e)
    print("slowest calls:\n  " + "\n  ".join(f"{t:.2f} s {w[:150]}" for t, w in reversed(tally.slowest)))
    if tally.skipped:
        print(f"\n{len(tally.skipped)} calls not made, they would reach a public endpoint "
              f"that resolves here:\n  " + "\n  ".join(tally.skipped))
    assert not problems, f"{len(problems)} problems in {tally.calls} calls:\n" + "\n".join(problems[:80])


def test_every_function_survives_bad_arguments(env: Env) -> None:
    with psycopg.connect(f"dbname={env.dbname}", autocommit=True) as c:
        fns = functions(c)
    assert len(fns) > 30, [f.signature for f in fns]
    resolving = {h for h in PUBLIC.values() if _resolves(h)}
    tally = Tally()
    start = time.monotonic()
    for role in ("unprivileged", "owner"):
        caller = Caller(env, role, tally)
        try:
            for f in fns:
                # trigger functions: called directly here (an error, never a
                # crash), fired in test_triggers_survive_bad_rows
                for what, args in call_sets(f, env.roles[role], env.dead):
                    host = reaches_public(f, args)
                    label = f"{f.signature} {what}"
                    if host in resolving:
                        tally.skipped.append(f"[{role}] {label} ({host})")
                        continue
                    caller.run(label, [render(f, args)])
        finally:
            caller.close()
    print(f"\n{tally.calls} calls of {len(fns)} functions in {time.monotonic() - start:.1f} s")
    report(tally, env)


# How each trigger and event-trigger function of the extension is fired,
# as statements on the role's own source table, store and queue.
FIRING: dict[str, list[tuple[str, list[str]]]] = {
    "_vectorizer_capture": [
        ("insert 10 MB text", ["INSERT INTO {src} VALUES (1000, " + HUGE_TEXT + ")"]),
        ("insert empty text", ["INSERT INTO {src} VALUES (1001, '')"]),
        ("insert NULL text", ["INSERT INTO {src} VALUES (1002, NULL)"]),
        ("insert 100k rows", [f"INSERT INTO {{src}} SELECT g, 'x' FROM generate_series(10, {N} + 10) g"]),
        ("update the key", ["UPDATE {src} SET id = -id"]),
        ("update to 10 MB", ["UPDATE {src} SET body = " + HUGE_TEXT]),
        ("update to NULL", ["UPDATE {src} SET body = NULL"]),
        ("delete", ["DELETE FROM {src}"]),
        ("truncate", ["TRUNCATE {src} CASCADE"]),
        ("merge", ["MERGE INTO {src} t USING (VALUES (1, ''), (5, NULL)) s(id, body) ON t.id = s.id "
                   "WHEN MATCHED THEN UPDATE SET body = s.body "
                   "WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.body)"]),
    ],
    "_vectorizer_handle_drops": [
        ("drop the source", ["DROP TABLE {src} CASCADE"]),
        ("drop the store", ["DROP TABLE {schema}.{table}_embedding_store CASCADE"]),
        ("drop the view", ["DROP VIEW {schema}.{table}_embedding"]),
        ("drop the queue", ["DROP TABLE ai._vectorizer_q_{vid} CASCADE"]),
        ("drop the source's schema", ["DROP SCHEMA {schema} CASCADE"]),
        ("drop the chunk column", ["ALTER TABLE {src} DROP COLUMN body CASCADE"]),
        ("drop the source twice in one statement", ["DROP TABLE IF EXISTS {src}, {src} CASCADE"]),
        ("drop the extension", ["DROP EXTENSION ai CASCADE"]),
        ("drop owned", ["DROP OWNED BY CURRENT_USER CASCADE"]),
    ],
}


def test_triggers_survive_bad_rows(env: Env) -> None:
    with psycopg.connect(f"dbname={env.dbname}", autocommit=True) as c:
        fns = [f for f in functions(c) if f.kind != "plain"]
    missing = [f.signature for f in fns if f.name not in FIRING]
    assert not missing, f"no way to fire {missing}: add it to FIRING"
    tally = Tally()
    for role in ("unprivileged", "owner"):
        r = env.roles[role]
        caller = Caller(env, role, tally)
        try:
            for f in fns:
                # direct calls: PostgreSQL refuses them before the function runs
                caller.run(f"{f.signature} called directly", [f"SELECT ai.{f.name}()"])
                for what, statements in FIRING[f.name]:
                    caller.run(f"{f.signature} fired: {what}",
                               [s.format(**r) for s in statements])
        finally:
            caller.close()
    report(tally, env)
