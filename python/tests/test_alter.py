"""Names and in-place changes from Python: VectorizerField(name=...),
op.alter_vectorizer (by id and by name, with a real reverse), and
autogenerate, which keeps drop + create by default and writes
op.alter_vectorizer for in-place-only differences when env.py passes
pgai_alter_vectorizers=True to context.configure."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pgai_testing
import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import produce_migrations
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.orm import DeclarativeBase
from test_alembic import ENV_PY, MODEL_HEAD, Project, _body

import pgai.alembic  # noqa: F401  (registers the comparator and op.*)
from pgai.alembic import AlterVectorizerOp, CreateVectorizerOp, DropVectorizerOp
from pgai.configuration import (
    ChunkingConfig,
    EmbeddingConfig,
    HNSWIndexingConfig,
    NoSchedulingConfig,
    ProcessingConfig,
)
from pgai.sqlalchemy import VectorizerField, create_vectorizers

STORE = "posts_body_embeddings_store"


def _models(name: str | None = None, model: str = "text-embedding-3-small",
            processing: ProcessingConfig | None = None,
            indexing: HNSWIndexingConfig | None = None) -> sa.MetaData:
    class Base(DeclarativeBase):
        pass

    class Post(Base):
        __tablename__ = "posts"
        id = sa.Column(sa.Integer, primary_key=True)
        body = sa.Column(sa.Text)
        body_embeddings = VectorizerField(
            embedding=EmbeddingConfig(model=model, dimensions=3),
            chunking=ChunkingConfig(chunk_column="body"),
            processing=processing, indexing=indexing, name=name,
        )

    return Base.metadata


def _ops(dbname: str, metadata: sa.MetaData, **opts: Any) -> list[Any]:
    engine = sa.create_engine(f"postgresql+psycopg:///{dbname}")
    try:
        with engine.connect() as c:
            mc = MigrationContext.configure(c, opts={
                "target_metadata": metadata,
                "include_object": lambda obj, name, type_, reflected, compare_to:
                not obj.info.get("pgai_managed", False), **opts})
            upgrade = produce_migrations(mc, metadata).upgrade_ops
            assert upgrade is not None
            return [op for op in upgrade.ops
                    if isinstance(op, (CreateVectorizerOp, DropVectorizerOp, AlterVectorizerOp))]
    finally:
        engine.dispose()


def _create(dbname: str, metadata: sa.MetaData) -> None:
    engine = sa.create_engine(f"postgresql+psycopg:///{dbname}")
    try:
        metadata.create_all(engine)
        assert len(create_vectorizers(engine, metadata)) == 1
    finally:
        engine.dispose()


def _run(dbname: str, fn: Any) -> None:
    """Runs fn(op) on an Alembic Operations object, committed."""
    engine = sa.create_engine(f"postgresql+psycopg:///{dbname}")
    try:
        with engine.begin() as c:
            fn(Operations(MigrationContext.configure(c)))
    finally:
        engine.dispose()


def test_field_name_is_the_vectorizer_name(conn: psycopg.Connection, dbname: str) -> None:
    _create(dbname, _models(name="posts_v1"))
    assert conn.execute("SELECT name, target_table FROM ai.vectorizer").fetchall() == [
        ("posts_v1", STORE)]
    # unchanged, with its name: nothing to do
    assert _ops(dbname, _models(name="posts_v1")) == []
    # a field without a name matches whatever the stored one is called
    assert _ops(dbname, _models()) == []


def test_default_name_is_pgais(conn: psycopg.Connection, dbname: str) -> None:
    _create(dbname, _models())
    assert conn.execute("SELECT name FROM ai.vectorizer").fetchone() == (f"public_{STORE}",)


def test_generated_migrations_name_the_vectorizer(conn: psycopg.Connection,
                                                  dbname: str) -> None:
    conn.execute("CREATE TABLE posts (id int PRIMARY KEY, body text)")
    (create,) = _ops(dbname, _models())
    assert isinstance(create, CreateVectorizerOp)
    assert create.config.name == f"public_{STORE}"
    drop = create.reverse()
    assert drop.vectorizer_id == f"public_{STORE}" and drop.target_table is None
    _create(dbname, _models())
    # a change that needs drop + create drops by name
    ops = _ops(dbname, _models(model="text-embedding-3-large"))
    assert [type(op) for op in ops] == [DropVectorizerOp, CreateVectorizerOp]
    assert ops[0].vectorizer_id == f"public_{STORE}"
    # which works: drop by name, then create again
    _run(dbname, lambda op: (op.invoke(ops[0]), op.invoke(ops[1])))
    assert conn.execute("SELECT name, config->'embedding'->>'model' FROM ai.vectorizer"
                        ).fetchall() == [(f"public_{STORE}", "text-embedding-3-large")]


def test_autogenerate_drops_and_creates_by_default(conn: psycopg.Connection,
                                                   dbname: str) -> None:
    _create(dbname, _models())
    ops = _ops(dbname, _models(processing=ProcessingConfig(batch_size=10)))
    assert [type(op) for op in ops] == [DropVectorizerOp, CreateVectorizerOp]


def test_autogenerate_alters_in_place_when_asked(conn: psycopg.Connection,
                                                 dbname: str) -> None:
    _create(dbname, _models())
    switch = {pgai.alembic.ALTER_OPTION: True}
    assert _ops(dbname, _models(), **switch) == []
    (alter,) = _ops(dbname, _models(processing=ProcessingConfig(batch_size=10),
                                    indexing=HNSWIndexingConfig(min_rows=5)), **switch)
    assert isinstance(alter, AlterVectorizerOp)
    assert alter.vectorizer == f"public_{STORE}"
    assert alter.changed() == {"indexing": HNSWIndexingConfig(min_rows=5),
                               "processing": ProcessingConfig(batch_size=10)}
    assert alter.previous is not None and set(alter.previous) == {"indexing", "processing"}
    # what embeds still needs drop + create, switch or not
    ops = _ops(dbname, _models(model="text-embedding-3-large",
                               processing=ProcessingConfig(batch_size=10)), **switch)
    assert [type(op) for op in ops] == [DropVectorizerOp, CreateVectorizerOp]


def test_op_alter_vectorizer_by_id_and_name(conn: psycopg.Connection, dbname: str) -> None:
    _create(dbname, _models(name="posts_v"))
    vid = conn.execute("SELECT id FROM ai.vectorizer").fetchone()[0]  # type: ignore[index]
    _run(dbname, lambda op: op.alter_vectorizer(vid, processing=ProcessingConfig(batch_size=4)))
    _run(dbname, lambda op: op.alter_vectorizer("posts_v", scheduling=NoSchedulingConfig(),
                                                grant_to=["pg_monitor"]))
    row = conn.execute("SELECT config->'processing'->>'batch_size',"
                       " config->'scheduling'->>'implementation' FROM ai.vectorizer").fetchone()
    assert row == ("4", "none")
    assert conn.execute(f"SELECT has_table_privilege('pg_monitor', '{STORE}', 'select')"
                        ).fetchone() == (True,)
    # a change of what is embedded is refused by the extension
    with pytest.raises(sa.exc.NotSupportedError, match="not supported yet"):
        _run(dbname, lambda op: op.alter_vectorizer(
            "posts_v", embedding=EmbeddingConfig(model="text-embedding-3-large", dimensions=3)))
    # the same embedding, restated, is no change
    _run(dbname, lambda op: op.alter_vectorizer(
        "posts_v", embedding=EmbeddingConfig(model="text-embedding-3-small", dimensions=3),
        chunking=ChunkingConfig(chunk_column="body"), processing=ProcessingConfig(batch_size=5)))
    assert conn.execute("SELECT config->'processing'->>'batch_size' FROM ai.vectorizer"
                        ).fetchone() == ("5",)


def test_reverse_needs_the_previous_configuration() -> None:
    op = AlterVectorizerOp("v", processing=ProcessingConfig(batch_size=4))
    with pytest.raises(ValueError, match="previous"):
        op.reverse()
    op = AlterVectorizerOp("v", processing=ProcessingConfig(batch_size=4),
                           previous={"processing": ProcessingConfig()})
    back = op.reverse()
    assert back.changed() == {"processing": ProcessingConfig()}
    assert back.reverse().changed() == {"processing": ProcessingConfig(batch_size=4)}
    with pytest.raises(TypeError):
        AlterVectorizerOp(True)


FIELD = '''
    content_embeddings = VectorizerField(
        embedding=EmbeddingConfig(model="text-embedding-3-small", dimensions=3),
        chunking=ChunkingConfig(chunk_column="content"),
        name="blog_content"{extra}
    )
'''
BLOG_STORE = "blog_posts_content_embeddings_store"


def test_alembic_alter_round_trip(tmp_path: Path, dbname: str,
                                  conn: psycopg.Connection) -> None:
    """In a real Alembic project with the switch in env.py: an in-place
    change is an alter whose downgrade alters back, with the store's rows
    (embeddings) and the queue untouched both ways."""
    project = Project(tmp_path, dbname)
    (tmp_path / "env.py").write_text(ENV_PY.format(
        folder=str(tmp_path), url=f"postgresql+psycopg:///{dbname}").replace(
        "context.configure(\n", "context.configure(\n            pgai_alter_vectorizers=True,\n"))
    project.models(MODEL_HEAD + FIELD.format(extra=""))
    first = project.revision("first")
    assert "name='blog_content'" in _body(first, "upgrade")
    assert "op.drop_vectorizer('blog_content', drop_all=True)" in _body(first, "downgrade")
    project.alembic("upgrade", "head")
    conn.execute("INSERT INTO blog_posts VALUES (1, 't', 'c')")
    conn.execute(f"INSERT INTO {BLOG_STORE} (id, chunk_seq, chunk, embedding)"
                 " VALUES (1, 0, 'c', '[1,2,3]')")
    before = conn.execute(f"SELECT embedding_uuid FROM {BLOG_STORE}").fetchall()
    queued = conn.execute("SELECT ai.vectorizer_queue_pending('blog_content')").fetchone()
    config = conn.execute("SELECT config FROM ai.vectorizer").fetchone()

    project.models(MODEL_HEAD.replace("HNSWIndexingConfig", "HNSWIndexingConfig, ProcessingConfig")
                   + FIELD.format(extra=",\n        processing=ProcessingConfig(batch_size=16)"))
    changed = project.revision("changed")
    up, down = (" ".join(_body(changed, fn).split()) for fn in ("upgrade", "downgrade"))
    assert up.startswith("op.alter_vectorizer( 'blog_content',")
    assert "processing=ProcessingConfig(batch_size=16)" in up
    assert "op.drop_vectorizer" not in up and "op.create_vectorizer" not in up
    assert down == ("op.alter_vectorizer( 'blog_content', processing=ProcessingConfig(),"
                    " previous={'processing': ProcessingConfig(batch_size=16)} )")
    assert "ProcessingConfig" in changed.split("def upgrade", 1)[0]
    project.alembic("upgrade", "head")
    assert conn.execute("SELECT config->'processing'->>'batch_size' FROM ai.vectorizer"
                        ).fetchone() == ("16",)
    assert conn.execute(f"SELECT embedding_uuid FROM {BLOG_STORE}").fetchall() == before
    assert conn.execute("SELECT ai.vectorizer_queue_pending('blog_content')").fetchone() == queued
    # nothing more to do
    same = project.revision("same")
    assert _body(same, "upgrade") == "pass" and _body(same, "downgrade") == "pass"
    project.alembic("upgrade", "head")

    project.alembic("downgrade", "-2")
    assert conn.execute("SELECT config FROM ai.vectorizer").fetchone() == config
    assert conn.execute(f"SELECT embedding_uuid FROM {BLOG_STORE}").fetchall() == before
    project.alembic("downgrade", "base")
    assert conn.execute("SELECT count(*) FROM ai.vectorizer").fetchone() == (0,)


def test_indexing_change_reaches_the_worker_without_provider_requests(
        conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    """ai.alter_vectorizer(indexing => ...) on a filled store: the worker's
    next pass builds the index the new config asks for, with no embedding
    request and nothing queued."""
    conn.execute("CREATE TABLE posts (id int PRIMARY KEY, body text)")
    conn.execute("INSERT INTO posts SELECT g, 'post ' || g FROM generate_series(1, 20) g")
    conn.execute("""SELECT ai.create_vectorizer('posts', name => 'posts',
        embedding => ai.embedding_openai('text-embedding-3-small', 3),
        chunking => ai.chunking_character_text_splitter('body', 100, 0),
        indexing => ai.indexing_none())""")
    worker = pgai_testing.WORKER
    env = pgai_testing.worker_env(fake)
    once = [str(worker), "vectorizer", "worker", "--db-url", f"postgresql:///{dbname}", "--once"]
    done = subprocess.run(once, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    embedded = conn.execute("SELECT embedding_uuid FROM posts_embedding_store ORDER BY 1").fetchall()
    assert len(embedded) == 20
    requests = len(fake.requests)

    conn.execute("SELECT ai.alter_vectorizer('posts', indexing => ai.indexing_hnsw(min_rows => 5))")
    assert conn.execute("SELECT ai.vectorizer_queue_pending('posts', true)").fetchone() == (0,)
    done = subprocess.run(once, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert conn.execute(
        "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = 'posts_embedding_store'::regclass"
        " AND a.amname = 'hnsw'").fetchone() == (1,)
    assert len(fake.requests) == requests
    assert conn.execute("SELECT embedding_uuid FROM posts_embedding_store ORDER BY 1"
                        ).fetchall() == embedded
