"""Alembic environment of the demo's project: the models of models.py
(next to this file), pgai's comparator for autogenerate, and the store
tables the vectorizer owns left to the vectorizer."""

import os
import sys

from alembic import context
from sqlalchemy import create_engine

import pgai.alembic  # noqa: F401  (registers op.create_vectorizer and the comparator)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402

engine = create_engine(os.environ["PGAI_DEMO_URL"])

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=models.Base.metadata,
        include_object=lambda obj, name, type_, reflected, compare_to:
            not obj.info.get("pgai_managed", False),
    )
    with context.begin_transaction():
        context.run_migrations()
