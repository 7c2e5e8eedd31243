"""ai.so exports only what PostgreSQL looks up: the magic block, _PG_init
and the SQL-callable functions with their pg_finfo_ records. Anything else
(http_post, json_parse, ...) could clash with another extension's symbols
in the same backend."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_only_postgres_entry_points_are_exported() -> None:
    pg_config = os.environ.get("PG_CONFIG", "/usr/lib/postgresql/15/bin/pg_config")
    libdir = subprocess.run([pg_config, "--pkglibdir"], capture_output=True, text=True,
                            check=True).stdout.strip()
    out = subprocess.run(["nm", "-D", "--defined-only", f"{libdir}/ai.so"],
                         capture_output=True, text=True, check=True).stdout
    names = {line.split()[-1] for line in out.splitlines() if line.strip()}
    finfo = {n[len("pg_finfo_"):] for n in names if n.startswith("pg_finfo_")}
    assert {"Pg_magic_func", "_PG_init"} <= names
    assert len(finfo) >= 15
    stray = sorted(n for n in names
                   if n not in {"Pg_magic_func", "_PG_init"}
                   and not n.startswith("pg_finfo_") and n not in finfo)
    assert stray == []
