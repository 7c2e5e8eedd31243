"""SQLAlchemy 2 integration: ``VectorizerField`` maps a vectorizer's store.

Declare a vectorizer on a model::

    class BlogPost(Base):
        __tablename__ = "blog_posts"
        id: Mapped[int] = mapped_column(primary_key=True)
        content: Mapped[str]
        content_embeddings = VectorizerField(
            embedding=EmbeddingConfig(model="text-embedding-3-small", dimensions=768),
            chunking=ChunkingConfig(chunk_column="content", chunk_size=500),
        )

``BlogPost.content_embeddings`` is then a mapped class of the store table
(default ``<table>_<field>_store``, here ``blog_posts_content_embeddings_store``)
with ``embedding_uuid``, the parent's primary-key columns, ``chunk_seq``,
``chunk`` and ``embedding`` (pgvector's ``Vector``: numpy arrays and the
``cosine_distance`` / ``l2_distance`` / ``max_inner_product`` comparators).

The store belongs to the vectorizer, not to ``metadata.create_all()``: its
``Table.info`` has ``pgai_managed: True``, ``create_all`` never creates it,
and ``drop_all`` drops the vectorizer that owns it. Create the vectorizers
with Alembic (``op.create_vectorizer`` or autogenerate, see
:mod:`pgai.alembic`) or, without Alembic, with :func:`create_vectorizers`.
A query of a store that does not exist yet fails with
:class:`VectorizerStoreMissingError`, naming the vectorizer it expected.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import numpy as np
import numpy.typing as npt
import psycopg
import sqlalchemy as sa
from pgvector.sqlalchemy import VECTOR
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, ExceptionContext
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Mapped, Mapper, relationship
from sqlalchemy.schema import CreateTable, DropTable
from sqlalchemy.sql.compiler import DDLCompiler

from pgai.configuration import Config, CreateVectorizer, quote_regclass

__all__ = [
    "EmbeddingModel",
    "Vectorizer",
    "VectorizerField",
    "VectorizerStoreMissingError",
    "create_vectorizers",
    "vectorizer_fields",
]

ParentT = TypeVar("ParentT")


if TYPE_CHECKING:
    class _EmbeddingModelMeta(type):
        """For type checkers: the parent's key columns are attributes too."""

        def __getattr__(cls, name: str) -> InstrumentedAttribute[Any]: ...
else:
    _EmbeddingModelMeta = type


class EmbeddingModel(Generic[ParentT], metaclass=_EmbeddingModelMeta):
    """Base of the classes ``VectorizerField`` maps to a store table.

    Rows are written by the vectorizer's worker; read them, filter and sort
    by distance. ``parent`` (with ``add_relationship=True``) is the source
    row. The parent's primary-key columns are attributes too."""

    if TYPE_CHECKING:
        embedding_uuid: Mapped[uuid.UUID]
        chunk_seq: Mapped[int]
        chunk: Mapped[str]
        embedding: Mapped[npt.NDArray[np.float32]]
        parent: Mapped[ParentT]

        def __getattr__(self, name: str) -> Any: ...

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} chunk_seq={getattr(self, 'chunk_seq', None)!r}"
                f" chunk={str(getattr(self, 'chunk', ''))[:30]!r}>")


class EmbeddingVector(sa.types.TypeDecorator[npt.NDArray[np.float32]]):
    """pgvector's ``VECTOR`` (and its distance comparators) returning numpy
    arrays of float32."""

    impl = VECTOR
    cache_ok = True

    def __init__(self, dim: int | None = None) -> None:
        super().__init__(dim)

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect
                             ) -> npt.NDArray[np.float32] | None:
        if value is None:
            return None
        return np.asarray(value, dtype=np.float32)


class VectorizerStoreMissingError(sa.exc.ProgrammingError):
    """A query used a vectorizer's store table that does not exist: the
    vectorizer has not been created (or was created under another name)."""

    def __init__(self, field: VectorizerField, statement: str | None, params: Any,
                 orig: BaseException) -> None:
        super().__init__(statement, params, orig)
        self.field = field

    def __str__(self) -> str:
        f = self.field
        return (
            f"the store table {f.store_fullname} of vectorizer {f.owner_name}.{f.name}"
            f" does not exist: create the vectorizer for source {f.source_fullname}"
            f" with target_table={f.target_table!r}"
            " (alembic: op.create_vectorizer or autogenerate;"
            " without alembic: pgai.sqlalchemy.create_vectorizers)."
            " Note that ai.create_vectorizer's own default store name is"
            f" {f.source_table}_embedding_store"
        )


class _SkipCreate:
    """execute_if callable: never emit this DDL."""

    def __call__(self, *args: Any, **kw: Any) -> bool:
        return False


class DropVectorizerOfStore(DropTable):
    """DDL run by ``drop_all`` in place of ``DROP TABLE`` for a store:
    drops the vectorizer that owns the table, with its store and view."""


@compiles(DropVectorizerOfStore)
def _compile_drop(element: DropVectorizerOfStore, compiler: DDLCompiler, **kw: Any) -> str:
    literal = compiler.sql_compiler.render_literal_value
    schema = (literal(element.element.schema, sa.String()) if element.element.schema
              else "pg_catalog.current_schema()")
    return ("SELECT ai.drop_vectorizer(v.id, drop_all => true) FROM ai.vectorizer v"
            f" WHERE v.target_schema = {schema}"
            f" AND v.target_table = {literal(element.element.name, sa.String())}")


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", name))


class VectorizerField:
    """Declares a vectorizer of the model's table and maps its store.

    Takes every argument of ``ai.create_vectorizer`` (as configuration
    objects; ``name`` is the vectorizer's, default
    ``<target_schema>_<target_table>``) plus ``add_relationship``: when true, the model gets
    ``<field>_relation``, a list of the row's embeddings (lazy by default;
    use ``selectinload`` / ``joinedload`` to load eagerly), and each
    embedding a ``parent`` attribute."""

    def __init__(
        self,
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
        add_relationship: bool = False,
        name: str | None = None,
    ) -> None:
        self.embedding = embedding
        self.chunking = chunking
        self.indexing = indexing
        self.formatting_template = formatting_template
        self.scheduling = scheduling
        self.processing = processing
        self._target_schema = target_schema
        self._target_table = target_table
        self._view_schema = view_schema
        self._view_name = view_name
        self.queue_schema = queue_schema
        self.queue_table = queue_table
        self.grant_to = grant_to
        self.enqueue_existing = enqueue_existing
        self.add_relationship = add_relationship
        # the vectorizer's name in the database; self.name is the attribute's
        self.vectorizer_name = name
        self.name = ""
        self.owner: type[Any] | None = None
        self._model: type[EmbeddingModel[Any]] | None = None
        self._source: sa.Table | None = None
        self.store: sa.Table | None = None
        self._pk_keys: list[str] = []

    # -- declaration -------------------------------------------------------

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.owner = owner
        self.name = name
        if self.add_relationship:
            # set before declarative scans the class, so an annotation
            # `<name>_relation: Mapped[list[EmbeddingModel[...]]]` maps it
            setattr(owner, self.relation_name, relationship(
                lambda: self.model, viewonly=True,
                order_by=lambda: [*self._store_pk_columns(), self.store_columns.chunk_seq]))
        event.listen(owner, "after_mapper_constructed", self._on_mapped)

    @property
    def relation_name(self) -> str:
        return f"{self.name}_relation"

    def _on_mapped(self, mapper: Mapper[Any], class_: type[Any]) -> None:
        if class_ is not self.owner or self._model is not None:
            return
        table = mapper.local_table
        if not isinstance(table, sa.Table):
            raise TypeError(f"{class_.__name__}.{self.name}: VectorizerField needs a model"
                            " mapped to a Table")
        self._source = table
        self._pk_keys = [mapper.get_property_by_column(c).key
                         for c in table.primary_key.columns]
        self.store = self._make_store(table)
        attrs: dict[str, Any] = {"__module__": class_.__module__,
                                 "__qualname__": f"{class_.__qualname__}.{self.name}"}
        model = type(f"{class_.__name__}{_pascal(self.name)}", (EmbeddingModel,), attrs)
        properties: dict[str, Any] = {}
        if self.add_relationship:
            properties["parent"] = relationship(class_, viewonly=True)
        mapper.registry.map_imperatively(model, self.store, properties=properties)
        self._model = model
        vectorizers = table.metadata.info.setdefault("pgai_vectorizers", [])
        vectorizers.append(self)
        _STORES[self.store.name] = self

    def _make_store(self, source: sa.Table) -> sa.Table:
        pk = list(source.primary_key.columns)
        if not pk:
            raise TypeError(f"{self.owner_name}.{self.name}: the source table"
                            f" {source.fullname} has no primary key")
        dims = getattr(self.embedding, "dimensions", None) or 384
        columns: list[Any] = [
            sa.Column("embedding_uuid", sa.Uuid, primary_key=True,
                      server_default=sa.text("gen_random_uuid()")),
            *[sa.Column(c.name, c.type, key=k, nullable=False)
              for c, k in zip(pk, self._pk_keys, strict=True)],
            sa.Column("chunk_seq", sa.Integer, nullable=False),
            sa.Column("chunk", sa.Text, nullable=False),
            sa.Column("embedding", EmbeddingVector(dims), nullable=False),
            sa.ForeignKeyConstraint(self._pk_keys, pk, ondelete="CASCADE",
                                    onupdate="CASCADE"),
        ]
        store = sa.Table(
            self.target_table, source.metadata, *columns,
            schema=self._target_schema if self._target_schema is not None else source.schema,
            info={"pgai_managed": True, "pgai_vectorizer": self},
        )
        store.set_creator_ddl(CreateTable(store).execute_if(callable_=_SkipCreate()))
        store.set_dropper_ddl(DropVectorizerOfStore(store))
        return store

    def _store_pk_columns(self) -> list[sa.Column[Any]]:
        return [self.store_columns[k] for k in self._pk_keys]

    @property
    def store_columns(self) -> sa.sql.base.ReadOnlyColumnCollection[str, sa.Column[Any]]:
        if self.store is None:
            raise RuntimeError(f"{self.owner_name}.{self.name}: the model is not mapped yet")
        return self.store.columns

    # -- access --------------------------------------------------------------

    @overload
    def __get__(self, obj: None, objtype: type[Any] | None = None
                ) -> type[EmbeddingModel[Any]]: ...

    @overload
    def __get__(self, obj: object, objtype: type[Any] | None = None
                ) -> type[EmbeddingModel[Any]]: ...

    def __get__(self, obj: object | None, objtype: type[Any] | None = None
                ) -> type[EmbeddingModel[Any]]:
        return self.model

    @property
    def model(self) -> type[EmbeddingModel[Any]]:
        """The mapped class of the store table."""
        if self._model is None:
            raise RuntimeError(f"{self.owner_name}.{self.name}: the model is not mapped yet")
        return self._model

    # -- names ---------------------------------------------------------------

    @property
    def owner_name(self) -> str:
        return self.owner.__name__ if self.owner is not None else "?"

    @property
    def source_table(self) -> str:
        if self._source is None:
            raise RuntimeError(f"{self.owner_name}.{self.name}: the model is not mapped yet")
        return self._source.name

    @property
    def source_schema(self) -> str | None:
        return self._source.schema if self._source is not None else None

    @property
    def source_fullname(self) -> str:
        return quote_regclass(self.source_table, self.source_schema)

    @property
    def target_table(self) -> str:
        return self._target_table or f"{self.source_table}_{self.name}_store"

    @property
    def target_schema(self) -> str | None:
        return self._target_schema if self._target_schema is not None else self.source_schema

    @property
    def store_fullname(self) -> str:
        return quote_regclass(self.target_table, self.target_schema)

    @property
    def view_name(self) -> str:
        return self._view_name or f"{self.source_table}_{self.name}"

    @property
    def view_schema(self) -> str | None:
        return self._view_schema if self._view_schema is not None else self.target_schema

    def create_vectorizer(self) -> CreateVectorizer:
        """The ``ai.create_vectorizer`` call for this field; store and view
        are always named, since the SQL defaults differ from pgai's
        Python defaults."""
        return CreateVectorizer(
            source=self.source_fullname,
            embedding=self.embedding,
            chunking=self.chunking,
            indexing=self.indexing,
            formatting_template=self.formatting_template,
            scheduling=self.scheduling,
            processing=self.processing,
            target_schema=self.target_schema,
            target_table=self.target_table,
            view_schema=self.view_schema,
            view_name=self.view_name,
            queue_schema=self.queue_schema,
            queue_table=self.queue_table,
            grant_to=self.grant_to,
            enqueue_existing=self.enqueue_existing,
            name=self.vectorizer_name,
        )


Vectorizer = VectorizerField
"""Alias of :class:`VectorizerField`."""


# ---------------------------------------------------------------------------
# Finding and creating a metadata's vectorizers


def vectorizer_fields(*targets: sa.MetaData | type[Any]) -> list[VectorizerField]:
    """The ``VectorizerField`` s of some metadata or mapped classes."""
    out: list[VectorizerField] = []
    for target in targets:
        if isinstance(target, sa.MetaData):
            out.extend(target.info.get("pgai_vectorizers", []))
        else:
            sa.inspect(target)  # maps it, or raises for an unmapped class
            out.extend(v for v in vars(target).values() if isinstance(v, VectorizerField))
    return out


def create_vectorizers(bind: Connection | Engine,
                       *targets: sa.MetaData | type[Any]) -> list[int]:
    """Create the vectorizers of ``targets`` (metadata or models) that do
    not exist yet, identified by their store table; returns the new ids.

    The way to create vectorizers without Alembic, after
    ``metadata.create_all()`` has made the source tables::

        Base.metadata.create_all(engine)
        pgai.sqlalchemy.create_vectorizers(engine, Base.metadata)

    With an Engine it commits; with a Connection the caller does."""
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            return create_vectorizers(conn, *targets)
    ids: list[int] = []
    for field in vectorizer_fields(*targets):
        if not _vectorizer_exists(bind, field):
            ids.append(int(bind.execute(field.create_vectorizer().to_sql()).scalar_one()))
    return ids


def _vectorizer_exists(conn: Connection, field: VectorizerField) -> bool:
    schema = sa.literal(field.target_schema, sa.Text) if field.target_schema else \
        sa.func.current_schema()
    stmt = sa.text("SELECT EXISTS (SELECT FROM ai.vectorizer"
                   " WHERE target_schema = :schema AND target_table = :table)")
    schema_name = conn.execute(sa.select(schema)).scalar_one()
    return bool(conn.execute(stmt, {"schema": schema_name,
                                    "table": field.target_table}).scalar_one())


# ---------------------------------------------------------------------------
# A clear error when a store table is missing

_STORES: dict[str, VectorizerField] = {}
_MISSING = re.compile(r'relation "(?:([^"]+)\.)?([^".]+)" does not exist')


def _explain_missing_store(context: ExceptionContext) -> BaseException | None:
    orig = context.original_exception
    if not isinstance(orig, psycopg.errors.UndefinedTable):
        return None
    m = _MISSING.search(str(orig))
    if m is None:
        return None
    field = _STORES.get(m.group(2))
    if field is None or (m.group(1) and m.group(1) != field.target_schema):
        return None
    return VectorizerStoreMissingError(field, context.statement, context.parameters, orig)


def _register_error_handler() -> None:
    if not event.contains(Engine, "handle_error", _explain_missing_store):
        event.listen(Engine, "handle_error", _explain_missing_store)


_register_error_handler()


