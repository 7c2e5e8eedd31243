"""Fixtures of the pgai package's end-to-end tests (`dbname` and `conn`, a
fresh database with the extension, come from the repository's conftest.py).

`fake` is the fake OpenAI server on 127.0.0.1; `run_worker(dbname, *args)` runs the
real worker once against it (see pgai_testing.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pgai_testing
import pytest
from pgai_testing import RunWorker


@pytest.fixture
def fake() -> Iterator[Any]:
    with pgai_testing.fake_providers().FakeProviders() as f:
        yield f


@pytest.fixture
def run_worker(fake: Any) -> RunWorker:
    def run(dbname: str, *args: str, env: dict[str, str] | None = None,
            key: str = pgai_testing.OPENAI_KEY) -> subprocess.CompletedProcess[str]:
        return pgai_testing.run_worker(fake, dbname, *args, env=env, key=key)
    return run
