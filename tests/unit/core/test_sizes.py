"""Memory sizes as people type them (app.core.sizes) and a task's memory limit in its spec."""

from __future__ import annotations

import pytest

from app.core.models import TaskSpec
from app.core.sizes import SizeError, format_size, parse_size

MB, GB = 1024**2, 1024**3


@pytest.mark.parametrize(
    ("text", "size"),
    [("4G", 4 * GB), ("4gb", 4 * GB), ("1.5GiB", int(1.5 * GB)), ("512M", 512 * MB),
     ("512", 512 * MB), ("none", 0), ("0", 0), ("", 0)],
)  # fmt: skip
def test_sizes_are_read_in_binary_units_and_none_is_no_limit(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["lots", "4X", "-1G", "1K"])
def test_a_size_that_cannot_be_a_memory_limit_says_how_to_write_one(text: str) -> None:
    with pytest.raises(SizeError, match=r"not a size|too small"):
        parse_size(text)


def test_sizes_are_written_as_people_read_them() -> None:
    assert [format_size(s) for s in (4.2 * GB, 96 * MB, 4 * GB, 1536, 12)] == [
        "4.2 GB", "96 MB", "4 GB", "1.5 KB", "12 B"
    ]  # fmt: skip


def test_a_tasks_memory_limit_goes_into_its_spec_and_none_means_settings() -> None:
    limited = TaskSpec(argv=("make",), cwd="/tmp", memory_limit_mb=4096.0)
    assert limited.to_json()["memory_limit_mb"] == 4096.0
    assert TaskSpec.from_json(limited.to_json()) == limited
    unlimited = TaskSpec(argv=("make",), cwd="/tmp", memory_limit_mb=0.0)
    assert TaskSpec.from_json(unlimited.to_json()).memory_limit_mb == 0.0  # none, whatever
    plain = TaskSpec(argv=("make",), cwd="/tmp")
    assert "memory_limit_mb" not in plain.to_json()
    assert TaskSpec.from_json({**plain.to_json(), "memory_limit_mb": "4G"}).memory_limit_mb is None
