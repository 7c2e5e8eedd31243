"""End-to-end tests of the C provider clients (through core/build/embed_http_cli)
against the fake OpenAI, Ollama and Voyage servers of testing/fake_providers.py.

Run: .venv/bin/python -m pytest core/provider/test
"""

from __future__ import annotations

import base64
import os
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
CORE = ROOT / "core"
CLI = CORE / "build" / "embed_http_cli"
KEY = "sk-test-SUPERSECRET-0123456789abcdef"

import fake_providers as fp  # noqa: E402  (testing/ is on the path: see conftest.py)


@pytest.fixture(scope="session", autouse=True)
def built_cli() -> None:
    subprocess.run(["make", "-s", "-C", str(CORE), "build/embed_http_cli"], check=True,
                   stdout=subprocess.DEVNULL)
    assert CLI.exists()


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    with fp.FakeProviders() as fake:
        yield fake


@pytest.fixture()
def fake(server: Any) -> Any:
    server.reset()
    return server


class Result:
    def __init__(self, proc: subprocess.CompletedProcess[bytes], elapsed: float) -> None:
        self.rc = proc.returncode
        self.out = proc.stdout.decode()
        self.err = proc.stderr.decode()
        self.elapsed = elapsed
        self.lines = self.out.splitlines()

    def vectors(self) -> list[list[float]]:
        return [[float(x) for x in line[1:-1].split(",")] for line in self.lines]


def run(provider: str, base_url: str, model: str, dims: int, texts: list[str], *flags: str,
        key: str | None = KEY, timeout: float = 30) -> Result:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENAI_API_KEY", "VOYAGE_API_KEY", "OPENAI_BASE_URL", "OLLAMA_HOST")}
    if key is not None:
        env["OPENAI_API_KEY"] = key
        env["VOYAGE_API_KEY"] = key
    data = b"".join(t.encode("utf-8", "surrogateescape") + b"\0" for t in texts)
    cmd = [str(CLI), "--provider", provider, "--base-url", base_url, "--model", model,
           "--dimensions", str(dims), "-0", "--retry-base-ms", "10", "--retry-max-ms", "50",
           *flags]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, input=data, capture_output=True, env=env, timeout=timeout)
    return Result(proc, time.monotonic() - t0)


def f32(v: Any) -> list[float]:
    return [struct.unpack("<f", struct.pack("<f", x))[0] for x in v]


def assert_vectors(res: Result, expected: list[Any]) -> None:
    assert res.rc == 0, res.err
    got = res.vectors()
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert f32(g) == list(e)


def assert_no_key(res: Result) -> None:
    for text in (res.out, res.err):
        assert KEY not in text
        # no 8-character run of the key either
        for i in range(len(KEY) - 8):
            assert KEY[i:i + 8] not in text, text


# --- request shapes -----------------------------------------------------------

def test_openai_request_shape(fake: Any) -> None:
    texts = ["hello", "wörld 中文 😀", 'quote " and \\ and \t tab\nnewline', ""]
    res = run("openai", fake.openai_url, "text-embedding-3-small", 16, texts,
              "--send-dimensions", "--user", "chat-user-7")
    assert_vectors(res, [fake.expected("text-embedding-3-small", t, 16) for t in texts])
    (req,) = fake.requests
    assert req["path"] == "/v1/embeddings"
    assert req["headers"]["authorization"] == f"Bearer {KEY}"
    assert req["headers"]["content-type"] == "application/json"
    assert req["body"] == {"model": "text-embedding-3-small", "input": texts,
                           "encoding_format": "base64", "dimensions": 16, "user": "chat-user-7"}


def test_openai_without_dimensions_and_key(fake: Any) -> None:
    res = run("openai", fake.openai_url, "fake-12", 12, ["a", "b"], key=None)
    assert_vectors(res, [fake.expected("fake-12", t) for t in "ab"])
    body = fake.requests[0]["body"]
    assert "dimensions" not in body and "user" not in body
    assert "authorization" not in fake.requests[0]["headers"]


def test_openai_model_rejecting_dimensions_is_not_retried(fake: Any) -> None:
    res = run("openai", fake.openai_url, "text-embedding-ada-002", 1536, ["x"], "--send-dimensions")
    assert res.rc == 1
    assert "PGAI_EPROVIDER" in res.err and "HTTP 400" in res.err
    assert "does not support specifying dimensions" in res.err
    assert len(fake.requests) == 1


def test_ollama_request_shape(fake: Any) -> None:
    texts = ["alpha", "beta"]
    res = run("ollama", fake.ollama_url, "nomic-embed-text", 768, texts,
              "--keep-alive", "10m", "--options", '{"num_ctx": 2048, "temperature": 0}', key=None)
    assert_vectors(res, [fake.expected("nomic-embed-text", t) for t in texts])
    (req,) = fake.requests
    assert req["path"] == "/api/embed"
    assert req["body"] == {"model": "nomic-embed-text", "input": texts, "keep_alive": "10m",
                           "options": {"num_ctx": 2048, "temperature": 0}}
    fake.reset()
    res = run("ollama", fake.ollama_url, "nomic-embed-text", 64, texts, "--keep-alive", "-1",
              "--send-dimensions", key=None)
    assert_vectors(res, [fake.expected("nomic-embed-text", t, 64) for t in texts])
    assert fake.requests[0]["body"] == {"model": "nomic-embed-text", "input": texts,
                                        "dimensions": 64, "keep_alive": -1}


def test_voyage_request_shape(fake: Any) -> None:
    texts = ["doc one", "doc two"]
    res = run("voyageai", fake.voyage_url, "voyage-3", 256, texts, "--input-type", "document",
              "--send-dimensions")
    assert_vectors(res, [fake.expected("voyage-3", t, 256, input_type="document") for t in texts])
    (req,) = fake.requests
    assert req["path"] == "/voyage/v1/embeddings"
    assert req["headers"]["authorization"] == f"Bearer {KEY}"
    assert req["body"] == {"model": "voyage-3", "input": texts, "input_type": "document",
                           "output_dimension": 256, "output_dtype": "float",
                           "encoding_format": "base64"}
    fake.reset()
    res = run("voyageai", fake.voyage_url, "voyage-3-lite", 512, ["q"])
    assert_vectors(res, [fake.expected("voyage-3-lite", "q")])
    assert "input_type" not in fake.requests[0]["body"]


def test_empty_input_sends_nothing(fake: Any) -> None:
    res = run("openai", fake.openai_url, "fake-4", 4, [])
    assert res.rc == 0 and res.out == ""
    assert fake.requests == []


def test_invalid_utf8_is_a_row_error_and_never_sent(fake: Any) -> None:
    res = run("openai", fake.openai_url, "fake-4", 4, ["ok", "bad \udcff byte", "fine"])
    assert res.rc == 0, res.err
    assert res.lines[1].startswith("error: PGAI_EUTF8")
    assert f32([float(x) for x in res.lines[0][1:-1].split(",")]) == list(fake.expected("fake-4", "ok"))
    assert fake.requests[0]["body"]["input"] == ["ok", "fine"]


# --- batching -----------------------------------------------------------------

def test_batches_of_at_most_2048(fake: Any) -> None:
    texts = [f"t{i}" for i in range(5000)]
    res = run("openai", fake.openai_url, "fake-4", 4, texts, "--stats")
    assert_vectors(res, [fake.expected("fake-4", t) for t in texts])
    assert [len(r["body"]["input"]) for r in fake.requests] == [2048, 2048, 904]
    # one keep-alive connection for all three requests
    assert len({r["client_port"] for r in fake.requests}) == 1


def test_batches_within_size_budget(fake: Any) -> None:
    texts = [f"{i:03d}" + "x" * 96 for i in range(40)]
    res = run("openai", fake.openai_url, "fake-4", 4, texts, "--max-bytes", "1000")
    assert_vectors(res, [fake.expected("fake-4", t) for t in texts])
    assert len(fake.requests) > 4
    assert all(r["size"] <= 1000 for r in fake.requests)
    assert [t for r in fake.requests for t in r["body"]["input"]] == texts


def test_oversized_input_goes_alone(fake: Any) -> None:
    texts = ["small", "y" * 5000, "small2"]
    res = run("ollama", fake.ollama_url, "fake-4", 4, texts, "--max-bytes", "1000", key=None)
    assert_vectors(res, [fake.expected("fake-4", t) for t in texts])
    assert [r["body"]["input"] for r in fake.requests] == [["small"], ["y" * 5000], ["small2"]]


# --- retries ------------------------------------------------------------------

def test_429_retry_after_is_honoured(fake: Any) -> None:
    fake.faults.status(429, count=1, retry_after="1")
    res = run("openai", fake.openai_url, "fake-4", 4, ["a"])
    assert_vectors(res, [fake.expected("fake-4", "a")])
    assert len(fake.requests) == 2
    gap = fake.requests[1]["time"] - fake.requests[0]["time"]
    assert 0.95 <= gap < 2.5


def test_retry_after_is_capped(fake: Any) -> None:
    fake.faults.status(429, count=2, retry_after="30")
    res = run("voyageai", fake.voyage_url, "fake-4", 4, ["a"], "--retry-after-max-ms", "100")
    assert_vectors(res, [fake.expected("fake-4", "a")])
    assert len(fake.requests) == 3 and res.elapsed < 3


def test_500_then_success(fake: Any) -> None:
    fake.faults.status(500, count=2)
    res = run("ollama", fake.ollama_url, "fake-4", 4, ["a", "b"], "--stats", key=None)
    assert_vectors(res, [fake.expected("fake-4", t) for t in "ab"])
    assert len(fake.requests) == 3
    assert "retries=2" in res.err


def test_retries_exhausted(fake: Any) -> None:
    fake.faults.status(503, count=10, message="overloaded")
    res = run("openai", fake.openai_url, "fake-4", 4, ["a"], "--max-retries", "2")
    assert res.rc == 1
    assert "PGAI_EPROVIDER" in res.err and "HTTP 503 after 3 attempts" in res.err
    assert "overloaded" in res.err
    assert len(fake.requests) == 3


@pytest.mark.parametrize("code", [400, 401, 403, 404])
def test_no_retry_on_other_4xx(fake: Any, code: int) -> None:
    fake.faults.status(code, count=5, message=f"nope {code}")
    res = run("openai", fake.openai_url, "fake-4", 4, ["a"])
    assert res.rc == 1 and f"HTTP {code}: nope {code}" in res.err
    assert len(fake.requests) == 1


def test_hang_times_out(fake: Any) -> None:
    fake.faults.hang(3)
    res = run("openai", fake.openai_url, "fake-4", 4, ["a"], "--timeout-ms", "300",
              "--max-retries", "0")
    assert res.rc == 1 and "PGAI_ETIMEOUT" in res.err and "timed out" in res.err
    assert res.elapsed < 2


def test_hang_then_retry_succeeds(fake: Any) -> None:
    fake.faults.hang(2)
    res = run("voyageai", fake.voyage_url, "fake-4", 4, ["a"], "--timeout-ms", "300",
              "--max-retries", "1")
    assert_vectors(res, [fake.expected("fake-4", "a")])
    assert len(fake.requests) == 2


def test_connection_refused(fake: Any) -> None:
    res = run("openai", "http://127.0.0.1:1/v1", "fake-4", 4, ["a"], "--max-retries", "1")
    assert res.rc == 1 and "PGAI_EHTTP" in res.err and "after 2 attempts" in res.err


# --- bad responses ------------------------------------------------------------

@pytest.mark.parametrize("provider", ["openai", "ollama", "voyageai"])
def test_malformed_json(fake: Any, provider: str) -> None:
    fake.faults.malformed()
    url = {"openai": fake.openai_url, "ollama": fake.ollama_url, "voyageai": fake.voyage_url}[provider]
    res = run(provider, url, "fake-4", 4, ["a"])
    assert res.rc == 1 and "PGAI_EJSON" in res.err and "malformed JSON" in res.err


@pytest.mark.parametrize("provider", ["openai", "ollama", "voyageai"])
def test_wrong_dimensions(fake: Any, provider: str) -> None:
    fake.faults.wrong_dims()
    url = {"openai": fake.openai_url, "ollama": fake.ollama_url, "voyageai": fake.voyage_url}[provider]
    res = run(provider, url, "fake-8", 8, ["a", "b"])
    assert res.rc == 1 and "PGAI_EPROVIDER" in res.err
    assert "7 dimensions, expected 8" in res.err


@pytest.mark.parametrize("provider", ["openai", "ollama", "voyageai"])
def test_wrong_count(fake: Any, provider: str) -> None:
    fake.faults.wrong_count()
    url = {"openai": fake.openai_url, "ollama": fake.ollama_url, "voyageai": fake.voyage_url}[provider]
    res = run(provider, url, "fake-8", 8, ["a", "b", "c"])
    assert res.rc == 1 and "PGAI_EPROVIDER" in res.err and "2 embeddings for 3 inputs" in res.err


def test_bad_index(fake: Any) -> None:
    fake.faults.bad_index()
    res = run("openai", fake.openai_url, "fake-8", 8, ["a", "b"])
    assert res.rc == 1 and "permutation" in res.err


def test_dimensions_mismatch_with_model(fake: Any) -> None:
    # the model answers 1536 but the caller expects 768
    res = run("openai", fake.openai_url, "text-embedding-3-small", 768, ["a"])
    assert res.rc == 1 and "1536 dimensions, expected 768" in res.err


# --- too-long inputs ------------------------------------------------------------

M = fp.TOO_LONG_MARKER


def test_openai_too_long_inputs_are_bisected_into_row_errors(fake: Any) -> None:
    texts = [f"text {i}" for i in range(16)]
    texts[3] += M
    texts[11] += M
    res = run("openai", fake.openai_url, "fake-4", 4, texts, "--stats")
    assert res.rc == 0, res.err
    for i, line in enumerate(res.lines):
        if i in (3, 11):
            assert line.startswith("error: PGAI_EPROVIDER: openai rejected the input: HTTP 400")
            assert "maximum input length" in line
        else:
            assert f32([float(x) for x in line[1:-1].split(",")]) == list(fake.expected("fake-4", texts[i]))
    assert "splits=" in res.err and "splits=0" not in res.err
    assert len(fake.requests) <= 2 * 2 * 4 + 1  # log2(16) levels, two bad inputs


def test_too_long_without_row_errors_fails_the_call(fake: Any) -> None:
    res = run("openai", fake.openai_url, "fake-4", 4, ["ok", "bad" + M], "--no-row-errors")
    assert res.rc == 1 and "PGAI_EPROVIDER" in res.err and "input 1" in res.err


def test_ollama_and_voyage_leave_truncation_to_the_server(fake: Any) -> None:
    texts = ["a", "b" + M]
    res = run("ollama", fake.ollama_url, "fake-4", 4, texts, key=None)
    assert_vectors(res, [fake.expected("fake-4", t) for t in texts])
    res = run("voyageai", fake.voyage_url, "fake-4", 4, texts)
    assert_vectors(res, [fake.expected("fake-4", t) for t in texts])
    assert all("truncate" not in r["body"] and "truncation" not in r["body"] for r in fake.requests)


# --- secrets and cancellation ---------------------------------------------------

def test_api_key_never_in_messages(fake: Any) -> None:
    fake.faults.require_key = "sk-the-right-one"
    res = run("openai", fake.openai_url, "fake-4", 4, ["a"])
    assert res.rc == 1 and "HTTP 401" in res.err and "Incorrect API key provided" in res.err
    assert_no_key(res)
    res = run("voyageai", fake.voyage_url, "fake-4", 4, ["a"])
    assert res.rc == 1 and "HTTP 401" in res.err
    assert_no_key(res)
    fake.faults.require_key = None
    for fault in (lambda: fake.faults.status(500, 10), fake.faults.malformed,
                  fake.faults.wrong_dims, lambda: fake.faults.hang(2)):
        fake.faults.clear()
        fault()
        res = run("openai", fake.openai_url, "fake-4", 4, ["a" + M, "b"], "--max-retries", "1",
                  "--timeout-ms", "300")
        assert_no_key(res)
    res = run("openai", "http://127.0.0.1:1/v1", "fake-4", 4, ["a"], "--max-retries", "0")
    assert_no_key(res)
    # the right key works
    fake.faults.clear()
    fake.faults.require_key = KEY
    assert run("openai", fake.openai_url, "fake-4", 4, ["a"]).rc == 0


def test_cancel_during_transfer(fake: Any) -> None:
    fake.faults.hang(5)
    res = run("openai", fake.openai_url, "fake-4", 4, ["a"], "--cancel-after-ms", "200")
    assert res.rc == 1 and "PGAI_ECANCELED" in res.err
    assert res.elapsed < 1.5


def test_cancel_during_backoff(fake: Any) -> None:
    fake.faults.status(429, count=1, retry_after="10")
    res = run("openai", fake.openai_url, "fake-4", 4, ["a"], "--cancel-after-ms", "300")
    assert res.rc == 1 and "PGAI_ECANCELED" in res.err
    assert res.elapsed < 1.5
    assert len(fake.requests) == 1


def test_fake_binds_loopback_only(fake: Any) -> None:
    assert fake._server.server_address[0] == "127.0.0.1"
    v = fp.embedding("m", "t", 32)
    assert abs(sum(x * x for x in v) - 1.0) < 1e-5
    assert fp.embedding("m", "t", 32) == v and fp.embedding("m", "u", 32) != v
    raw = base64.b64encode(fp.vector_bytes("m", "t", 32, False))
    assert struct.unpack("<32f", base64.b64decode(raw)) == v
