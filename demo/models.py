"""The demo's model: one row per page of PostgreSQL's manual, and a
vectorizer on it with the built-in all-MiniLM-L6-v2 model (no network)."""

from sqlalchemy import Column, Integer, Text
from sqlalchemy.orm import DeclarativeBase

from pgai.configuration import ChunkingConfig, ProcessingConfig, SentenceTransformersEmbeddingConfig
from pgai.sqlalchemy import VectorizerField


class Base(DeclarativeBase):
    pass


class ManualPage(Base):
    __tablename__ = "manual_pages"

    id = Column(Integer, primary_key=True)
    file = Column(Text, nullable=False)
    title = Column(Text, nullable=False)
    body = Column(Text, nullable=False)

    body_embeddings = VectorizerField(
        embedding=SentenceTransformersEmbeddingConfig(),  # all-MiniLM-L6-v2, 384 dims
        chunking=ChunkingConfig(                          # recursive splitter, 800/100
            chunk_column="body", chunk_size=800, chunk_overlap=100,
            separator=["\n\n", "\n", ".", "?", "!", " ", ""],
        ),
        formatting_template="Title: $title\n$chunk",
        processing=ProcessingConfig(batch_size=50),       # small claims: both cores busy to the end
    )
