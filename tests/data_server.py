"""A tiny local HTTP server that plays a download mirror in tests (no internet needed).

It serves the files of one folder on 127.0.0.1 (a free port) from a background thread, and can be
told to misbehave per file::

    with DataServer(folder) as mirror:
        mirror.corrupt("train-images-idx3-ubyte.gz")        # same length, a few bytes flipped
        mirror.cut_off("train-labels-idx1-ubyte.gz", 1000)   # promise the full length, send 1000 bytes
        mirror.fail("t10k-images-idx3-ubyte.gz", 404)        # answer with an HTTP error
        load_mnist(mirrors=[mirror.url], ...)
        mirror.requests                                      # file names asked for, in order

``dead_url()`` gives a mirror URL on which nothing listens (connection refused at once).
"""
from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class DataServer:
    """Serve ``root`` over HTTP on loopback, with optional per-file faults."""

    def __init__(self, root):
        self.root = Path(root)
        self.requests: list[str] = []
        self._faults: dict[str, tuple] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- faults -------------------------------------------------------------------------
    def corrupt(self, name: str) -> None:
        """Serve ``name`` with some bytes flipped, so its checksum no longer matches."""
        self._faults[name] = ("corrupt",)

    def cut_off(self, name: str, after: int) -> None:
        """Announce the full Content-Length but close the connection after ``after`` bytes."""
        self._faults[name] = ("cut", after)

    def fail(self, name: str | None = None, status: int = 404) -> None:
        """Answer requests for ``name`` (every file if None) with HTTP ``status``."""
        self._faults[name or "*"] = ("status", status)

    def reset(self) -> None:
        """Serve every file faithfully again."""
        self._faults.clear()

    # -- life cycle ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> "DataServer":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="DataServer", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> "DataServer":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    # -- request handling ---------------------------------------------------------------
    def _handler_class(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - name fixed by http.server
                name = self.path.rsplit("/", 1)[-1]
                owner.requests.append(name)
                owner._answer(self, name)

            def log_message(self, *_args):  # keep test output clean
                pass

        return Handler

    def _answer(self, handler: BaseHTTPRequestHandler, name: str) -> None:
        fault = self._faults.get(name) or self._faults.get("*") or ("ok",)
        path = self.root / name
        if fault[0] == "status":
            handler.send_error(fault[1])
            return
        if not name or not path.is_file():
            handler.send_error(404)
            return
        body = path.read_bytes()
        if fault[0] == "corrupt":
            body = _flip_bytes(body)
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if fault[0] == "cut":
            handler.wfile.write(body[: fault[1]])
            handler.wfile.flush()
            handler.close_connection = True  # the client sees the stream end early
            return
        handler.wfile.write(body)


def _flip_bytes(body: bytes) -> bytes:
    """Invert a handful of bytes spread through the body (its length stays the same)."""
    damaged = bytearray(body)
    for position in range(len(damaged) // 3, len(damaged), max(1, len(damaged) // 7)):
        damaged[position] ^= 0xFF
    return bytes(damaged)


def dead_url() -> str:
    """A loopback URL with no server behind it: the port was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
