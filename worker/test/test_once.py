"""`pgai vectorizer worker --once` processes everything pending and exits 0
only when the queues are empty (issue 10, defect 2): rows backing off from
an earlier run's failure are tried again, rows another worker holds are
waited for, and what could not be embedded is counted in a non-zero exit."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import psycopg
from test_worker import PGAI, expected_chunks, make_posts, pending, run_worker, stored_chunks


def lease_rows(conn: psycopg.Connection) -> list[tuple[int, int, bool]]:
    return conn.execute("SELECT id, attempts, retry_after > now() FROM ai._vectorizer_q_lease_1 "
                        "ORDER BY id").fetchall()


def test_once_retries_rows_backing_off_from_an_earlier_run(conn: psycopg.Connection, dbname: str,
                                                           tmp_path: Path) -> None:
    vid = make_posts(conn, 3)
    broken = {"PGAI_MODEL_DIR": str(tmp_path / "no-model-here")}
    assert run_worker(dbname, "--once", "--retry-backoff", "1h", env=broken).returncode == 1
    assert lease_rows(conn) == [(1, 1, True), (2, 1, True), (3, 1, True)]
    # the model is back; the hour of backoff has not passed. A worker that
    # keeps running respects it: the backoff paces continuous retries
    proc = subprocess.Popen([str(PGAI), "vectorizer", "worker", "--db-url", f"dbname={dbname}",
                             "--poll-interval", "200ms"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert lease_rows(conn) == [(1, 1, True), (2, 1, True), (3, 1, True)]
    # --once is an operator asking for a pass now: it tries them
    done = run_worker(dbname, "--once", "--retry-backoff", "1h")
    assert done.returncode == 0, done.stderr
    assert pending(conn, vid) == 0
    assert stored_chunks(conn) == expected_chunks(conn)
    assert "3 rows backing off" in done.stderr


def test_once_exits_1_while_rows_remain(conn: psycopg.Connection, dbname: str, tmp_path: Path) -> None:
    vid = make_posts(conn, 3)
    broken = {"PGAI_MODEL_DIR": str(tmp_path / "no-model-here")}
    assert run_worker(dbname, "--once", "--retry-backoff", "1h", env=broken).returncode == 1
    # still broken: each row is tried once more in this run, then counted
    again = run_worker(dbname, "--once", "--retry-backoff", "1h", env=broken)
    assert again.returncode == 1, again.stderr
    assert [a for _, a, _ in lease_rows(conn)] == [2, 2, 2]
    assert pending(conn, vid) == 3
    summary = [line for line in again.stderr.splitlines() if "remain queued" in line]
    assert len(summary) == 1, again.stderr
    assert f"vectorizer {vid}: 3 rows remain queued" in summary[0]
    assert "3 failed" in summary[0] and "no-model-here" in summary[0]


def test_once_waits_for_rows_another_worker_holds(conn: psycopg.Connection, dbname: str) -> None:
    """A key leased by a live session is not this run's to take, but it is
    pending: the run waits for the lease to end rather than exit 0 with a
    row still queued; here the holder lets it lapse without writing."""
    vid = make_posts(conn, 2)
    conn.execute("""INSERT INTO ai._vectorizer_q_lease_1 (id, lease_token, lease_until, lease_pid)
                    VALUES (1, gen_random_uuid(), now() + interval '2 seconds', pg_backend_pid())""")
    start = time.monotonic()
    done = run_worker(dbname, "--once", "-c", "1")
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start >= 1.5
    assert pending(conn, vid) == 0
    assert stored_chunks(conn) == expected_chunks(conn)


def test_once_does_not_wait_for_leases_taken_while_it_waits(conn: psycopg.Connection, dbname: str) -> None:
    """A busy worker beside a --once run may keep leasing new rows: the run
    waits for the leases it saw when it began waiting, then counts what
    others hold as left, rather than wait as long as the other is busy."""
    vid = make_posts(conn, 1)
    conn.execute("""INSERT INTO ai._vectorizer_q_lease_1 (id, lease_token, lease_until, lease_pid)
                    VALUES (1, gen_random_uuid(), now() + interval '2 seconds', pg_backend_pid())""")

    def other_worker_moves_on() -> None:
        # the holder "writes" row 1 and leases a new row 2 for a minute
        with psycopg.connect(f"dbname={dbname}") as other, other.transaction():
            other.execute("DELETE FROM ai._vectorizer_q_1 WHERE id = 1")
            other.execute("DELETE FROM ai._vectorizer_q_lease_1 WHERE id = 1")
            other.execute("INSERT INTO posts VALUES (2, 't', 'a new row')")
            other.execute("""INSERT INTO ai._vectorizer_q_lease_1 (id, lease_token, lease_until, lease_pid)
                             VALUES (2, gen_random_uuid(), now() + interval '60 seconds', %s)""",
                          (conn.info.backend_pid,))

    timer = threading.Timer(1.0, other_worker_moves_on)
    start = time.monotonic()
    timer.start()
    try:
        done = run_worker(dbname, "--once", "-c", "1", timeout=50)
    finally:
        timer.join()
    assert time.monotonic() - start < 20, done.stderr
    assert done.returncode == 1, done.stderr
    assert f"vectorizer {vid}: 1 row remains queued: 1 leased by another worker" in done.stderr
