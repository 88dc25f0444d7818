"""The fast indented JSON of ``--json`` output is json.dumps(indent=2), character for character."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from app.core.json_text import dumps_indented

_STRINGS = ["", "plain", 'with "quotes"', "a\nnew line", "],\n[", "é ✓ 🙂", "back\\slash", "%s %%"]


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 2 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.randrange(-(10**12), 10**12)
    if kind == 3:
        return rng.choice([0.1, 1733346000.123456, -2.5e-7, 1e300, float("inf")])
    if kind in (4, 5):
        return rng.choice(_STRINGS)
    if kind == 6:
        return [rng.choice([*_STRINGS, 1, None, 2.5]) for _ in range(rng.randrange(4))]
    if kind == 7:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {rng.choice(_STRINGS): _value(rng, depth + 1) for _ in range(rng.randrange(3))}


def _records(rng: random.Random, n: int) -> list[dict[str, Any]]:
    keys = ["id", "title", "argv", "waiting_for", "cost_usd", "%model"]
    return [{key: _value(rng) for key in keys} for _ in range(n)]


@pytest.mark.parametrize("seed", range(20))
def test_records_are_written_as_json_dumps_writes_them(seed: int) -> None:
    data = _records(random.Random(seed), 1 + seed * 3)
    assert dumps_indented(data) == json.dumps(data, indent=2)


@pytest.mark.parametrize(
    "data",
    [
        [],
        {},
        [{}],
        {"a": [1, {"b": None}]},
        [1, "two", None],
        [{"a": 1}, {"b": 1}],  # other keys: not records of one shape
        [{"a": 1, "b": 2}, {"b": 2, "a": 1}],  # the same keys in another order
        [{"a": []}, {"a": [[]]}],  # lists in lists
        [{"a": ("x", 1)}, {"a": ["y"]}],  # tuples are lists too
        [{"a": float("nan")}],
        [{1: "a"}],  # a key json.dumps turns into a string
    ],
)
def test_anything_else_is_written_as_json_dumps_writes_it(data: Any) -> None:
    assert dumps_indented(data) == json.dumps(data, indent=2)
