"""Fixtures shared by every pytest suite of the project.

`make test` starts the private cluster (scripts/pgcluster) and exports
PGHOST, PGPORT and PGUSER; each test gets a fresh database with the
extension installed, so tests never see each other's vectorizers. `fake`
is the fake OpenAI, Ollama and Voyage server of testing/fake_providers.py.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

# the test doubles of testing/ (fake_providers) import as plain modules
sys.path.insert(0, str(Path(__file__).resolve().parent / "testing"))


def _admin_conninfo() -> str:
    if "PGHOST" not in os.environ:
        pytest.fail("PGHOST is not set: run the tests with `make test`, "
                    "which starts the private cluster")
    return "dbname=postgres"


@pytest.fixture
def dbname() -> Iterator[str]:
    name = f"pgai_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with psycopg.connect(f"dbname={name}", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION ai CASCADE")
        yield name
    finally:
        with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def conn(dbname: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(f"dbname={dbname}", autocommit=True) as c:
        yield c


@pytest.fixture
def fake() -> Iterator[Any]:
    import fake_providers

    with fake_providers.FakeProviders() as f:
        yield f
