"""The worker's network and secrets policy (issue 9, item 5): a vectorizer's
creator writes base_url and api_key_name into the catalog, but only the
worker's operator decides where the worker may connect and which of its
environment variables it may send. A refused URL is never contacted and a
refused name is never read; the batch fails like any other, with an error
row that names what was refused and the variable that would allow it."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

ROOT = Path(__file__).resolve().parents[2]
PGAI = Path(os.environ.get("PGAI_BIN") or ROOT / "worker" / "build" / "pgai")
KEY = "sk-test-policy-7d1e"
SECRET = "aws-secret-wJalrXUtnFEMI-K7MDENG"


def worker(dbname: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`pgai vectorizer worker --once` with only `env`'s provider settings."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("OPENAI_", "OLLAMA_", "VOYAGE_", "PGAI_ALLOWED", "PGAI_API_KEY", "AWS_"))}
    return subprocess.run([str(PGAI), "vectorizer", "worker", "--db-url", f"dbname={dbname}", "--once",
                           "--retry-backoff", "1h", "--http-retries", "0", *args],
                          capture_output=True, text=True, timeout=120, env={**base, **(env or {})})


class Listener:
    """A bare TCP listener on 127.0.0.1 that records every connection and
    the bytes it was sent: it answers nothing, it only proves contact."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                c, _ = self.sock.accept()
            except TimeoutError:
                continue
            c.settimeout(0.5)
            try:
                data = c.recv(65536)
            except OSError:
                data = b""
            self.received.append(data)
            c.close()

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def vectorizer(conn: psycopg.Connection, embedding: dict[str, Any] | None = None) -> int:
    """One OpenAI vectorizer on two rows; `embedding` is merged into its
    catalog config as the creator wrote it (set directly in the catalog, so
    the worker is tested whatever create_vectorizer itself accepts)."""
    conn.execute("CREATE TABLE docs (id int PRIMARY KEY, body text NOT NULL)")
    conn.execute("INSERT INTO docs VALUES (1, 'first'), (2, 'second')")
    row = conn.execute("""SELECT ai.create_vectorizer('docs',
        embedding => ai.embedding_openai('fake-8', 8),
        chunking => ai.chunking_character_text_splitter('body'),
        indexing => ai.indexing_none())""").fetchone()
    assert row is not None
    vid = int(row[0])
    if embedding:
        conn.execute("UPDATE ai.vectorizer SET config = jsonb_set(config, '{embedding}',"
                     " config->'embedding' || %s::jsonb) WHERE id = %s",
                     (Jsonb(embedding), vid))
    return vid


def pending(conn: psycopg.Connection, vid: int) -> int:
    row = conn.execute("SELECT ai.vectorizer_queue_pending(%s, true)", (vid,)).fetchone()
    assert row is not None
    return int(row[0])


def stored(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT count(*) FROM docs_embedding_store").fetchone()
    assert row is not None
    return int(row[0])


def errors(conn: psycopg.Connection, vid: int) -> list[str]:
    return [m for (m,) in conn.execute("SELECT message FROM ai.vectorizer_errors WHERE id = %s", (vid,))]


def test_unlisted_listener_gets_no_connection(conn: psycopg.Connection, dbname: str) -> None:
    """A base_url on 127.0.0.1 that the operator never allowed: no
    connection at all, the rows stay queued, an error row says why."""
    with Listener() as lst:
        url = f"http://127.0.0.1:{lst.port}/v1"
        vid = vectorizer(conn, {"base_url": url})
        done = worker(dbname, env={"OPENAI_API_KEY": KEY})
    assert done.returncode == 1
    assert lst.received == []
    assert pending(conn, vid) == 2 and stored(conn) == 0
    [msg] = errors(conn, vid)
    assert url in msg and "PGAI_ALLOWED_BASE_URLS" in msg
    assert KEY not in msg


def test_refused_url_is_bounded_in_the_message(conn: psycopg.Connection, dbname: str) -> None:
    url = "http://127.0.0.1:9/" + "a" * 300
    vid = vectorizer(conn, {"base_url": url})
    done = worker(dbname, env={"OPENAI_API_KEY": KEY})
    assert done.returncode == 1
    [msg] = errors(conn, vid)
    assert url[:64] in msg and url[:65] not in msg and "PGAI_ALLOWED_BASE_URLS" in msg


@pytest.mark.parametrize("template", ["https://api.openai.com@127.0.0.1:{port}/",
                                      "https://api.openai.com@127.0.0.1:{port}/v1",
                                      "http://localhost:11434@127.0.0.1:{port}/v1",
                                      "https://api.openai.com:443@127.0.0.1:{port}/v1"])
def test_user_name_trick_is_refused(conn: psycopg.Connection, dbname: str, template: str) -> None:
    """A public endpoint's name as the URL's user name goes to 127.0.0.1:
    refused, even when the operator allowed that very listener."""
    with Listener() as lst:
        vid = vectorizer(conn, {"base_url": template.format(port=lst.port)})
        done = worker(dbname, env={"OPENAI_API_KEY": KEY,
                                   "PGAI_ALLOWED_BASE_URLS": f"http://127.0.0.1:{lst.port}"})
    assert done.returncode == 1
    assert lst.received == []
    assert pending(conn, vid) == 2
    [msg] = errors(conn, vid)
    assert "PGAI_ALLOWED_BASE_URLS" in msg


@pytest.mark.parametrize("url", [None, "https://API.OpenAI.com:443/v1/"])
def test_public_endpoint_is_allowed(conn: psycopg.Connection, dbname: str, url: str | None) -> None:
    """OpenAI's own endpoint needs no listing (the request then fails
    only because this machine cannot reach it, or has no such key)."""
    vid = vectorizer(conn, {"base_url": url} if url else None)
    done = worker(dbname, "--request-timeout", "2s", env={"OPENAI_API_KEY": KEY})
    assert done.returncode == 1
    [msg] = errors(conn, vid)
    assert "may not call" not in msg and "PGAI_ALLOWED_BASE_URLS" not in msg


def test_aws_secret_is_never_sent(conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    """api_key_name names another secret of the worker's environment: the
    worker never reads it, so no request carries it (the provider itself
    is one the operator allowed)."""
    vid = vectorizer(conn, {"api_key_name": "AWS_SECRET_ACCESS_KEY"})
    done = worker(dbname, env={"OPENAI_BASE_URL": fake.openai_url, "OPENAI_API_KEY": KEY,
                               "AWS_SECRET_ACCESS_KEY": SECRET})
    assert all(SECRET not in str(r["headers"]) and SECRET not in str(r["body"]) for r in fake.requests)
    assert fake.requests == []
    assert done.returncode == 1
    assert pending(conn, vid) == 2 and stored(conn) == 0
    [msg] = errors(conn, vid)
    assert "AWS_SECRET_ACCESS_KEY" in msg and "PGAI_API_KEY_NAMES" in msg
    assert SECRET not in msg and SECRET not in done.stderr and SECRET not in done.stdout


@pytest.mark.parametrize("name", ["PGDATA", "HOME", "openai_api_key", "OPENAI_API_KEY2"])
def test_other_variables_are_never_read(conn: psycopg.Connection, dbname: str, fake: Any,
                                        name: str) -> None:
    vid = vectorizer(conn, {"api_key_name": name})
    done = worker(dbname, env={"OPENAI_BASE_URL": fake.openai_url, name: SECRET})
    assert done.returncode == 1
    assert fake.requests == []
    [msg] = errors(conn, vid)
    assert name in msg and "PGAI_API_KEY_NAMES" in msg


def test_allowed_base_urls_work_end_to_end(conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    """The operator lists the provider's prefix among others (spaces
    around entries are ignored): the rows are embedded and stored."""
    vid = vectorizer(conn, {"base_url": fake.openai_url})
    done = worker(dbname, env={"OPENAI_API_KEY": KEY,
                               "PGAI_ALLOWED_BASE_URLS": f"https://llm.example/v1 , {fake.url}/v1"})
    assert done.returncode == 0, done.stderr
    assert pending(conn, vid) == 0 and stored(conn) == 2
    assert fake.requests and all(r["headers"]["authorization"] == f"Bearer {KEY}" for r in fake.requests)
    assert errors(conn, vid) == []


def test_allowed_prefix_is_a_path_prefix(conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    """A prefix with a path allows only URLs under that path."""
    vid = vectorizer(conn, {"base_url": fake.openai_url})
    done = worker(dbname, env={"OPENAI_API_KEY": KEY, "PGAI_ALLOWED_BASE_URLS": f"{fake.url}/v1beta"})
    assert done.returncode == 1
    assert fake.requests == []
    assert pending(conn, vid) == 2


def test_operator_urls_are_allowed(conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    """What the operator configured for the worker (OPENAI_BASE_URL) is
    allowed as a vectorizer's base_url too, with or without a slash."""
    vid = vectorizer(conn, {"base_url": fake.openai_url + "/"})
    done = worker(dbname, env={"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": fake.openai_url})
    assert done.returncode == 0, done.stderr
    assert pending(conn, vid) == 0 and stored(conn) == 2


def test_ollama_host_is_allowed_not_for_openai(conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    """OLLAMA_HOST allows Ollama vectorizers; it does not allow an OpenAI
    vectorizer to send its key there."""
    vid = vectorizer(conn, {"base_url": fake.ollama_url})
    done = worker(dbname, env={"OPENAI_API_KEY": KEY, "OLLAMA_HOST": fake.ollama_url.split("://")[1]})
    assert done.returncode == 1
    assert fake.requests == []
    conn.execute("""SELECT ai.create_vectorizer('docs',
        embedding => ai.embedding_ollama('nomic-embed-text', 768, base_url => %s),
        chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
        target_table => 'docs_ollama', view_name => 'docs_ollama_v')""", (fake.ollama_url,))
    done = worker(dbname, env={"OLLAMA_HOST": fake.ollama_url.split("://")[1]})
    assert [r["path"] for r in fake.requests] == ["/api/embed"]
    assert conn.execute("SELECT count(*) FROM docs_ollama").fetchone() == (2,)
    assert pending(conn, vid) == 2


def test_key_names_list_allows_a_custom_name(conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    vid = vectorizer(conn, {"api_key_name": "custom_key"})
    done = worker(dbname, env={"OPENAI_BASE_URL": fake.openai_url, "custom_key": "sk-custom-91",
                               "PGAI_API_KEY_NAMES": "TEAM_API_KEY, custom_key"})
    assert done.returncode == 0, done.stderr
    assert pending(conn, vid) == 0 and stored(conn) == 2
    assert fake.requests
    assert all(r["headers"]["authorization"] == "Bearer sk-custom-91" for r in fake.requests)


def test_key_names_list_replaces_the_suffix_rule(conn: psycopg.Connection, dbname: str, fake: Any) -> None:
    """Once the operator lists names, only those are read: OPENAI_API_KEY
    too must be listed (so an operator can keep one team's key from
    another team's vectorizers)."""
    vid = vectorizer(conn, {"api_key_name": "OPENAI_API_KEY"})
    done = worker(dbname, env={"OPENAI_BASE_URL": fake.openai_url, "OPENAI_API_KEY": KEY,
                               "PGAI_API_KEY_NAMES": "custom_key"})
    assert done.returncode == 1
    assert fake.requests == []
    [msg] = errors(conn, vid)
    assert "OPENAI_API_KEY" in msg and "PGAI_API_KEY_NAMES" in msg
    assert pending(conn, vid) == 2


def test_help_names_the_policy_variables() -> None:
    done = subprocess.run([str(PGAI), "vectorizer", "worker", "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "PGAI_ALLOWED_BASE_URLS" in done.stdout and "PGAI_API_KEY_NAMES" in done.stdout


class PgProxy:
    """A TCP relay in front of the test cluster that keeps every byte a
    client sends the server (startup packets included)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.sent = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _pump(self, src: socket.socket, dst: socket.socket, keep: bool) -> None:
        try:
            while data := src.recv(65536):
                if keep:
                    with self._lock:
                        self.sent += data
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                c, _ = self.sock.accept()
            except TimeoutError:
                continue
            s = socket.create_connection(("127.0.0.1", int(os.environ["PGPORT"])))
            for a, b, keep in ((c, s, True), (s, c, False)):
                t = threading.Thread(target=self._pump, args=(a, b, keep), daemon=True)
                t.start()
                self._threads.append(t)

    def __enter__(self) -> PgProxy:
        t = threading.Thread(target=self._run, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        self.sock.close()


def test_search_never_sends_a_refused_key_name(conn: psycopg.Connection, dbname: str) -> None:
    """`pgai search` passes the key from the user's environment to the
    server as a startup option: never for a name the policy refuses."""
    vid = vectorizer(conn, {"api_key_name": "AWS_SECRET_ACCESS_KEY", "base_url": "http://127.0.0.1:9/v1"})
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PGAI_", "AWS_"))}
    url = f"host=127.0.0.1 port={{}} dbname={dbname} sslmode=disable gssencmode=disable"
    with PgProxy() as proxy:
        done = subprocess.run([str(PGAI), "search", "-d", url.format(proxy.port), "-i", str(vid), "x"],
                              capture_output=True, text=True, timeout=60,
                              env={**base, "AWS_SECRET_ACCESS_KEY": SECRET})
        assert done.returncode == 1
        assert SECRET.encode() not in proxy.sent
        assert SECRET not in done.stderr and SECRET not in done.stdout
        # the relay does see an allowed key's startup option
        conn.execute("UPDATE ai.vectorizer SET config = jsonb_set(config, '{embedding,api_key_name}',"
                     " '\"OPENAI_API_KEY\"') WHERE id = %s", (vid,))
        subprocess.run([str(PGAI), "search", "-d", url.format(proxy.port), "-i", str(vid), "x"],
                       capture_output=True, text=True, timeout=60, env={**base, "OPENAI_API_KEY": KEY})
        assert KEY.encode() in proxy.sent
