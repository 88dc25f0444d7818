"""All SQL for approvals and approval rules. Decisions are exactly once:
``UPDATE … WHERE state = 'pending'`` and a check of how many rows changed."""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from typing import Any

from app.core.approvals import Approval, ApprovalState, Decision, NewRule, Rule, RuleScope
from app.store.repo import add_event


def _approval(row: sqlite3.Row) -> Approval:
    return Approval(
        id=row["id"],
        run_id=row["run_id"],
        task_id=row["task_id"],
        agent=row["agent"],
        tool=row["tool"],
        input=json.loads(row["input_json"]),
        cwd=row["cwd"],
        state=ApprovalState(row["state"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        reason=row["reason"],
        decided_at=row["decided_at"],
        decided_by=row["decided_by"],
        tool_use_id=row["tool_use_id"],
        hook_pid=row["hook_pid"],
        hook_create_time=row["hook_create_time"],
    )


def create(
    conn: sqlite3.Connection,
    *,
    run_id: int,
    task_id: int,
    agent: str,
    tool: str,
    tool_input: dict[str, Any],
    cwd: str | None,
    expires_in: float,
    tool_use_id: str | None = None,
    hook: tuple[int, float] | None = None,
    decided: tuple[ApprovalState, str, str] | None = None,
) -> Approval:
    """A new approval: pending, or already decided by a rule (state, reason, decided_by)."""
    # Hex: an id must never start with "-", or `agentry approve ID` would read it as an option.
    approval_id = secrets.token_hex(6)
    now = time.time()
    state, reason, by = decided or (ApprovalState.PENDING, None, None)
    conn.execute(
        "INSERT INTO approvals (id, run_id, task_id, agent, tool, input_json, cwd, tool_use_id, "
        "state, reason, created_at, expires_at, decided_at, decided_by, hook_pid, "
        "hook_create_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            approval_id,
            run_id,
            task_id,
            agent,
            tool,
            json.dumps(tool_input),
            cwd,
            tool_use_id,
            state.value,
            reason,
            now,
            now + expires_in,
            now if decided else None,
            by,
            hook[0] if hook else None,
            hook[1] if hook else None,
        ),
    )
    add_event(
        conn,
        "approval",
        task_id=task_id,
        run_id=run_id,
        new_state=state.value,
        detail={"approval": approval_id, "tool": tool, "by": by},
    )
    return get(conn, approval_id)


def get(conn: sqlite3.Connection, approval_id: str) -> Approval:
    row = conn.execute("SELECT * FROM approvals WHERE id = ?", (approval_id,)).fetchone()
    if row is None:
        raise LookupError(approval_id)
    return _approval(row)


def find(conn: sqlite3.Connection, approval_id: str) -> Approval | None:
    try:
        return get(conn, approval_id)
    except LookupError:
        return None


def decide(
    conn: sqlite3.Connection,
    approval_id: str,
    state: ApprovalState,
    *,
    reason: str | None,
    by: str,
    now: float | None = None,
) -> bool:
    """Record a decision if, and only if, the approval is still pending, unexpired and its
    run still running. True when this call decided it."""
    now = time.time() if now is None else now
    # A person's answer counts only before expiry; expiring or abandoning needs no such check.
    person = state in (ApprovalState.ALLOWED, ApprovalState.DENIED)
    expiry_guard = "AND expires_at > ?" if person else "AND ? IS NOT NULL"
    cur = conn.execute(
        "UPDATE approvals SET state = ?, reason = ?, decided_at = ?, decided_by = ? "
        f"WHERE id = ? AND state = 'pending' {expiry_guard}",
        (state.value, reason, now, by, approval_id, now),
    )
    if cur.rowcount != 1:
        return False
    approval = get(conn, approval_id)
    add_event(
        conn,
        "approval",
        task_id=approval.task_id,
        run_id=approval.run_id,
        old_state=ApprovalState.PENDING.value,
        new_state=state.value,
        detail={"approval": approval_id, "by": by, "reason": reason},
    )
    return True


def pending(conn: sqlite3.Connection) -> list[Approval]:
    rows = conn.execute("SELECT * FROM approvals WHERE state = 'pending' ORDER BY created_at")
    return [_approval(row) for row in rows]


def pending_for_run(conn: sqlite3.Connection, run_id: int) -> list[Approval]:
    rows = conn.execute(
        "SELECT * FROM approvals WHERE state = 'pending' AND run_id = ? ORDER BY created_at",
        (run_id,),
    )
    return [_approval(row) for row in rows]


def for_task(conn: sqlite3.Connection, task_id: int) -> list[Approval]:
    """Every request a task's runs made, in order (its transcript shows who decided)."""
    rows = conn.execute("SELECT * FROM approvals WHERE task_id = ? ORDER BY created_at", (task_id,))
    return [_approval(row) for row in rows]


def recent(conn: sqlite3.Connection, limit: int = 200) -> list[Approval]:
    rows = conn.execute("SELECT * FROM approvals ORDER BY created_at DESC LIMIT ?", (limit,))
    return [_approval(row) for row in rows]


def state_of(conn: sqlite3.Connection, approval_id: str) -> ApprovalState | None:
    row = conn.execute("SELECT state FROM approvals WHERE id = ?", (approval_id,)).fetchone()
    return ApprovalState(row[0]) if row else None


# ---------------------------------------------------------------- rules


def _rule(row: sqlite3.Row) -> Rule:
    return Rule(
        id=row["id"],
        scope=RuleScope(row["scope"]),
        tool=row["tool"],
        decision=Decision(row["decision"]),
        folder=row["folder"],
        task_id=row["task_id"],
        pattern=row["pattern"],
    )


def rules(conn: sqlite3.Connection) -> list[Rule]:
    return [_rule(row) for row in conn.execute("SELECT * FROM approval_rules ORDER BY id")]


_STORED_SCOPES = (RuleScope.TASK, RuleScope.PROJECT)


def add_rule(conn: sqlite3.Connection, rule: NewRule) -> int:
    """Store a rule; returns its id."""
    if rule.scope not in _STORED_SCOPES:
        raise ValueError(f"a rule's scope is task or project, not {rule.scope.value!r}")
    cur = conn.execute(
        "INSERT INTO approval_rules (scope, folder, task_id, tool, pattern, decision, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (rule.scope.value, rule.folder, rule.task_id, rule.tool, rule.pattern,
         rule.decision.value, time.time()),
    )  # fmt: skip
    rule_id = int(cur.lastrowid or 0)
    add_event(
        conn,
        "approval_rule",
        task_id=rule.task_id,
        detail={
            "rule": rule_id,
            "scope": rule.scope.value,
            "folder": rule.folder,
            "tool": rule.tool,
            "pattern": rule.pattern,
            "decision": rule.decision.value,
        },
    )
    return rule_id


def remove_rule(conn: sqlite3.Connection, rule_id: int) -> bool:
    cur = conn.execute("DELETE FROM approval_rules WHERE id = ?", (rule_id,))
    if cur.rowcount:
        add_event(conn, "approval_rule_removed", detail={"rule": rule_id})
    return cur.rowcount == 1
