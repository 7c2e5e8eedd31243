"""pgai.alembic in a real Alembic project in a temporary folder: the spec's
hand-written migrations, autogenerate (create, drop+create, drop, nothing),
and an upgrade/downgrade round trip in which the real worker embeds the rows
of each created vectorizer (fake OpenAI server). Alembic runs in subprocesses
so each step imports the models as they are on disk at that moment."""

from __future__ import annotations

import os
import string
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from pgai_testing import MODEL, RunWorker

ENV_PY = '''
import sys
from alembic import context
from sqlalchemy import create_engine
from pgai.alembic import compare_vectorizers  # noqa: F401  (registers the comparator)
from pgai.alembic import CreateVectorizerOp, DropVectorizerOp  # noqa: F401

sys.path.insert(0, {folder!r})
try:
    import models
    target_metadata = models.Base.metadata
except ImportError:
    target_metadata = None

connectable = create_engine({url!r})


def run_migrations_online():
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=lambda obj, name, type_, reflected, compare_to:
            not obj.info.get("pgai_managed", False)
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
'''

MODEL_HEAD = '''
from sqlalchemy import Column, Integer, Text
from sqlalchemy.orm import DeclarativeBase
from pgai.sqlalchemy import VectorizerField
from pgai.configuration import EmbeddingConfig, ChunkingConfig, HNSWIndexingConfig


class Base(DeclarativeBase):
    pass


class BlogPost(Base):
    __tablename__ = "blog_posts"

    id = Column(Integer, primary_key=True)
    title = Column(Text, nullable=False)
    content = Column(Text, nullable=False)
'''

FIELD = '''
    content_embeddings = VectorizerField(
        embedding=EmbeddingConfig(model={model!r}, dimensions={dims}),
        chunking=ChunkingConfig(chunk_column="content", chunk_size=500),
        formatting_template="Title: ${{title}}\\nContent: ${{chunk}} it's \\\\ $$",
    )
'''


class Project:
    def __init__(self, folder: Path, dbname: str) -> None:
        self.folder = folder
        self.dbname = dbname
        (folder / "versions").mkdir()
        (folder / "script.py.mako").write_text(SCRIPT_MAKO)
        (folder / "alembic.ini").write_text(
            f"[alembic]\nscript_location = {folder}\n")
        (folder / "env.py").write_text(ENV_PY.format(
            folder=str(folder), url=f"postgresql+psycopg:///{dbname}"))

    def models(self, source: str) -> None:
        (self.folder / "models.py").write_text(source)

    def alembic(self, *args: str) -> str:
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        proc = subprocess.run([sys.executable, "-m", "alembic", "-c",
                               str(self.folder / "alembic.ini"), *args],
                              capture_output=True, text=True, env=env, cwd=self.folder)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout + proc.stderr

    def revision(self, message: str) -> str:
        out = self.alembic("revision", "--autogenerate", "-m", message)
        path = next(p for p in (self.folder / "versions").glob(f"*_{message}.py"))
        assert "Generating" in out
        return path.read_text()


SCRIPT_MAKO = '''"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
'''


def _body(script: str, fn: str) -> str:
    body = script.split(f"def {fn}():", 1)[1].split("\ndef ", 1)[0]
    return "\n".join(line for line in body.strip().splitlines()
                     if not line.strip().startswith("# ###")).strip()


POSTS = [(1, "Postgres", "Vectors live next to rows."),
         (2, "Quotes", 'He said "hi" & left $5\nbehind.')]


def _embedded(conn: psycopg.Connection, fake: Any, store: str, template: str, model: str,
              dims: int) -> None:
    """The worker embedded every post: one chunk each, the formatted text
    (Python's string.Template, as pgai) in `chunk`, the provider's vector."""
    rows = conn.execute(f"SELECT id, chunk_seq, chunk, embedding::real[] FROM {store}"
                        " ORDER BY id").fetchall()
    assert [(i, seq) for i, seq, _, _ in rows] == [(i, 0) for i, _, _ in POSTS]
    for (_, _, chunk, vec), (_, title, content) in zip(rows, POSTS, strict=True):
        assert chunk == string.Template(template).substitute(title=title, chunk=content)
        np.testing.assert_allclose(vec, fake.expected(model, chunk, dims), atol=1e-7)


def _vectorizers(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
    return [(r[0], r[1], r[2]) for r in conn.execute(
        "SELECT target_table, config->'embedding'->>'model', config->'formatting'->>'template'"
        " FROM ai.vectorizer ORDER BY id")]


def test_autogenerate_and_round_trip(tmp_path: Path, dbname: str, conn: psycopg.Connection,
                                     fake: Any, run_worker: RunWorker) -> None:
    project = Project(tmp_path, dbname)
    v1 = MODEL_HEAD + FIELD.format(model="text-embedding-3-small", dims=768)
    project.models(v1)

    # a new model and its vectorizer: create_table, then create_vectorizer
    first = project.revision("first")
    up = _body(first, "upgrade")
    assert up.index("op.create_table('blog_posts'") < up.index("op.create_vectorizer(")
    assert "blog_posts_content_embeddings_store" in up
    assert "create_table('blog_posts_content_embeddings_store'" not in up
    assert "from pgai.configuration import ChunkingConfig, EmbeddingConfig" in first
    assert "import pgai.alembic" in first
    # named by the vectorizer's name (pgai's default, written out), not an id
    assert "name='public_blog_posts_content_embeddings_store'" in up
    assert "op.drop_vectorizer('public_blog_posts_content_embeddings_store'," \
        " drop_all=True)" in _body(first, "downgrade")
    project.alembic("upgrade", "head")
    template = "Title: ${title}\nContent: ${chunk} it's \\ $$"
    assert _vectorizers(conn) == [("blog_posts_content_embeddings_store",
                                   "text-embedding-3-small", template)]
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO blog_posts VALUES (%s, %s, %s)", POSTS)
    run_worker(dbname)
    _embedded(conn, fake, "blog_posts_content_embeddings_store", template, MODEL, 768)

    # nothing changed: an empty migration
    same = project.revision("same")
    assert _body(same, "upgrade") == "pass" and _body(same, "downgrade") == "pass"
    project.alembic("upgrade", "head")
    project.alembic("check")

    # a changed configuration: drop + create
    project.models(MODEL_HEAD + FIELD.format(model="text-embedding-3-large", dims=1536))
    changed = project.revision("changed")
    up = _body(changed, "upgrade")
    assert up.index("op.drop_vectorizer(") < up.index("op.create_vectorizer(")
    assert "model='text-embedding-3-large', dimensions=1536" in up
    project.alembic("upgrade", "head")
    assert _vectorizers(conn) == [("blog_posts_content_embeddings_store",
                                   "text-embedding-3-large", template)]
    assert conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attname = 'embedding'"
        " AND attrelid = 'blog_posts_content_embeddings_store'::regclass").fetchone() == (
            "vector(1536)",)
    # the new vectorizer queued the existing rows; the worker embeds them again
    run_worker(dbname)
    _embedded(conn, fake, "blog_posts_content_embeddings_store", template,
              "text-embedding-3-large", 1536)

    # the field removed: drop
    project.models(MODEL_HEAD)
    removed = project.revision("removed")
    assert "op.drop_vectorizer(" in _body(removed, "upgrade")
    assert "op.create_vectorizer(" not in _body(removed, "upgrade")
    assert "op.drop_table" not in removed
    project.alembic("upgrade", "head")
    assert _vectorizers(conn) == []
    project.alembic("check")

    # and all the way back down, one step at a time
    project.alembic("downgrade", "-1")
    assert _vectorizers(conn)[0][1] == "text-embedding-3-large"
    project.alembic("downgrade", "-1")
    assert _vectorizers(conn) == [("blog_posts_content_embeddings_store",
                                   "text-embedding-3-small", template)]
    project.alembic("downgrade", "base")
    assert _vectorizers(conn) == []
    assert conn.execute("SELECT to_regclass('blog_posts'),"
                        " to_regclass('blog_posts_content_embeddings_store'),"
                        " to_regclass('blog_posts_content_embeddings')").fetchone() == (
                            None, None, None)
    project.alembic("upgrade", "head")
    assert _vectorizers(conn) == []


SPEC_MIGRATION = '''
from alembic import op
import sqlalchemy as sa
import pgai.alembic  # noqa: F401
from pgai.configuration import EmbeddingConfig, ChunkingConfig

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("blog_posts", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("title", sa.Text), sa.Column("content", sa.Text))
    op.create_vectorizer(
        'blog_posts',
        embedding=EmbeddingConfig(
            model='text-embedding-3-small',
            dimensions=768
        ),
        chunking=ChunkingConfig(
            chunk_column='content',
            chunk_size=700
        ),
        formatting_template='Title: ${title}\\nContent: ${chunk}'
    )


def downgrade():
    # Drop by ID
    op.drop_vectorizer(1, DROP_FLAG=True)
    op.drop_table("blog_posts")
'''


@pytest.mark.parametrize("flag", ["drop_all", "drop_objects"])
def test_spec_migration_by_hand(tmp_path: Path, dbname: str, conn: psycopg.Connection,
                                fake: Any, run_worker: RunWorker, flag: str) -> None:
    project = Project(tmp_path, dbname)
    (tmp_path / "versions" / "0001_spec.py").write_text(
        SPEC_MIGRATION.replace("DROP_FLAG", flag))
    project.alembic("upgrade", "head")
    assert conn.execute(
        "SELECT id, target_table, config->'chunking'->>'chunk_size',"
        " config->'formatting'->>'template' FROM ai.vectorizer").fetchall() == [
            (1, "blog_posts_embedding_store", "700", "Title: ${title}\nContent: ${chunk}")]
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO blog_posts VALUES (%s, %s, %s)", POSTS)
    run_worker(dbname)
    _embedded(conn, fake, "blog_posts_embedding_store", "Title: ${title}\nContent: ${chunk}",
              MODEL, 768)
    assert conn.execute("SELECT chunk FROM blog_posts_embedding_store WHERE id = 1"
                        ).fetchone() == ("Title: Postgres\nContent: Vectors live next to rows.",)
    project.alembic("downgrade", "base")
    assert conn.execute("SELECT count(*) FROM ai.vectorizer").fetchone() == (0,)
    # drop_all / drop_objects removed the store and the view too
    assert conn.execute("SELECT to_regclass('blog_posts_embedding_store'),"
                        " to_regclass('blog_posts_embedding')").fetchone() == (None, None)


def test_offline_sql_binds_values_as_literals(tmp_path: Path, dbname: str) -> None:
    project = Project(tmp_path, dbname)
    (tmp_path / "env.py").write_text(textwrap.dedent('''
        from alembic import context
        import pgai.alembic  # noqa: F401
        context.configure(url="postgresql+psycopg://", literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    '''))
    (tmp_path / "versions" / "0001_spec.py").write_text(
        SPEC_MIGRATION.replace("DROP_FLAG", "drop_all").replace(
            "'Title: ${title}\\nContent: ${chunk}'", "\"it's $$ \\\\ '); --\""))
    sql = project.alembic("upgrade", "head", "--sql")
    assert "ai.create_vectorizer(source => CAST('blog_posts' AS REGCLASS)" in sql
    assert "template => 'it''s $$ \\ ''); --'" in sql
