"""Differential test: the C chunkers against langchain-text-splitters.

Runs core/build/text/chunk_cli (built here with make) on a real corpus --
the text files under /usr/share/doc (README*, *.txt, copyright, changelog*.gz
decompressed), sorted by path, non-UTF-8 ones skipped, identical contents
kept once -- plus hand-written edge cases, for both splitters and several
configurations, and requires chunk lists identical to LangChain's.

Run from the repository root: .venv/bin/pytest core/text/test
"""

from __future__ import annotations

import gzip
import logging
import os
import subprocess
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest
from langchain_text_splitters import CharacterTextSplitter, RecursiveCharacterTextSplitter

ROOT = Path(__file__).resolve().parents[3]
CORE = ROOT / "core"
CLI = CORE / "build" / "text" / "chunk_cli"
DOC_ROOT = Path("/usr/share/doc")

# LangChain logs a warning for every oversized chunk; keep the output quiet.
logging.getLogger("langchain_text_splitters").setLevel(logging.ERROR)

PGAI_SEPARATORS = ["\n\n", "\n", ".", "?", "!", " ", ""]


@dataclass(frozen=True)
class Config:
    kind: str  # "character" or "recursive"
    size: int
    overlap: int
    separators: tuple[str, ...] = ()
    regex: bool = False
    keep: str = "default"  # default, none, start, end
    cap: int = 20000  # documents are cut to this many characters
    stride: int = 1  # use every stride-th document

    def langchain(self):
        kw: dict = dict(chunk_size=self.size, chunk_overlap=self.overlap,
                        is_separator_regex=self.regex)
        if self.keep != "default":
            kw["keep_separator"] = {"none": False, "start": "start", "end": "end"}[self.keep]
        if self.kind == "character":
            return CharacterTextSplitter(
                separator=self.separators[0] if self.separators else "\n\n", **kw)
        return RecursiveCharacterTextSplitter(separators=list(self.separators) or None, **kw)


CONFIGS = {
    # pgai's defaults
    "character-800-400": Config("character", 800, 400, ("\n\n",)),
    "recursive-800-400-pgai": Config("recursive", 800, 400, tuple(PGAI_SEPARATORS)),
    # LangChain's own default separators
    "recursive-1000-200-default": Config("recursive", 1000, 200),
    # small sizes: many merges and overlaps
    "character-50-10-space": Config("character", 50, 10, (" ",), cap=8000),
    "recursive-50-10-pgai": Config("recursive", 50, 10, tuple(PGAI_SEPARATORS), cap=8000),
    "recursive-20-19-pgai": Config("recursive", 20, 19, tuple(PGAI_SEPARATORS), cap=3000, stride=2),
    "character-30-0-chars": Config("character", 30, 0, ("",), cap=3000, stride=2),
    # regex separators
    "character-200-50-regex-newlines": Config("character", 200, 50, (r"\n+",), regex=True),
    "recursive-100-20-regex": Config(
        "recursive", 100, 20, (r"\n\n+", r"[.!?]\s", r"\s+", ""), regex=True, cap=8000),
    "character-120-0-lookahead": Config("character", 120, 0, (r"(?=\n\S)",), regex=True, cap=8000),
    # keep_separator variants
    "recursive-60-15-keep-end": Config("recursive", 60, 15, tuple(PGAI_SEPARATORS), keep="end",
                                       cap=6000, stride=2),
    "recursive-60-15-keep-none": Config("recursive", 60, 15, tuple(PGAI_SEPARATORS), keep="none",
                                        cap=6000, stride=2),
    "character-100-30-keep-start": Config("character", 100, 30, ("\n",), keep="start", cap=8000),
}

EDGE_DOCS = {
    "empty": "",
    "blank": "   \n\n \t \n ",
    "unicode-blank": "\u3000\x85 \u2028\x1c ",
    "one-char": "a",
    "crlf": "line one\r\nline two\r\n\r\nline three\r\n" * 5,
    "emoji-cjk": "😀😀😀 中文字符测试 más naïve café " * 7 + "日本語のテキストには空白がありません" * 5,
    "huge-word": "x" * 5000,
    "separators-only": "\n\n" * 300,
    "spaces-only": " " * 900,
    "separators-at-edges": "\n\nabc def\n\n ghi \n\n",
    "punctuation": "Hi there. How are you? Fine! Thanks... Really?! Yes.\nNext line.",
    "long-line": ("word " * 400).strip(),
    "mixed-newlines": "a\n\n\n\nb\n\n\nc\nd\n\n\n\n\n\ne",
    "nul-bytes": "a\0b c\0d\n\ne\0f",
    "tabs": "col1\tcol2\tcol3\n" * 30,
    # Python's \s differs from PCRE2's on U+180E, U+001C..U+001F, U+0085
    "regex-space-classes": "a\u180eb\x1cc\x85d\u3000e f\u2028g\xa0h 12 \u0663\u0664 x_y",
}

EDGE_CONFIGS = {
    **{k: Config(**{**v.__dict__, "cap": 10**9, "stride": 1}) for k, v in CONFIGS.items()},
    "recursive-1-0-pgai": Config("recursive", 1, 0, tuple(PGAI_SEPARATORS)),
    "character-3-3-space": Config("character", 3, 3, (" ",)),
    "recursive-5-5-pgai": Config("recursive", 5, 5, tuple(PGAI_SEPARATORS)),
    "recursive-10-3-regex-groups": Config("recursive", 10, 3, (r"(\n)+", r"(\.)|(!)", " "),
                                          regex=True),
    "recursive-8-2-regex-empty-match": Config("recursive", 8, 2, (r"x*", r"\b", ""), regex=True),
    "character-3-0-regex-space": Config("character", 3, 0, (r"\s+",), regex=True),
    "character-3-0-regex-nonspace": Config("character", 3, 0, (r"\S",), regex=True),
    "recursive-4-1-regex-classes": Config("recursive", 4, 1, (r"\d+", r"\W", r"\w", ""),
                                          regex=True),
    "character-5-0-regex-flags-at-start": Config("character", 5, 0, (r"(?i)E",), regex=True),
}


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="session", autouse=True)
def build_cli():
    subprocess.run(["make", "-s", "-C", str(CORE), "build/text/chunk_cli"], check=True,
                   stdout=subprocess.DEVNULL)
    assert CLI.exists()


def encode(cfg: Config, doc: str) -> bytes:
    body = doc.encode()
    out = [f"{cfg.kind} {cfg.size} {cfg.overlap} {int(cfg.regex)} {cfg.keep} "
           f"{len(cfg.separators)} {len(body)}\n".encode()]
    for sep in cfg.separators:
        raw = sep.encode()
        out.append(f"{len(raw)}\n".encode() + raw)
    out.append(body)
    return b"".join(out)


def run_c(requests: list[bytes]) -> list:
    """Chunk lists from the C CLI; an error becomes ("ERR", status, message)."""
    proc = subprocess.run([str(CLI)], input=b"".join(requests), capture_output=True,
                          check=True)
    data, pos, results = proc.stdout, 0, []
    for _ in requests:
        nl = data.index(b"\n", pos)
        head = data[pos:nl].split()
        pos = nl + 1
        if head[0] == b"OK":
            chunks = []
            for _ in range(int(head[1])):
                nl = data.index(b"\n", pos)
                n = int(data[pos:nl])
                pos = nl + 1
                chunks.append(data[pos:pos + n].decode())
                pos += n
            results.append(chunks)
        else:
            n = int(head[2])
            results.append(("ERR", head[1].decode(), data[pos:pos + n].decode()))
            pos += n
    assert pos == len(data), "trailing CLI output"
    return results


def run_langchain(cfg: Config, docs: list[str]) -> list:
    out = []
    for doc in docs:
        try:
            out.append(cfg.langchain().split_text(doc))
        except Exception as e:  # noqa: BLE001 -- any LangChain failure must be an error in C too
            out.append(("ERR", type(e).__name__))
    return out


def assert_same(cfg: Config, names: list[str], docs: list[str]) -> None:
    got = run_c([encode(cfg, d) for d in docs])
    want = run_langchain(cfg, docs)
    for name, _doc, g, w in zip(names, docs, got, want, strict=True):
        if isinstance(w, tuple):
            assert isinstance(g, tuple), f"{name}: LangChain raised {w[1]}, C returned chunks"
            continue
        assert not isinstance(g, tuple), f"{name}: C failed with {g}"
        if g != w:
            i = next((k for k, (a, b) in enumerate(zip(g, w, strict=False)) if a != b), min(len(g), len(w)))
            pytest.fail(f"{name}: {len(g)} chunks from C, {len(w)} from LangChain; first "
                        f"difference at chunk {i}: C={g[i:i + 1]!r} LangChain={w[i:i + 1]!r}")


@lru_cache(maxsize=1)
def corpus() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(paths, texts) of the /usr/share/doc corpus, deterministic order."""
    paths = []
    for root, dirs, files in os.walk(DOC_ROOT):
        dirs.sort()
        for f in files:
            if (f.startswith("README") or f.endswith(".txt") or f == "copyright"
                    or (f.startswith("changelog") and f.endswith(".gz"))):
                paths.append(os.path.join(root, f))
    paths.sort()
    names, texts, seen = [], [], set()
    for p in paths:
        try:
            raw = gzip.open(p).read() if p.endswith(".gz") else open(p, "rb").read()
            text = raw.decode("utf-8")
        except (OSError, EOFError, UnicodeDecodeError):
            continue
        if text in seen:
            continue
        seen.add(text)
        names.append(p)
        texts.append(text)
    return tuple(names), tuple(texts)


# ------------------------------------------------------------------ tests


def test_corpus_is_large_enough():
    names, texts = corpus()
    assert len(texts) >= 1000, f"only {len(texts)} UTF-8 documents under {DOC_ROOT}"


@pytest.mark.parametrize("config_id", list(CONFIGS))
def test_corpus(config_id: str):
    cfg = CONFIGS[config_id]
    names, texts = corpus()
    docs = [t[:cfg.cap] for t in texts[::cfg.stride]]
    if cfg.stride == 1:
        assert len(docs) >= 1000
    assert_same(cfg, list(names[::cfg.stride]), docs)


@pytest.mark.parametrize("config_id", list(EDGE_CONFIGS))
def test_edge_cases(config_id: str):
    assert_same(EDGE_CONFIGS[config_id], list(EDGE_DOCS), list(EDGE_DOCS.values()))


@pytest.mark.parametrize("cfg", [
    Config("character", 0, 0, ("\n\n",)),
    Config("recursive", 10, 11),
    Config("recursive", 10, -1),
    Config("character", 10, 0, ("(unclosed",), regex=True),
    Config("recursive", 10, 0, ("[a-", " "), regex=True),
    Config("character", 10, 0, (r"(\s)",), regex=True, keep="start"),  # IndexError in LangChain
    Config("recursive", 10, 0, (r"(?i)x", " "), regex=True),  # "((?i)x)": flags not at start
    Config("character", 10, 0, (r"\K",), regex=True),  # bad escape in Python
], ids=lambda c: f"{c.kind}-{c.size}-{c.overlap}-{'|'.join(c.separators)}")
def test_rejected_like_langchain(cfg: Config):
    doc = "some text with spaces   and more"
    want = run_langchain(cfg, [doc])[0]
    got = run_c([encode(cfg, doc)])[0]
    assert isinstance(want, tuple), "LangChain accepted this config"
    assert isinstance(got, tuple) and got[0] == "ERR", f"C accepted it: {got!r}"


@pytest.mark.parametrize("doc_id,doc", [
    ("huge-word-200k", "x" * 200_000),
    ("newlines-200k", "\n" * 200_000),
    ("spaces-200k", " " * 200_000),
    ("cjk-no-spaces-100k", "中文字符测试" * 16_000),
])
def test_pathological_inputs(doc_id: str, doc: str):
    for cfg in (CONFIGS["recursive-800-400-pgai"], CONFIGS["character-800-400"],
                Config("recursive", 800, 799, tuple(PGAI_SEPARATORS))):
        assert_same(cfg, [doc_id], [doc])


def test_megabyte_inputs_are_linear():
    """Inputs LangChain handles in quadratic time finish fast in C."""
    tight = Config("recursive", 800, 799, tuple(PGAI_SEPARATORS))
    pgai = CONFIGS["recursive-800-400-pgai"]
    n = 4 << 20
    requests = [encode(tight, "\n" * n), encode(tight, " " * n),
                encode(pgai, "x" * n), encode(pgai, "\U0001F600" * (n // 4))]
    t0 = time.monotonic()
    got = run_c(requests)
    elapsed = time.monotonic() - t0
    assert got[0] == [] and got[1] == []
    for chunks, length in ((got[2], n), (got[3], n // 4)):
        # windows of 800 characters advancing by 400; the last one is shorter
        assert len(chunks) == -(-(length - 800) // 400) + 1
        assert all(len(c) == 800 for c in chunks[:-1])
        assert 400 < len(chunks[-1]) <= 800
    assert elapsed < 10, f"{elapsed:.1f} s for 16 MB of pathological input"
