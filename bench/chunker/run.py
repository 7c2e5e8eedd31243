#!/usr/bin/env python3
"""Throughput of the C chunkers (core/text) vs langchain-text-splitters.

Same corpus as the differential test (/usr/share/doc text files, sorted,
UTF-8 only, duplicates dropped), same configurations, same process run.
For each configuration it times LangChain's split_text over every document
and the C splitter over the same documents (time inside chunk_character /
chunk_recursive, measured by chunk_cli --time, so pipe I/O is excluded; the
wall time of the whole CLI run is printed too), checks that both produced
identical chunk lists, and prints MB/s (UTF-8 input bytes) and the ratio.

usage (from the repository root):
    .venv/bin/python bench/chunker/run.py [--cap CHARS] [--repeat N]
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location(
    "differential", ROOT / "core" / "text" / "test" / "test_differential.py")
diff = importlib.util.module_from_spec(spec)
sys.modules["differential"] = diff
spec.loader.exec_module(diff)  # type: ignore[union-attr]
logging.getLogger("langchain_text_splitters").setLevel(logging.ERROR)

PGAI = tuple(diff.PGAI_SEPARATORS)
C = diff.Config
CORPUS_CONFIGS = {
    "character 800/400 \\n\\n (pgai default)": C("character", 800, 400, ("\n\n",)),
    "recursive 800/400 pgai separators": C("recursive", 800, 400, PGAI),
    "recursive 1000/200 LangChain default": C("recursive", 1000, 200),
    "character 50/10 ' '": C("character", 50, 10, (" ",)),
    "recursive 50/10 pgai separators": C("recursive", 50, 10, PGAI),
    "recursive 100/20 regex": C("recursive", 100, 20, (r"\n\n+", r"[.!?]\s", r"\s+", ""),
                                regex=True),
}
PATHOLOGICAL = {
    "one huge word, 1 MB": ("x" * (1 << 20), C("recursive", 800, 400, PGAI)),
    "CJK without spaces, 1 MB": ("中文字符测试" * 58255, C("recursive", 800, 400, PGAI)),
    "newlines only, 1 MB": ("\n" * (1 << 20), C("recursive", 800, 400, PGAI)),
    "spaces only, 1 MB": (" " * (1 << 20), C("recursive", 800, 400, PGAI)),
}


def time_c(cfg, docs, repeat):
    requests = [diff.encode(cfg, d) for d in docs]
    blob = b"".join(requests)
    best, wall = float("inf"), float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run([str(diff.CLI), "--time"], input=blob, capture_output=True,
                              check=True)
        wall = min(wall, time.perf_counter() - t0)
        best = min(best, float(proc.stderr.split()[1]))
    return best, wall, diff.run_c(requests)  # one more run, decoded for the check


def time_langchain(cfg, docs, repeat):
    splitter = cfg.langchain()
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = [splitter.split_text(d) for d in docs]
        best = min(best, time.perf_counter() - t0)
    return best, result


def row(name, docs, cfg, repeat):
    mb = sum(len(d.encode()) for d in docs) / 1e6
    t_py, want = time_langchain(cfg, docs, repeat)
    t_c, wall, got = time_c(cfg, docs, repeat)
    same = got == want
    print(f"{name:40s} {mb:8.1f} {mb / t_py:10.1f} {mb / t_c:10.1f} {mb / wall:10.1f} "
          f"{t_py / t_c:8.0f}x {'yes' if same else 'NO'}", flush=True)
    return same


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cap", type=int, default=100_000,
                    help="cut each document to this many characters (default 100000)")
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    args = ap.parse_args()

    subprocess.run(["make", "-s", "-C", str(ROOT / "core"), "build/text/chunk_cli"], check=True,
                   stdout=subprocess.DEVNULL)
    names, texts = diff.corpus()
    docs = [t[:args.cap] for t in texts]
    print(f"corpus: {len(docs)} documents from /usr/share/doc, "
          f"{sum(len(d.encode()) for d in docs) / 1e6:.1f} MB (each cut to {args.cap} chars)")
    print(f"{'configuration':40s} {'MB':>8s} {'LC MB/s':>10s} {'C MB/s':>10s} "
          f"{'C+IO MB/s':>10s} {'ratio':>9s} same")
    ok = True
    for name, cfg in CORPUS_CONFIGS.items():
        ok &= row(name, docs, cfg, args.repeat)
    print("pathological inputs (one document each):")
    for name, (doc, cfg) in PATHOLOGICAL.items():
        ok &= row(name, [doc], cfg, 1)
    if not ok:
        print("OUTPUT DIFFERS from LangChain", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
