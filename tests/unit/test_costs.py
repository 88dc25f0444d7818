"""Costs as people read them: never "$0.00" for something that cost money."""

from __future__ import annotations

import pytest

from app.core.costs import format_cost


@pytest.mark.parametrize(
    ("usd", "text"),
    [
        (None, ""),
        (0.0, "$0.00"),
        (0.0005, "<$0.01"),
        (0.0099, "<$0.01"),
        (0.01, "$0.01"),
        (0.256, "$0.26"),
        (1234.5, "$1,234.50"),
    ],
)
def test_a_column_rounds_to_cents_but_says_when_less_than_one(usd: float | None, text: str):
    assert format_cost(usd) == text


@pytest.mark.parametrize(("usd", "text"), [(0.0005, "$0.0005"), (0.25, "$0.2500"), (3.5, "$3.50")])
def test_exact_keeps_four_places_below_a_dollar(usd: float, text: str) -> None:
    assert format_cost(usd, exact=True) == text
