"""Sanitizer reports fail the test that produced them.

scripts/run-asan runs worker tests against the AddressSanitizer build
(PGAI_BIN=worker/build/asan/pgai) with ASAN_OPTIONS/UBSAN_OPTIONS
log_path pointing into PGAI_SANITIZER_LOGS. A report there, from any
worker the test started (including ones it only signalled and never
checked the output of), is an error in that test. Without the variable
this does nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _no_sanitizer_reports() -> Iterator[None]:
    logs = os.environ.get("PGAI_SANITIZER_LOGS")
    if not logs:
        yield
        return
    folder = Path(logs)
    before = set(folder.glob("*"))
    yield
    reports = sorted(set(folder.glob("*")) - before)
    if reports:
        text = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[:6000]}" for p in reports)
        pytest.fail(f"sanitizer reports from the worker:\n{text}", pytrace=False)
