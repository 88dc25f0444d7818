"""The audit trail's hash recipe and the check over a chain of rows (app.core.audit)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from app.core import audit, audit_check


def _chain(n: int) -> list[list[Any]]:
    rows, prev = [], audit.GENESIS
    for i in range(1, n + 1):
        content = [i, 1_800_000_000.25 + i, "run_state", 7, i, "queued", "running",
                   json.dumps({"n": i, "é": "ü"})]  # fmt: skip
        digest = audit.row_hash(content, prev)
        rows.append([*content, prev, digest])
        prev = digest
    return rows


def test_the_hash_is_sha256_of_the_documented_compact_json() -> None:
    content = [3, 1.5, "approval", None, 9, "pending", "denied", '{"by": "cli"}']
    text = '[3,1.5,"approval",null,9,"pending","denied","{\\"by\\": \\"cli\\"}","' + "a" * 64 + '"]'
    assert audit.row_hash(content, "a" * 64) == hashlib.sha256(text.encode()).hexdigest()


def test_an_intact_chain_and_an_empty_one_verify() -> None:
    verdict = audit_check.verify(_chain(5), highest_id_issued=5)
    assert verdict.intact and (verdict.rows, verdict.last_id) == (5, 5)
    assert (
        audit_check.verify([], highest_id_issued=0).to_json()["message"]
        == "all 0 rows are as written"
    )


def test_a_changed_value_is_found_at_its_row() -> None:
    rows = _chain(5)
    rows[2][6] = "succeeded"
    broken = audit_check.verify(rows, 5).broken
    assert broken is not None and (broken.kind, broken.event_id) == ("changed", 3)


def test_a_changed_time_by_a_millionth_of_a_second_is_found() -> None:
    rows = _chain(3)
    rows[0][1] += 1e-6
    broken = audit_check.verify(rows, 3).broken
    assert broken is not None and (broken.kind, broken.event_id) == ("changed", 1)


def test_removed_rows_at_the_start_in_the_middle_and_at_the_end() -> None:
    first = audit_check.verify(_chain(4)[1:], 4).broken
    assert first is not None and (first.kind, first.event_id) == ("removed", 1)
    middle = _chain(6)
    del middle[2:4]
    gap = audit_check.verify(middle, 6).broken
    assert gap is not None and (gap.kind, gap.event_id) == ("removed", 3)
    assert gap.message == "rows #3 to #4 were removed: #5 points to a row that is not there"
    last = audit_check.verify(_chain(6)[:-1], 6).broken
    assert last is not None and (last.kind, last.event_id) == ("removed_last", 6)
    assert last.message == "the newest rows were removed: #6 were written and are gone"


def test_a_row_rewritten_with_a_fresh_hash_is_found_by_the_next_row() -> None:
    rows = _chain(4)
    rows[1][7] = '{"forged": 1}'
    rows[1][9] = audit.row_hash(rows[1][:8], rows[1][8])
    broken = audit_check.verify(rows, 4).broken
    assert broken is not None and (broken.kind, broken.event_id) == ("changed", 2)
    assert broken.message.endswith("#3 no longer points to it")


def test_a_first_row_with_a_forged_link_and_hash_is_changed_not_a_removal() -> None:
    rows = _chain(2)
    rows[0][8] = "b" * 64
    rows[0][9] = audit.row_hash(rows[0][:8], rows[0][8])
    broken = audit_check.verify(rows, 2).broken
    assert broken is not None and (broken.kind, broken.event_id) == ("changed", 1)


def test_a_row_without_a_hash_is_unsealed() -> None:
    rows = _chain(2)
    rows.append([3, 1.0, "run_state", None, None, None, None, None, None, None])
    broken = audit_check.verify(rows, 3).broken
    assert broken is not None and (broken.kind, broken.event_id) == ("unsealed", 3)
    assert audit_check.verify(rows, 3).to_json()["first_bad_id"] == 3
