"""Fixtures of the pgai package's end-to-end tests (`dbname` and `conn`, a
fresh database with the extension, come from the repository's conftest.py).

`fake` is the fake OpenAI server on 127.0.0.1; `run_worker(dbname, *args)` runs the
real worker once against it (see pgai_testing.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import pgai_testing
from pgai_testing import RunWorker


@pytest.fixture
def fake() -> Iterator[Any]:
    with pgai_testing.fake_providers().FakeProviders() as f:
        yield f


@pytest.fixture
def run_worker(fake: Any) -> RunWorker:
    return lambda dbname, *args: pgai_testing.run_worker(fake, dbname, *args)
