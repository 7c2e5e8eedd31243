"""pgai.sqlalchemy: the spec's VectorizerField examples against a real
database. Rows are embedded by the real worker (worker/build/pgai) through
the fake OpenAI server on 127.0.0.1, and the spec's queries call
ai.openai_embed in the database against the same fake, so every distance
below can be recomputed with numpy from fake.expected()."""

from __future__ import annotations

import string
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import sqlalchemy as sa
from pgai_testing import MODEL, OPENAI_KEY, RunWorker
from sqlalchemy import Column, Integer, Text, event, func, select, text
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

Vec = npt.NDArray[np.float64]


@pytest.fixture
def engine(dbname: str, fake: Any) -> Iterator[Engine]:
    """An engine whose sessions let ai.openai_embed reach the fake."""
    eng = sa.create_engine(f"postgresql+psycopg:///{dbname}")

    @event.listens_for(eng, "connect")
    def openai_settings(dbapi_connection: Any, connection_record: Any) -> None:
        with dbapi_connection.cursor() as cur:
            cur.execute("SELECT set_config('ai.openai_base_url', %s, false),"
                        " set_config('ai.openai_api_key', %s, false)",
                        (fake.openai_url, OPENAI_KEY))
        dbapi_connection.commit()

    yield eng
    eng.dispose()


def expected(fake: Any, chunk: str, dims: int = 768, model: str = MODEL) -> Vec:
    return np.array(fake.expected(model, chunk, dims), dtype=np.float64)


def cosine_distance(a: Vec, b: Vec) -> float:
    return float(1.0 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


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


# Two paragraphs of ~300 characters: the character splitter (separator
# "\n\n", chunk_size 500) cannot merge them, so post 1 has two chunks.
PARA_A = ("Python's list comprehensions build lists in one readable expression. "
          "They replace loops that append to a list, and they run faster because "
          "the interpreter knows the result is a list. Nested comprehensions read "
          "left to right, like the loops they replace, and a condition at the end "
          "filters the items that reach the result list.")
PARA_B = ("Generators do the same lazily: a generator expression yields one item "
          "at a time and never builds the whole list, which matters for large "
          "inputs such as files or database cursors. Use one when the result is "
          "consumed once, by sum(), any() or a for loop, and a list when it is "
          "indexed or read several times over.")
# The spec's queries search for 'machine learning concepts' and 'search query';
# the fake's vectors are unrelated for unrelated texts, so a post with exactly
# that text is the one a real model would find closest.
POSTS = [(1, "Python tips", PARA_A + "\n\n" + PARA_B),
         (2, "Cooking", "Boil the pasta in plenty of salted water."),
         (3, "Python search", "search query"),
         (4, "Learning", "machine learning concepts")]
CHUNKS = {(1, 0): PARA_A, (1, 1): PARA_B, (2, 0): POSTS[1][2], (3, 0): "search query",
          (4, 0): "machine learning concepts"}


@pytest.fixture
def blog(engine: Engine, dbname: str, run_worker: RunWorker) -> Engine:
    """The spec's flow: the model, its vectorizer, posts, and the worker."""
    Base.metadata.create_all(engine)
    create_vectorizers(engine, Base.metadata)
    with Session(engine) as session:
        session.add_all([BlogPost(id=i, title=t, content=c) for i, t, c in POSTS])
        session.commit()
    run_worker(dbname)
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


def test_basic_orm_queries(blog: Engine, fake: Any) -> None:
    # Get all embeddings
    with Session(blog) as session:
        # Get embedding entries
        embeddings = session.query(BlogPost.content_embeddings).all()

        # Access embedding vectors and chunks
        seen = {}
        for embedding in embeddings:
            vector = embedding.embedding  # numpy array of embeddings
            chunk = embedding.chunk      # text chunk that was embedded
            chunk_seq = embedding.chunk_seq  # sequence number of chunk
            assert isinstance(vector, np.ndarray) and vector.dtype == np.float32
            assert vector.shape == (768,)
            assert isinstance(chunk, str) and isinstance(chunk_seq, int)
            # the vector is the provider's answer for exactly this chunk
            np.testing.assert_allclose(vector, expected(fake, chunk), atol=1e-7)
            seen[(embedding.id, chunk_seq)] = chunk
    assert seen == CHUNKS
    sent = sorted(t for r in fake.requests for t in r["body"]["input"])
    assert sent == sorted(CHUNKS.values())
    assert all(r["body"]["model"] == MODEL and r["body"]["dimensions"] == 768
               for r in fake.requests)


# The spec's function, with one line added: the spec selects a store column
# and BlogPost.title without joining them (SQLAlchemy then warns of a
# cartesian product and pairs every chunk with every title, see
# test_semantic_search_as_written); the join is the spec's own, from its
# "Combine with regular SQL filters" example.
def search_similar_content(session: Session, query_text: str, limit: int = 5) -> Any:
    return (
        session.query(
            BlogPost.content_embeddings,
            BlogPost.title,
            # Calculate and include distance in results
            BlogPost.content_embeddings.embedding.cosine_distance(
                func.ai.openai_embed(
                    'text-embedding-3-small',
                    query_text,
                    text('dimensions => 768')
                )
            ).label('distance')
        )
        .join(BlogPost, BlogPost.id == BlogPost.content_embeddings.id)
        .order_by('distance')  # Sort by similarity
        .limit(limit)
        .all()
    )


def search_similar_content_as_written(session: Session, query_text: str,
                                      limit: int = 5) -> Any:
    return (
        session.query(
            BlogPost.content_embeddings,
            BlogPost.title,
            # Calculate and include distance in results
            BlogPost.content_embeddings.embedding.cosine_distance(
                func.ai.openai_embed(
                    'text-embedding-3-small',
                    query_text,
                    text('dimensions => 768')
                )
            ).label('distance')
        )
        .order_by('distance')  # Sort by similarity
        .limit(limit)
        .all()
    )


def numpy_ranking(fake: Any, query_text: str) -> list[tuple[tuple[int, int], float]]:
    """Every stored chunk with its cosine distance to the query, nearest first."""
    q = expected(fake, query_text)
    ranked = [(key, cosine_distance(expected(fake, chunk), q)) for key, chunk in CHUNKS.items()]
    return sorted(ranked, key=lambda kd: kd[1])


def test_semantic_search(blog: Engine, fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ranking = numpy_ranking(fake, "machine learning concepts")
    with Session(blog) as session:
        before = len(fake.requests)
        # Usage:
        results = search_similar_content(session, "machine learning concepts")
        for embedding, title, distance in results:
            print(f"Title: {title}")
            print(f"Matching chunk: {embedding.chunk}")
            print(f"Distance: {distance}\n")
        # the query text was embedded in the database, by the same provider
        # (ai.openai_embed is STABLE, so PostgreSQL may call it once per row)
        calls = fake.requests[before:]
        assert calls and all(r["body"]["input"] == ["machine learning concepts"]
                             for r in calls)
        assert fake.requests[-1]["body"]["dimensions"] == 768
        assert fake.requests[-1]["headers"]["authorization"] == f"Bearer {OPENAI_KEY}"
        assert len(results) == 5
        assert [(e.id, e.chunk_seq) for e, _, _ in results] == [k for k, _ in ranking]
        for (_, _, distance), (_, want) in zip(results, ranking, strict=True):
            assert distance == pytest.approx(want, abs=1e-5)
        nearest, title, distance = results[0]
        assert (nearest.id, title, nearest.chunk) == (4, "Learning", "machine learning concepts")
        assert distance == pytest.approx(0.0, abs=1e-6)
        assert all(d > 0.5 for _, _, d in results[1:])
        assert len(search_similar_content(session, "machine learning concepts", limit=2)) == 2
    out = capsys.readouterr().out
    assert out.startswith("Title: Learning\nMatching chunk: machine learning concepts\n")


def test_semantic_search_as_written(blog: Engine, fake: Any) -> None:
    """Without a join the spec's query runs, orders by distance, and pairs the
    nearest chunk with every post's title: SQLAlchemy says so."""
    with Session(blog) as session, pytest.warns(sa.exc.SAWarning, match="cartesian product"):
        results = search_similar_content_as_written(session, "machine learning concepts",
                                                    limit=len(POSTS))
    assert {e.chunk for e, _, _ in results} == {"machine learning concepts"}
    assert sorted(t for _, t, _ in results) == sorted(t for _, t, _ in POSTS)
    assert all(d == pytest.approx(0.0, abs=1e-6) for _, _, d in results)


def test_advanced_filtering(blog: Engine, fake: Any) -> None:
    ranking = numpy_ranking(fake, "search query")
    with Session(blog) as session:
        # Find content within a certain distance threshold
        threshold_query = (
            session.query(BlogPost.content_embeddings)
            .filter(
                BlogPost.content_embeddings.embedding.cosine_distance(
                    func.ai.openai_embed(
                        'text-embedding-3-small',
                        'search query',
                        text('dimensions => 768')
                    )
                ) < 0.3
            )
        )
        within = [(e.id, e.chunk_seq) for e in threshold_query.all()]
        assert within == [k for k, d in ranking if d < 0.3] == [(3, 0)]

        # Combine with regular SQL filters
        combined_query = (
            session.query(BlogPost, BlogPost.content_embeddings)
            .join(
                BlogPost.content_embeddings,
                BlogPost.id == BlogPost.content_embeddings.id,
            )
            .filter(BlogPost.title.ilike("%Python%"))
            .order_by(
                BlogPost.content_embeddings.embedding.cosine_distance(
                    func.ai.openai_embed(
                        'text-embedding-3-small',
                        'search query',
                        text('dimensions => 768')
                    )
                )
            )
        )
        rows = combined_query.all()
        python_posts = {i for i, t, _ in POSTS if "python" in t.lower()}
        assert [(p.id, e.chunk_seq) for p, e in rows] == [
            k for k, _ in ranking if k[0] in python_posts]
        assert [p.title for p, _ in rows] == ["Python search", "Python tips", "Python tips"]
        assert all(p.id == e.id and e.chunk == CHUNKS[(e.id, e.chunk_seq)] for p, e in rows)

        # the other comparators, against a stored vector (unit length)
        model = BlogPost.content_embeddings
        q = expected(fake, "search query").astype(np.float32)
        by_l2 = session.query(model.id, model.embedding.l2_distance(q)).order_by(
            model.embedding.l2_distance(q)).all()
        assert [i for i, _ in by_l2][:1] == [3] and by_l2[0][1] == pytest.approx(0.0, abs=1e-5)
        ip = session.query(model.embedding.max_inner_product(q)).filter(model.id == 3).scalar()
        assert ip == pytest.approx(-1.0, abs=1e-5)


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

    # Type hint for the relationship
    content_embeddings_relation: Mapped[list[EmbeddingModel[Article]]]


def test_relationship_lazy_and_eager(engine: Engine, dbname: str, fake: Any,
                                     run_worker: RunWorker) -> None:
    RelBase.metadata.create_all(engine)
    create_vectorizers(engine, RelBase.metadata)
    with Session(engine) as session:
        session.add_all([Article(id=1, title="a", content=PARA_A + "\n\n" + PARA_B),
                         Article(id=2, title="b", content="short"),
                         Article(id=3, title="c", content="")])
        session.commit()
    run_worker(dbname)
    with Session(engine) as session:
        lazy = session.get(Article, 1)
        assert lazy is not None
        assert "content_embeddings_relation" not in lazy.__dict__
        related = lazy.content_embeddings_relation
        assert [(e.chunk_seq, e.chunk) for e in related] == [(0, PARA_A), (1, PARA_B)]
        for e in related:
            np.testing.assert_allclose(e.embedding, expected(fake, e.chunk), atol=1e-7)
        assert related[0].parent is lazy
    with Session(engine) as session:
        eager = session.scalars(select(Article).order_by(Article.id).options(
            selectinload(Article.content_embeddings_relation))).all()
        assert [[e.chunk for e in a.__dict__["content_embeddings_relation"]] for a in eager] == [
            [PARA_A, PARA_B], ["short"], []]


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


def test_advanced_configuration(engine: Engine, dbname: str, fake: Any,
                                run_worker: RunWorker) -> None:
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
        session.add(AdvancedPost(id=1, title="Regex", content="Split on  spaces."))
        session.commit()
    # api_key_name="custom_key": the worker reads the key from $custom_key,
    # a name its operator allows (it does not end in _API_KEY)
    run_worker(dbname, env={"custom_key": "sk-custom-0c4e8a", "PGAI_API_KEY_NAMES": "custom_key"},
               key="sk-custom-0c4e8a")
    # the regex separator " " splits the content, and the chunk joins the
    # non-empty pieces with it, as LangChain's CharacterTextSplitter does
    formatted = "Title: Regex\nContent: Split on spaces."
    assert [r["body"]["input"] for r in fake.requests] == [[formatted]]
    assert fake.requests[0]["body"]["user"] == "custom_user"
    with Session(engine) as session:
        (row,) = session.query(AdvancedPost.content_embeddings).all()
        assert (row.id, row.chunk_seq, row.chunk) == (1, 0, formatted)
        np.testing.assert_allclose(row.embedding, expected(fake, formatted), atol=1e-7)


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


def test_composite_key_schema_quoting_two_fields(engine: Engine, dbname: str, fake: Any,
                                                run_worker: RunWorker) -> None:
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
    with Session(engine) as session:
        session.add(Doc(tenant="t", num=7, title="a", body="b"))
        session.commit()
    # one thread handles both vectorizers, one after the other (the default
    # is one per core): each must reach the provider with its own settings
    run_worker(dbname, "--concurrency", "1")
    # the body's template is NASTY + " $chunk": Python's string.Template, as pgai
    body_text = string.Template(NASTY + " $chunk").substitute(chunk="b")
    assert body_text.startswith("it's b $ \\n")
    inputs = {r["body"]["input"][0]: r["body"] for r in fake.requests}
    assert inputs.keys() == {"a", body_text}
    assert inputs["a"]["user"] == NASTY
    assert "user" not in inputs[body_text], "the title's chat_user reached the body's request"
    with Session(engine) as session:
        model = Doc.title_embeddings
        row = session.query(model).join(
            Doc, sa.and_(Doc.tenant == model.tenant, Doc.num == model.num)).one()
        assert (row.tenant, row.num, row.chunk) == ("t", 7, "a")
        np.testing.assert_allclose(row.embedding, expected(fake, "a", 3, "m"), atol=1e-7)
        doc = session.scalars(select(Doc)).one()
        assert [e.chunk for e in doc.title_embeddings_relation] == ["a"]
        body = session.query(Doc.body_embeddings).one()
        assert (body.tenant, body.num, body.chunk) == ("t", 7, body_text)
        np.testing.assert_allclose(body.embedding, expected(fake, body_text, 3, "m"), atol=1e-7)
