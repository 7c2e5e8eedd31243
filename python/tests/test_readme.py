"""The quickstart of python/README.md runs as written (the database name
aside) and leaves the source table, the vectorizer, its store and view."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg


def test_readme_quickstart(dbname: str, conn: psycopg.Connection) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    code = re.findall(r"```python\n(.*?)```", readme, re.S)[0]
    code = code.replace("postgresql+psycopg:///mydb", f"postgresql+psycopg:///{dbname}")
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})  # noqa: S102
    assert conn.execute(
        "SELECT target_table, view_name FROM ai.vectorizer").fetchall() == [
            ("blog_posts_content_embeddings_store", "blog_posts_content_embeddings")]
    assert conn.execute("SELECT to_regclass('blog_posts_content_embeddings_store') IS NOT NULL"
                        ).fetchone() == (True,)
