"""Typed vectorizer configuration.

Each config class mirrors one SQL builder of the ``ai`` extension
(``EmbeddingConfig`` is ``ai.embedding_openai``, ``ChunkingConfig`` one of
the two text splitters, ...). A config can

- render itself as a call of its builder with every value a bound
  parameter (:meth:`Config.to_sql`), so values never become SQL text;
- describe the JSON that ``ai.vectorizer.config`` stores for it, with the
  extension's defaults filled in (:meth:`Config.to_dict`), and be rebuilt
  from that JSON (:func:`config_from_dict`);
- compare equal to the form read back from the database when only the
  defaults differ;
- render itself as Python source, for generated migrations
  (:meth:`Config.render_python`).

:class:`CreateVectorizer` holds the whole parameter set of
``ai.create_vectorizer`` and is what ``VectorizerField`` and
``op.create_vectorizer`` build.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from sqlalchemy import Boolean, Double, Integer, Text, cast, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, INTERVAL, JSONB, REGCLASS, TIMESTAMP
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select
from sqlalchemy.types import TypeEngine

__all__ = [
    "Config",
    "EmbeddingConfig",
    "OpenAIEmbeddingConfig",
    "OllamaEmbeddingConfig",
    "VoyageAIEmbeddingConfig",
    "SentenceTransformersEmbeddingConfig",
    "ChunkingConfig",
    "PythonTemplateConfig",
    "NoIndexingConfig",
    "DefaultIndexingConfig",
    "HNSWIndexingConfig",
    "DiskANNIndexingConfig",
    "NoSchedulingConfig",
    "DefaultSchedulingConfig",
    "SchedulingConfig",
    "ProcessingConfig",
    "CreateVectorizer",
    "config_from_dict",
    "quote_regclass",
]

CONFIG_VERSION = "0.1.0"

# ---------------------------------------------------------------------------
# A call of an ai.* function with named arguments: ai.f(a => $1, b => $2).


class NamedCall(ColumnElement[Any]):
    """``ai.<name>(arg => value, ...)``; every value is a SQL expression,
    in practice a bound parameter."""

    inherit_cache = False

    def __init__(self, name: str, args: Sequence[tuple[str, ColumnElement[Any]]]) -> None:
        self.name = name
        self.args = list(args)


@compiles(NamedCall)
def _compile_named_call(element: NamedCall, compiler: SQLCompiler, **kw: Any) -> str:
    quote = compiler.preparer.quote
    parts = [f"{quote(n)} => {compiler.process(v, **kw)}" for n, v in element.args]
    return f"ai.{quote(element.name)}({', '.join(parts)})"


def _bind(value: Any, sql_type: TypeEngine[Any] | type[TypeEngine[Any]]) -> ColumnElement[Any]:
    """A bound parameter for ``value`` with the SQL type the builder takes."""
    if isinstance(sql_type, type):
        sql_type = sql_type()
    if isinstance(sql_type, INTERVAL):
        if isinstance(value, datetime.timedelta):
            value = f"{value.total_seconds()} seconds"
        return cast(literal(str(value), Text), INTERVAL)
    if isinstance(sql_type, TIMESTAMP):
        text = value.isoformat() if isinstance(value, datetime.datetime) else str(value)
        return cast(literal(text, Text), TIMESTAMP(timezone=True))
    if isinstance(sql_type, JSONB):
        return cast(literal(json.dumps(value), Text), JSONB)
    if isinstance(sql_type, REGCLASS):
        return cast(literal(str(value), Text), REGCLASS)
    return literal(value, sql_type)


# ---------------------------------------------------------------------------
# Normalising values for comparison with what the database stored.

_UNIT_SECONDS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}
_UNIT_MONTHS = {"mon": 1, "mons": 1, "month": 1, "months": 1, "y": 12, "year": 12, "years": 12}


def _interval_key(value: Any) -> Any:
    """(months, seconds) for the interval spellings PostgreSQL accepts most
    often ('5m', '1 hour', '01:00:00', '2 days 03:00:00', a timedelta);
    other spellings compare as their text."""
    if isinstance(value, datetime.timedelta):
        return (0, value.total_seconds())
    text = str(value).strip().lower()
    months, seconds = 0, 0.0
    rest = text
    clock = re.search(r"(-?)(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?$", rest)
    if clock:
        sign = -1 if clock.group(1) else 1
        seconds += sign * (int(clock.group(2)) * 3600 + int(clock.group(3)) * 60
                           + float(clock.group(4) or 0))
        rest = rest[: clock.start()]
    for number, unit in re.findall(r"(-?\d+(?:\.\d+)?)\s*([a-z]+)", rest):
        if unit in _UNIT_SECONDS:
            seconds += float(number) * _UNIT_SECONDS[unit]
        elif unit in _UNIT_MONTHS:
            months += int(float(number) * _UNIT_MONTHS[unit])
        else:
            return text
    if re.sub(r"(-?\d+(?:\.\d+)?)\s*([a-z]+)", "", rest).strip():
        return text
    return (months, seconds)


def _timestamp_key(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value
    try:
        return datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)


def _float_key(value: Any) -> Any:
    if isinstance(value, (int, float)) and math.isfinite(float(value)):
        return float(value)
    return value


# ---------------------------------------------------------------------------
# Config classes


@dataclasses.dataclass(frozen=True)
class _Param:
    sql_type: TypeEngine[Any] | type[TypeEngine[Any]]
    default: Any = None  # what the extension stores when the value is not given
    key: Any = None  # normaliser for comparison


def _param(sql_type: TypeEngine[Any] | type[TypeEngine[Any]], default: Any = None,
           key: Any = None) -> Any:
    return dataclasses.field(default=None, metadata={"pgai": _Param(sql_type, default, key)})


def _required(sql_type: TypeEngine[Any] | type[TypeEngine[Any]], key: Any = None) -> Any:
    return dataclasses.field(metadata={"pgai": _Param(sql_type, None, key)})


class Config:
    """Base of every config class: one call of one ``ai.*`` builder."""

    config_type: ClassVar[str]  # section of ai.vectorizer.config
    implementation: ClassVar[str]  # its "implementation" value
    builder: ClassVar[str]  # the ai.* function that builds it

    def _builder(self) -> str:
        return self.builder

    def _implementation(self) -> str:
        return self.implementation

    def _params(self) -> list[tuple[str, Any, _Param]]:
        out = []
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            p = f.metadata.get("pgai")
            if isinstance(p, _Param):
                out.append((f.name, getattr(self, f.name), p))
        return out

    def to_sql(self) -> ColumnElement[Any]:
        """The builder call, with the values given as bound parameters."""
        args = [(n, _bind(v, p.sql_type)) for n, v, p in self._params() if v is not None]
        return NamedCall(self._builder(), args)

    def to_dict(self) -> dict[str, Any]:
        """The JSON the extension stores for this config, defaults filled."""
        out: dict[str, Any] = {
            "implementation": self._implementation(),
            "config_type": self.config_type,
        }
        for name, value, p in self._params():
            if value is None:
                value = p.default
            if value is None:
                continue
            if isinstance(value, (list, tuple)):
                value = list(value)
            out[name] = value
        return out

    def _key(self) -> tuple[Any, ...]:
        items = []
        for name, value, p in self._params():
            if value is None:
                value = p.default
            if isinstance(value, (list, tuple)):
                value = tuple(value)
            if value is not None and p.key is not None:
                value = p.key(value)
            items.append((name, value))
        return (self.config_type, self._implementation(), tuple(items))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Config):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(repr(self._key()))

    def render_python(self) -> str:
        """Python source that rebuilds this config (only values given)."""
        args = [f"{n}={v!r}" for n, v, _ in self._params() if v is not None]
        return f"{type(self).__name__}({', '.join(args)})"

    @classmethod
    def _from_stored(cls, data: Mapping[str, Any]) -> Config:
        """Rebuild from stored JSON; values equal to the default are left out."""
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            p = f.metadata.get("pgai")
            if not isinstance(p, _Param) or f.name not in data:
                continue
            value = data[f.name]
            if f.default is None and value == p.default:
                continue
            kwargs[f.name] = value
        return cls(**kwargs)


# embedding -----------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class EmbeddingConfig(Config):
    """``ai.embedding_openai``: an OpenAI (or OpenAI-compatible) model."""

    config_type = "embedding"
    implementation = "openai"
    builder = "embedding_openai"

    model: str = _required(Text)
    dimensions: int = _required(Integer)
    chat_user: str | None = _param(Text)
    api_key_name: str | None = _param(Text, "OPENAI_API_KEY")
    base_url: str | None = _param(Text)


OpenAIEmbeddingConfig = EmbeddingConfig
"""Another name of :class:`EmbeddingConfig`, the OpenAI embedding config."""


@dataclasses.dataclass(eq=False)
class OllamaEmbeddingConfig(Config):
    """``ai.embedding_ollama``."""

    config_type = "embedding"
    implementation = "ollama"
    builder = "embedding_ollama"

    model: str = _required(Text)
    dimensions: int = _required(Integer)
    base_url: str | None = _param(Text)
    options: dict[str, Any] | None = _param(JSONB, key=lambda v: json.dumps(v, sort_keys=True))
    keep_alive: str | None = _param(Text)


@dataclasses.dataclass(eq=False)
class VoyageAIEmbeddingConfig(Config):
    """``ai.embedding_voyageai``."""

    config_type = "embedding"
    implementation = "voyageai"
    builder = "embedding_voyageai"

    model: str = _required(Text)
    dimensions: int = _required(Integer)
    input_type: str | None = _param(Text, "document")
    api_key_name: str | None = _param(Text, "VOYAGE_API_KEY")


@dataclasses.dataclass(eq=False)
class SentenceTransformersEmbeddingConfig(Config):
    """``ai.embedding_sentence_transformers``: the built-in all-MiniLM-L6-v2
    model, which needs no network."""

    config_type = "embedding"
    implementation = "sentence_transformers"
    builder = "embedding_sentence_transformers"

    model: str | None = _param(Text, "all-MiniLM-L6-v2")
    dimensions: int | None = _param(Integer, 384)


# chunking ------------------------------------------------------------------

_RECURSIVE_SEPARATORS = ["\n\n", "\n", ".", "?", "!", " ", ""]


@dataclasses.dataclass(eq=False)
class ChunkingConfig(Config):
    """Chunking of ``chunk_column``: a string ``separator`` (or none) selects
    ``ai.chunking_character_text_splitter``, a list of separators
    ``ai.chunking_recursive_character_text_splitter``."""

    config_type = "chunking"
    implementation = "character_text_splitter"
    builder = "chunking_character_text_splitter"

    chunk_column: str = _required(Text)
    chunk_size: int | None = _param(Integer, 800)
    chunk_overlap: int | None = _param(Integer, 400)
    separator: str | list[str] | None = _param(Text)
    is_separator_regex: bool | None = _param(Boolean, False)

    @property
    def recursive(self) -> bool:
        return isinstance(self.separator, (list, tuple))

    def _builder(self) -> str:
        return "chunking_recursive_character_text_splitter" if self.recursive else self.builder

    def _implementation(self) -> str:
        return "recursive_character_text_splitter" if self.recursive else self.implementation

    def _params(self) -> list[tuple[str, Any, _Param]]:
        out = []
        for name, value, p in super()._params():
            if name == "separator":
                if self.recursive:
                    out.append(("separators", value, _Param(ARRAY(Text), _RECURSIVE_SEPARATORS)))
                else:
                    out.append(("separator", value, _Param(Text, "\n\n")))
            else:
                out.append((name, value, p))
        return out

    def render_python(self) -> str:
        args = [f"{n}={getattr(self, n)!r}"
                for n in ("chunk_column", "chunk_size", "chunk_overlap", "separator",
                          "is_separator_regex")
                if getattr(self, n) is not None]
        return f"ChunkingConfig({', '.join(args)})"

    @classmethod
    def _from_stored(cls, data: Mapping[str, Any]) -> Config:
        recursive = data.get("implementation") == "recursive_character_text_splitter"
        separator: str | list[str] | None
        if recursive:
            separator = list(data.get("separators", _RECURSIVE_SEPARATORS))
        else:
            separator = data.get("separator")
            if separator == "\n\n":
                separator = None
        def given(name: str, default: Any) -> Any:
            value = data.get(name)
            return None if value == default else value
        return cls(chunk_column=data["chunk_column"],
                   chunk_size=given("chunk_size", 800),
                   chunk_overlap=given("chunk_overlap", 400),
                   separator=separator,
                   is_separator_regex=given("is_separator_regex", False))


# formatting ----------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class PythonTemplateConfig(Config):
    """``ai.formatting_python_template``: ``$chunk`` and ``$column`` names,
    with Python's ``string.Template`` rules."""

    config_type = "formatting"
    implementation = "python_template"
    builder = "formatting_python_template"

    template: str | None = _param(Text, "$chunk")


# indexing ------------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class NoIndexingConfig(Config):
    """``ai.indexing_none``: never create an ANN index."""

    config_type = "indexing"
    implementation = "none"
    builder = "indexing_none"


@dataclasses.dataclass(eq=False)
class DefaultIndexingConfig(Config):
    """``ai.indexing_default``: DiskANN where available, else HNSW; the
    extension resolves it when it creates the vectorizer."""

    config_type = "indexing"
    implementation = "default"
    builder = "indexing_default"

    def resolves_to(self, other: Config) -> bool:
        return other in (HNSWIndexingConfig(), DiskANNIndexingConfig(), self)


@dataclasses.dataclass(eq=False)
class HNSWIndexingConfig(Config):
    """``ai.indexing_hnsw`` (pgvector's HNSW)."""

    config_type = "indexing"
    implementation = "hnsw"
    builder = "indexing_hnsw"

    min_rows: int | None = _param(Integer, 100000)
    opclass: str | None = _param(Text, "vector_cosine_ops")
    m: int | None = _param(Integer)
    ef_construction: int | None = _param(Integer)
    create_when_queue_empty: bool | None = _param(Boolean, True)


@dataclasses.dataclass(eq=False)
class DiskANNIndexingConfig(Config):
    """``ai.indexing_diskann``."""

    config_type = "indexing"
    implementation = "diskann"
    builder = "indexing_diskann"

    min_rows: int | None = _param(Integer, 100000)
    storage_layout: str | None = _param(Text)
    num_neighbors: int | None = _param(Integer)
    search_list_size: int | None = _param(Integer)
    max_alpha: float | None = _param(Double, key=_float_key)
    num_dimensions: int | None = _param(Integer)
    num_bits_per_dimension: int | None = _param(Integer)
    create_when_queue_empty: bool | None = _param(Boolean, True)


# scheduling ----------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class NoSchedulingConfig(Config):
    """``ai.scheduling_none``: workers process the queue continuously."""

    config_type = "scheduling"
    implementation = "none"
    builder = "scheduling_none"


@dataclasses.dataclass(eq=False)
class DefaultSchedulingConfig(Config):
    """``ai.scheduling_default``; stored as ``none``."""

    config_type = "scheduling"
    implementation = "default"
    builder = "scheduling_default"

    def resolves_to(self, other: Config) -> bool:
        return other in (NoSchedulingConfig(), self)


@dataclasses.dataclass(eq=False)
class SchedulingConfig(Config):
    """``ai.scheduling_timescaledb``: process on a schedule (kept by the
    worker; TimescaleDB is not needed)."""

    config_type = "scheduling"
    implementation = "timescaledb"
    builder = "scheduling_timescaledb"

    schedule_interval: str | datetime.timedelta | None = _param(INTERVAL, "00:05:00",
                                                                key=_interval_key)
    initial_start: str | datetime.datetime | None = _param(TIMESTAMP, key=_timestamp_key)
    fixed_schedule: bool | None = _param(Boolean)
    timezone: str | None = _param(Text)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        for name in ("schedule_interval", "initial_start"):
            value = out.get(name)
            if isinstance(value, datetime.timedelta):
                out[name] = str(value)
            elif isinstance(value, datetime.datetime):
                out[name] = value.isoformat()
        return out


# processing ----------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class ProcessingConfig(Config):
    """``ai.processing_default``: worker batch size and concurrency."""

    config_type = "processing"
    implementation = "default"
    builder = "processing_default"

    batch_size: int | None = _param(Integer)
    concurrency: int | None = _param(Integer)


_BY_IMPLEMENTATION: dict[tuple[str, str], type[Config]] = {
    (c.config_type, c.implementation): c
    for c in (EmbeddingConfig, OllamaEmbeddingConfig, VoyageAIEmbeddingConfig,
              SentenceTransformersEmbeddingConfig, ChunkingConfig, PythonTemplateConfig,
              NoIndexingConfig, DefaultIndexingConfig, HNSWIndexingConfig,
              DiskANNIndexingConfig, NoSchedulingConfig, DefaultSchedulingConfig,
              SchedulingConfig, ProcessingConfig)
}
_BY_IMPLEMENTATION[("chunking", "recursive_character_text_splitter")] = ChunkingConfig


def config_from_dict(data: Mapping[str, Any]) -> Config:
    """Rebuild a config from one section of ``ai.vectorizer.config``."""
    key = (str(data.get("config_type")), str(data.get("implementation")))
    cls = _BY_IMPLEMENTATION.get(key)
    if cls is None:
        raise ValueError(f"unknown {key[0]} config implementation {key[1]!r}")
    return cls._from_stored(data)


def _same(model: Config | None, stored: Config | None, default: Config) -> bool:
    """Whether a config given in Python (None: the default) matches the one
    the database stored, resolving 'default' implementations."""
    model = default if model is None else model
    stored = default if stored is None else stored
    if isinstance(model, (DefaultIndexingConfig, DefaultSchedulingConfig)):
        return model.resolves_to(stored)
    return model == stored


# ---------------------------------------------------------------------------
# Identifiers

_PLAIN_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_$]*$")


def quote_identifier(name: str) -> str:
    """``name`` as PostgreSQL reads it back unchanged: quoted unless it is
    a plain lower-case identifier."""
    if _PLAIN_IDENTIFIER.match(name):
        return name
    return '"' + name.replace('"', '""') + '"'


def quote_regclass(table: str, schema: str | None = None) -> str:
    """The text of a ``regclass`` naming ``schema.table`` exactly."""
    name = quote_identifier(table)
    return f"{quote_identifier(schema)}.{name}" if schema else name


# ---------------------------------------------------------------------------
# The whole create_vectorizer call


@dataclasses.dataclass(eq=False)
class CreateVectorizer:
    """Every argument of ``ai.create_vectorizer``.

    ``source`` is the source table as ``regclass`` text (``'blog_posts'``,
    ``'app.items'``, ``'"Blog Posts"'``). ``indexing``, ``scheduling`` and
    ``processing`` left as None mean the SQL defaults, as does
    ``formatting_template`` (``'$chunk'``)."""

    source: str
    embedding: Config
    chunking: Config
    indexing: Config | None = None
    formatting_template: str | None = None
    scheduling: Config | None = None
    processing: Config | None = None
    target_schema: str | None = None
    target_table: str | None = None
    view_schema: str | None = None
    view_name: str | None = None
    queue_schema: str | None = None
    queue_table: str | None = None
    grant_to: list[str] | None = None
    enqueue_existing: bool | None = None
    name: str | None = None
    """The vectorizer's name (unique); None: the SQL default,
    ``<target_schema>_<target_table>``."""

    _NAMES: ClassVar[tuple[str, ...]] = (
        "target_schema", "target_table", "view_schema", "view_name",
        "queue_schema", "queue_table")

    def formatting(self) -> PythonTemplateConfig:
        return PythonTemplateConfig(self.formatting_template)

    def to_sql(self) -> Select[int]:
        """``SELECT ai.create_vectorizer(...)`` with bound parameters only."""
        args: list[tuple[str, ColumnElement[Any]]] = [
            ("source", _bind(self.source, REGCLASS)),
            ("embedding", self.embedding.to_sql()),
            ("chunking", self.chunking.to_sql()),
        ]
        if self.indexing is not None:
            args.append(("indexing", self.indexing.to_sql()))
        if self.formatting_template is not None:
            args.append(("formatting", self.formatting().to_sql()))
        if self.scheduling is not None:
            args.append(("scheduling", self.scheduling.to_sql()))
        if self.processing is not None:
            args.append(("processing", self.processing.to_sql()))
        for name in self._NAMES:
            value = getattr(self, name)
            if value is not None:
                args.append((name, literal(value, Text)))
        if self.grant_to is not None:
            args.append(("grant_to", literal(list(self.grant_to), ARRAY(Text))))
        if self.enqueue_existing is not None:
            args.append(("enqueue_existing", literal(self.enqueue_existing, Boolean)))
        if self.name is not None:
            args.append(("name", literal(self.name, Text)))
        call: ColumnElement[Any] = NamedCall("create_vectorizer", args)
        return select(call.label("id"))

    @classmethod
    def from_catalog(cls, row: Mapping[str, Any] | RowMapping) -> CreateVectorizer:
        """Rebuild from a row of ``ai.vectorizer`` (its name columns and
        ``config``); queue names are kept only when not the defaults."""
        config = row["config"]
        if isinstance(config, str):
            config = json.loads(config)
        template = config.get("formatting", {}).get("template")
        queue_default = f"_vectorizer_q_{row['id']}" if "id" in row else None
        return cls(
            source=quote_regclass(row["source_table"], row["source_schema"]),
            embedding=config_from_dict(config["embedding"]),
            chunking=config_from_dict(config["chunking"]),
            indexing=config_from_dict(config["indexing"]),
            formatting_template=None if template == "$chunk" else template,
            scheduling=config_from_dict(config["scheduling"]),
            processing=config_from_dict(config["processing"]),
            target_schema=row["target_schema"],
            target_table=row["target_table"],
            view_schema=row["view_schema"],
            view_name=row["view_name"],
            queue_schema=None if row.get("queue_schema") in (None, "ai") else row["queue_schema"],
            queue_table=None if row.get("queue_table") in (None, queue_default)
            else row["queue_table"],
            name=row.get("name"),
        )

    def matches(self, stored: CreateVectorizer) -> bool:
        """Whether ``stored`` (read from the catalog) is this vectorizer with
        at most the defaults filled in. Names this config leaves unset
        match anything; ``grant_to`` and ``enqueue_existing`` act once, at
        creation, and are not compared."""
        if not (self.embedding == stored.embedding and self.chunking == stored.chunking):
            return False
        if not _same(self.indexing, stored.indexing, DefaultIndexingConfig()):
            return False
        if not _same(self.scheduling, stored.scheduling, DefaultSchedulingConfig()):
            return False
        if not _same(self.processing, stored.processing, ProcessingConfig()):
            return False
        if self.formatting() != stored.formatting():
            return False
        for name in self._NAMES:
            mine = getattr(self, name)
            if mine is not None and mine != getattr(stored, name):
                return False
        if self.name is not None and self.name != stored.name:
            return False
        return True

    # the configurations ai.alter_vectorizer changes in place, with the
    # default each stands for when left as None
    IN_PLACE: ClassVar[tuple[str, ...]] = ("indexing", "scheduling", "processing")

    @staticmethod
    def _in_place_default(key: str) -> Config:
        return {"indexing": DefaultIndexingConfig(), "scheduling": DefaultSchedulingConfig(),
                "processing": ProcessingConfig()}[key]

    def in_place_changes(self, stored: CreateVectorizer
                         ) -> dict[str, tuple[Config, Config]] | None:
        """What ``ai.alter_vectorizer`` would change to turn ``stored`` into
        this vectorizer, as {key: (new, old)}; None when that takes more
        than an in-place change (embedding, chunking, formatting, a name)."""
        same_otherwise = dataclasses.replace(
            self, indexing=stored.indexing, scheduling=stored.scheduling,
            processing=stored.processing)
        if not same_otherwise.matches(stored):
            return None
        changes: dict[str, tuple[Config, Config]] = {}
        for key in self.IN_PLACE:
            mine, theirs = getattr(self, key), getattr(stored, key)
            default = self._in_place_default(key)
            if not _same(mine, theirs, default):
                changes[key] = (default if mine is None else mine,
                                default if theirs is None else theirs)
        return changes

    def config_classes(self) -> list[str]:
        """Names of the config classes :meth:`render_python` uses."""
        names = {type(c).__name__ for c in (self.embedding, self.chunking, self.indexing,
                                            self.scheduling, self.processing) if c is not None}
        return sorted(names)

    def render_python_args(self, indent: str = "    ") -> list[str]:
        """The arguments of ``op.create_vectorizer(...)`` as Python source."""
        args = [repr(self.source),
                f"embedding={self.embedding.render_python()}",
                f"chunking={self.chunking.render_python()}"]
        if self.indexing is not None:
            args.append(f"indexing={self.indexing.render_python()}")
        if self.formatting_template is not None:
            args.append(f"formatting_template={self.formatting_template!r}")
        if self.scheduling is not None:
            args.append(f"scheduling={self.scheduling.render_python()}")
        if self.processing is not None:
            args.append(f"processing={self.processing.render_python()}")
        for name in self._NAMES:
            value = getattr(self, name)
            if value is not None:
                args.append(f"{name}={value!r}")
        if self.grant_to is not None:
            args.append(f"grant_to={list(self.grant_to)!r}")
        if self.enqueue_existing is not None:
            args.append(f"enqueue_existing={self.enqueue_existing!r}")
        if self.name is not None:
            args.append(f"name={self.name!r}")
        return args
