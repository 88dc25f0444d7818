"""The audit trail's hash chain: what a row's hash covers, and how a trail is checked.

Every row of the ``events`` table (state changes, approvals, checkpoint decisions, …) stores
the hash of the row before it (``prev_hash``) and its own ``hash``::

    hash = sha256(json.dumps([id, at, kind, task_id, run_id, old_state, new_state, detail,
                              prev_hash], separators=(",", ":"), ensure_ascii=False)
                  .encode("utf-8")).hexdigest()

``detail`` is the stored JSON text, as it is (``null`` when there is none); the first row's
``prev_hash`` is :data:`GENESIS`. Anyone can check an exported trail with that recipe.

A changed row no longer matches its own hash; a removed row leaves the next row pointing
at a hash that is not the one before it; removed last rows leave SQLite's AUTOINCREMENT
counter above the newest id. This makes changes *evident*: it is not a signature, and
someone who rewrites every later row and the counter too can hide a change.

Kept tiny and light: every process that changes state (``agentry run`` too) hashes. The
check of a trail is in app.core.audit_check.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Sequence
from typing import Any


def _builtin_sha256() -> Any:
    """CPython's own SHA-256 (the same digest): hashlib loads OpenSSL first, 3.8 ms of
    `agentry run`'s 60. Named by string: the module is ``_sha2`` from Python 3.12 on."""
    try:
        return importlib.import_module("_sha2" if sys.version_info >= (3, 12) else "_sha256").sha256
    except ImportError:  # a Python built without its own hashes
        import hashlib

        return hashlib.sha256


sha256 = _builtin_sha256()

GENESIS = "0" * 64
"""The ``prev_hash`` of the trail's first row."""

ROW_COLUMNS = ("id", "at", "kind", "task_id", "run_id", "old_state", "new_state", "detail")
"""The columns a row's hash covers, in the order it covers them (then ``prev_hash``)."""


def row_hash(content: Sequence[Any], prev_hash: str) -> str:
    """The hash of a row whose :data:`ROW_COLUMNS` values are ``content``."""
    text = json.dumps([*content, prev_hash], separators=(",", ":"), ensure_ascii=False)
    return str(sha256(text.encode("utf-8")).hexdigest())
