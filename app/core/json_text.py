"""Indented JSON text, as ``json.dumps(data, indent=2)`` writes it, made fast for long lists
of records (``agentry list --json`` of 10,000 tasks).

The standard library writes indented JSON with its pure-Python encoder, a generator call
per token: 0.5 s for 10,000 task summaries. Its C encoder is used only without an indent,
but it accepts any item separator, and a raw newline never occurs inside encoded JSON
(strings escape theirs). So a whole column of a list of records — every record's title,
say — is encoded by one C call with a newline between the items and split apart again,
and each record is then one format of a template made of its keys. The text is the same,
character for character, as ``json.dumps(data, indent=2)``; anything else than a list of
records with the same keys in the same order is handed to it as is.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

_SCALARS = frozenset({str, int, float, bool, type(None)})
_FIELD = "    "  # a record's key, inside the list (indent 2, depth 2)
_NESTED = "      "  # an item of a list that is a record's value (depth 3)


def dumps_indented(data: Any) -> str:
    """``json.dumps(data, indent=2)``, in a few C calls per key for a list of records."""
    keys = _record_keys(data)
    if keys is None:
        return json.dumps(data, indent=2)
    columns = [_encode_column([record[key] for record in data]) for key in keys]
    template = (
        "  {\n"
        + ",\n".join(f"{_FIELD}{json.dumps(key).replace('%', '%%')}: %s" for key in keys)
        + "\n  }"
    )
    return "[\n" + ",\n".join(template % values for values in zip(*columns, strict=True)) + "\n]"


def _record_keys(data: Any) -> tuple[str, ...] | None:
    """The keys every record of ``data`` has, in the same order (None: not such a list)."""
    if type(data) is not list or not data or type(data[0]) is not dict:
        return None
    keys = tuple(data[0])
    if not keys or any(type(key) is not str for key in keys):
        return None
    if any(type(record) is not dict or tuple(record) != keys for record in data):
        return None
    return keys


def _encode_column(values: list[Any]) -> list[str]:
    """Each value's JSON text as it stands in an indented record."""
    if set(map(type, values)) <= _SCALARS:
        return json.dumps(values, separators=("\n", ": "))[1:-1].split("\n")
    if all(type(v) in (list, tuple) for v in values) and (
        set(map(type, itertools.chain.from_iterable(values))) <= _SCALARS
    ):
        return _encode_flat_lists(values)
    return [json.dumps(value, indent=2).replace("\n", "\n" + _FIELD) for value in values]


def _encode_flat_lists(values: list[Any]) -> list[str]:
    """Lists of scalars (a command's argv), each as an indented record's value. Between two
    of them stands ``],<newline>[``, which never occurs inside one (its items are scalars)."""
    separator = ",\n" + _NESTED
    pieces = json.dumps(values, separators=(separator, ": "))[2:-2].split("]" + separator + "[")
    return [f"[\n{_NESTED}{p}\n{_FIELD}]" if p else "[]" for p in pieces]
