"""pgai.sqlalchemy: the spec's VectorizerField examples against a real
database. Nothing embeds yet (the worker is another issue), so tests stand in
for it by inserting store rows with SQL; queries that call
ai.openai_embed are checked as compiled SQL and run with a literal vector."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy import Column, Integer, Text, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declarative_base, selectinload

from pgai.configuration import (
    ChunkingConfig,
    CreateVectorizer,
    DiskANNIndexingConfig,
    EmbeddingConfig,
    HNSWIndexingConfig,
    NoIndexingConfig,
    ProcessingConfig,
    SchedulingConfig,
)
from pgai.sqlalchemy import (
    EmbeddingModel,
    Vectorizer,
    VectorizerField,
    VectorizerStoreMissingError,
    create_vectorizers,
)


@pytest.fixture
def engine(dbname: str) -> Iterator[Engine]:
    eng = sa.create_engine(f"postgresql+psycopg:///{dbname}")
    yield eng
    eng.dispose()


def vec(*head: float, dims: int = 768) -> str:
    values = list(head) + [0.0] * (dims - len(head))
    return "[" + ",".join(str(v) for v in values) + "]"


def fake_worker(conn: sa.Connection, store: str, rows: list[tuple[Any, ...]],
                dims: int = 768) -> None:
    """Insert store rows as the worker will: (key..., chunk_seq, chunk, head)."""
    for *key, seq, chunk, head in rows:
        cols = ", ".join(f":k{i}" for i in range(len(key)))
        names = ", ".join(conn.execute(text(
            "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute"
            " WHERE attrelid = CAST(:t AS regclass) AND attnum > 1 AND attnum <= 1 + :n"),
            {"t": store, "n": len(key)}).scalar_one().split(", "))
        conn.execute(text(f"INSERT INTO {store} ({names}, chunk_seq, chunk, embedding)"
                          f" VALUES ({cols}, :seq, :chunk, CAST(:emb AS vector))"),
                     {**{f"k{i}": k for i, k in enumerate(key)}, "seq": seq, "chunk": chunk,
                      "emb": vec(*head, dims=dims)})


# -- the spec's Basic Setup, with its typos mended -----------------------------

class Base(DeclarativeBase):
    pass


class BlogPost(Base):
    __tablename__ = "blog_posts"

    id = Column(Integer, primary_key=True)
    title = Column(Text, nullable=False)
    content = Column(Text, nullable=False)

    content_embeddings = VectorizerField(
        embedding=EmbeddingConfig(
            model="text-embedding-3-small",
            dimensions=768
        ),
        chunking=ChunkingConfig(
            chunk_column="content",
            chunk_size=500
        ),
    )


POSTS = [(1, "Python tips", "Use list comprehensions."),
         (2, "Cooking", "Boil the pasta."),
         (3, "Python typing", "Strict mypy helps.")]


@pytest.fixture
def blog(engine: Engine) -> Engine:
    Base.metadata.create_all(engine)
    create_vectorizers(engine, Base.metadata)
    with engine.begin() as conn:
        conn.execute(sa.insert(BlogPost),
                     [{"id": i, "title": t, "content": c} for i, t, c in POSTS])
        fake_worker(conn, "blog_posts_content_embeddings_store", [
            (1, 0, "Use list", [1.0, 0.0]), (1, 1, "comprehensions.", [0.9, 0.1]),
            (2, 0, "Boil the pasta.", [0.0, 1.0]), (3, 0, "Strict mypy helps.", [0.8, 0.2])])
    return engine


def test_store_is_mapped_with_pgai_defaults() -> None:
    model = BlogPost.content_embeddings
    table = model.__table__
    assert table.name == "blog_posts_content_embeddings_store"
    assert table.info["pgai_managed"] is True
    assert [c.name for c in table.columns] == ["embedding_uuid", "id", "chunk_seq", "chunk",
                                               "embedding"]
    assert issubclass(model, EmbeddingModel)
    assert Vectorizer is VectorizerField


def test_create_all_leaves_the_store_to_the_vectorizer(engine: Engine) -> None:
    Base.metadata.create_all(engine)
    insp = sa.inspect(engine)
    assert insp.has_table("blog_posts")
    assert not insp.has_table("blog_posts_content_embeddings_store")
    with Session(engine) as session, pytest.raises(VectorizerStoreMissingError) as err:
        session.query(BlogPost.content_embeddings).all()
    message = str(err.value)
    assert "blog_posts_content_embeddings_store" in message
    assert "BlogPost.content_embeddings" in message
    assert isinstance(err.value, sa.exc.ProgrammingError)
    ids = create_vectorizers(engine, Base.metadata)
    assert len(ids) == 1
    assert create_vectorizers(engine, Base.metadata) == []
    with engine.connect() as conn:
        row = conn.execute(text("SELECT target_table, view_name FROM ai.vectorizer")).one()
    assert tuple(row) == ("blog_posts_content_embeddings_store", "blog_posts_content_embeddings")
    # drop_all drops the vectorizer (store and view) before its source
    Base.metadata.drop_all(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ai.vectorizer")).scalar_one() == 0
    assert not sa.inspect(engine).has_table("blog_posts")


def test_basic_orm_queries(blog: Engine) -> None:
    with Session(blog) as session:
        embeddings = session.query(BlogPost.content_embeddings).all()
        assert len(embeddings) == 4
        for embedding in embeddings:
            vector = embedding.embedding
            chunk = embedding.chunk
            chunk_seq = embedding.chunk_seq
            assert isinstance(vector, np.ndarray) and vector.shape == (768,)
            assert vector.dtype == np.float32
            assert isinstance(chunk, str) and isinstance(chunk_seq, int)


def search_similar_content(session: Session, query_text: str, limit: int = 5) -> Any:
    return (
        session.query(
            BlogPost.content_embeddings,
            BlogPost.title,
            BlogPost.content_embeddings.embedding.cosine_distance(
                func.ai.openai_embed(
                    'text-embedding-3-small',
                    query_text,
                    text('dimensions => 768')
                )
            ).label('distance')
        )
        .order_by('distance')
        .limit(limit)
    )


def test_semantic_search_compiles_to_pgvector_sql(engine: Engine) -> None:
    with Session(engine) as session:
        sql = str(search_similar_content(session, "machine learning concepts")
                  .statement.compile(engine))
    assert "blog_posts_content_embeddings_store.embedding <=> ai.openai_embed(" in sql
    assert "dimensions => 768)" in sql and "ORDER BY distance" in sql


def test_semantic_search_runs_with_a_query_vector(blog: Engine) -> None:
    model = BlogPost.content_embeddings
    with Session(blog) as session:
        results = (
            session.query(model, BlogPost.title,
                          model.embedding.cosine_distance(np.array([1.0] + [0.0] * 767))
                          .label("distance"))
            .join(BlogPost, BlogPost.id == model.id)
            .order_by("distance").limit(2).all())
    assert [(e.chunk, title) for e, title, _ in results] == [
        ("Use list", "Python tips"), ("comprehensions.", "Python tips")]
    assert results[0][2] == pytest.approx(0.0)


def test_advanced_filtering(blog: Engine) -> None:
    model = BlogPost.content_embeddings
    query = np.array([1.0] + [0.0] * 767, dtype=np.float32)
    with Session(blog) as session:
        threshold_query = session.query(model).filter(
            model.embedding.cosine_distance(query) < 0.3)
        assert sorted(e.chunk for e in threshold_query) == [
            "Strict mypy helps.", "Use list", "comprehensions."]
        combined_query = (
            session.query(BlogPost, BlogPost.content_embeddings)
            .join(
                BlogPost.content_embeddings,
                BlogPost.id == BlogPost.content_embeddings.id,
            )
            .filter(BlogPost.title.ilike("%Python%"))
            .order_by(BlogPost.content_embeddings.embedding.l2_distance(query))
        )
        rows = combined_query.all()
        assert [(p.id, e.chunk) for p, e in rows] == [
            (1, "Use list"), (1, "comprehensions."), (3, "Strict mypy helps.")]
        # the spec's form, with ai.openai_embed, compiles to the same shape
        spec_form = session.query(BlogPost.content_embeddings).filter(
            BlogPost.content_embeddings.embedding.cosine_distance(
                func.ai.openai_embed('text-embedding-3-small', 'search query',
                                     text('dimensions => 768'))) < 0.3)
        sql = str(spec_form.statement.compile(blog))
        assert "embedding <=> ai.openai_embed(" in sql and "dimensions => 768)) < " in sql
        ip = session.query(model.embedding.max_inner_product(query)).limit(1).scalar()
        assert ip == pytest.approx(-1.0)


# -- relationships ---------------------------------------------------------------

class RelBase(DeclarativeBase):
    pass


class Article(RelBase):
    __tablename__ = "articles"

    id = Column(Integer, primary_key=True)
    title = Column(Text, nullable=False)
    content = Column(Text, nullable=False)

    content_embeddings = VectorizerField(
        embedding=EmbeddingConfig(
            model="text-embedding-3-small",
            dimensions=768
        ),
        chunking=ChunkingConfig(
            chunk_column="content",
            chunk_size=500
        ),
        add_relationship=True
    )

    content_embeddings_relation: Mapped[list[EmbeddingModel["Article"]]]


def test_relationship_lazy_and_eager(engine: Engine) -> None:
    RelBase.metadata.create_all(engine)
    create_vectorizers(engine, RelBase.metadata)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO articles VALUES (1, 'a', 'x'), (2, 'b', 'y')"))
        fake_worker(conn, "articles_content_embeddings_store",
                    [(1, 1, "second", [0.5]), (1, 0, "first", [1.0])])
    with Session(engine) as session:
        lazy = session.get(Article, 1)
        assert lazy is not None
        assert [e.chunk for e in lazy.content_embeddings_relation] == ["first", "second"]
        assert lazy.content_embeddings_relation[0].parent is lazy
    with Session(engine) as session:
        eager = session.scalars(select(Article).order_by(Article.id).options(
            selectinload(Article.content_embeddings_relation))).all()
        assert [len(a.__dict__["content_embeddings_relation"]) for a in eager] == [2, 0]


# -- advanced configuration: every option -------------------------------------------

class AdvBase(DeclarativeBase):
    pass


class AdvancedPost(AdvBase):
    __tablename__ = "blog_posts"

    id = Column(Integer, primary_key=True)
    title = Column(Text, nullable=False)
    content = Column(Text, nullable=False)

    content_embeddings = VectorizerField(
        embedding=EmbeddingConfig(
            model="text-embedding-3-small",
            dimensions=768,
            chat_user="custom_user",
            api_key_name="custom_key"
        ),
        chunking=ChunkingConfig(
            chunk_column="content",
            chunk_size=500,
            chunk_overlap=50,
            separator=" ",
            is_separator_regex=True
        ),
        indexing=DiskANNIndexingConfig(
            min_rows=10000,
            storage_layout="memory_optimized"
        ),
        formatting_template="Title: ${title}\nContent: ${chunk}",
        scheduling=SchedulingConfig(
            schedule_interval="1h",
            timezone="UTC"
        ),
        processing=ProcessingConfig(batch_size=10, concurrency=2),
        target_schema="public",
        target_table="blog_embeddings",
        view_schema="public",
        view_name="blog_embeddings_view"
    )


def _stored(conn: sa.Connection) -> list[CreateVectorizer]:
    rows = conn.execute(text("SELECT * FROM ai.vectorizer ORDER BY id")).mappings().all()
    return [CreateVectorizer.from_catalog(r) for r in rows]


def test_advanced_configuration(engine: Engine) -> None:
    assert AdvancedPost.content_embeddings.__table__.name == "blog_embeddings"
    AdvBase.metadata.create_all(engine)
    create_vectorizers(engine, AdvBase.metadata)
    with engine.connect() as conn:
        [stored] = _stored(conn)
        config = conn.execute(text("SELECT config FROM ai.vectorizer")).scalar_one()
    field = AdvBase.metadata.info["pgai_vectorizers"][0]
    assert field.create_vectorizer().matches(stored)
    assert (stored.target_table, stored.view_name) == ("blog_embeddings", "blog_embeddings_view")
    assert config["embedding"]["chat_user"] == "custom_user"
    assert config["embedding"]["api_key_name"] == "custom_key"
    assert config["chunking"]["separator"] == " " and config["chunking"]["is_separator_regex"]
    assert config["indexing"]["implementation"] == "diskann"
    assert config["indexing"]["storage_layout"] == "memory_optimized"
    assert config["formatting"]["template"] == "Title: ${title}\nContent: ${chunk}"
    assert config["scheduling"] == {"config_type": "scheduling", "implementation": "timescaledb",
                                    "schedule_interval": "01:00:00", "timezone": "UTC"}
    with Session(engine) as session:
        assert session.query(AdvancedPost.content_embeddings).all() == []


# -- keys, schemas, several fields, quoting, values --------------------------------

NASTY = "it's $chunk $$ \\n \\ '); DROP TABLE docs; -- \"q\""

Legacy = declarative_base()


class Doc(Legacy):  # type: ignore[misc, valid-type]
    __tablename__ = "Doc Items"
    __table_args__ = {"schema": "Library"}

    tenant = Column(Text, primary_key=True)
    num = Column("Number", Integer, primary_key=True)
    title = Column(Text, nullable=False)
    body = Column(Text, nullable=False)

    title_embeddings = VectorizerField(
        embedding=EmbeddingConfig(model="m", dimensions=3, chat_user=NASTY),
        chunking=ChunkingConfig(chunk_column="title", separator=NASTY, chunk_size=100,
                                chunk_overlap=0),
        indexing=NoIndexingConfig(),
        add_relationship=True,
    )
    body_embeddings = VectorizerField(
        embedding=EmbeddingConfig(model="m", dimensions=3),
        chunking=ChunkingConfig(chunk_column="body", separator=[NASTY, " "]),
        indexing=HNSWIndexingConfig(m=16, ef_construction=64),
        formatting_template=NASTY + " $chunk",
    )


def test_composite_key_schema_quoting_two_fields(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text('CREATE SCHEMA "Library"'))
    Legacy.metadata.create_all(engine)
    ids = create_vectorizers(engine, Legacy.metadata)
    assert len(ids) == 2
    with engine.connect() as conn:
        stored = _stored(conn)
        configs = conn.execute(text("SELECT config FROM ai.vectorizer ORDER BY id")).scalars().all()
    assert [s.target_schema for s in stored] == ["Library", "Library"]
    assert [s.target_table for s in stored] == ["Doc Items_title_embeddings_store",
                                                "Doc Items_body_embeddings_store"]
    assert stored[0].source == '"Library"."Doc Items"'
    fields = Legacy.metadata.info["pgai_vectorizers"]
    assert all(f.create_vectorizer().matches(s) for f, s in zip(fields, stored, strict=True))
    # values arrive as data, unchanged
    assert configs[0]["embedding"]["chat_user"] == NASTY
    assert configs[0]["chunking"]["separator"] == NASTY
    assert configs[1]["chunking"]["separators"] == [NASTY, " "]
    assert configs[1]["formatting"]["template"] == NASTY + " $chunk"
    with engine.begin() as conn:
        conn.execute(text('INSERT INTO "Library"."Doc Items" VALUES (\'t\', 7, \'a\', \'b\')'))
        fake_worker(conn, '"Library"."Doc Items_title_embeddings_store"',
                    [("t", 7, 0, "a", [1.0])], dims=3)
    with Session(engine) as session:
        model = Doc.title_embeddings
        row = session.query(model).join(
            Doc, sa.and_(Doc.tenant == model.tenant, Doc.num == model.num)).one()
        assert (row.tenant, row.num, row.chunk) == ("t", 7, "a")
        doc = session.scalars(select(Doc)).one()
        assert [e.chunk for e in doc.title_embeddings_relation] == ["a"]
        assert session.query(Doc.body_embeddings).count() == 0
