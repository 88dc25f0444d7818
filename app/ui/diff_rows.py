"""One file's unified diff as rows to draw, with Pygments tokens for each row's code.

Pure (no Qt), so the parsing of hunks, the pairing of lines for the side-by-side view and
the lexing are tested on their own. Each side of a file (before, after) is lexed as one
text, hunk by hunk, so a token that spans lines (a docstring) is coloured as a whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_for_filename
from pygments.token import Token, _TokenType
from pygments.util import ClassNotFound

RowKind = Literal["header", "hunk", "context", "added", "removed", "note"]
MAX_ROWS = 5_000  # a longer diff is cut, with a note: drawing it would stall the UI
MAX_LEXED_CHARS = 400_000

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")

Tokens = tuple[tuple[_TokenType, str], ...]


@dataclass(frozen=True)
class Row:
    kind: RowKind
    text: str  # the code without its +/-/space marker (or the header/hunk line itself)
    old: int | None = None  # line number before the change
    new: int | None = None  # line number after it
    tokens: Tokens = ()

    @property
    def marker(self) -> str:
        return {"added": "+", "removed": "-", "context": " "}.get(self.kind, "")


def parse(diff: str, path: str, *, max_rows: int = MAX_ROWS) -> list[Row]:
    """Rows of one file's part of a unified diff, tokens filled in."""
    rows: list[Row] = []
    old = new = 0
    in_hunk = False
    lines = diff.splitlines()
    for line in lines[:max_rows]:
        match = _HUNK.match(line)
        if match:
            old, new, in_hunk = int(match[1]), int(match[3]), True
            rows.append(Row("hunk", line))
        elif in_hunk and line.startswith("+"):
            rows.append(Row("added", line[1:], new=new))
            new += 1
        elif in_hunk and line.startswith("-"):
            rows.append(Row("removed", line[1:], old=old))
            old += 1
        elif in_hunk and line.startswith(" "):
            rows.append(Row("context", line[1:], old=old, new=new))
            old, new = old + 1, new + 1
        elif in_hunk and line.startswith("\\"):
            rows.append(Row("note", line))
        elif not in_hunk:
            rows.append(Row("header", line))
        else:
            rows.append(Row("context", line, old=old, new=new))  # "" of an empty context line
            old, new = old + 1, new + 1
    if len(lines) > max_rows:
        rows.append(Row("note", f"… {len(lines) - max_rows} more lines not shown"))
    return with_tokens(rows, lexer_for(path))


def lexer_for(path: str) -> Lexer:
    try:
        return get_lexer_for_filename(path, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return TextLexer(stripnl=False, ensurenl=False)


def with_tokens(rows: list[Row], lexer: Lexer) -> list[Row]:
    """Each code row with the tokens its side's text lexes into."""
    before = [i for i, r in enumerate(rows) if r.kind in ("context", "removed")]
    after = [i for i, r in enumerate(rows) if r.kind in ("context", "added")]
    tokens: dict[int, Tokens] = {}
    for side in (after, before):  # context rows keep the tokens of the file after
        lexed = _lex_lines([rows[i].text for i in side], lexer)
        for index, line_tokens in zip(side, lexed, strict=True):
            tokens.setdefault(index, line_tokens)
    return [
        Row(r.kind, r.text, r.old, r.new, tokens.get(i, ((Token.Text, r.text),)))
        for i, r in enumerate(rows)
    ]


def _lex_lines(lines: list[str], lexer: Lexer) -> list[Tokens]:
    text = "\n".join(lines)
    if len(text) > MAX_LEXED_CHARS:
        return [((Token.Text, line),) for line in lines]
    found: list[list[tuple[_TokenType, str]]] = [[]]
    for kind, value in lexer.get_tokens(text):
        for n, piece in enumerate(value.split("\n")):
            if n:
                found.append([])
            if piece:
                found[-1].append((kind, piece))
    found += [[] for _ in range(len(lines) - len(found))]
    return [tuple(parts) for parts in found[: len(lines)]]


@dataclass(frozen=True)
class Pair:
    """One line of the side-by-side view: what was there, what is there (either may be None)."""

    left: Row | None
    right: Row | None


def side_by_side(rows: list[Row]) -> list[Pair]:
    """Removed lines beside the added lines that replaced them; context on both sides."""
    pairs: list[Pair] = []
    removed: list[Row] = []
    added: list[Row] = []

    def flush() -> None:
        for n in range(max(len(removed), len(added))):
            pairs.append(Pair(removed[n] if n < len(removed) else None,
                              added[n] if n < len(added) else None))  # fmt: skip
        removed.clear()
        added.clear()

    for row in rows:
        if row.kind == "removed":
            if added:
                flush()
            removed.append(row)
        elif row.kind == "added":
            added.append(row)
        else:
            flush()
            pairs.append(Pair(row, row))
    flush()
    return pairs
