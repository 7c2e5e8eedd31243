"""ai.openai_embed, ai.ollama_embed and ai.voyageai_embed inside the
database, against the fake providers of testing/fake_providers.py on
127.0.0.1: what they send, where keys come from, and how a statement
timeout or a cancel stops a hung request."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-sql-7d1e9f0a2b3c"


@pytest.fixture(autouse=True)
def allow_fake(conn: psycopg.Connection, fake: Any) -> None:
    """The superuser allows the server to call the fake providers, as an
    administrator lists a self-hosted endpoint in ai.allowed_base_urls."""
    conn.execute("SELECT set_config('ai.allowed_base_urls', %s, false)", (fake.url,))


def test_a_url_that_is_not_allowed_is_never_called(conn: psycopg.Connection, fake: Any) -> None:
    """Without the listing, no request reaches the listener, even as superuser."""
    conn.execute("RESET ai.allowed_base_urls")
    before = len(fake.requests)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="may not call"):
        conn.execute("SELECT ai.openai_embed('fake-8', 'x', api_key => %s, base_url => %s, dimensions => 8)",
                      (KEY, fake.openai_url))
    assert len(fake.requests) == before


def test_provider_failures_are_not_connection_errors(conn: psycopg.Connection, fake: Any) -> None:
    """A provider that cannot be reached raises 38000, not 08006, which
    drivers read as a lost database connection."""
    conn.execute("SELECT set_config('ai.allowed_base_urls', 'http://127.0.0.1:9', false)")
    with pytest.raises(psycopg.errors.ExternalRoutineException):
        conn.execute("SELECT ai.openai_embed('fake-8', 'x', api_key => 'k', "
                     "base_url => 'http://127.0.0.1:9/v1', dimensions => 8)")
    assert conn.execute("SELECT 1").fetchone() == (1,)




def vec(conn: psycopg.Connection, sql: str, params: tuple[Any, ...] = ()) -> np.ndarray:
    row = conn.execute(f"SELECT ({sql})::real[]", params).fetchone()
    assert row is not None
    return np.array(row[0])


def test_openai_embed_single(conn: psycopg.Connection, fake: Any) -> None:
    got = vec(conn, "ai.openai_embed('text-embedding-3-small', 'machine learning', api_key => %s, "
                    "dimensions => 768, openai_user => 'u1', base_url => %s)", (KEY, fake.openai_url))
    assert np.allclose(got, fake.expected("text-embedding-3-small", "machine learning", 768), atol=1e-7)
    (req,) = fake.requests
    assert req["body"] == {"model": "text-embedding-3-small", "input": ["machine learning"],
                           "encoding_format": "base64", "dimensions": 768, "user": "u1"}
    assert req["headers"]["authorization"] == f"Bearer {KEY}"


def test_openai_embed_settings_and_defaults(conn: psycopg.Connection, fake: Any) -> None:
    conn.execute("SELECT set_config('ai.openai_base_url', %s, false)", (fake.openai_url,))
    conn.execute("SELECT set_config('ai.openai_api_key', %s, false)", (KEY,))
    # the spec's call: no key, no URL, dimensions as a named argument
    got = vec(conn, "ai.openai_embed('text-embedding-3-small', 'search query', dimensions => 768)")
    assert got.shape == (768,)
    # without dimensions a known model gets its native size, and none is sent
    got = vec(conn, "ai.openai_embed('text-embedding-3-small', 'x')")
    assert got.shape == (1536,) and "dimensions" not in fake.requests[-1]["body"]
    # a custom key name reads the setting ai.<name>
    conn.execute("SELECT set_config('ai.team_api_key', 'sk-team-1234567890', false)")
    vec(conn, "ai.openai_embed('text-embedding-3-small', 'x', api_key_name => 'TEAM_API_KEY')")
    assert fake.requests[-1]["headers"]["authorization"] == "Bearer sk-team-1234567890"
    # only names of API keys: not another setting or server variable
    for name in ("TEAM_KEY", "PGDATA", "AWS_SECRET_ACCESS_KEY"):
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="not the name of an API key"):
            conn.execute("SELECT ai.openai_embed('text-embedding-3-small', 'x', api_key_name => %s)",
                         (name,))


def test_openai_embed_array(conn: psycopg.Connection, fake: Any) -> None:
    rows = conn.execute(
        "SELECT index, embedding::real[] FROM ai.openai_embed('fake-8', array['a', NULL, 'b'], "
        "api_key => %s, base_url => %s, dimensions => 8)", (KEY, fake.openai_url)).fetchall()
    assert [r[0] for r in rows] == [0, 1, 2] and rows[1][1] is None
    assert np.allclose(rows[2][1], fake.expected("fake-8", "b", 8), atol=1e-7)
    assert fake.requests[-1]["body"]["input"] == ["a", "b"]


def test_errors_are_clear_and_keep_keys_secret(conn: psycopg.Connection, fake: Any) -> None:
    fake.faults.require_key = "the-right-key"
    with pytest.raises(psycopg.errors.ExternalRoutineException) as e:
        conn.execute("SELECT ai.openai_embed('fake-8', 'x', api_key => %s, base_url => %s, dimensions => 8)",
                     (KEY, fake.openai_url))
    assert "401" in str(e.value) and KEY not in str(e.value)
    with pytest.raises(psycopg.errors.InvalidParameterValue) as e:
        conn.execute("SELECT ai.openai_embed('mystery-model', 'x', api_key => 'k', base_url => %s)",
                     (fake.openai_url,))
    assert "dimensions" in str(e.value) and e.value.diag.message_hint is not None
    with pytest.raises(psycopg.errors.InvalidParameterValue) as e:
        conn.execute("SELECT ai.openai_embed('text-embedding-3-small', 'x')")
    assert "no API key" in str(e.value)
    fake.faults.require_key = None
    fake.faults.wrong_dims(count=10)
    with pytest.raises(psycopg.errors.ExternalRoutineException) as e:
        conn.execute("SELECT ai.openai_embed('fake-8', 'x', api_key => 'k', base_url => %s, dimensions => 8)",
                     (fake.openai_url,))
    assert "dimensions" in str(e.value)


def test_statement_timeout_stops_a_hung_request(conn: psycopg.Connection, fake: Any) -> None:
    fake.faults.hang(10, count=1)
    conn.execute("SET statement_timeout = '500ms'")
    start = time.monotonic()
    with pytest.raises(psycopg.errors.QueryCanceled):
        conn.execute("SELECT ai.openai_embed('fake-8', 'x', api_key => 'k', base_url => %s, dimensions => 8)",
                     (fake.openai_url,))
    assert time.monotonic() - start < 2
    conn.execute("RESET statement_timeout")
    # the backend is fine afterwards
    assert vec(conn, "ai.openai_embed('fake-8', 'y', api_key => 'k', base_url => %s, dimensions => 8)",
               (fake.openai_url,)).shape == (8,)


def test_cancel_stops_a_hung_request(dbname: str, conn: psycopg.Connection, fake: Any) -> None:
    fake.faults.hang(10, count=1)
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()
    assert pid is not None

    def cancel() -> None:
        time.sleep(0.5)
        with psycopg.connect(f"dbname={dbname}", autocommit=True) as other:
            other.execute("SELECT pg_cancel_backend(%s)", (pid[0],))

    t = threading.Thread(target=cancel)
    t.start()
    start = time.monotonic()
    with pytest.raises(psycopg.errors.QueryCanceled):
        conn.execute("SELECT ai.openai_embed('fake-8', 'x', api_key => 'k', base_url => %s, dimensions => 8)",
                     (fake.openai_url,))
    t.join()
    assert time.monotonic() - start < 2


def test_ollama_and_voyage(conn: psycopg.Connection, fake: Any) -> None:
    got = vec(conn, "ai.ollama_embed('nomic-embed-text', 'hello', host => %s, keep_alive => '1m', "
                    "embedding_options => '{\"num_ctx\": 512}')", (fake.ollama_url,))
    assert np.allclose(got, fake.expected("nomic-embed-text", "hello", 768), atol=1e-7)
    body = fake.requests[-1]["body"]
    assert body["keep_alive"] == "1m" and body["options"] == {"num_ctx": 512}
    # the host may be given without a scheme, as OLLAMA_HOST often is
    conn.execute("SELECT set_config('ai.ollama_host', %s, false)", (fake.ollama_url.split("://")[1],))
    assert vec(conn, "ai.ollama_embed('all-minilm', 'hi')").shape == (384,)
    got = vec(conn, "ai.voyageai_embed('voyage-3-lite', 'hello', input_type => 'query', api_key => %s, "
                    "base_url => %s)", (KEY, fake.voyage_url))
    assert np.allclose(got, fake.expected("voyage-3-lite", "hello", 512, input_type="query"), atol=1e-7)
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        conn.execute("SELECT ai.voyageai_embed('voyage-3', 'x')")
