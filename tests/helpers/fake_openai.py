"""A tiny OpenAI Responses-API server that drives the real Codex CLI offline in tests.

Stdlib only. Codex, given a model provider whose ``base_url`` points here (see
``codex_home``), sends each turn as ``POST /v1/responses`` and reads an SSE stream:
``response.created``, ``response.output_item.added``/``.done`` per output item, then
``response.completed`` with usage. Scripted replies answer the turns in order: a
``function_call`` (e.g. ``exec_command`` with ``{"cmd": …}``, which Codex runs, sending
its ``function_call_output`` next turn) or an assistant message. Bodies are kept in
``requests``; ``GET …/models`` gets an empty list.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from helpers.scripted_server import ScriptedServer

MODEL = "gpt-5.5"  # a model Codex knows, so it prints no "model metadata not found" notice
_ids = itertools.count(1)


@dataclass(frozen=True)
class Reply:
    """A message or a function call; with ``status`` other than 200, that HTTP error
    instead, with ``error`` as the JSON body and ``headers`` added."""

    text: str = ""
    call: tuple[str, dict[str, Any]] | None = None
    status: int = 200
    error: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def item(self) -> dict[str, Any]:
        n = next(_ids)
        if self.call:
            return {"type": "function_call", "id": f"fc_{n}", "call_id": f"call_{n}",
                    "name": self.call[0], "arguments": json.dumps(self.call[1]),
                    "status": "completed"}  # fmt: skip
        content = [{"type": "output_text", "text": self.text, "annotations": []}]
        return {"type": "message", "id": f"msg_{n}", "role": "assistant",
                "status": "completed", "content": content}  # fmt: skip


def text(s: str) -> Reply:
    return Reply(text=s)


def call(name: str, args: dict[str, Any]) -> Reply:
    return Reply(call=(name, args))


def usage_limit(resets_at: int, resets_in_seconds: int, plan_type: str = "plus") -> Reply:
    """HTTP 429 with the ChatGPT backend's ``usage_limit_reached`` body (AGENT-CLIS.md)."""
    body = {"error": {"type": "usage_limit_reached", "message": "The usage limit has been reached",
                      "plan_type": plan_type, "resets_at": resets_at,
                      "resets_in_seconds": resets_in_seconds}}  # fmt: skip
    return Reply(status=429, error=body)


def rate_limited(retry_after_s: int = 1) -> Reply:
    """HTTP 429 ``rate_limit_exceeded``, as the OpenAI API answers a too-fast client."""
    message = "Rate limit reached for requests. Please try again in 1s."
    body = {"error": {"type": "requests", "code": "rate_limit_exceeded", "param": None,
                      "message": message}}  # fmt: skip
    return Reply(status=429, error=body, headers=(("retry-after", str(retry_after_s)),))


def tool_outputs(body: dict[str, Any]) -> list[str]:
    """The ``function_call_output`` texts of a request: what Codex tells the model."""
    found = []
    for item in body.get("input", []):
        if isinstance(item, dict) and item.get("type") == "function_call_output":
            output = item.get("output")
            found.append(output if isinstance(output, str) else json.dumps(output))
    return found


def _sse(event: str, payload: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps({'type': event, **payload})}\n\n".encode()


class FakeOpenAI(ScriptedServer[Reply]):
    leaky_prefixes = ("OPENAI_", "CODEX_", "AZURE_OPENAI")

    def __init__(self, script: list[Reply]) -> None:
        super().__init__(script, text("(script exhausted)"))

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    def stream(self, reply: Reply) -> bytes:
        item = reply.item()
        rid = f"resp_{next(_ids)}"
        usage = {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 0},
                 "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 0},
                 "total_tokens": 15}  # fmt: skip
        done = {"id": rid, "object": "response", "status": "completed", "output": [item],
                "usage": usage}  # fmt: skip
        return b"".join([
            _sse("response.created", {"response": {"id": rid}}),
            _sse("response.output_item.added", {"output_index": 0, "item": item}),
            _sse("response.output_item.done", {"output_index": 0, "item": item}),
            _sse("response.completed", {"response": done}),
        ])  # fmt: skip

    def codex_home(self, home: Path) -> Path:
        """A user's home whose Codex uses this server as its model provider."""
        codex = home / ".codex"
        codex.mkdir(parents=True, exist_ok=True)
        (codex / "config.toml").write_text(
            'model_provider = "fake"\n\n[model_providers.fake]\nname = "fake"\n'
            f'base_url = "{self.url}/v1"\nwire_api = "responses"\nenv_key = "FAKE_OPENAI_KEY"\n',
            encoding="utf-8",
        )
        return home

    def child_env(self, home: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` without inherited OpenAI/Codex/proxy variables; HOME and CODEX_HOME here."""
        return {**self.clean_env(base), "HOME": str(home), "CODEX_HOME": str(home / ".codex"),
                "FAKE_OPENAI_KEY": "test-key"}  # fmt: skip


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, data: bytes, content_type: str,
                  headers: tuple[tuple[str, str], ...] = ()) -> None:  # fmt: skip
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            found = self.path.split("?")[0].rstrip("/").endswith("/models")
            payload = json.dumps({"object": "list", "data": []}).encode()
            self._send(200 if found else 404, payload, "application/json")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not self.path.split("?")[0].rstrip("/").endswith("/responses"):
                self._send(404, b"{}", "application/json")
                return
            reply = fake.reply_for(json.loads(raw or b"{}"))
            if reply.status != 200:
                self._send(reply.status, json.dumps(reply.error or {}).encode(),
                           "application/json", reply.headers)  # fmt: skip
                return
            self._send(200, fake.stream(reply), "text/event-stream")

    return Handler
