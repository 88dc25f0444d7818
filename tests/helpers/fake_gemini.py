"""A tiny Gemini API server that drives the real Gemini CLI offline in tests.

Stdlib only. Gemini CLI with an API key (``security.auth.selectedType: gemini-api-key``)
and ``GOOGLE_GEMINI_BASE_URL`` pointed here sends each turn of the conversation as
``POST /v1beta/models/MODEL:streamGenerateContent?alt=sse``; scripted replies answer them
in order, as one SSE chunk each: a text, or a ``functionCall`` that makes the CLI run a
tool and send its ``functionResponse`` in the next request. ``countTokens`` gets a count,
any other request ``200 {}``. Every streamed request body is kept in ``requests``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from helpers.scripted_server import ScriptedServer

MODEL = "gemini-2.5-flash"  # a model the CLI knows, so it needs no model list from us


@dataclass(frozen=True)
class Reply:
    """A text or a function call; with ``status`` other than 200, that HTTP error instead,
    with ``error`` as the JSON body."""

    text: str = ""
    call: tuple[str, dict[str, Any]] | None = None
    status: int = 200
    error: dict[str, Any] | None = None

    def chunk(self) -> dict[str, Any]:
        part: dict[str, Any] = (
            {"functionCall": {"name": self.call[0], "args": self.call[1]}}
            if self.call
            else {"text": self.text}
        )
        return {
            "candidates": [
                {"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": {
                "promptTokenCount": 10,
                "candidatesTokenCount": 5,
                "totalTokenCount": 15,
            },
        }


def text(s: str) -> Reply:
    return Reply(text=s)


def call(name: str, args: dict[str, Any]) -> Reply:
    return Reply(call=(name, args))


QUOTA_DOCS = "https://ai.google.dev/gemini-api/docs/rate-limits"


def quota_exceeded(*, per_day: bool = True, retry_s: int = 1) -> Reply:
    """HTTP 429 RESOURCE_EXHAUSTED as the Gemini API answers a used-up quota.

    ``per_day``: the free tier's requests-per-day quota (resets at midnight Pacific);
    otherwise the per-minute one. ``retry_s`` fills the ``RetryInfo`` detail, which the
    API sends with a per-minute quota.
    """
    metric = "generate_content_free_tier_requests"
    quota_id = ("GenerateRequestsPerDayPerProjectPerModel-FreeTier" if per_day
                else "GenerateRequestsPerMinutePerProjectPerModel-FreeTier")  # fmt: skip
    limit = 250 if per_day else 10
    message = (
        "You exceeded your current quota, please check your plan and billing details. "
        f"For more information on this error, head to: {QUOTA_DOCS}.\n"
        f"* Quota exceeded for metric: generativelanguage.googleapis.com/{metric}, "
        f"limit: {limit}, model: {MODEL}\nPlease retry in {retry_s}s."
    )
    details: list[dict[str, Any]] = [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
         "violations": [{"quotaMetric": f"generativelanguage.googleapis.com/{metric}",
                         "quotaId": quota_id,
                         "quotaDimensions": {"location": "global", "model": MODEL},
                         "quotaValue": str(limit)}]},
        {"@type": "type.googleapis.com/google.rpc.Help",
         "links": [{"description": "Learn more about Gemini API quotas", "url": QUOTA_DOCS}]},
    ]  # fmt: skip
    if not per_day:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo",
                        "retryDelay": f"{retry_s}s"})  # fmt: skip
    body = {"error": {"code": 429, "message": message, "status": "RESOURCE_EXHAUSTED",
                      "details": details}}  # fmt: skip
    return Reply(status=429, error=body)


def function_responses(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``functionResponse`` parts of a request: what the CLI tells the model its tools did."""
    found = []
    for content in body.get("contents", []):
        for part in content.get("parts", []):
            if isinstance(part, dict) and "functionResponse" in part:
                found.append(part["functionResponse"])
    return found


class FakeGemini(ScriptedServer[Reply]):
    leaky_prefixes = ("GEMINI_", "GOOGLE_", "CLOUDSDK_")

    def __init__(self, script: list[Reply]) -> None:
        super().__init__(script, text("(script exhausted)"))

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    def child_env(self, home: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` without inherited Gemini/Google/proxy variables, pointed here, HOME=home.

        ``home/.gemini/settings.json`` must select API-key auth (see ``user_home``).
        """
        return {**self.clean_env(base), "HOME": str(home), "GEMINI_API_KEY": "test-key",
                "GOOGLE_GEMINI_BASE_URL": self.url, "NO_BROWSER": "1"}  # fmt: skip


def user_home(home: Path, trusted: list[Path]) -> Path:
    """A user's home whose Gemini CLI uses an API key and trusts the ``trusted`` folders."""
    gemini = home / ".gemini"
    gemini.mkdir(parents=True, exist_ok=True)
    (gemini / "settings.json").write_text(
        "// the user's own settings, comments and all\n"
        + json.dumps(
            {
                "security": {"auth": {"selectedType": "gemini-api-key"}},
                "general": {"disableAutoUpdate": True},
            }
        ),
        encoding="utf-8",
    )
    folders = {str(folder): "TRUST_FOLDER" for folder in trusted}
    (gemini / "trustedFolders.json").write_text(json.dumps(folders), encoding="utf-8")
    return home


def _handler_for(fake: FakeGemini) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send_json(self, payload: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._send_json({})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if ":countTokens" in self.path:
                self._send_json({"totalTokens": max(1, len(raw) // 4)})
                return
            if ":streamGenerateContent" not in self.path:
                self._send_json({})
                return
            reply = fake.reply_for(json.loads(raw or b"{}"))
            if reply.status != 200:
                self._send_json(reply.error or {}, reply.status)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"data: " + json.dumps(reply.chunk()).encode() + b"\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler
