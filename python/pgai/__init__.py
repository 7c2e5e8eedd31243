"""pgai: keep vector embeddings of PostgreSQL data in sync.

This package is the Python surface of an independent implementation in C of
the pgai vectorizer interface. Its modules:

- :mod:`pgai.configuration`: typed vectorizer configuration that renders to
  the ``ai.*`` SQL builders and reads back from ``ai.vectorizer``;
- :mod:`pgai.sqlalchemy`: ``VectorizerField`` for SQLAlchemy 2 models;
- :mod:`pgai.alembic`: ``op.create_vectorizer`` / ``op.drop_vectorizer``
  and autogenerate support.
"""

__version__ = "0.1.0"
