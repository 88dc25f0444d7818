"""A webhook receiver on 127.0.0.1 for the notification tests: answers each POST from a
script (a status, a status with Retry-After, or a hang), and keeps every request."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass(frozen=True)
class Reply:
    status: int = 200
    hang_s: float = 0.0  # wait this long before answering (longer than the timeout: a hang)
    retry_after: str | None = None
    location: str | None = None  # a redirect's target


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def key(self) -> str:
        return self.headers["Idempotency-Key"]


@dataclass
class WebhookServer:
    script: list[Reply] = field(default_factory=list)  # then 200 for everything
    port: int = 0
    received: list[Received] = field(default_factory=list)  # answered (or given up on)
    arrived: list[str] = field(default_factory=list)  # each request's key as it came in
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Self:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with server._lock:
                    server.arrived.append(self.headers.get("Idempotency-Key", ""))
                    reply = server.script.pop(0) if server.script else Reply()
                if reply.hang_s:
                    time.sleep(reply.hang_s)
                try:
                    self.send_response(reply.status)
                    if reply.retry_after is not None:
                        self.send_header("Retry-After", reply.retry_after)
                    if reply.location is not None:
                        self.send_header("Location", reply.location)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the client gave up waiting
                with server._lock:
                    server.received.append(
                        Received(self.path, dict(self.headers.items()), body, reply.status)
                    )

            def do_GET(self) -> None:  # what a POST that followed a redirect would become
                with server._lock:
                    server.received.append(Received(self.path, dict(self.headers.items()),
                                                    b"", 200))  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def requests(self) -> list[Received]:
        with self._lock:
            return list(self.received)


def free_port() -> int:
    """A port nothing listens on now (a server that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
