"""pgai.configuration against the extension's builders: rendering with bound
parameters, reading back the stored JSON, equality with defaults filled,
Python source for migrations."""

from __future__ import annotations

import datetime
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.dialects import postgresql

import pgai.configuration as pc
from pgai.configuration import (
    ChunkingConfig,
    Config,
    CreateVectorizer,
    DefaultIndexingConfig,
    DiskANNIndexingConfig,
    EmbeddingConfig,
    HNSWIndexingConfig,
    NoIndexingConfig,
    NoSchedulingConfig,
    OllamaEmbeddingConfig,
    ProcessingConfig,
    PythonTemplateConfig,
    SchedulingConfig,
    SentenceTransformersEmbeddingConfig,
    VoyageAIEmbeddingConfig,
    config_from_dict,
)

NASTY = "it's $chunk $$ \\n \\ '); DROP TABLE blog_posts; -- \"q\" ${x}"

CONFIGS: list[Config] = [
    EmbeddingConfig(model="text-embedding-3-small", dimensions=768),
    EmbeddingConfig(model="m", dimensions=3, chat_user=NASTY, api_key_name=NASTY,
                    base_url="http://127.0.0.1:1/v1"),
    OllamaEmbeddingConfig(model="nomic-embed-text", dimensions=768,
                          options={"num_ctx": 1024, "s": NASTY}, keep_alive="10m"),
    VoyageAIEmbeddingConfig(model="voyage-3", dimensions=1024, input_type="query"),
    SentenceTransformersEmbeddingConfig(),
    SentenceTransformersEmbeddingConfig(model="sentence-transformers/all-MiniLM-L6-v2"),
    ChunkingConfig(chunk_column="content"),
    ChunkingConfig(chunk_column="content", chunk_size=500, chunk_overlap=50, separator=" ",
                   is_separator_regex=True),
    ChunkingConfig(chunk_column="body", chunk_size=300, chunk_overlap=30,
                   separator=["\n\n", "\n", NASTY]),
    PythonTemplateConfig(),
    PythonTemplateConfig("Title: ${title}\nContent: ${chunk}"),
    PythonTemplateConfig(NASTY),
    NoIndexingConfig(),
    DefaultIndexingConfig(),
    HNSWIndexingConfig(),
    HNSWIndexingConfig(min_rows=10, opclass="vector_l2_ops", m=16, ef_construction=64,
                       create_when_queue_empty=False),
    DiskANNIndexingConfig(min_rows=10000, storage_layout="memory_optimized",
                          num_neighbors=50, search_list_size=100, max_alpha=1.2,
                          num_dimensions=0, num_bits_per_dimension=2),
    NoSchedulingConfig(),
    SchedulingConfig(),
    SchedulingConfig(schedule_interval="1h", timezone="UTC"),
    SchedulingConfig(schedule_interval=datetime.timedelta(minutes=90), fixed_schedule=True,
                     initial_start=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)),
    ProcessingConfig(),
    ProcessingConfig(batch_size=100, concurrency=4),
]


def _build(conn: psycopg.Connection, config: Config) -> dict[str, Any]:
    engine = create_engine("postgresql+psycopg://", creator=lambda: conn)
    with engine.connect() as c:
        value = c.execute(select(config.to_sql())).scalar_one()
    assert isinstance(value, dict)
    return value


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.render_python()[:60])
def test_round_trip_through_the_builders(conn: psycopg.Connection, config: Config) -> None:
    stored = _build(conn, config)
    back = config_from_dict(stored)
    assert back == config
    assert type(back) is type(config)
    # the stored form needs no more than the defaults the class knows
    if not isinstance(config, SchedulingConfig):
        assert stored == config.to_dict()
    # the Python source rebuilds an equal config
    assert eval(back.render_python(), vars(pc)) == config  # noqa: S307


def test_values_are_bound_never_pasted() -> None:
    config = ChunkingConfig(chunk_column=NASTY, separator=[NASTY])
    sql = str(select(config.to_sql()).compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]
    assert "DROP" not in sql and "it's" not in sql
    assert sql.startswith("SELECT ai.chunking_recursive_character_text_splitter(chunk_column =>")


def test_equality_fills_defaults() -> None:
    assert ChunkingConfig("c") == ChunkingConfig("c", chunk_size=800, chunk_overlap=400,
                                                 separator="\n\n", is_separator_regex=False)
    assert ChunkingConfig("c") != ChunkingConfig("c", separator=["\n\n"])
    assert EmbeddingConfig("m", 3) == EmbeddingConfig("m", 3, api_key_name="OPENAI_API_KEY")
    assert EmbeddingConfig("m", 3) != EmbeddingConfig("m", 4)
    assert SchedulingConfig("5m") == SchedulingConfig() == SchedulingConfig("00:05:00")
    assert SchedulingConfig("2 days 3h") == SchedulingConfig("2 days 03:00:00")
    assert SchedulingConfig("1h") != SchedulingConfig("2h")
    assert DiskANNIndexingConfig(max_alpha=1) == DiskANNIndexingConfig(max_alpha=1.0)
    assert HNSWIndexingConfig() != DiskANNIndexingConfig()
    assert NoIndexingConfig() != NoSchedulingConfig()


def test_create_vectorizer_reads_back_from_the_catalog(conn: psycopg.Connection) -> None:
    conn.execute("CREATE TABLE blog_posts (id int PRIMARY KEY, title text, content text)")
    wanted = CreateVectorizer(
        source="blog_posts",
        embedding=EmbeddingConfig(model="text-embedding-3-small", dimensions=768),
        chunking=ChunkingConfig(chunk_column="content", chunk_size=500),
        formatting_template="Title: ${title}\nContent: ${chunk}",
        target_table="blog_posts_content_embeddings_store",
        view_name="blog_posts_content_embeddings",
        grant_to=["postgres"],
        enqueue_existing=False,
    )
    engine = create_engine("postgresql+psycopg://", creator=lambda: conn)
    with engine.connect() as c:
        vid = c.execute(wanted.to_sql()).scalar_one()
        c.commit()
    row = conn.execute(
        "SELECT id, source_schema, source_table, target_schema, target_table, view_schema,"
        " view_name, queue_schema, queue_table, config FROM ai.vectorizer WHERE id = %s",
        (vid,)).fetchone()
    assert row is not None
    names = ["id", "source_schema", "source_table", "target_schema", "target_table",
             "view_schema", "view_name", "queue_schema", "queue_table", "config"]
    stored = CreateVectorizer.from_catalog(dict(zip(names, row, strict=True)))
    assert wanted.matches(stored)
    assert stored.matches(stored)
    assert stored.indexing == HNSWIndexingConfig()
    assert stored.scheduling == NoSchedulingConfig()
    changed = CreateVectorizer(source="blog_posts",
                               embedding=EmbeddingConfig(model="text-embedding-3-large",
                                                         dimensions=1536),
                               chunking=wanted.chunking,
                               formatting_template=wanted.formatting_template)
    assert not changed.matches(stored)
    assert not CreateVectorizer(source="blog_posts", embedding=wanted.embedding,
                                chunking=wanted.chunking,
                                formatting_template=wanted.formatting_template,
                                indexing=NoIndexingConfig()).matches(stored)
