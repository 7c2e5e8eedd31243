"""Worker throughput: our C worker against pgai 0.12's Python worker, and
both against a plain COPY of the same store rows.

Both workers embed identical source rows through the same fake
OpenAI-compatible server (testing/fake_providers.py --fast: it answers at
once), each in its own database of the same private cluster:
  ours   CREATE EXTENSION ai; ai.create_vectorizer(...); pgai vectorizer worker --once
  pgai   pgai install (0.12, from PyPI into its own virtualenv); its
         ai.create_vectorizer(...); its `pgai vectorizer worker --once`
Then the store rows our worker wrote are copied out and COPYed back in
(binary), the rate at which the database itself can take them.

usage: bench/worker/run.sh [--rows N]   (sets up the pgai virtualenv once)
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
PGAI_VENV = ROOT / ".setup" / "pgai-0.12-venv"


def body(i: int) -> str:
    words = ["vector", "search", "postgres", "index", "query", "embedding", "table", "row"]
    paras = []
    for p in range(i % 3 + 1):
        paras.append(" ".join(f"{words[(i * 7 + p * 3 + k) % 8]}{k % 13}" for k in range(45)))
    return "\n\n".join(paras)


def make_db(name: str) -> None:
    with psycopg.connect("dbname=postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")


def load_rows(conn: psycopg.Connection, rows: int) -> None:
    conn.execute("CREATE TABLE docs (id int PRIMARY KEY, title text NOT NULL, body text NOT NULL)")
    with conn.cursor().copy("COPY docs (id, title, body) FROM STDIN") as cp:
        for i in range(1, rows + 1):
            cp.write_row((i, f"Document {i}", body(i)))


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=0,
                    help="-c for both workers (default: each worker's own default)")
    args = ap.parse_args()

    fake = subprocess.Popen([sys.executable, str(ROOT / "testing" / "fake_providers.py"), "--fast"],
                            stdout=subprocess.PIPE, text=True)
    assert fake.stdout is not None
    url = fake.stdout.readline().strip()
    env = {**os.environ, "OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": url + "/v1"}
    host, port = os.environ["PGHOST"], os.environ["PGPORT"]
    conc = ["-c", str(args.concurrency)] if args.concurrency else []
    try:
        # ours
        make_db("bench_ours")
        with psycopg.connect("dbname=bench_ours", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION ai CASCADE")
            load_rows(conn, args.rows)
            conn.execute("""SELECT ai.create_vectorizer('docs',
                embedding => ai.embedding_openai('text-embedding-3-small', 768),
                chunking => ai.chunking_character_text_splitter('body', 800, 400),
                formatting => ai.formatting_python_template(E'Title: $title\\n$chunk'),
                indexing => ai.indexing_none())""")
        t_ours = timed([str(ROOT / "worker" / "build" / "pgai"), "vectorizer", "worker",
                        "--db-url", "dbname=bench_ours", "--once", *conc], env)

        # pgai 0.12
        make_db("bench_pgai")
        pgai_url = f"postgres://postgres@/bench_pgai?host={host}&port={port}"
        with psycopg.connect("dbname=bench_pgai", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION vector")
        subprocess.run([str(PGAI_VENV / "bin" / "pgai"), "install", "-d", pgai_url], check=True,
                       capture_output=True)
        with psycopg.connect("dbname=bench_pgai", autocommit=True) as conn:
            load_rows(conn, args.rows)
            conn.execute("""SELECT ai.create_vectorizer('docs',
                loading => ai.loading_column('body'),
                embedding => ai.embedding_openai('text-embedding-3-small', 768),
                chunking => ai.chunking_character_text_splitter(800, 400),
                formatting => ai.formatting_python_template(E'Title: $title\\n$chunk'),
                indexing => ai.indexing_none(),
                destination => ai.destination_table(target_table => 'docs_embedding_store'))""")
        t_pgai = timed([str(PGAI_VENV / "bin" / "pgai"), "vectorizer", "worker", "-d", pgai_url,
                        "--once", *conc], env)

        # the same chunks, and every row done, in both
        with psycopg.connect("dbname=bench_ours") as a, psycopg.connect("dbname=bench_pgai") as b:
            q = "SELECT id, chunk_seq, chunk FROM docs_embedding_store ORDER BY 1, 2"
            ours_rows, pgai_rows = a.execute(q).fetchall(), b.execute(q).fetchall()
            if ours_rows != pgai_rows:
                sys.exit(f"the workers disagree: {len(ours_rows)} vs {len(pgai_rows)} chunks")
            chunks = len(ours_rows)

        # the database's ceiling: COPY the same store rows back in
        with psycopg.connect("dbname=bench_ours", autocommit=True) as conn:
            buf = io.BytesIO()
            with conn.cursor().copy("COPY (SELECT id, chunk_seq, chunk, embedding FROM "
                                    "docs_embedding_store) TO STDOUT (FORMAT binary)") as cp:
                for data in cp:
                    buf.write(data)
            conn.execute("TRUNCATE docs_embedding_store")
            start = time.perf_counter()
            with conn.cursor().copy("COPY docs_embedding_store (id, chunk_seq, chunk, embedding) "
                                    "FROM STDIN (FORMAT binary)") as cp:
                cp.write(buf.getvalue())
            t_copy = time.perf_counter() - start
    finally:
        fake.terminate()
        fake.wait()

    rows = args.rows
    print(f"{rows} source rows, {chunks} chunks of 768 dimensions, fake OpenAI answering at once, "
          f"-c {args.concurrency or 'default'}")
    print(f"  pgai 0.12 worker : {t_pgai:7.2f} s  {rows / t_pgai:9.0f} rows/s")
    print(f"  our worker       : {t_ours:7.2f} s  {rows / t_ours:9.0f} rows/s")
    print(f"  plain COPY       : {t_copy:7.2f} s  {rows / t_copy:9.0f} rows/s (same store rows)")
    print(f"  ours / pgai      : {t_pgai / t_ours:.1f}x")
    print(f"  ours / COPY      : {t_copy / t_ours:.2f} of the database's own rate")


if __name__ == "__main__":
    main()
