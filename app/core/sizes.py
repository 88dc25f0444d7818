"""Sizes as people type and read them: ``4G``, ``512M``, ``1.5GB``, ``none``."""

from __future__ import annotations

import re

from app.core.errors import AgentryError

_UNITS = {"": 1024**2, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}  # bare: MiB
_PATTERN = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?")
NO_LIMIT_WORDS = ("none", "0", "no limit", "")


class SizeError(AgentryError, ValueError):
    pass


def parse_size(text: str) -> int:
    """Bytes; 0 for "no limit". A bare number is MiB. SizeError with a message for a person."""
    value = text.strip().lower()
    if value in NO_LIMIT_WORDS:
        return 0
    found = _PATTERN.fullmatch(value)
    if found is None:
        raise SizeError(f"{text!r} is not a size; use e.g. 4G, 512M or 'none'")
    size = int(float(found[1]) * _UNITS[found[2]])
    if size < 16 * 1024**2:
        raise SizeError(f"{text!r} is too small a memory limit for an agent (at least 16M)")
    return size


def format_size(size: float) -> str:
    """ "4.2 GB", "512 MB" (binary units, as memory is counted)."""
    for unit, scale in (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{int(size)} B"
