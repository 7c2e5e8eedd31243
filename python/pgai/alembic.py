"""Alembic integration: vectorizer operations and autogenerate.

Importing this module registers, through Alembic's own registries:

- ``op.create_vectorizer(source, embedding=..., chunking=..., ...)``, taking
  every argument of ``ai.create_vectorizer`` as configuration objects;
- ``op.drop_vectorizer(vectorizer, drop_all=False)`` (``drop_objects``
  is the same flag) with the vectorizer's id or name, or
  ``op.drop_vectorizer(target_table=..., target_schema=..., drop_all=True)``
  to name the vectorizer by its store; names and stores are stable across
  databases where ids are not;
- ``op.alter_vectorizer(vectorizer, indexing=..., scheduling=...,
  processing=..., grant_to=...)``: ``ai.alter_vectorizer``, the in-place
  changes (no re-embedding). Given ``previous=`` (the configurations it
  replaces, as autogenerate writes them) it reverses to them;
- :func:`compare_vectorizers`, an autogenerate comparator: vectorizers
  declared with ``VectorizerField`` but missing from ``ai.vectorizer`` are
  created, vectorizers of the models' tables that no field declares are
  dropped, and changed ones are dropped and created again (configurations
  compare with defaults filled in, so an unchanged model generates an empty
  migration). Vectorizers are named in the migrations by their names.

  With ``pgai_alter_vectorizers=True`` passed to ``context.configure`` in
  ``env.py``, a vectorizer whose only differences are in indexing,
  scheduling or processing gets ``op.alter_vectorizer`` instead of drop +
  create (its embeddings stay), and the downgrade alters it back;
- renderers that write these operations as runnable Python, adding the
  imports they need to the migration.

In ``env.py``, keep Alembic's table comparison away from the store tables::

    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=lambda obj, name, type_, reflected, compare_to:
            not obj.info.get("pgai_managed", False),
    )
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import comparators, renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import MigrateOperation, Operations, ops
from alembic.operations.ops import UpgradeOps
from alembic.util import DispatchPriority, PriorityDispatchResult
from sqlalchemy.dialects.postgresql import ARRAY

from pgai.configuration import Config, CreateVectorizer, NamedCall, PythonTemplateConfig
from pgai.sqlalchemy import VectorizerField, vectorizer_fields

__all__ = ["AlterVectorizerOp", "CreateVectorizerOp", "DropVectorizerOp",
           "compare_vectorizers"]

# The env.py switch (a context.configure option) for in-place alters.
ALTER_OPTION = "pgai_alter_vectorizers"


class CreateVectorizerOp(MigrateOperation):
    """``op.create_vectorizer(...)``: ``SELECT ai.create_vectorizer(...)``."""

    def __init__(
        self,
        source: str,
        embedding: Config,
        chunking: Config,
        *,
        indexing: Config | None = None,
        formatting_template: str | None = None,
        scheduling: Config | None = None,
        processing: Config | None = None,
        target_schema: str | None = None,
        target_table: str | None = None,
        view_schema: str | None = None,
        view_name: str | None = None,
        queue_schema: str | None = None,
        queue_table: str | None = None,
        grant_to: list[str] | None = None,
        enqueue_existing: bool | None = None,
        name: str | None = None,
    ) -> None:
        self.config = CreateVectorizer(
            source=source, embedding=embedding, chunking=chunking, indexing=indexing,
            formatting_template=formatting_template, scheduling=scheduling,
            processing=processing, target_schema=target_schema, target_table=target_table,
            view_schema=view_schema, view_name=view_name, queue_schema=queue_schema,
            queue_table=queue_table, grant_to=grant_to, enqueue_existing=enqueue_existing,
            name=name)

    @classmethod
    def from_config(cls, config: CreateVectorizer) -> CreateVectorizerOp:
        op = cls.__new__(cls)
        op.config = config
        return op

    @classmethod
    def create_vectorizer(cls, operations: Operations, source: str, embedding: Config,
                          chunking: Config, **kw: Any) -> Any:
        """Create a vectorizer on ``source`` (``regclass`` text)."""
        return operations.invoke(cls(source, embedding, chunking, **kw))

    def reverse(self) -> DropVectorizerOp:
        if self.config.name is not None:
            return DropVectorizerOp(self.config.name, drop_all=True, config=self.config)
        if self.config.target_table is None:
            raise ValueError("create_vectorizer without name or target_table cannot be"
                             " reversed: name the vectorizer or the store table")
        return DropVectorizerOp(target_schema=self.config.target_schema,
                                target_table=self.config.target_table, drop_all=True,
                                config=self.config)


class DropVectorizerOp(MigrateOperation):
    """``op.drop_vectorizer(id or name, drop_all=...)`` or
    ``op.drop_vectorizer(target_table=..., target_schema=..., drop_all=...)``."""

    def __init__(
        self,
        vectorizer_id: int | str | None = None,
        drop_all: bool = False,
        *,
        drop_objects: bool | None = None,
        target_schema: str | None = None,
        target_table: str | None = None,
        config: CreateVectorizer | None = None,
    ) -> None:
        if (vectorizer_id is None) == (target_table is None):
            raise TypeError("drop_vectorizer needs either a vectorizer id or target_table")
        self.vectorizer_id = vectorizer_id
        self.drop_all = bool(drop_all or drop_objects)
        self.target_schema = target_schema
        self.target_table = target_table
        self.config = config  # what to create again on reverse(), when known

    @classmethod
    def drop_vectorizer(cls, operations: Operations, vectorizer_id: int | str | None = None,
                        drop_all: bool = False, **kw: Any) -> Any:
        """Drop a vectorizer; ``drop_all`` (or ``drop_objects``) also drops
        its store table and view."""
        return operations.invoke(cls(vectorizer_id, drop_all, **kw))

    def reverse(self) -> CreateVectorizerOp:
        if self.config is None:
            raise ValueError("drop_vectorizer is not reversible without the configuration")
        return CreateVectorizerOp.from_config(self.config)


class AlterVectorizerOp(MigrateOperation):
    """``op.alter_vectorizer(id or name, indexing=..., scheduling=...,
    processing=..., grant_to=...)``: ``SELECT ai.alter_vectorizer(...)``.

    Arguments left None stay as they are. ``embedding``, ``chunking`` and
    ``formatting_template`` may be passed only unchanged (the extension
    refuses a change of what is embedded). ``previous`` holds the
    configurations this replaces ({"indexing": config, ...}); with it the
    operation reverses to them. ``grant_to`` only adds roles, so a reverse
    leaves the grants."""

    def __init__(
        self,
        vectorizer: int | str,
        *,
        embedding: Config | None = None,
        chunking: Config | None = None,
        formatting_template: str | None = None,
        indexing: Config | None = None,
        scheduling: Config | None = None,
        processing: Config | None = None,
        grant_to: list[str] | None = None,
        previous: dict[str, Config] | None = None,
    ) -> None:
        if isinstance(vectorizer, bool) or not isinstance(vectorizer, (int, str)):
            raise TypeError("alter_vectorizer needs the vectorizer's id (int) or name (str)")
        self.vectorizer = vectorizer
        self.embedding = embedding
        self.chunking = chunking
        self.formatting_template = formatting_template
        self.indexing = indexing
        self.scheduling = scheduling
        self.processing = processing
        self.grant_to = grant_to
        self.previous = dict(previous) if previous is not None else None

    @classmethod
    def alter_vectorizer(cls, operations: Operations, vectorizer: int | str,
                         **kw: Any) -> Any:
        """Change a vectorizer in place (indexing, scheduling, processing,
        grant_to); arguments left out stay as they are."""
        return operations.invoke(cls(vectorizer, **kw))

    def changed(self) -> dict[str, Config]:
        """The in-place configurations this operation sets."""
        return {k: getattr(self, k) for k in CreateVectorizer.IN_PLACE
                if getattr(self, k) is not None}

    def reverse(self) -> AlterVectorizerOp:
        changed = self.changed()
        if self.previous is None or set(self.previous) != set(changed):
            raise ValueError("alter_vectorizer is not reversible without the previous"
                             " configuration of every key it changes (previous=...)")
        return AlterVectorizerOp.in_place(self.vectorizer, self.previous, previous=changed)

    @classmethod
    def in_place(cls, vectorizer: int | str, configs: dict[str, Config],
                 previous: dict[str, Config] | None) -> AlterVectorizerOp:
        """Sets ``configs`` ({"indexing": ..., ...}), replacing ``previous``."""
        return cls(vectorizer, indexing=configs.get("indexing"),
                   scheduling=configs.get("scheduling"),
                   processing=configs.get("processing"), previous=previous)

    def to_sql(self) -> sa.Select[Any]:
        first: sa.ColumnElement[Any] = (
            sa.literal(self.vectorizer, sa.Text) if isinstance(self.vectorizer, str)
            else sa.literal(self.vectorizer, sa.Integer))
        args: list[tuple[str, sa.ColumnElement[Any]]] = [("vectorizer", first)]
        for key in ("embedding", "chunking"):
            value = getattr(self, key)
            if value is not None:
                args.append((key, value.to_sql()))
        if self.formatting_template is not None:
            args.append(("formatting",
                         PythonTemplateConfig(self.formatting_template).to_sql()))
        for key, value in self.changed().items():
            args.append((key, value.to_sql()))
        if self.grant_to is not None:
            args.append(("grant_to", sa.literal(list(self.grant_to), ARRAY(sa.Text))))
        return sa.select(NamedCall("alter_vectorizer", args))

    def config_classes(self) -> list[str]:
        configs = [self.embedding, self.chunking, *self.changed().values(),
                   *(self.previous or {}).values()]
        return sorted({type(c).__name__ for c in configs if c is not None})


def _create_vectorizer(operations: Operations, operation: CreateVectorizerOp) -> None:
    operations.execute(operation.config.to_sql())


def _alter_vectorizer(operations: Operations, operation: AlterVectorizerOp) -> None:
    operations.execute(operation.to_sql())


def _drop_vectorizer(operations: Operations, operation: DropVectorizerOp) -> None:
    drop_all = sa.literal(operation.drop_all, sa.Boolean)
    if isinstance(operation.vectorizer_id, str):
        stmt = sa.select(sa.func.ai.drop_vectorizer(
            sa.literal(operation.vectorizer_id, sa.Text), drop_all))
    elif operation.vectorizer_id is not None:
        stmt = sa.select(sa.func.ai.drop_vectorizer(
            sa.literal(operation.vectorizer_id, sa.Integer), drop_all))
    else:
        v = sa.table("vectorizer", sa.column("id"), sa.column("target_schema"),
                     sa.column("target_table"), schema="ai")
        schema: sa.ColumnElement[Any] = (
            sa.literal(operation.target_schema, sa.Text) if operation.target_schema
            else sa.func.current_schema())
        stmt = sa.select(sa.func.ai.drop_vectorizer(v.c.id, drop_all)).where(
            v.c.target_schema == schema,
            v.c.target_table == sa.literal(operation.target_table, sa.Text))
    operations.execute(stmt)


Operations.register_operation("create_vectorizer")(CreateVectorizerOp)
Operations.register_operation("drop_vectorizer")(DropVectorizerOp)
Operations.register_operation("alter_vectorizer")(AlterVectorizerOp)
Operations.implementation_for(AlterVectorizerOp)(_alter_vectorizer)
Operations.implementation_for(CreateVectorizerOp)(_create_vectorizer)
Operations.implementation_for(DropVectorizerOp)(_drop_vectorizer)


# ---------------------------------------------------------------------------
# Autogenerate


def _stored_vectorizers(conn: sa.Connection) -> list[CreateVectorizer]:
    if conn.execute(sa.text("SELECT to_regclass('ai.vectorizer') IS NULL")).scalar_one():
        return []
    rows = conn.execute(sa.text("SELECT * FROM ai.vectorizer ORDER BY id")).mappings().all()
    return [CreateVectorizer.from_catalog(r) for r in rows]


def _metadatas(autogen_context: AutogenContext) -> list[sa.MetaData]:
    metadata = autogen_context.metadata
    if metadata is None:
        return []
    if isinstance(metadata, sa.MetaData):
        return [metadata]
    return list(metadata)


def compare_vectorizers(autogen_context: AutogenContext, upgrade_ops: UpgradeOps,
                        schemas: Any) -> PriorityDispatchResult:
    """Autogenerate comparator for vectorizers (registered on import)."""
    conn = autogen_context.connection
    if conn is None:
        return PriorityDispatchResult.CONTINUE
    default = conn.execute(sa.select(sa.func.current_schema())).scalar_one()
    metadatas = _metadatas(autogen_context)
    fields: dict[tuple[str, str], VectorizerField] = {
        (f.target_schema or default, f.target_table): f for f in vectorizer_fields(*metadatas)}
    sources = {(t.schema or default, t.name) for m in metadatas for t in m.tables.values()
               if not t.info.get("pgai_managed")}
    # ai.vectorizer's names are the tables' current ones: a vectorizer whose
    # store was dropped has none, so nothing to compare and no name a
    # migration could drop it by (ai.drop_vectorizer by id still can)
    stored = {(s.target_schema or default, s.target_table): s
              for s in _stored_vectorizers(conn) if s.target_table is not None}

    alter = bool(autogen_context.opts.get(ALTER_OPTION, False))
    for key, field in fields.items():
        wanted = field.create_vectorizer()
        have = stored.get(key)
        if have is None:
            if wanted.name is None:
                # pgai's default, written out so the migration names the
                # vectorizer (and its reverse drops it by that name); a
                # field without a name otherwise matches any stored name
                wanted.name = f"{key[0]}_{key[1]}"
            upgrade_ops.ops.append(CreateVectorizerOp.from_config(wanted))
        elif not wanted.matches(have):
            changes = wanted.in_place_changes(have) if alter else None
            if changes:
                upgrade_ops.ops.append(AlterVectorizerOp.in_place(
                    _identify(have), {k: new for k, (new, _) in changes.items()},
                    previous={k: old for k, (_, old) in changes.items()}))
                continue
            upgrade_ops.ops.append(_drop_stored(have))
            upgrade_ops.ops.append(CreateVectorizerOp.from_config(wanted))
    # Stores belong to their vectorizers: leave out Alembic's own table
    # operations on them (a store whose field is gone is reflected without
    # the "pgai_managed" mark the include_object filter looks for).
    managed = set(stored) | set(fields)
    upgrade_ops.ops = [
        op for op in upgrade_ops.ops
        if not (isinstance(op, (ops.CreateTableOp, ops.DropTableOp, ops.ModifyTableOps))
                and (op.schema or default, op.table_name) in managed)]
    for key, have in stored.items():
        if key in fields:
            continue
        source = conn.execute(sa.text(
            "SELECT source_schema, source_table FROM ai.vectorizer"
            " WHERE target_schema = :s AND target_table = :t"),
            {"s": have.target_schema, "t": have.target_table}).one()
        if (source[0], source[1]) in sources:
            upgrade_ops.ops.append(_drop_stored(have))
    return PriorityDispatchResult.CONTINUE


def _identify(have: CreateVectorizer) -> str:
    if have.name is None:
        raise ValueError(f"vectorizer of {have.target_table} has no name")
    return have.name


def _drop_stored(have: CreateVectorizer) -> DropVectorizerOp:
    """Drop a vectorizer read from the catalog, by its name."""
    return DropVectorizerOp(_identify(have), drop_all=True, config=have)


# after the table comparators, so a new source table is created first
comparators.dispatch_for("schema", priority=DispatchPriority.LAST)(compare_vectorizers)


def _add_imports(autogen_context: AutogenContext, config: CreateVectorizer | None) -> None:
    autogen_context.imports.add("import pgai.alembic  # noqa: F401 (registers op.*_vectorizer)")
    if config is not None:
        names = ", ".join(config.config_classes())
        autogen_context.imports.add(f"from pgai.configuration import {names}")


def _render_create(autogen_context: AutogenContext, op: CreateVectorizerOp) -> str:
    _add_imports(autogen_context, op.config)
    args = ",\n    ".join(op.config.render_python_args())
    return f"op.create_vectorizer(\n    {args}\n)"


def _render_drop(autogen_context: AutogenContext, op: DropVectorizerOp) -> str:
    _add_imports(autogen_context, None)
    args: list[str] = []
    if op.vectorizer_id is not None:
        args.append(repr(op.vectorizer_id))
    else:
        if op.target_schema is not None:
            args.append(f"target_schema={op.target_schema!r}")
        args.append(f"target_table={op.target_table!r}")
    args.append(f"drop_all={op.drop_all!r}")
    return f"op.drop_vectorizer({', '.join(args)})"


def _render_alter(autogen_context: AutogenContext, op: AlterVectorizerOp) -> str:
    _add_imports(autogen_context, None)
    names = ", ".join(op.config_classes())
    if names:
        autogen_context.imports.add(f"from pgai.configuration import {names}")
    args = [repr(op.vectorizer)]
    for key in ("embedding", "chunking"):
        value = getattr(op, key)
        if value is not None:
            args.append(f"{key}={value.render_python()}")
    if op.formatting_template is not None:
        args.append(f"formatting_template={op.formatting_template!r}")
    args += [f"{k}={v.render_python()}" for k, v in op.changed().items()]
    if op.grant_to is not None:
        args.append(f"grant_to={list(op.grant_to)!r}")
    if op.previous is not None:
        prev = ", ".join(f"{k!r}: {v.render_python()}" for k, v in op.previous.items())
        args.append(f"previous={{{prev}}}")
    return "op.alter_vectorizer(\n    " + ",\n    ".join(args) + "\n)"


renderers.dispatch_for(CreateVectorizerOp)(_render_create)
renderers.dispatch_for(AlterVectorizerOp)(_render_alter)
renderers.dispatch_for(DropVectorizerOp)(_render_drop)
