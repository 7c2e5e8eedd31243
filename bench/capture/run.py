"""Change-capture cost for writers: our statement-level capture trigger
against pgai's row-level trigger design, side by side in one database.

Three tables get the same writes:
  plain   no trigger at all (the database's own ceiling);
  pgai    pgai's design: an AFTER INSERT OR UPDATE ... FOR EACH ROW PL/pgSQL
          trigger that appends the key to an indexed queue table;
  ours    a vectorizer made by ai.create_vectorizer (statement-level C
          trigger with transition tables, keys collapsed in the queue).
Variants run interleaved, several rounds, and the median is reported.

usage: .venv/bin/python bench/capture/run.py [--rows N] [--rounds R]
(needs the private cluster: `eval "$(scripts/pgcluster start)"`)
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg

PGAI_STYLE = """
CREATE TABLE {t} (id int PRIMARY KEY, title text, body text);
CREATE TABLE {t}_q (id int, queued_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX ON {t}_q (id);
CREATE FUNCTION {t}_trg() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.id IS DISTINCT FROM NEW.id THEN
        DELETE FROM public.{t}_q WHERE id = OLD.id;
    END IF;
    INSERT INTO public.{t}_q (id) VALUES (NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER {t}_trg AFTER INSERT OR UPDATE ON {t}
FOR EACH ROW EXECUTE FUNCTION {t}_trg();
"""


def setup(conn: psycopg.Connection, variant: str, t: str) -> None:
    if variant == "pgai":
        conn.execute(PGAI_STYLE.format(t=t))
        return
    conn.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, title text, body text)")
    if variant == "ours":
        conn.execute(
            "SELECT ai.create_vectorizer(%s::regclass, "
            "embedding => ai.embedding_openai('m', 3), "
            "chunking => ai.chunking_character_text_splitter('body'), "
            "indexing => ai.indexing_none())",
            (t,),
        )


def teardown(conn: psycopg.Connection, variant: str, t: str) -> None:
    if variant == "ours":
        conn.execute("SELECT ai.drop_vectorizer(id, drop_all => true) FROM ai.vectorizer")
    conn.execute(f"DROP TABLE IF EXISTS {t}, {t}_q CASCADE")
    conn.execute(f"DROP FUNCTION IF EXISTS {t}_trg()")


def bulk_insert(conn: psycopg.Connection, t: str, rows: int) -> float:
    start = time.perf_counter()
    conn.execute(
        f"INSERT INTO {t} SELECT g, 'title ' || g, repeat('body text ', 20) || g "
        "FROM generate_series(1, %s) g",
        (rows,),
    )
    return time.perf_counter() - start


def single_inserts(conn: psycopg.Connection, t: str, rows: int) -> float:
    """One-row INSERT statements, issued by a server-side loop so the
    client's round trips do not drown the per-statement cost."""
    start = time.perf_counter()
    conn.execute(
        f"DO $$ BEGIN FOR i IN 1..{int(rows)} LOOP "
        f"INSERT INTO {t} VALUES (i, 't', 'b'); END LOOP; END $$"
    )
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--single-rows", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    variants = ["plain", "pgai", "ours"]
    bulk: dict[str, list[float]] = {v: [] for v in variants}
    single: dict[str, list[float]] = {v: [] for v in variants}
    with psycopg.connect("dbname=postgres", autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS bench_capture")
        admin.execute("CREATE DATABASE bench_capture")
    with psycopg.connect("dbname=bench_capture", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION ai CASCADE")
        for r in range(args.rounds):
            order = variants[r % 3:] + variants[:r % 3]
            for v in order:
                t = f"src_{v}"
                setup(conn, v, t)
                bulk[v].append(bulk_insert(conn, t, args.rows))
                teardown(conn, v, t)
                setup(conn, v, t)
                single[v].append(single_inserts(conn, t, args.single_rows))
                teardown(conn, v, t)
    with psycopg.connect("dbname=postgres", autocommit=True) as admin:
        admin.execute("DROP DATABASE bench_capture")

    def report(title: str, runs: dict[str, list[float]], rows: int) -> None:
        med = {v: statistics.median(runs[v]) for v in variants}
        print(f"{title} ({rows} rows, median of {args.rounds}):")
        for v in variants:
            extra = (med[v] - med["plain"]) / rows * 1e6
            print(f"  {v:6s} {rows / med[v]:>10.0f} rows/s  "
                  f"(+{extra:5.2f} us/row over no trigger)")
        print(f"  ours / pgai throughput: {med['pgai'] / med['ours']:.2f}x")

    report("bulk INSERT ... SELECT", bulk, args.rows)
    report("single-row INSERT statements (server-side loop, one transaction)", single, args.single_rows)


if __name__ == "__main__":
    main()
