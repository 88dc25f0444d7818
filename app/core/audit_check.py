"""Checking an audit trail: the first row that is not as it was written (the hash recipe
and what it proves: app.core.audit)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.core.audit import GENESIS, ROW_COLUMNS, row_hash


@dataclass(frozen=True)
class Break:
    """Where the trail stops being what was written: the first row found changed or missing."""

    kind: str  # "changed", "removed", "removed_last" or "unsealed"
    event_id: int  # the row found changed, or the first one that is missing
    message: str


@dataclass(frozen=True)
class Verdict:
    rows: int  # how many rows were checked
    last_id: int  # the newest row's id (0 with none)
    broken: Break | None  # None: intact

    @property
    def intact(self) -> bool:
        return self.broken is None

    def to_json(self) -> dict[str, Any]:
        broken = self.broken
        return {
            "intact": broken is None,
            "rows": self.rows,
            "last_id": self.last_id,
            "first_bad_id": broken.event_id if broken else None,
            "problem": broken.kind if broken else None,
            "message": broken.message if broken else f"all {self.rows} rows are as written",
        }


def verify(rows: Iterable[Sequence[Any]], highest_id_issued: int) -> Verdict:
    """Check rows of (*ROW_COLUMNS, prev_hash, hash) in id order, from the trail's first row.

    Ids are checked to follow each other from 1: SQLite's AUTOINCREMENT leaves no gap (a
    rolled-back insert rolls its counter back too), so a gap is rows removed even when a
    later row was chained on to what was left. ``highest_id_issued`` is that counter, so
    that removing the newest rows shows too. Stops at the first row not as written.
    """
    expected_prev, expected_id, count, last_id = GENESIS, 1, 0, 0
    for row in rows:
        content, prev_hash, stored = row[: len(ROW_COLUMNS)], row[-2], row[-1]
        event_id = int(content[0])
        if stored is None:
            return Verdict(count, last_id, Break("unsealed", event_id, _unsealed(event_id)))
        sealed_as_written = _sealed_as_written(content, prev_hash, stored)
        if prev_hash != expected_prev and sealed_as_written:
            return Verdict(count, last_id, _broken_link(expected_id, event_id))
        if not sealed_as_written:
            return Verdict(count, last_id, Break("changed", event_id, _changed(event_id)))
        if event_id != expected_id:  # linked on to what was left after rows were removed
            return Verdict(count, last_id, _gap(expected_id, event_id))
        expected_prev, expected_id, count, last_id = stored, event_id + 1, count + 1, event_id
    if highest_id_issued > last_id:
        first_missing = last_id + 1
        span = f"#{first_missing}" if first_missing == highest_id_issued else (
            f"#{first_missing} to #{highest_id_issued}")  # fmt: skip
        message = f"the newest rows were removed: {span} were written and are gone"
        return Verdict(count, last_id, Break("removed_last", first_missing, message))
    return Verdict(count, last_id, None)


def _sealed_as_written(content: Sequence[Any], prev_hash: Any, stored: Any) -> bool:
    """Whether the row still matches its hash; a value no row of ours can hold (bytes, say)
    cannot, and is a change like any other rather than a crash of the check."""
    try:
        return row_hash(content, prev_hash) == stored
    except (TypeError, ValueError):
        return False


def _gap(first_missing: int, event_id: int) -> Break:
    last_missing = event_id - 1
    span = (f"row #{first_missing} was" if first_missing == last_missing
            else f"rows #{first_missing} to #{last_missing} were")  # fmt: skip
    return Break("removed", first_missing, f"{span} removed, and the trail went on without "
                 "them: the rows after were chained to what was left")  # fmt: skip


def _changed(event_id: int) -> str:
    return f"row #{event_id} was changed after it was written: it no longer matches its hash"


def _broken_link(first_expected: int, event_id: int) -> Break:
    """``event_id`` does not point to the row before it: rows went, or that row changed."""
    before = event_id - 1
    if before < 1:
        return Break("changed", event_id, _changed(event_id))
    if event_id <= first_expected:  # no row is missing: the one before was rewritten whole
        return Break("changed", before, f"row #{before} was changed after it was written, "
                     f"its hash too: #{event_id} no longer points to it")  # fmt: skip
    last_missing = event_id - 1
    if first_expected == last_missing:
        return Break("removed", first_expected, f"row #{first_expected} was removed: "
                     f"#{event_id} points to a row that is not there")  # fmt: skip
    return Break("removed", first_expected, f"rows #{first_expected} to #{last_missing} were "
                 f"removed: #{event_id} points to a row that is not there")  # fmt: skip


def _unsealed(event_id: int) -> str:
    return f"row #{event_id} has no hash: it was added by something other than Agentry"
