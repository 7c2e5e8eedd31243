"""Autogenerate reads ai.vectorizer, whose names now follow the tables by
OID (issue 9, item 9): a renamed store is compared under its new name, and
a vectorizer whose store is gone (names NULL) neither crashes the
comparison nor gets a drop it cannot name."""

from __future__ import annotations

import psycopg
import sqlalchemy as sa
from alembic.autogenerate import produce_migrations
from alembic.migration import MigrationContext
from sqlalchemy.orm import DeclarativeBase

import pgai.alembic  # noqa: F401  (registers the comparator)
from pgai.alembic import CreateVectorizerOp, DropVectorizerOp
from pgai.configuration import ChunkingConfig, EmbeddingConfig
from pgai.sqlalchemy import VectorizerField, create_vectorizers


def _ops(dbname: str, metadata: sa.MetaData) -> list[object]:
    engine = sa.create_engine(f"postgresql+psycopg:///{dbname}")
    try:
        with engine.connect() as c:
            mc = MigrationContext.configure(c, opts={
                "target_metadata": metadata,
                "include_object": lambda obj, name, type_, reflected, compare_to:
                not obj.info.get("pgai_managed", False)})
            upgrade = produce_migrations(mc, metadata).upgrade_ops
            assert upgrade is not None
            return [op for op in upgrade.ops
                    if isinstance(op, (CreateVectorizerOp, DropVectorizerOp))]
    finally:
        engine.dispose()


def _models(store: str) -> sa.MetaData:
    class Base(DeclarativeBase):
        pass

    class Post(Base):
        __tablename__ = "posts"
        id = sa.Column(sa.Integer, primary_key=True)
        body = sa.Column(sa.Text)
        body_embeddings = VectorizerField(
            embedding=EmbeddingConfig(model="text-embedding-3-small", dimensions=3),
            chunking=ChunkingConfig(chunk_column="body"),
            target_table=store,
        )

    return Base.metadata


def _create(dbname: str) -> None:
    """The source table and its vectorizer, as the models declare them."""
    engine = sa.create_engine(f"postgresql+psycopg:///{dbname}")
    try:
        metadata = _models("posts_store")
        metadata.create_all(engine)
        assert len(create_vectorizers(engine, metadata)) == 1
    finally:
        engine.dispose()


def test_renamed_store_is_compared_under_its_new_name(conn: psycopg.Connection,
                                                      dbname: str) -> None:
    _create(dbname)
    assert _ops(dbname, _models("posts_store")) == []
    conn.execute("ALTER TABLE posts_store RENAME TO posts_store_v2")
    assert _ops(dbname, _models("posts_store_v2")) == []


def test_vectorizer_without_store_does_not_break_autogenerate(conn: psycopg.Connection,
                                                              dbname: str) -> None:
    _create(dbname)
    conn.execute("DROP TABLE posts_store CASCADE")

    class Base(DeclarativeBase):
        pass

    class Post(Base):
        __tablename__ = "posts"
        id = sa.Column(sa.Integer, primary_key=True)
        body = sa.Column(sa.Text)

    assert _ops(dbname, Base.metadata) == []
