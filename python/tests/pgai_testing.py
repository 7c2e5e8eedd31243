"""Helpers of the pgai package's end-to-end tests: the fake OpenAI server of
testing/fake_providers.py and the real worker (worker/build/pgai), run as a
user runs `pgai vectorizer worker --once` with OPENAI_API_KEY set. The
fixtures using them are in conftest.py."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WORKER = ROOT / "worker" / "build" / "pgai"
OPENAI_KEY = "sk-pgai-python-5e1b7c9d"
MODEL = "text-embedding-3-small"

RunWorker = Callable[..., "subprocess.CompletedProcess[str]"]


def fake_providers() -> ModuleType:
    loaded = sys.modules.get("fake_providers")
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(
        "fake_providers", ROOT / "testing" / "fake_providers.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["fake_providers"] = mod
    spec.loader.exec_module(mod)
    return mod


def worker_env(fake: Any) -> dict[str, str]:
    """The test's environment without provider settings, plus the fake's."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("OPENAI_", "OLLAMA_", "VOYAGE_"))}
    return {**base, "OPENAI_API_KEY": OPENAI_KEY, "OPENAI_BASE_URL": fake.openai_url,
            "PATH": f"{WORKER.parent}{os.pathsep}{base.get('PATH', '')}"}


def run_worker(fake: Any, dbname: str, *args: str, env: dict[str, str] | None = None,
               key: str = OPENAI_KEY) -> subprocess.CompletedProcess[str]:
    """Run `pgai vectorizer worker --once [args]` on a database (`env` added
    to its environment); it must succeed and must have asked the fake for
    embeddings with `key`."""
    before = len(fake.requests)
    done = subprocess.run(
        [str(WORKER), "vectorizer", "worker", "--db-url", f"postgresql:///{dbname}", "--once",
         *args], capture_output=True, text=True, timeout=120,
        env={**worker_env(fake), **(env or {})})
    assert done.returncode == 0, done.stdout + done.stderr
    calls = fake.requests[before:]
    assert calls, "the worker did not call the embedding provider"
    assert all(r["headers"].get("authorization") == f"Bearer {key}" for r in calls)
    return done
