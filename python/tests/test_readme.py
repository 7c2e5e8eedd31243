"""The quickstart of python/README.md runs as written, the database name
aside: every code block after a `<!-- quickstart -->` marker, in order, the
Python blocks in one namespace and the shell block (the real worker) in
bash, with OPENAI_API_KEY and OPENAI_BASE_URL pointing at the fake server."""

from __future__ import annotations

import re
import string
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from pgai_testing import MODEL, OPENAI_KEY, worker_env

README = Path(__file__).parent.parent / "README.md"


def quickstart_blocks() -> list[tuple[str, str]]:
    """(language, code) of each block marked `<!-- quickstart -->`."""
    return re.findall(r"<!-- quickstart -->\n```(\w+)\n(.*?)```", README.read_text(), re.S)


def test_readme_quickstart(dbname: str, conn: psycopg.Connection, fake: Any,
                           monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    blocks = quickstart_blocks()
    assert [lang for lang, _ in blocks] == ["python", "sh", "python"]
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_url)
    namespace: dict[str, Any] = {"__name__": "readme"}
    for lang, code in blocks:
        code = code.replace("///mydb", f"///{dbname}")
        if lang == "python":
            exec(compile(code, str(README), "exec"), namespace)  # noqa: S102
        else:
            done = subprocess.run(["bash", "-euc", code], capture_output=True, text=True,
                                  timeout=120, env=worker_env(fake))
            assert done.returncode == 0, done.stdout + done.stderr
    # the model's vectorizer, store and view
    assert conn.execute(
        "SELECT target_table, view_name FROM ai.vectorizer").fetchall() == [
            ("blog_posts_content_embeddings_store", "blog_posts_content_embeddings")]
    # the worker embedded each post's formatted text with the fake's vectors
    stored = conn.execute(
        "SELECT p.title, s.chunk, s.embedding::real[] FROM blog_posts_content_embeddings_store s"
        " JOIN blog_posts p USING (id) ORDER BY p.id").fetchall()
    posts = conn.execute("SELECT title, content FROM blog_posts ORDER BY id").fetchall()
    assert len(posts) == 3
    template = string.Template("Title: ${title}\nContent: ${chunk}")
    assert [(t, c) for t, c, _ in stored] == [
        (t, template.substitute(title=t, chunk=c)) for t, c in posts]
    for _, chunk, vec in stored:
        np.testing.assert_allclose(vec, fake.expected(MODEL, chunk, 768), atol=1e-7)
    # the search printed every post, nearest first by the fake's vectors
    query = np.array(fake.expected(MODEL, "How do I cook pasta?", 768), dtype=np.float64)
    ranked = sorted(
        (1.0 - float(np.dot(v, query) / (np.linalg.norm(v) * np.linalg.norm(query))), t, c)
        for t, c, v in ((t, c, np.array(v, dtype=np.float64)) for t, c, v in stored))
    printed = capsys.readouterr().out.splitlines()
    assert printed == [f"{d:.4f} {t}: {c!r}" for d, t, c in ranked]
