"""What the fake model servers share: a local HTTP server answering from a script."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Self, TypeVar

R = TypeVar("R")
PROXY_NAMES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


class ScriptedServer(Generic[R]):
    """Replies in ``script`` answer the model requests in order; then ``exhausted``."""

    # Inherited variables that would point the CLI elsewhere or change its auth.
    leaky_prefixes: tuple[str, ...] = ()

    def __init__(self, script: list[R], exhausted: R) -> None:
        self.script = script
        self.exhausted = exhausted
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reply_for(self, body: dict[str, Any]) -> R:
        with self._lock:
            self.requests.append(body)
            index = len(self.requests) - 1
        return self.script[index] if index < len(self.script) else self.exhausted

    def clean_env(self, base: Mapping[str, str] | None) -> dict[str, str]:
        """``base`` (default os.environ) without leaky variables and proxies."""
        source = os.environ if base is None else base
        return {k: v for k, v in source.items()
                if not k.startswith(self.leaky_prefixes) and k not in PROXY_NAMES}  # fmt: skip
