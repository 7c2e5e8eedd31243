"""Parity of the C model with sentence-transformers on the golden texts.

The golden data (golden/, made by make_golden.py with sentence-transformers
itself) holds over 300 texts with their reference token ids and embeddings. The
C side runs through core/build/embed_cli. Needs the model files: from
PGAI_MODEL_DIR, else the default install dir; a missing model is a failure
(run `make setup`), not a skip.
"""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
CORE = HERE.parent.parent
CLI = CORE / "build" / "embed_cli"
DEFAULT_DIR = "/usr/local/share/pgai/models/all-MiniLM-L6-v2"


def model_dir():
    d = os.environ.get("PGAI_MODEL_DIR") or DEFAULT_DIR
    missing = [f for f in ("model.safetensors", "vocab.txt", "config.json")
               if not (Path(d) / f).is_file()]
    if missing:
        pytest.fail(f"model files {missing} not found in {d}: run `make setup` "
                    f"(or core/model/install-model.sh {d}), or set PGAI_MODEL_DIR")
    return d


@pytest.fixture(scope="module")
def golden():
    with open(HERE / "golden" / "golden.json", encoding="utf-8") as f:
        meta = json.load(f)
    meta["emb"] = np.load(HERE / "golden" / "embeddings.npy")
    assert len(meta["texts"]) >= 300
    return meta


@pytest.fixture(scope="module", autouse=True)
def built_cli():
    """Build (or bring up to date) embed_cli; make is a no-op when it is."""
    res = subprocess.run(["make", "-s", "-C", str(CORE), "build/embed_cli"],
                         capture_output=True, text=True)
    if res.returncode != 0 or not CLI.exists():
        pytest.fail(f"could not build {CLI}:\n{res.stdout}{res.stderr}")


def run_cli(texts, *args):
    inp = "".join(t.encode("utf-8").hex() + "\n" for t in texts).encode()
    res = subprocess.run([str(CLI), "--dir", model_dir(), *args], input=inp,
                         capture_output=True, timeout=600)
    assert res.returncode == 0, res.stderr.decode()
    return res.stdout


def test_token_ids_identical(golden):
    out = run_cli(golden["texts"], "--tokens").decode().splitlines()
    assert len(out) == len(golden["texts"])
    bad = []
    for i, (text, ref, line) in enumerate(zip(golden["texts"], golden["ids"], out, strict=True)):
        got = [int(x) for x in line.split()]
        if got != ref:
            bad.append(f"#{i} {text[:60]!r}: ref {ref[:12]}... got {got[:12]}...")
    assert not bad, f"{len(bad)} texts differ:\n" + "\n".join(bad[:20])


@pytest.mark.parametrize("threads", ["1", "2"])
def test_embeddings_match(golden, threads):
    raw = run_cli(golden["texts"], "--threads", threads)
    got = np.frombuffer(raw, dtype=np.float32).reshape(len(golden["texts"]), -1)
    ref = golden["emb"]
    assert got.shape == ref.shape
    cos = (got * ref).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(ref, axis=1))
    worst = int(np.argmin(cos))
    assert cos.min() >= 0.9999, (
        f"text #{worst} {golden['texts'][worst][:60]!r}: cosine {cos[worst]:.6f}")
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_missing_model_dir_is_clear_error(tmp_path):
    res = subprocess.run([str(CLI), "--dir", str(tmp_path / "nope")], input=b"",
                         capture_output=True)
    assert res.returncode == 1
    assert str(tmp_path / "nope") in res.stderr.decode()
