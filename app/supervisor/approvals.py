"""Deciding approvals, and watching them for the app (DESIGN §7).

Any process may decide (the app, ``agentry approve``): a decision is a database write,
which the waiting hook process reads. The supervisor only watches: it tells subscribers
about new and resolved requests, and abandons requests nobody can answer any more.
"""

from __future__ import annotations

import time

from app.core.approvals import Approval, ApprovalState, Decision, NewRule, Rule, RuleScope
from app.core.log import get_logger
from app.core.models import Run
from app.core.platform import current_user
from app.runner import procs
from app.store import approval_repo, repo
from app.store.db import Connection, transaction
from app.supervisor.commands import CommandRefused
from app.supervisor.events import ApprovalRequested, ApprovalResolved
from app.supervisor.host import ExtensionHost

log = get_logger(__name__)


def decide(
    conn: Connection,
    approval_id: str,
    *,
    allow: bool,
    reason: str | None = None,
    remember: RuleScope | None = None,
    who: str | None = None,
) -> Approval:
    """Allow or deny a pending request, exactly once; ``remember`` (the task or the project)
    also adds a rule so the same tool is not asked about again there."""
    who = who or current_user()  # the login name, as checkpoints record it
    with transaction(conn):
        approval = _decidable(conn, approval_id)
        state = ApprovalState.ALLOWED if allow else ApprovalState.DENIED
        why = reason or (None if allow else "The person reviewing this call denied it.")
        if not approval_repo.decide(conn, approval_id, state, reason=why, by=who):
            raise CommandRefused(f"approval {approval_id} was decided a moment ago by someone else")
        if remember:
            _remember(conn, approval, remember, Decision.ALLOW if allow else Decision.DENY)
        return approval_repo.get(conn, approval_id)


def _decidable(conn: Connection, approval_id: str) -> Approval:
    approval = approval_repo.find(conn, approval_id)
    if approval is None:
        raise CommandRefused(f"no approval {approval_id!r}; `agentry approvals` lists them")
    if approval.state is not ApprovalState.PENDING:
        by = f" by {approval.decided_by}" if approval.decided_by else ""
        raise CommandRefused(f"approval {approval_id} was already {approval.state.value}{by}")
    if approval.expires_at <= time.time():
        raise CommandRefused(
            f"approval {approval_id} expired at {_clock(approval.expires_at)}; the agent was "
            "told no (Agentry fails closed)"
        )
    run = repo.get_run(conn, approval.run_id)
    if run.state.is_terminal:
        raise CommandRefused(
            f"the run that asked (task {approval.task_id}) has ended ({run.state.value}); "
            "there is no one left to answer"
        )
    return approval


def _remember(conn: Connection, approval: Approval, scope: RuleScope, decision: Decision) -> None:
    if scope is RuleScope.TASK:
        rule = NewRule(RuleScope.TASK, approval.tool, decision, task_id=approval.task_id)
    elif scope is RuleScope.PROJECT:
        folder = approval.cwd or repo.get_task(conn, approval.task_id).spec.cwd
        rule = NewRule(RuleScope.PROJECT, approval.tool, decision, folder=folder)
    else:
        raise CommandRefused(f"remember must be 'task' or 'project', not {scope.value!r}")
    approval_repo.add_rule(conn, rule)


def abandon_for_run(conn: Connection, run: Run) -> list[str]:
    """The run ended: its open requests can no longer be answered."""
    with transaction(conn):
        gone = approval_repo.pending_for_run(conn, run.id)
        for approval in gone:
            approval_repo.decide(conn, approval.id, ApprovalState.ABANDONED, by="agentry",
                                 reason=f"the run ended ({run.state.value})")  # fmt: skip
    return [a.id for a in gone]


def abandon_orphans(conn: Connection) -> list[str]:
    """Requests whose hook process died (killed, crashed) have no one waiting for them."""
    orphans = [a for a in approval_repo.pending(conn)
               if a.hook_pid and not procs.is_alive(a.hook_pid, a.hook_create_time)]  # fmt: skip
    if not orphans:
        return []
    with transaction(conn):
        for approval in orphans:
            approval_repo.decide(conn, approval.id, ApprovalState.ABANDONED, by="agentry",
                                 reason="the hook process waiting for it is gone")  # fmt: skip
    return [a.id for a in orphans]


class ApprovalWatcher:
    """Publishes ApprovalRequested / ApprovalResolved as requests come and go; an
    :class:`~app.supervisor.host.Extension` the supervisor builds and calls."""

    ORPHAN_CHECK_S = 2.0

    def __init__(self, supervisor: ExtensionHost) -> None:
        self.supervisor = supervisor
        self.pending: dict[str, Approval] = {}
        self._next_orphan_check = 0.0

    # --- commands for the views (``supervisor.approvals``) ---------------------------------

    def decide(
        self,
        approval_id: str,
        *,
        allow: bool,
        reason: str | None = None,
        remember: RuleScope | None = None,
    ) -> Approval:
        """A person's answer to a tool call; exactly once (CommandRefused otherwise)."""
        decided = decide(
            self.supervisor.conn, approval_id, allow=allow, reason=reason, remember=remember
        )
        self.refresh()
        return decided

    def rules(self) -> list[Rule]:
        return approval_repo.rules(self.supervisor.conn)

    def add_rule(self, rule: NewRule) -> int:
        """Add an approval rule; returns its id."""
        with transaction(self.supervisor.conn):
            return approval_repo.add_rule(self.supervisor.conn, rule)

    def remove_rule(self, rule_id: int) -> bool:
        with transaction(self.supervisor.conn):
            return approval_repo.remove_rule(self.supervisor.conn, rule_id)

    def waiting(self) -> list[Approval]:
        """Tool calls waiting for a person, oldest first."""
        return approval_repo.pending(self.supervisor.conn)

    def for_task(self, task_id: int) -> list[Approval]:
        """Every tool call of the task Agentry was asked about, decided or not."""
        return approval_repo.for_task(self.supervisor.conn, task_id)

    def recent(self, limit: int = 200) -> list[Approval]:
        return approval_repo.recent(self.supervisor.conn, limit)

    # --- the supervisor's hooks -----------------------------------------------------------

    def on_started(self) -> None:
        self.refresh()

    def on_tick(self) -> None:
        now = time.monotonic()
        if now >= self._next_orphan_check:
            self._next_orphan_check = now + self.ORPHAN_CHECK_S
            abandon_orphans(self.supervisor.conn)
        self.refresh()

    def on_run_ended(self, run: Run) -> None:
        if abandon_for_run(self.supervisor.conn, run):
            self.refresh()

    def refresh(self) -> None:
        conn = self.supervisor.conn
        current = {a.id: a for a in approval_repo.pending(conn)}
        for approval_id, approval in current.items():
            if approval_id not in self.pending:
                self.supervisor.bus.publish(ApprovalRequested(approval))
        for approval_id in set(self.pending) - set(current):
            resolved = approval_repo.find(conn, approval_id)
            if resolved is not None:
                self.supervisor.bus.publish(ApprovalResolved(resolved))
        self.pending = current


def _clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))
