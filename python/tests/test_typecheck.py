"""mypy, strict as python/pyproject.toml configures it, passes on the
package and its tests, so `make test` checks types."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PYTHON = Path(__file__).resolve().parents[1]


def test_mypy_strict_passes() -> None:
    config = (PYTHON / "pyproject.toml").read_text()
    assert "[tool.mypy]\nstrict = true" in config and '"pgai", "tests"' in config
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=PYTHON,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Success: no issues found")
