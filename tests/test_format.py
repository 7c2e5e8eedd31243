"""Layout as a test: every C file as pgindent lays it out (scripts/format
--check: pg_bsd_indent with pgindent's options and typedef lists read from
the built objects; `make test` builds them first)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_c_files_are_in_pgindent_layout() -> None:
    res = subprocess.run([str(ROOT / "scripts" / "format"), "--check"], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
