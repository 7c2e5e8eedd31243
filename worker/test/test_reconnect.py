"""The worker across a PostgreSQL restart: it reconnects with backoff (a
few attempts while the server is down, not a busy loop), restores its
session (LISTEN included, so a new row wakes it at once, not at the poll
interval), and a stop signal still stops it while it waits to reconnect.

These tests stop and start the private cluster, so they open their own
connections after the restart instead of the fixture's."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
PGAI = Path(os.environ.get("PGAI_BIN") or ROOT / "worker" / "build" / "pgai")


def pg_ctl(*args: str) -> None:
    pg_config = os.environ.get("PG_CONFIG", "/usr/lib/postgresql/15/bin/pg_config")
    bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                            check=True).stdout.strip()
    data = os.path.join(os.environ["PGHOST"], "data")
    cmd = [os.path.join(bindir, "pg_ctl"), "-D", data, *args]
    # as scripts/pgcluster does: the server runs as postgres when we are root
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


def server_start() -> None:
    log = os.path.join(os.environ["PGHOST"], "server.log")
    pg_ctl("-l", log, "-w", "-t", "60", "start")


@pytest.fixture
def restartable() -> Iterator[None]:
    """Whatever a test does to the server, it is running afterwards."""
    try:
        yield
    finally:
        try:
            pg_ctl("status")
        except subprocess.CalledProcessError:
            server_start()


def make_notes(conn: psycopg.Connection) -> None:
    conn.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
    conn.execute("INSERT INTO notes VALUES (1, 'before the restart')")
    conn.execute("""SELECT ai.create_vectorizer('notes',
        embedding => ai.embedding_sentence_transformers(),
        chunking => ai.chunking_character_text_splitter('body'),
        indexing => ai.indexing_none())""")


def wait_for(pred, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def embedded(dbname: str, id_: int) -> bool:
    try:
        with psycopg.connect(f"dbname={dbname}", autocommit=True) as c:
            row = c.execute("SELECT count(*) FROM notes_embedding_store WHERE id = %s",
                            (id_,)).fetchone()
            return row is not None and row[0] > 0
    except psycopg.OperationalError:
        return False


def start_worker(dbname: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(PGAI), "vectorizer", "worker", "--db-url", f"dbname={dbname}",
         "--poll-interval", "60s", "-c", "1"],
        stdout=subprocess.DEVNULL, stderr=log.open("wb"))


def worker_then_stop_server(conn: psycopg.Connection, dbname: str,
                            log: Path) -> subprocess.Popen[bytes]:
    """A continuous worker that has embedded the first row, then the server stopped."""
    make_notes(conn)
    proc = start_worker(dbname, log)
    try:
        wait_for(lambda: embedded(dbname, 1), 30, "the first row")
        pg_ctl("-m", "fast", "-w", "stop")
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc


def test_restart_restores_listen_without_spinning(conn: psycopg.Connection, dbname: str,
                                                  tmp_path: Path, restartable: None) -> None:
    log = tmp_path / "worker.log"
    proc = worker_then_stop_server(conn, dbname, log)
    try:
        time.sleep(3)
        down = log.read_text()
        attempts = down.count("reconnect attempt")
        server_start()
        wait_for(lambda: "reconnected" in log.read_text(), 40, "the reconnect")
        # idle again with a 60 s poll interval: only a notification wakes it now
        time.sleep(1)
        with psycopg.connect(f"dbname={dbname}", autocommit=True) as c:
            c.execute("INSERT INTO notes VALUES (2, 'after the restart')")
        start = time.monotonic()
        wait_for(lambda: embedded(dbname, 2), 5, "the row inserted after the restart")
        assert time.monotonic() - start < 5
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    text = log.read_text()
    assert "connection lost" in down
    # backoff from 0.5 s, doubling: a handful of attempts in 3 s, not dozens
    assert 1 <= attempts <= 6, text
    assert text.count("connection lost") == 1, text
    assert proc.returncode == 0, text  # it was idle: no batch was cut


def test_stop_signal_ends_the_reconnect_wait(conn: psycopg.Connection, dbname: str,
                                             tmp_path: Path, restartable: None) -> None:
    log = tmp_path / "worker.log"
    proc = worker_then_stop_server(conn, dbname, log)
    try:
        wait_for(lambda: "connection lost" in log.read_text(), 10, "the worker to notice")
        time.sleep(1)
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        assert time.monotonic() - start < 1.5, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
