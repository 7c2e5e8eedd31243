"""One configuration schema: the extension's field table (extension/src/config.c,
exported as ``ai._vectorizer_config_spec()``) is the source of truth, and
everything else that knows a configuration's fields or defaults is checked
against it here:

- the SQL builders (``ai.chunking_character_text_splitter(...)`` and the
  rest): their parameters are the spec's fields, and a call with only the
  required arguments yields exactly the spec's defaults, so a builder's
  ``DEFAULT 400`` cannot drift from the table's;
- the Python configuration classes (``pgai.configuration``): same fields,
  same required ones, same SQL types, same defaults, and a stored config
  with the defaults reads back as "nothing given";
- the stored config: ``create_vectorizer`` stores every default, whatever
  the caller left out, which is what lets the worker read defaulted fields
  without defaults of its own;
- the worker (worker/src/sql.c): every field its load query reads is
  a field of the spec, and where it falls back on a value of its own for a
  field that is absent (``coalesce((i->>'min_rows')::bigint, 0)``), that
  value is the spec's default (today's exceptions are listed, exactly); one
  case is also run: the worker against a stored config without ``min_rows``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import psycopg
import pytest
from pgai_testing import MODEL, ROOT, RunWorker
from sqlalchemy import Boolean, Double, Integer, Text
from sqlalchemy.dialects.postgresql import ARRAY, INTERVAL, JSONB, TIMESTAMP

from pgai import configuration as cfg

Spec = dict[tuple[str, str], dict[str, dict[str, Any]]]

# a value for each required field, by the spec's type
REQUIRED_VALUES = {"string": "body", "integer": 8}

# the worker's source, whose load query reads the stored config
WORKER_SOURCE = ROOT / "worker" / "src" / "sql.c"

# the spec's types as the Python classes bind them
PYTHON_TYPES: dict[str, type[Any]] = {
    "string": Text, "integer": Integer, "number": Double, "boolean": Boolean,
    "object": JSONB, "string[]": ARRAY, "interval": INTERVAL, "timestamptz": TIMESTAMP,
    "timezone": Text,
}


def read_spec(conn: psycopg.Connection) -> Spec:
    spec: Spec = {}
    rows = conn.execute(
        'SELECT config_type, implementation, field, type, required, "default", min, max, '
        "choices FROM ai._vectorizer_config_spec()").fetchall()
    for ctype, impl, field, ftype, required, default, lo, hi, choices in rows:
        fields = spec.setdefault((ctype, impl), {})
        if field is not None:
            fields[field] = {"type": ftype, "required": required, "default": default,
                             "min": lo, "max": hi, "choices": choices}
    return spec


@pytest.fixture
def spec(conn: psycopg.Connection) -> Spec:
    return read_spec(conn)


def completed(ctype: str, impl: str, fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What the extension stores for a config given only its required
    fields (each with REQUIRED_VALUES): the spec's defaults filled in."""
    out: dict[str, Any] = {"implementation": impl, "config_type": ctype}
    for name, f in fields.items():
        if f["required"]:
            out[name] = REQUIRED_VALUES[f["type"]]
        elif f["default"] is not None:
            out[name] = f["default"]
    return out


def python_class(ctype: str, impl: str) -> type[cfg.Config]:
    return cfg._BY_IMPLEMENTATION[(ctype, impl)]


def python_instance(ctype: str, impl: str, fields: dict[str, dict[str, Any]]) -> cfg.Config:
    """The Python config for (ctype, impl) with only its required fields;
    the recursive splitter is the one chosen by a list of separators."""
    kwargs: dict[str, Any] = {n: REQUIRED_VALUES[f["type"]]
                              for n, f in fields.items() if f["required"]}
    if impl == "recursive_character_text_splitter":
        kwargs["separator"] = list(fields["separators"]["default"])
    return python_class(ctype, impl)(**kwargs)


def test_spec_rows_are_the_field_table(spec: Spec) -> None:
    # a few rows spelled out, so the export itself is checked, not only trusted
    overlap = spec[("chunking", "character_text_splitter")]["chunk_overlap"]
    assert overlap == {"type": "integer", "required": False, "default": 400,
                       "min": 0, "max": 2147483647, "choices": None}
    assert spec[("embedding", "openai")]["dimensions"]["required"] is True
    assert spec[("indexing", "hnsw")]["opclass"]["choices"][0] == "vector_cosine_ops"
    assert spec[("indexing", "none")] == {}
    assert spec[("scheduling", "timescaledb")]["schedule_interval"]["default"] == "00:05:00"


def test_every_implementation_has_a_builder_and_a_python_class(
        conn: psycopg.Connection, spec: Spec) -> None:
    builders = {r[0] for r in conn.execute(
        "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'ai'::regnamespace")}
    for ctype, impl in spec:
        assert f"{ctype}_{impl}" in builders, (ctype, impl)
    assert set(spec) == set(cfg._BY_IMPLEMENTATION)


def test_builder_parameters_are_the_spec_fields(conn: psycopg.Connection, spec: Spec) -> None:
    for (ctype, impl), fields in spec.items():
        row = conn.execute(
            "SELECT coalesce(p.proargnames, '{}') FROM pg_proc p "
            "WHERE p.pronamespace = 'ai'::regnamespace AND p.proname = %s",
            (f"{ctype}_{impl}",)).fetchone()
        assert row is not None
        assert sorted(row[0]) == sorted(fields), (ctype, impl)


def test_builder_defaults_are_the_spec_defaults(conn: psycopg.Connection, spec: Spec) -> None:
    """A builder's own DEFAULT reaches the stored config as it is (a NULL one
    is stripped and the table's default filled in): called with only its
    required arguments, each builder must give the table's defaults."""
    for (ctype, impl), fields in spec.items():
        required = [n for n, f in fields.items() if f["required"]]
        args = ", ".join(f"{n} => %s" for n in required)
        values = [REQUIRED_VALUES[fields[n]["type"]] for n in required]
        got = conn.execute(f"SELECT ai.{ctype}_{impl}({args})", values).fetchone()
        assert got is not None
        assert got[0] == completed(ctype, impl, fields), (ctype, impl)


def test_python_fields_and_defaults_are_the_spec(spec: Spec) -> None:
    for (ctype, impl), fields in spec.items():
        inst = python_instance(ctype, impl, fields)
        params = {name: p for name, _, p in inst._params()}
        assert sorted(params) == sorted(fields), (ctype, impl)
        required = {f.name for f in dataclasses.fields(inst)  # type: ignore[arg-type]
                    if f.default is dataclasses.MISSING}
        assert required == {n for n, f in fields.items() if f["required"]}, (ctype, impl)
        for name, p in params.items():
            want = fields[name]
            assert p.default == want["default"], (ctype, impl, name)
            sql_type = p.sql_type if isinstance(p.sql_type, type) else type(p.sql_type)
            assert issubclass(sql_type, PYTHON_TYPES[want["type"]]), (ctype, impl, name)


def test_python_to_dict_is_the_stored_form(spec: Spec) -> None:
    for (ctype, impl), fields in spec.items():
        assert python_instance(ctype, impl, fields).to_dict() == completed(ctype, impl, fields)


def test_python_reads_stored_defaults_as_not_given(spec: Spec) -> None:
    """What the database stores for a config left at its defaults must read
    back as a config with nothing given, or generated migrations would
    spell out every default (ChunkingConfig compares with defaults of its own)."""
    for (ctype, impl), fields in spec.items():
        back = cfg.config_from_dict(completed(ctype, impl, fields))
        assert back == python_instance(ctype, impl, fields), (ctype, impl)
        for name, value, _ in back._params():
            if fields.get(name, {}).get("required") or (
                    impl == "recursive_character_text_splitter" and name == "separators"):
                continue  # given, or what makes the splitter the recursive one
            assert value is None, (ctype, impl, name, value)


def test_stored_config_holds_every_default(conn: psycopg.Connection, spec: Spec) -> None:
    """create_vectorizer completes configs written by hand: the worker reads
    the stored config and finds every defaulted field there."""
    conn.execute("CREATE TABLE docs (id int PRIMARY KEY, body text)")
    choices = [
        {"embedding": "openai", "chunking": "character_text_splitter", "indexing": "hnsw",
         "scheduling": "timescaledb"},
        {"embedding": "voyageai", "chunking": "recursive_character_text_splitter",
         "indexing": "diskann", "scheduling": "none"},
    ]
    for n, choice in enumerate(choices):
        sections = {**choice, "formatting": "python_template", "processing": "default"}
        given: dict[str, dict[str, Any]] = {}
        for ctype, impl in sections.items():
            given[ctype] = {"implementation": impl, **{
                name: REQUIRED_VALUES[f["type"]]
                for name, f in spec[(ctype, impl)].items() if f["required"]}}
        row = conn.execute(
            "SELECT ai.create_vectorizer('docs', embedding => %s::jsonb, chunking => %s::jsonb,"
            " indexing => %s::jsonb, formatting => %s::jsonb, scheduling => %s::jsonb,"
            " processing => %s::jsonb, target_table => %s, view_name => %s)",
            [json.dumps(given[c]) for c in ("embedding", "chunking", "indexing", "formatting",
                                            "scheduling", "processing")]
            + [f"store_{n}", f"view_{n}"]).fetchone()
        assert row is not None
        stored = conn.execute("SELECT config FROM ai.vectorizer WHERE id = %s",
                              (row[0],)).fetchone()
        assert stored is not None
        for ctype, impl in sections.items():
            assert stored[0][ctype] == completed(ctype, impl, spec[(ctype, impl)]), ctype


# ---------------------------------------------------------------------------
# The worker


def worker_load_sql() -> str:
    """The SQL text of the worker's sql_load, its C string pieces joined."""
    source = WORKER_SOURCE.read_text()
    m = re.search(r"sql_load\s*=\s*((?:\s*\"(?:[^\"\\]|\\.)*\"|\s*/\*.*?\*/)+)\s*;",
                  source, re.S)
    assert m, f"no sql_load in {WORKER_SOURCE}"
    pieces = re.findall(r"\"((?:[^\"\\]|\\.)*)\"", re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S))
    return "".join(p.encode().decode("unicode_escape") for p in pieces)


def worker_sections(sql: str) -> dict[str, str]:
    """alias -> config section, from LATERAL (SELECT v.config->'embedding', ...) x(e, ...)."""
    m = re.search(r"LATERAL \(SELECT ((?:\s*v\.config->'\w+',?)+)\)\s*\w+\(([\w, ]+)\)", sql)
    assert m, "the worker's load query no longer names its config sections"
    sections = re.findall(r"v\.config->'(\w+)'", m.group(1))
    aliases = [a.strip() for a in m.group(2).split(",")]
    assert len(sections) == len(aliases)
    return dict(zip(aliases, sections, strict=True))


def worker_fallbacks(sql: str) -> list[tuple[str, str, str]]:
    """(alias, field, fallback SQL) of every coalesce the load query applies
    to a config field, cast or read as an interval's seconds."""
    found = re.findall(
        r"coalesce\((?:extract\(epoch FROM )?\(+(\w)->>'(\w+)'\)::\w+\)*,\s*([^()]+?)\)", sql)
    return [(a, f, v.strip()) for a, f, v in found]


def sql_value(conn: psycopg.Connection, expr: str) -> Any:
    """A fallback's value: its SQL evaluated, as JSON."""
    row = conn.execute(f"SELECT to_jsonb({expr})").fetchone()
    assert row is not None
    return row[0]


def spec_default_as_worker_reads(conn: psycopg.Connection, f: dict[str, Any]) -> Any:
    if f["type"] == "interval":
        row = conn.execute("SELECT extract(epoch FROM %s::interval)::float8",
                           (f["default"],)).fetchone()
        assert row is not None
        return row[0]
    return f["default"]


def test_worker_reads_only_spec_fields(spec: Spec) -> None:
    sql = worker_load_sql()
    sections = worker_sections(sql)
    fields_of: dict[str, set[str]] = {}
    for (ctype, _), fields in spec.items():
        fields_of.setdefault(ctype, {"implementation", "config_type"}).update(fields)
    reads = re.findall(r"\b(\w)\s*(?:->>?|\?|-)\s*'(\w+)'", sql)
    assert reads
    for alias, field in reads:
        if alias in sections:
            assert field in fields_of[sections[alias]], (sections[alias], field)
    # the worker's other queries name the section in full (config->'chunking'->'separators')
    direct = re.findall(r"config->'(\w+)'->>?'(\w+)'", WORKER_SOURCE.read_text())
    assert direct
    for section, field in direct:
        assert field in fields_of[section], (section, field)


def test_worker_has_fallbacks_to_check() -> None:
    # the parser must keep finding them: a worker rewritten so that none
    # matched would otherwise agree with the spec by having no fallbacks
    fields = {f for _, f, _ in worker_fallbacks(worker_load_sql())}
    assert {"min_rows", "create_when_queue_empty", "batch_size"} <= fields


# The worker's fallbacks that disagree with the spec today, as (section,
# implementation, field). The worker is not this change's to edit (worker/
# is refactored separately); the list is exact, so the test fails both on a
# new disagreement and on a fixed one still listed.
WORKER_DISAGREES: set[tuple[str, str, str]] = set()


def test_worker_fallbacks_are_the_spec_defaults(conn: psycopg.Connection, spec: Spec) -> None:
    """Where the stored config lacks a field (a config stored before the
    field existed, or edited by hand), the worker's value for it must be
    the spec's default. A field without a default may fall back on
    anything: it means "not set" (pgvector's or the worker's own choice)."""
    sql = worker_load_sql()
    sections = worker_sections(sql)
    disagree = set()
    for alias, field, fallback in worker_fallbacks(sql):
        ctype = sections[alias]
        for (c, impl), fields in spec.items():
            f = fields.get(field)
            if c != ctype or f is None or f["default"] is None:
                continue
            if sql_value(conn, fallback) != spec_default_as_worker_reads(conn, f):
                disagree.add((ctype, impl, field))
    assert disagree == WORKER_DISAGREES


def test_worker_without_min_rows_waits_for_the_default(
        dbname: str, conn: psycopg.Connection, run_worker: RunWorker) -> None:
    """Run, not read: an HNSW config stored without min_rows, three rows, one
    worker pass. With the spec's default (100000 rows) no index is built."""
    conn.execute("CREATE TABLE docs (id int PRIMARY KEY, body text)")
    conn.execute("INSERT INTO docs SELECT g, 'body ' || g FROM generate_series(1, 3) g")
    row = conn.execute(
        "SELECT ai.create_vectorizer('docs', embedding => ai.embedding_openai(%s, 3),"
        " chunking => ai.chunking_character_text_splitter('body'),"
        " indexing => ai.indexing_hnsw())", (MODEL,)).fetchone()
    assert row is not None
    conn.execute("UPDATE ai._vectorizer SET config = jsonb_set(config, '{indexing}',"
                 " (config->'indexing') - 'min_rows') WHERE id = %s", (row[0],))
    run_worker(dbname)
    assert conn.execute("SELECT count(*) FROM docs_embedding_store").fetchone() == (3,)
    indexes = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = "
                           "'docs_embedding_store' AND indexdef LIKE '%%hnsw%%'").fetchall()
    assert indexes == []
