"""API keys held in settings (issue 9, item 6): a key is used only where no
other role could have read it. Before ai.so is loaded in a session a key in
postgresql.conf is a placeholder any role can SHOW, and keys of ALTER
DATABASE/ROLE ... SET sit in pg_db_role_setting, readable by every role;
such keys are refused, session keys are used, and with ai in
shared_preload_libraries a key in postgresql.conf is hidden and used."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

EMBED = "SELECT ai.openai_embed('fake-8', 'x', base_url => %s, dimensions => 8)"
BINDIR = Path(subprocess.run([os.environ.get("PG_CONFIG", "/usr/lib/postgresql/15/bin/pg_config"),
                              "--bindir"], capture_output=True, text=True, check=True).stdout.strip())


def bearers(fake: Any) -> list[str]:
    return [r["headers"].get("authorization", "") for r in fake.requests]


def test_database_setting_key_is_refused(conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    for name, value in (("ai.openai_api_key", "sk-db-secret"), ("ai.allowed_base_urls", fake.url)):
        conn.execute(sql.SQL("ALTER DATABASE {} SET {} = {}").format(
            sql.Identifier(dbname), sql.Identifier(name), sql.Literal(value)))
    conn.execute("CREATE ROLE key_reader")
    try:
        with psycopg.connect(f"dbname={dbname}", autocommit=True) as other:
            # why: any role reads it where ALTER DATABASE put it
            other.execute("SET ROLE key_reader")
            seen = other.execute("SELECT pg_catalog.array_to_string(setconfig, ',') "
                                 "FROM pg_catalog.pg_db_role_setting").fetchall()
            assert any("sk-db-secret" in s for (s,) in seen)
            other.execute("RESET ROLE")
            with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState,
                               match="readable by every role"):
                other.execute(EMBED, (fake.openai_url,))
            # the session's own key is used
            other.execute("SET ai.openai_api_key = 'sk-session-own'")
            assert other.execute(EMBED, (fake.openai_url,)).fetchone() is not None
        assert bearers(fake) == ["Bearer sk-session-own"]
    finally:
        conn.execute("DROP ROLE key_reader")


def test_api_key_name_setting_only_from_the_session(conn: psycopg.Connection, dbname: str,
                                                    fake: Any) -> None:
    conn.execute(sql.SQL("ALTER DATABASE {} SET ai.team_api_key = 'sk-team-db'").format(
        sql.Identifier(dbname)))
    conn.execute(sql.SQL("ALTER DATABASE {} SET ai.allowed_base_urls = {}").format(
        sql.Identifier(dbname), sql.Literal(fake.url)))
    named = ("SELECT ai.openai_embed('fake-8', 'x', api_key_name => 'TEAM_API_KEY', "
             "base_url => %s, dimensions => 8)")
    with psycopg.connect(f"dbname={dbname}", autocommit=True) as other:
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="ai.team_api_key"):
            other.execute(named, (fake.openai_url,))
        other.execute("SET ai.team_api_key = 'sk-team-session'")
        assert other.execute(named, (fake.openai_url,)).fetchone() is not None
    assert bearers(fake) == ["Bearer sk-team-session"]


def test_config_file_key_without_preload_is_refused(conn: psycopg.Connection, dbname: str,
                                                    fake: Any) -> None:
    conn.execute("LOAD 'ai'")         # ALTER SYSTEM takes only settings it knows
    conn.execute("ALTER SYSTEM SET ai.openai_api_key = 'sk-file-secret'")
    conn.execute("SELECT pg_catalog.pg_reload_conf()")
    try:
        conn.execute("CREATE ROLE key_reader LOGIN")
        deadline = time.monotonic() + 10
        with psycopg.connect(f"dbname={dbname}", autocommit=True) as other:
            other.execute("SELECT set_config('ai.allowed_base_urls', %s, false)", (fake.url,))
            # why: before ai.so loads, a placeholder; an ordinary role sees it
            while True:
                with psycopg.connect(f"dbname={dbname} user=key_reader", autocommit=True) as reader:
                    shown = reader.execute(
                        "SELECT pg_catalog.current_setting('ai.openai_api_key', true)").fetchone()
                if shown == ("sk-file-secret",) or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert shown == ("sk-file-secret",)
            with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState,
                               match="shared_preload_libraries"):
                other.execute(EMBED, (fake.openai_url,))
        assert bearers(fake) == []
    finally:
        conn.execute("ALTER SYSTEM RESET ai.openai_api_key")
        conn.execute("SELECT pg_catalog.pg_reload_conf()")
        conn.execute("DROP ROLE IF EXISTS key_reader")


def _as_server(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture
def preloaded_cluster(fake: Any) -> Iterator[str]:
    """A cluster of its own with ai in shared_preload_libraries and a key
    in postgresql.conf; yields a conninfo for its superuser."""
    top = Path(tempfile.mkdtemp(prefix="pgai-preload-", dir="/var/tmp"))
    data = top / "data"
    if os.geteuid() == 0:
        shutil.chown(top, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(_as_server([str(BINDIR / "initdb"), "-D", str(data), "-U", "postgres",
                               "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"]),
                   check=True, capture_output=True)
    conf = (f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{top}'\n"
            "fsync = off\nshared_preload_libraries = 'ai'\n"
            "ai.openai_api_key = 'sk-preloaded-file'\n"
            f"ai.allowed_base_urls = '{fake.url}'\n")
    subprocess.run(_as_server(["sh", "-c", f"cat >> {data}/postgresql.conf"]), input=conf,
                   text=True, check=True)
    subprocess.run(_as_server([str(BINDIR / "pg_ctl"), "-D", str(data), "-l", str(top / "log"),
                               "-w", "start"]), check=True, capture_output=True)
    try:
        yield f"host={top} port={port} user=postgres dbname=postgres"
    finally:
        subprocess.run(_as_server([str(BINDIR / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                   "-w", "stop"]), capture_output=True)
        shutil.rmtree(top, ignore_errors=True)


def test_preloaded_config_file_key_is_hidden_and_used(preloaded_cluster: str, fake: Any) -> None:
    with psycopg.connect(preloaded_cluster, autocommit=True) as su:
        su.execute("CREATE EXTENSION ai CASCADE")
        su.execute("CREATE ROLE key_reader LOGIN")
    with psycopg.connect(preloaded_cluster + " user=key_reader", autocommit=True) as reader:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute("SHOW ai.openai_api_key")
    with psycopg.connect(preloaded_cluster, autocommit=True) as su:
        assert su.execute(EMBED, (fake.openai_url,)).fetchone() is not None
    assert bearers(fake) == ["Bearer sk-preloaded-file"]
