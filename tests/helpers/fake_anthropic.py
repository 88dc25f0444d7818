"""A tiny Anthropic Messages-API server that drives the real Claude Code CLI offline in tests.

Stdlib only. Scripted `Reply` objects answer the *main* conversation requests in order; a
callable script gets each main request body and returns the reply. Any other request is
answered harmlessly so the CLI never hangs:

- `POST /v1/messages` that is a *side request* (see `is_side_request`) goes to `side`
  (default: the text "ok") and does not consume the script;
- `POST /v1/messages/count_tokens` gets `{"input_tokens": N}`;
- anything else (`HEAD /`, `GET /v1/models`, event logging, ...) gets `200 {}`.

Every path requested is kept in `paths` ("METHOD /path"), every `/v1/messages` body in
`requests`.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SIDE_TEXT = "ok"
_ids = itertools.count(1)
# Inherited variables that would point the CLI elsewhere or change its auth/provider.
_LEAKY_PREFIXES = ("ANTHROPIC_", "CLAUDE_CODE_", "CLAUDE_CONFIG_DIR", "AWS_BEARER_TOKEN_BEDROCK")
_LEAKY_NAMES = (
    "CLAUDECODE",  # set by Claude Code in its child shells
    "AI_AGENT",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@dataclass(frozen=True)
class Reply:
    """One assistant message: optional text, then an optional tool call.

    `status` other than 200 makes the server answer with an API error of `error_type`
    instead (e.g. 500 "api_error", 529 "overloaded_error", 401 "authentication_error"),
    with `error_message` (default "fake STATUS") and the extra response `headers`.
    """

    text: str = ""
    tool_use: tuple[str, dict[str, Any]] | None = None
    input_tokens: int = 10
    output_tokens: int = 5
    status: int = 200
    error_type: str = "api_error"
    error_message: str = ""
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def stop_reason(self) -> str:
        return "tool_use" if self.tool_use else "end_turn"


def text(s: str) -> Reply:
    return Reply(text=s)


def tool(name: str, input: dict[str, Any]) -> Reply:
    return Reply(tool_use=(name, input))


def error(status: int = 500, error_type: str = "api_error") -> Reply:
    return Reply(status=status, error_type=error_type)


def rate_limited(
    retry_after_s: int = 1, reset_at: int | None = None, claim: str = "five_hour"
) -> Reply:
    """HTTP 429 ``rate_limit_error`` with the headers the real API sends with one.

    ``retry-after`` (seconds) is what the CLI waits before a retry; ``reset_at`` (epoch
    seconds) fills the ``anthropic-ratelimit-unified-*`` headers a plan's limit carries
    (``claim``: which window ran out, "five_hour" or "seven_day"), and the per-API-key
    ``anthropic-ratelimit-requests-*`` ones.
    """
    headers = [("retry-after", str(retry_after_s))]
    if reset_at is not None:
        iso = datetime.fromtimestamp(reset_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        headers += [
            ("anthropic-ratelimit-unified-status", "rejected"),
            ("anthropic-ratelimit-unified-reset", str(reset_at)),
            ("anthropic-ratelimit-unified-representative-claim", claim),
            (
                "anthropic-ratelimit-unified-5h-status",
                "rejected" if claim == "five_hour" else "allowed",
            ),
            ("anthropic-ratelimit-unified-5h-reset", str(reset_at)),
            (
                "anthropic-ratelimit-unified-7d-status",
                "rejected" if claim == "seven_day" else "allowed",
            ),
            ("anthropic-ratelimit-unified-7d-reset", str(reset_at)),
            ("anthropic-ratelimit-requests-limit", "50"),
            ("anthropic-ratelimit-requests-remaining", "0"),
            ("anthropic-ratelimit-requests-reset", iso),
        ]
    message = "This request would exceed your account's rate limit. Please try again later."
    return Reply(status=429, error_type="rate_limit_error", error_message=message,
                 headers=tuple(headers))  # fmt: skip


def overloaded() -> Reply:
    """HTTP 529 ``overloaded_error``, as the real API answers when it is overloaded."""
    return Reply(status=529, error_type="overloaded_error", error_message="Overloaded")


Script = list[Reply] | Callable[[dict[str, Any]], Reply]
Responder = Callable[[dict[str, Any]], Reply]


def is_side_request(body: dict[str, Any]) -> bool:
    """True for Claude Code's helper calls that are not part of the conversation.

    Seen with 2.1.197: every main-loop request carries a `tools` key (an empty list with
    `--tools ""`), streams, and uses the session model, even a haiku one. Side calls (the
    auto-mode safety classifier, seen; title generation and the like, read from the binary)
    go through a helper that sends no `tools` key, `thinking: {"type": "disabled"}`, no
    `stream`, and a small `max_tokens`; their model may be the main one, so the model name
    tells nothing.
    """
    return "tools" not in body


def last_tool_result(body: dict[str, Any]) -> dict[str, Any] | None:
    """The last `tool_result` block of the last user message, if it has one."""
    messages = body.get("messages") or []
    if not messages or messages[-1].get("role") != "user":
        return None
    content = messages[-1].get("content")
    if not isinstance(content, list):
        return None
    results = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
    return results[-1] if results else None


def tool_result_text(block: dict[str, Any]) -> str:
    content = block.get("content", "")
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content if isinstance(b, dict))


def _content_blocks(reply: Reply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.text or not reply.tool_use:
        blocks.append({"type": "text", "text": reply.text})
    if reply.tool_use:
        name, tool_input = reply.tool_use
        tool_id = f"toolu_fake{next(_ids):06d}"
        blocks.append({"type": "tool_use", "id": tool_id, "name": name, "input": tool_input})
    return blocks


def message_json(reply: Reply, model: str) -> dict[str, Any]:
    return {
        "id": f"msg_fake{next(_ids):06d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": _content_blocks(reply),
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
    }


def _block_events(index: int, block: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    start: dict[str, Any]
    if block["type"] == "text":
        start = {"type": "text", "text": ""}
        delta = {"type": "text_delta", "text": block["text"]}
    else:
        start = {**block, "input": {}}
        delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
    yield "content_block_start", {"index": index, "content_block": start}
    yield "content_block_delta", {"index": index, "delta": delta}
    yield "content_block_stop", {"index": index}


def sse_events(reply: Reply, model: str) -> Iterator[tuple[str, dict[str, Any]]]:
    message = message_json(reply, model)
    start = {**message, "content": [], "stop_reason": None}
    start["usage"] = {"input_tokens": reply.input_tokens, "output_tokens": 1}
    yield "message_start", {"message": start}
    for index, block in enumerate(message["content"]):
        yield from _block_events(index, block)
    delta = {"stop_reason": reply.stop_reason, "stop_sequence": None}
    yield "message_delta", {"delta": delta, "usage": {"output_tokens": reply.output_tokens}}
    yield "message_stop", {}


class FakeAnthropic:
    def __init__(self, script: Script | None = None, side: Responder | None = None) -> None:
        self.script: Script = script if script is not None else []
        self.side: Responder = side or (lambda _body: text(SIDE_TEXT))
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._next = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeAnthropic:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self, home: Path, *, allow_root_bypass: bool = True) -> dict[str, str]:
        """Variables that keep the CLI offline, pointed here, with its state under `home`.

        Only the first four are needed to run offline (no DNS look-up or connection except
        to this server was seen under strace); the rest turn off background features, make
        API errors fail at once instead of retrying with back-off, and pin the config folder
        so an inherited CLAUDE_CONFIG_DIR cannot leak in. `IS_SANDBOX=1` lets
        `--permission-mode bypassPermissions` run as root (it refuses otherwise).
        """
        env = {
            "ANTHROPIC_BASE_URL": self.url,
            "ANTHROPIC_API_KEY": "test-key",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "HOME": str(home),
            "CLAUDE_CONFIG_DIR": str(home / ".claude"),
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "CLAUDE_CODE_MAX_RETRIES": "0",
        }
        if allow_root_bypass:
            env["IS_SANDBOX"] = "1"
        return env

    def child_env(self, home: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """`base` (default os.environ) minus inherited Anthropic/Claude/proxy vars, plus env()."""
        source = os.environ if base is None else base
        kept = {
            k: v
            for k, v in source.items()
            if not k.startswith(_LEAKY_PREFIXES) and k not in _LEAKY_NAMES
        }
        return {**kept, **self.env(home)}

    # -- recorded traffic ------------------------------------------------------------------

    def main_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if not is_side_request(r)]

    def record(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        with self._lock:
            self.paths.append(f"{method} {path}")
            if body is not None:
                self.requests.append(body)
                self.headers.append(headers or {})

    def reply_for(self, body: dict[str, Any]) -> Reply:
        if is_side_request(body):
            return self.side(body)
        if callable(self.script):
            return self.script(body)
        with self._lock:
            index, self._next = self._next, self._next + 1
        if index < len(self.script):
            return self.script[index]
        return text("(fake: script exhausted)")


def _handler_for(fake: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        server_fake = fake

    return Handler


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeAnthropic
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(
        self,
        payload: dict[str, Any],
        status: int = 200,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", f"req_fake{next(_ids):06d}")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_HEAD(self) -> None:
        self.server_fake.record("HEAD", self.path, None)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self.server_fake.record("GET", self.path, None)
        if self.path.split("?")[0] == "/v1/models":
            self._send_json({"data": [], "has_more": False, "first_id": None, "last_id": None})
        else:
            self._send_json({})

    def do_POST(self) -> None:
        raw = self._body()
        path = self.path.split("?")[0]
        if path == "/v1/messages":
            body = json.loads(raw or b"{}")
            self.server_fake.record("POST", self.path, body, dict(self.headers.items()))
            self._messages(body)
        elif path == "/v1/messages/count_tokens":
            self.server_fake.record("POST", self.path, None)
            self._send_json({"input_tokens": max(1, len(raw) // 4)})
        else:
            self.server_fake.record("POST", self.path, None)
            self._send_json({})

    def _messages(self, body: dict[str, Any]) -> None:
        reply = self.server_fake.reply_for(body)
        model = str(body.get("model", "claude-fake"))
        if reply.status != 200:
            message = reply.error_message or f"fake {reply.status}"
            err = {"type": reply.error_type, "message": message}
            self._send_json({"type": "error", "error": err}, reply.status, reply.headers)
        elif body.get("stream"):
            self._stream(reply, model)
        else:
            self._send_json(message_json(reply, model))

    def _stream(self, reply: Reply, model: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        for event, data in sse_events(reply, model):
            chunk = f"event: {event}\ndata: {json.dumps({'type': event, **data})}\n\n"
            self.wfile.write(chunk.encode())
            self.wfile.flush()
        self.close_connection = True
