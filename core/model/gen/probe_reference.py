#!/usr/bin/env python3
"""Record where the reference tokenizer's character tables differ from
Python's unicodedata.

The reference for all-MiniLM-L6-v2 is Hugging Face `tokenizers` (the Rust
BertNormalizer + BertPreTokenizer behind BertTokenizerFast). Its character
classes come from Rust crates pinned to other Unicode versions than the one
in this Python, so a few hundred code points behave differently (newer marks
not stripped, newer punctuation not split, a handful of format characters
kept, lowercase mappings of characters Python does not know yet).

Run once in a venv that has `tokenizers`; it writes unicode_overrides.txt,
which gen_unicode.py folds into the committed C tables. One line per code
point:  <kind> <hex> [<hex> ...]
  keep     Cc/Cf/Co/Cs character the reference does NOT drop when cleaning
  nostrip  Mn character (after NFD) the reference does NOT remove
  nodecomp character the reference leaves undecomposed (newer NFD data)
  strip    character the reference removes although it is not Mn here
  punct    character the reference splits as punctuation (not P* here)
  nopunct  P* character the reference does not split
  lower    lowercase mapping differs: the reference's full mapping follows
"""
import sys
import unicodedata as ud

import tokenizers
from tokenizers.normalizers import BertNormalizer
from tokenizers.pre_tokenizers import BertPreTokenizer

WHITESPACE = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680,
              0x2028, 0x2029, 0x202F, 0x205F, 0x3000} | set(range(0x2000, 0x200B))


def is_ascii_punct(cp):
    return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126


def main(out_path):
    clean = BertNormalizer(clean_text=True, handle_chinese_chars=False,
                           strip_accents=False, lowercase=False)
    strip = BertNormalizer(clean_text=False, handle_chinese_chars=False,
                           strip_accents=True, lowercase=False)
    low = BertNormalizer(clean_text=False, handle_chinese_chars=False,
                         strip_accents=False, lowercase=True)
    pre = BertPreTokenizer()
    lines = []
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        c = chr(cp)
        cat = ud.category(c)
        dropped = clean.normalize_str(c) == ""
        if cat in ("Cc", "Cf", "Co", "Cs") and cp not in (9, 10, 13) and not dropped:
            lines.append(f"keep {cp:04X}")
        elif cat not in ("Cc", "Cf", "Co", "Cs") and dropped and cp != 0xFFFD:
            sys.exit(f"unexpected drop of U+{cp:04X} ({cat})")
        # NFD then Mn removal, char by char of the decomposition
        nfd = ud.normalize("NFD", c)
        got = strip.normalize_str(c)
        exp = "".join(x for x in nfd if ud.category(x) != "Mn")
        if got != exp:
            kept = "".join(x for x in nfd if ud.category(x) != "Mn" or x in got)
            if got == c and len(nfd) > 1:
                lines.append(f"nodecomp {cp:04X}")
            elif kept == got and len(nfd) == 1:
                lines.append(f"nostrip {cp:04X}")
            elif got == "" and len(nfd) == 1:
                lines.append(f"strip {cp:04X}")
            elif kept != got:
                sys.exit(f"unexplained strip difference at U+{cp:04X}: {got!r} vs {exp!r}")
        if low.normalize_str(c) != c.lower():
            lines.append(f"lower {cp:04X} " + " ".join(f"{ord(x):04X}" for x in low.normalize_str(c)))
        if cp in WHITESPACE or cat[0] == "C":
            continue
        split = len(pre.pre_tokenize_str("a" + c + "a")) == 3
        exp_p = cat[0] == "P" or is_ascii_punct(cp)
        if split and not exp_p:
            lines.append(f"punct {cp:04X}")
        elif exp_p and not split:
            lines.append(f"nopunct {cp:04X}")
    with open(out_path, "w") as f:
        f.write(f"# tokenizers {tokenizers.__version__} vs Python unicodedata {ud.unidata_version}\n")
        f.write("\n".join(lines) + "\n")
    print(f"{len(lines)} overrides written to {out_path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "unicode_overrides.txt")
