"""A fresh checkout works wherever it is cloned: the private cluster runs
from a mode-0700 directory (root's home is one), and build artefacts stay
out of git so setup leaves a clean tree."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def test_cluster_runs_from_a_private_checkout() -> None:
    with tempfile.TemporaryDirectory(prefix="pgai-private-") as tmp:
        private = Path(tmp)
        private.chmod(0o700)
        clone = private / "checkout"
        run("git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone), cwd=private)
        # the working tree's pgcluster, so the test checks this change, not HEAD's
        (clone / "scripts" / "pgcluster").write_bytes((ROOT / "scripts" / "pgcluster").read_bytes())
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PG_CONFIG"] = os.environ.get("PG_CONFIG", "/usr/lib/postgresql/15/bin/pg_config")
        try:
            out = run("scripts/pgcluster", "start", cwd=clone, env=env)
            for part in out.replace("export ", "").split():
                key, _, value = part.partition("=")
                env[key] = value
            assert not env["PGHOST"].startswith(str(private)), "cluster inside the private dir"
            assert run("psql", "-XAtc", "SELECT 40 + 2", cwd=clone, env=env).strip() == "42"
            assert (clone / ".pgdata" / "server.log").exists()
        finally:
            subprocess.run(["scripts/pgcluster", "stop"], cwd=clone, env=env, timeout=120)
            host = env.get("PGHOST")
            if host and "/pgai/" in host:
                subprocess.run(["rm", "-rf", host])


def test_build_artefacts_are_not_tracked() -> None:
    tracked = run("git", "ls-files", cwd=ROOT).splitlines()
    assert [f for f in tracked if ".egg-info/" in f or f.endswith((".o", ".so"))] == []
    # what setup writes is ignored, so a fresh checkout stays clean after it
    for path in ("python/pgai.egg-info/PKG-INFO", ".venv/bin/python", ".pgdata"):
        done = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert done.returncode == 0, f"{path} is not ignored"
