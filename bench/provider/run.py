"""Client-side cost of the C provider clients against the fake servers.

Starts testing/fake_providers.py --fast in a subprocess, embeds N texts
through core/build/embed_http_cli for each provider and reports wall time,
texts/s and the client's own CPU time (user+sys of the CLI process), which
is what the worker pays; wall time is bounded by the Python fake.

Usage: .venv/bin/python bench/provider/run.py [--texts 20000]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "core" / "build" / "embed_http_cli"

CASES = [
    ("openai", "/v1", "text-embedding-3-small", 1536),
    ("voyageai", "/voyage/v1", "voyage-3", 1024),
    ("ollama", "", "nomic-embed-text", 768),
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", type=int, default=20000)
    args = ap.parse_args()
    subprocess.run(["make", "-s", "-C", str(ROOT / "core"), "build/embed_http_cli"], check=True)
    fake = subprocess.Popen([sys.executable, str(ROOT / "testing" / "fake_providers.py"), "--fast"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert fake.stdout is not None
        url = fake.stdout.readline().strip()
        data = "".join(f"row {i}: a short chunk of text about item number {i * 7}\n"
                       for i in range(args.texts)).encode()
        print(f"{'provider':10} {'dims':>5} {'texts':>7} {'wall s':>7} {'texts/s':>9} {'client cpu s':>12}")
        for provider, path, model, dims in CASES:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.monotonic()
            subprocess.run([str(CLI), "--provider", provider, "--base-url", url + path,
                            "--model", model, "--dimensions", str(dims), "--quiet"],
                           input=data, check=True, env={**os.environ, "OPENAI_API_KEY": "k",
                                                        "VOYAGE_API_KEY": "k"})
            wall = time.monotonic() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            print(f"{provider:10} {dims:>5} {args.texts:>7} {wall:>7.2f} "
                  f"{args.texts / wall:>9.0f} {cpu:>12.2f}")
    finally:
        fake.terminate()
        fake.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
