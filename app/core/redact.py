"""Taking prompts, agents' output and secrets out of what a person sends to someone else.

An exported diagnostics zip goes to a stranger. By default nothing anyone typed for an
agent, nothing an agent printed, and no secret survives in it: named private texts (the
prompts and messages the database knows) are replaced wherever they appear; values under
keys that name a secret are replaced; URLs lose their user, password and query string.
Each replacement reads ``[redacted]`` so the reader sees that something was there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MARK = "[redacted]"
SECRET_KEY = re.compile(r"secret|token|key|password|passwd|auth|credential", re.IGNORECASE)
"""A setting or field whose name says it holds a secret (``webhook_secret``, ``api_key``)."""
PRIVATE_KEY = re.compile(
    r"^(prompt|message|input|env|argv|title|text|output|shell_command|notes|said)$", re.IGNORECASE
)
"""A field that holds what a person or an agent wrote."""
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/\s@]+@", re.IGNORECASE)
_URL_QUERY = re.compile(r"(?P<url>[a-z][a-z0-9+.-]*://[^\s?#\"']+)\?[^\s#\"']*", re.IGNORECASE)
_SECRET_ASSIGNMENT = re.compile(
    r"(?P<name>\b[\w-]*(?:secret|token|password|api[_-]?key)[\w-]*\b\s*[=:]\s*)"
    r"(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;&\"']+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<name>\bBearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
SHORTEST = 4  # shorter private texts ("ok", "y") would redact half of every log


class Redactor:
    """Scrubs texts and JSON values; with ``keep_private`` it changes nothing."""

    def __init__(self, private: Iterable[str] = (), *, keep_private: bool = False) -> None:
        self.keep_private = keep_private
        texts = {t for text in private for t in _pieces(text)}
        ordered = sorted(texts, key=len, reverse=True)  # a prompt before the lines within it
        self._private = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def text(self, text: str) -> str:
        if self.keep_private:
            return text
        if self._private is not None:
            text = self._private.sub(MARK, text)
        return secrets_out(text)

    def strings(self, value: Any) -> Any:
        """A JSON value with every string in it scrubbed as :meth:`text` does, whatever its
        key (a report whose fields are ours, e.g. the health checks' titles)."""
        if self.keep_private:
            return value
        if isinstance(value, dict):
            return {k: self.strings(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.strings(v) for v in value]
        return self.text(value) if isinstance(value, str) else value

    def value(self, value: Any, key: str = "") -> Any:
        """A JSON value with private fields and secrets replaced (recursively)."""
        if self.keep_private:
            return value
        if value and isinstance(value, str | dict | list) and _private_key(key):
            return MARK
        if isinstance(value, dict):
            return {k: self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value


def _private_key(key: str) -> bool:
    return bool(key) and bool(SECRET_KEY.search(key) or PRIVATE_KEY.match(key))


def secrets_out(text: str) -> str:
    """URLs without their user, password and query; ``token=…``-like values; bearer tokens."""
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{MARK}@", text)
    text = _URL_QUERY.sub(lambda m: f"{m['url']}?{MARK}", text)
    text = _SECRET_ASSIGNMENT.sub(lambda m: f"{m['name']}{MARK}", text)
    return _BEARER.sub(lambda m: f"{m['name']}{MARK}", text)


def _pieces(text: str) -> list[str]:
    """The text itself and each of its longer lines: a log quotes one line of a prompt."""
    pieces = [text.strip(), *(line.strip() for line in text.splitlines())]
    return [p for p in pieces if len(p) >= SHORTEST]
