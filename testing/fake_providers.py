"""Fake OpenAI, Ollama and Voyage AI embedding servers for tests (stdlib only).

One HTTP server on 127.0.0.1 (never any other address) answers:

  POST /v1/embeddings, /openai/v1/embeddings   OpenAI (base64 or float)
  POST /api/embed, /ollama/api/embed           Ollama
  POST /voyage/v1/embeddings                   Voyage AI

so ``fake.openai_url`` (``<url>/v1``), ``fake.ollama_url`` (``<url>``) and
``fake.voyage_url`` (``<url>/voyage/v1``) are base URLs for the clients.

Vectors are deterministic: ``embedding(model, text, dims)`` (a SHAKE-256
stream of the three, mapped to [-1, 1), L2-normalised, rounded to float32)
so tests can assert exact values.  With ``fast=True`` the server answers
with ``fast_embedding`` instead: a per-(model, dims) base vector rotated by
a hash of the text, cheap enough for benchmarks.

Library use::

    with FakeProviders() as fake:
        fake.faults.status(429, count=2, retry_after="1")
        ... point a client at fake.openai_url ...
        fake.requests[-1]["body"]      # parsed JSON of each request

Script use: ``python testing/fake_providers.py [--port N] [--fast]
[--require-key KEY]`` prints the URL and serves until killed.
"""

from __future__ import annotations

import argparse
import array
import base64
import hashlib
import json
import math
import struct
import sys
import threading
import time
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"

#: Dimensions a model answers with when the request does not ask for some.
MODEL_DIMS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
    "nomic-embed-text": 768,
    "all-minilm": 384,
    "mxbai-embed-large": 1024,
    "voyage-3": 1024,
    "voyage-3-lite": 512,
    "voyage-3.5": 1024,
    "voyage-code-3": 1024,
}
#: Models that refuse a dimensions parameter (as OpenAI's ada-002 does).
FIXED_DIM_MODELS = {"text-embedding-ada-002"}

#: An input containing this marker is "over the model's token limit".
TOO_LONG_MARKER = "<<TOO_LONG>>"


def model_dims(model: str) -> int:
    """Native dimensions of a model; ``fake-<N>`` models have N."""
    if model in MODEL_DIMS:
        return MODEL_DIMS[model]
    if model.startswith("fake-") and model[5:].isdigit():
        return int(model[5:])
    return 768


@lru_cache(maxsize=65536)
def embedding(model: str, text: str, dims: int) -> tuple[float, ...]:
    """The vector the fake returns for (model, text, dims): float32 values."""
    seed = b"\0".join([model.encode(), text.encode("utf-8", "surrogatepass"), str(dims).encode()])
    raw = hashlib.shake_256(seed).digest(2 * dims)
    vals = [(v - 32767.5) / 32768.0 for v in struct.unpack(f"<{dims}H", raw)]
    norm = math.sqrt(sum(v * v for v in vals)) or 1.0
    f32 = array.array("f", [v / norm for v in vals])
    return tuple(f32)


@lru_cache(maxsize=64)
def _fast_base(model: str, dims: int) -> bytes:
    return array.array("f", embedding(model, "", dims)).tobytes()


def fast_embedding_bytes(model: str, text: str, dims: int) -> bytes:
    """float32 little-endian bytes of fast_embedding (cheap)."""
    base = _fast_base(model, dims)
    shift = (hash_text(text) % dims) * 4
    return base[shift:] + base[:shift]


def fast_embedding(model: str, text: str, dims: int) -> tuple[float, ...]:
    """The vector the fake returns in fast mode."""
    return tuple(array.array("f", fast_embedding_bytes(model, text, dims)))


def hash_text(text: str) -> int:
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def vector_bytes(model: str, text: str, dims: int, fast: bool) -> bytes:
    if fast:
        return fast_embedding_bytes(model, text, dims)
    return array.array("f", embedding(model, text, dims)).tobytes()


class Faults:
    """Faults to inject, consumed request by request (any endpoint).

    Queued faults (``add`` and helpers) apply to the next ``count``
    requests in the order they were added.  ``too_long_marker`` and
    ``require_key`` apply to every request while set.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[dict[str, Any]] = []
        self.too_long_marker: str | None = TOO_LONG_MARKER
        self.require_key: str | None = None

    def add(self, kind: str, count: int = 1, **params: Any) -> None:
        """kind: status | hang | malformed | wrong_dims | wrong_count | bad_index."""
        with self._lock:
            self._queue.append({"kind": kind, "count": count, **params})

    def status(self, code: int, count: int = 1, retry_after: str | None = None,
               message: str | None = None) -> None:
        """Answer HTTP `code` (with Retry-After when given) for `count` requests."""
        self.add("status", count, code=code, retry_after=retry_after, message=message)

    def hang(self, seconds: float, count: int = 1) -> None:
        """Sleep `seconds` before answering normally."""
        self.add("hang", count, seconds=seconds)

    def malformed(self, count: int = 1) -> None:
        self.add("malformed", count)

    def wrong_dims(self, count: int = 1) -> None:
        self.add("wrong_dims", count)

    def wrong_count(self, count: int = 1) -> None:
        self.add("wrong_count", count)

    def bad_index(self, count: int = 1) -> None:
        self.add("bad_index", count)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
        self.too_long_marker = TOO_LONG_MARKER
        self.require_key = None

    def take(self) -> dict[str, Any] | None:
        with self._lock:
            if not self._queue:
                return None
            fault = self._queue[0]
            fault["count"] -= 1
            if fault["count"] <= 0:
                self._queue.pop(0)
            return dict(fault)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real providers
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    # -- plumbing --------------------------------------------------------
    def _send(self, code: int, payload: Any, headers: dict[str, str] | None = None,
              raw: bytes | None = None) -> None:
        body = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        if self.path in ("/", "/api/version", "/health"):
            self._send(200, {"version": "fake"})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        provider = {
            "/v1/embeddings": "openai",
            "/openai/v1/embeddings": "openai",
            "/embeddings": "openai",
            "/api/embed": "ollama",
            "/ollama/api/embed": "ollama",
            "/voyage/v1/embeddings": "voyage",
        }.get(path)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        record = {
            "provider": provider,
            "path": path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
            "time": time.monotonic(),
            "size": len(raw),
            "client_port": self.client_address[1],
        }
        fake._record(record)
        if provider is None:
            self._send(404, {"error": f"no such endpoint {path}"})
            return
        if body is None or not isinstance(body, dict):
            self._error(provider, 400, "could not parse JSON body")
            return

        key = fake.faults.require_key
        if key is not None:
            auth = self.headers.get("Authorization", "")
            given = auth[7:] if auth.startswith("Bearer ") else ""
            if given != key:
                # like OpenAI, echo what was given (clients must redact it)
                self._error(provider, 401, f"Incorrect API key provided: {given or '(none)'}")
                return

        fault = fake.faults.take()
        if fault and fault["kind"] == "hang":
            time.sleep(fault["seconds"])
            fault = None
        if fault and fault["kind"] == "status":
            headers = {}
            if fault.get("retry_after") is not None:
                headers["Retry-After"] = str(fault["retry_after"])
            code = fault["code"]
            msg = fault.get("message") or ("Rate limit reached" if code == 429 else f"fake error {code}")
            self._error(provider, code, msg, headers)
            return
        if fault and fault["kind"] == "malformed":
            self._send(200, None, raw=b'{"data": [{"index": 0, "embedding": "AAAA')
            return
        handler = {"openai": self._openai, "ollama": self._ollama, "voyage": self._voyage}[provider]
        handler(body, fault)

    def _error(self, provider: str, code: int, message: str,
               headers: dict[str, str] | None = None) -> None:
        if provider == "ollama":
            payload: Any = {"error": message}
        elif provider == "voyage":
            payload = {"detail": message}
        else:
            payload = {"error": {"message": message, "type": "invalid_request_error",
                                 "param": None, "code": None}}
        self._send(code, payload, headers)

    def _inputs(self, provider: str, body: dict[str, Any]) -> list[str] | None:
        inp = body.get("input")
        if isinstance(inp, str):
            inp = [inp]
        if not isinstance(inp, list) or not inp or not all(isinstance(t, str) for t in inp):
            self._error(provider, 400, "'input' must be a string or a non-empty list of strings")
            return None
        if not isinstance(body.get("model"), str):
            self._error(provider, 400, "'model' is required")
            return None
        return inp

    def _too_long(self, inputs: list[str]) -> int | None:
        marker = self.server.fake.faults.too_long_marker
        if marker:
            for i, t in enumerate(inputs):
                if marker in t:
                    return i
        return None

    def _vectors(self, model: str, inputs: list[str], dims: int,
                 fault: dict[str, Any] | None) -> list[bytes]:
        fast = self.server.fake.fast
        vecs = [vector_bytes(model, t, dims, fast) for t in inputs]
        if fault and fault["kind"] == "wrong_dims":
            vecs = [v[:-4] for v in vecs]
        if fault and fault["kind"] == "wrong_count":
            vecs = vecs[:-1] if len(vecs) > 1 else vecs + vecs
        return vecs

    # -- providers -------------------------------------------------------
    def _openai(self, body: dict[str, Any], fault: dict[str, Any] | None) -> None:
        inputs = self._inputs("openai", body)
        if inputs is None:
            return
        model = body["model"]
        if len(inputs) > 2048:
            self._error("openai", 400, "'$.input' is invalid: at most 2048 inputs per request")
            return
        dims = model_dims(model)
        if "dimensions" in body:
            if model in FIXED_DIM_MODELS:
                self._error("openai", 400, "This model does not support specifying dimensions.")
                return
            dims = int(body["dimensions"])
        bad = self._too_long(inputs)
        if bad is not None:
            self._error("openai", 400,
                        f"Invalid 'input[{bad}]': maximum input length is 8192 tokens.")
            return
        vecs = self._vectors(model, inputs, dims, fault)
        b64 = body.get("encoding_format") == "base64"
        data = []
        for i, v in enumerate(vecs):
            index = i
            if fault and fault["kind"] == "bad_index":
                index = 0
            emb: Any = base64.b64encode(v).decode() if b64 else list(array.array("f", v))
            data.append({"object": "embedding", "index": index, "embedding": emb})
        if len(data) > 1:
            data.reverse()  # indexes, not order, carry the mapping
        self._send(200, {"object": "list", "data": data, "model": model,
                         "usage": {"prompt_tokens": 1, "total_tokens": 1}})

    def _ollama(self, body: dict[str, Any], fault: dict[str, Any] | None) -> None:
        inputs = self._inputs("ollama", body)
        if inputs is None:
            return
        model = body["model"]
        dims = int(body.get("dimensions") or model_dims(model))
        if body.get("truncate", True) is False and self._too_long(inputs) is not None:
            self._error("ollama", 400, "the input length exceeds the context length")
            return
        vecs = self._vectors(model, inputs, dims, fault)
        self._send(200, {"model": model,
                         "embeddings": [list(array.array("f", v)) for v in vecs],
                         "total_duration": 1000, "load_duration": 10,
                         "prompt_eval_count": len(inputs)})

    def _voyage(self, body: dict[str, Any], fault: dict[str, Any] | None) -> None:
        inputs = self._inputs("voyage", body)
        if inputs is None:
            return
        model = body["model"]
        if len(inputs) > 1000:
            self._error("voyage", 400, "The batch size limit is 1000.")
            return
        it = body.get("input_type")
        if it not in (None, "query", "document"):
            self._error("voyage", 400, "input_type must be query, document or null")
            return
        dims = int(body.get("output_dimension") or model_dims(model))
        bad = self._too_long(inputs)
        if bad is not None and body.get("truncation", True) is False:
            self._error("voyage", 400,
                        f"Request to model '{model}' failed. The example at index {bad} in your "
                        "batch has too many tokens and does not fit into the model's context "
                        "window of 32000 tokens. Please lower the number of tokens in the "
                        "listed example(s) or use truncation.")
            return
        # Voyage prepends a prompt for input_type: vectors differ by it
        prefix = {"query": "query: ", "document": "document: "}.get(it or "", "")
        vecs = self._vectors(model, [prefix + t for t in inputs], dims, fault)
        b64 = body.get("encoding_format") == "base64"
        data = []
        for i, v in enumerate(vecs):
            index = 0 if fault and fault["kind"] == "bad_index" else i
            emb: Any = base64.b64encode(v).decode() if b64 else list(array.array("f", v))
            data.append({"object": "embedding", "embedding": emb, "index": index})
        self._send(200, {"object": "list", "data": data, "model": model,
                         "usage": {"total_tokens": 1}})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeProviders

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that gave up (timeout, cancel) while we hung is expected
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
            return
        super().handle_error(request, client_address)


class FakeProviders:
    """The fake servers; a context manager that serves on a thread."""

    def __init__(self, port: int = 0, fast: bool = False, record: bool = True) -> None:
        self.fast = fast
        self.record = record
        self.faults = Faults()
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = _Server((HOST, port), _Handler)
        self._server.fake = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def openai_url(self) -> str:
        return self.url + "/v1"

    @property
    def ollama_url(self) -> str:
        return self.url

    @property
    def voyage_url(self) -> str:
        return self.url + "/voyage/v1"

    def expected(self, model: str, text: str, dims: int | None = None,
                 input_type: str | None = None) -> tuple[float, ...]:
        """The vector this server returns for `text` (Voyage: pass input_type)."""
        d = dims or model_dims(model)
        prefix = {"query": "query: ", "document": "document: "}.get(input_type or "", "")
        if self.fast:
            return fast_embedding(model, prefix + text, d)
        return embedding(model, prefix + text, d)

    def _record(self, rec: dict[str, Any]) -> None:
        if self.record:
            with self._lock:
                self.requests.append(rec)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
        self.faults.clear()

    def start(self) -> FakeProviders:
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeProviders:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    ap.add_argument("--fast", action="store_true", help="cheap vectors, no request log (benchmarks)")
    ap.add_argument("--require-key", default=None, help="answer 401 unless this Bearer key is sent")
    args = ap.parse_args(argv)
    fake = FakeProviders(port=args.port, fast=args.fast, record=not args.fast)
    fake.faults.require_key = args.require_key
    print(fake.url, flush=True)
    try:
        fake._server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        fake._server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
