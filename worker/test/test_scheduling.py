"""ai.scheduling_timescaledb()'s initial_start, fixed_schedule and timezone
are honoured by the worker, which keeps the schedule (issue 10, defect 4)."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
PGAI = ROOT / "worker" / "build" / "pgai"
UTC = datetime.UTC


def scheduled(conn: psycopg.Connection, table: str, scheduling: str, *params: Any) -> int:
    conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, body text)")
    conn.execute(f"INSERT INTO {table} VALUES (1, 'first')")
    row = conn.execute(f"""SELECT ai.create_vectorizer('{table}',
        embedding => ai.embedding_openai('fake-8', 8),
        chunking => ai.chunking_character_text_splitter('body', 100, 0),
        indexing => ai.indexing_none(), scheduling => {scheduling})""", params).fetchone()
    assert row is not None
    return int(row[0])


def start_worker(dbname: str, fake: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([str(PGAI), "vectorizer", "worker", "--db-url", f"dbname={dbname}",
                             "-c", "1", "--poll-interval", "100ms"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OPENAI_API_KEY": "sk-test-sched",
                                 "OPENAI_BASE_URL": fake.openai_url})


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    return err


def server_now(conn: psycopg.Connection) -> datetime.datetime:
    row = conn.execute("SELECT clock_timestamp()").fetchone()
    assert row is not None
    return row[0]


def embedded_at(conn: psycopg.Connection, table: str, n: int, timeout: float = 20) -> datetime.datetime:
    """The server's time when the store first holds n rows."""
    deadline = time.monotonic() + timeout
    while True:
        row = conn.execute(f"SELECT count(*), clock_timestamp() FROM {table}_embedding_store").fetchone()
        assert row is not None
        if row[0] >= n:
            return row[1]
        assert time.monotonic() < deadline, f"{table}: not {n} rows after {timeout}s"
        time.sleep(0.05)


@pytest.mark.parametrize("fixed", [True, False])
def test_nothing_runs_before_initial_start(conn: psycopg.Connection, dbname: str, fake: Any,
                                           fixed: bool) -> None:
    scheduled(conn, "posts", "ai.scheduling_timescaledb('1h', initial_start => now() + interval '2 s',"
              " fixed_schedule => %s)", fixed)
    start = conn.execute("SELECT (config->'scheduling'->>'initial_start')::timestamptz "
                         "FROM ai.vectorizer").fetchone()
    assert start is not None
    proc = start_worker(dbname, fake)
    try:
        at = embedded_at(conn, "posts", 1)
    finally:
        err = stop(proc)
    assert at >= start[0], err
    assert at < start[0] + datetime.timedelta(seconds=3), err


def test_fixed_schedule_runs_on_its_slots(conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    """Runs start at initial_start + k * interval, not interval after the
    worker's last run: with the worker started mid-slot, a row queued after
    its first run is embedded when the next slot starts."""
    scheduled(conn, "posts", "ai.scheduling_timescaledb('6 s', initial_start => now() - interval '3 s',"
              " fixed_schedule => true)")
    origin = conn.execute("SELECT (config->'scheduling'->>'initial_start')::timestamptz "
                          "FROM ai.vectorizer").fetchone()
    assert origin is not None
    slot = datetime.timedelta(seconds=6)
    proc = start_worker(dbname, fake)
    try:
        first = embedded_at(conn, "posts", 1)   # the run a starting worker makes at once
        conn.execute("INSERT INTO posts VALUES (2, 'second')")
        queued = server_now(conn)
        nxt = origin[0] + slot * ((queued - origin[0]) // slot + 1)
        second = embedded_at(conn, "posts", 2)
    finally:
        err = stop(proc)
    assert first < origin[0] + slot, err          # the setup worked: still in slot 0
    assert nxt <= second < nxt + datetime.timedelta(seconds=1.5), (queued, nxt, second, err)
    assert f"scheduled run; the next starts at {(origin[0] + slot).astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}" in err


def next_local(hour: int, zone: str) -> str:
    """The next hour:00 on zone's wall clock, in UTC as the worker logs it."""
    now = datetime.datetime.now(ZoneInfo(zone))
    at = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if at <= now:
        at = (at.replace(tzinfo=None) + datetime.timedelta(days=1)).replace(tzinfo=ZoneInfo(zone))
    return f"{at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def test_timezone_keeps_the_local_hour(conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    """Daily at 02:00 Paris time, first in summer (00:00 UTC): with the time
    zone the runs stay at 02:00 local through winter; without it they stay
    at 00:00 UTC."""
    paris = scheduled(conn, "paris", "ai.scheduling_timescaledb('1 day',"
                      " initial_start => '2024-07-01 02:00 Europe/Paris', timezone => 'Europe/Paris')")
    utc = scheduled(conn, "utc", "ai.scheduling_timescaledb('1 day',"
                    " initial_start => '2024-07-01 02:00 Europe/Paris')")
    proc = start_worker(dbname, fake)
    try:
        embedded_at(conn, "paris", 1)
        embedded_at(conn, "utc", 1)
    finally:
        err = stop(proc)
    assert f"vectorizer {paris}: scheduled run; the next starts at {next_local(2, 'Europe/Paris')}" in err
    assert f"vectorizer {utc}: scheduled run; the next starts at {next_local(0, 'UTC')}" in err


def test_initial_start_is_stored_as_a_point_in_time(conn: psycopg.Connection) -> None:
    """Written by hand, initial_start could be a word ('tomorrow') or a
    DateStyle spelling: stored as given, the worker would read another time
    at each look, and never reach a 'tomorrow'. It is stored in ISO 8601."""
    def stored(value: str) -> str:
        row = conn.execute("SELECT ai._vectorizer_config('scheduling', jsonb_build_object("
                           "'implementation', 'timescaledb', 'initial_start', %s::text))->>'initial_start'",
                           (value,)).fetchone()
        assert row is not None
        return str(row[0])

    conn.execute("SET TimeZone = 'UTC'")
    tomorrow = conn.execute("SELECT 'tomorrow'::timestamptz").fetchone()
    assert tomorrow is not None
    assert datetime.datetime.fromisoformat(stored("tomorrow")) == tomorrow[0]
    conn.execute("SET DateStyle = 'SQL, DMY'")
    assert stored("01/02/2025 10:00") == "2025-02-01T10:00:00+00:00"
    conn.execute("RESET DateStyle")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="must be a finite time"):
        stored("-infinity")
