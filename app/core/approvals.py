"""Approvals of agents' tool calls: states, exactly-once decisions, and rules (DESIGN §7).

A pending approval is decided once: allowed, denied, expired (no one answered in time;
the hook then denies, failing closed) or abandoned (its hook or its run went away).
"""

from __future__ import annotations

import enum
import fnmatch
import os
from dataclasses import dataclass
from typing import Any

RULE_REASON_PREFIX = "Agentry rule: "  # how the hook tells the agent a rule decided


class ApprovalState(enum.StrEnum):
    PENDING = "pending"
    ALLOWED = "allowed"
    DENIED = "denied"
    EXPIRED = "expired"
    ABANDONED = "abandoned"


APPROVAL_ALLOWED: dict[ApprovalState, frozenset[ApprovalState]] = {
    ApprovalState.PENDING: frozenset(
        {
            ApprovalState.ALLOWED,
            ApprovalState.DENIED,
            ApprovalState.EXPIRED,
            ApprovalState.ABANDONED,
        }
    ),
    ApprovalState.ALLOWED: frozenset(),
    ApprovalState.DENIED: frozenset(),
    ApprovalState.EXPIRED: frozenset(),
    ApprovalState.ABANDONED: frozenset(),
}


@dataclass(frozen=True)
class Approval:
    id: str
    run_id: int
    task_id: int
    agent: str
    tool: str
    input: dict[str, Any]
    cwd: str | None
    state: ApprovalState
    created_at: float
    expires_at: float
    reason: str | None = None
    decided_at: float | None = None
    decided_by: str | None = None
    tool_use_id: str | None = None
    hook_pid: int | None = None
    hook_create_time: float | None = None

    @property
    def main_argument(self) -> str:
        return main_argument(self.tool, self.input)

    def summary(self) -> dict[str, Any]:
        """The documented shape of ``agentry approvals --json``."""
        return {
            "id": self.id, "task_id": self.task_id, "run_id": self.run_id,
            "agent": self.agent, "tool": self.tool, "argument": self.main_argument,
            "input": self.input, "state": self.state.value, "reason": self.reason,
            "created_at": self.created_at, "expires_at": self.expires_at,
            "decided_at": self.decided_at, "decided_by": self.decided_by,
        }  # fmt: skip


def main_argument(tool: str, tool_input: dict[str, Any]) -> str:
    """What a rule's pattern is matched against: the command, the file, the URL…"""
    for key in ("command", "file_path", "path", "notebook_path", "url", "pattern", "query"):
        value = tool_input.get(key)
        if isinstance(value, str):
            return value
    return ""


class Decision(enum.StrEnum):
    ALLOW = "allow"
    DENY = "deny"


class RuleScope(enum.StrEnum):
    """Where a rule applies."""

    PROJECT = "project"  # a folder and everything under it
    TASK = "task"
    ANY = "any"  # everywhere: only the built-in read-only tools, never a stored rule


@dataclass(frozen=True)
class NewRule:
    """A rule to add: what a person chose in Settings, or with "remember" on a decision."""

    scope: RuleScope
    tool: str  # a tool name, or "*"
    decision: Decision
    folder: str | None = None  # for a project rule
    task_id: int | None = None  # for a task rule
    pattern: str | None = None  # fnmatch on the main argument; None matches all


@dataclass(frozen=True)
class Rule:
    id: int
    scope: RuleScope
    tool: str  # a tool name, or "*"
    decision: Decision
    folder: str | None = None
    task_id: int | None = None
    pattern: str | None = None  # fnmatch on the main argument; None matches all

    def matches(self, tool: str, argument: str, *, task_id: int, cwd: str | None) -> bool:
        if self.tool not in ("*", tool):
            return False
        if self.scope is RuleScope.TASK and self.task_id != task_id:
            return False
        if self.scope is RuleScope.PROJECT and not _inside(cwd, self.folder):
            return False
        return self.pattern is None or fnmatch.fnmatchcase(argument, self.pattern)

    def describe(self) -> str:
        where = f"task {self.task_id}" if self.scope is RuleScope.TASK else f"folder {self.folder}"
        what = f"{self.tool}" + (f" matching {self.pattern!r}" if self.pattern else "")
        return f"{self.decision.value} {what} in {where}"


def first_match(
    rules: list[Rule], tool: str, argument: str, *, task_id: int, cwd: str | None
) -> Rule | None:
    """The rule that decides: deny rules win over allow rules, task rules over folder rules."""
    matching = [r for r in rules if r.matches(tool, argument, task_id=task_id, cwd=cwd)]
    matching.sort(
        key=lambda r: (r.decision is not Decision.DENY, r.scope is not RuleScope.TASK, r.id)
    )
    return matching[0] if matching else None


def _inside(cwd: str | None, folder: str | None) -> bool:
    if not cwd or not folder:
        return False
    cwd_n, folder_n = (
        os.path.normcase(os.path.abspath(cwd)),
        os.path.normcase(os.path.abspath(folder)),
    )
    return cwd_n == folder_n or cwd_n.startswith(folder_n.rstrip(os.sep) + os.sep)
