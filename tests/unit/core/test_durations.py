"""Durations as typed in the CLI and the dialogs, and as shown back."""

from __future__ import annotations

import pytest

from app.core.durations import DurationError, format_duration, format_elapsed, parse_duration


@pytest.mark.parametrize("seconds", [90.0, 1800.0, 5400.0, 14400.0, 3725.0])
def test_a_formatted_duration_parses_back_to_the_same_seconds(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("seconds", [0.0, None])
def test_no_limit_is_shown_as_none_and_read_back_as_zero(seconds: float | None) -> None:
    assert format_duration(seconds) == "none"
    assert parse_duration("none") == 0.0


def test_a_bad_duration_says_what_would_be_accepted() -> None:
    with pytest.raises(DurationError, match=r"use seconds \(90\), minutes \(30m\)"):
        parse_duration("soon")


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0, "0:00"), (42.9, "0:42"), (725, "12:05"), (11049, "3:04:09")]
)
def test_elapsed_time_reads_like_a_clock(seconds: float, shown: str) -> None:
    assert format_elapsed(seconds) == shown
