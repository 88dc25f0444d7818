"""What a transcript says besides the agent's own events: who decided a tool call and
when, how a run ended, and what a model id means.

Pure functions of core records, so the pane, the terminal and tests read them the same.
"""

from __future__ import annotations

import re
import signal
import time

from app.core.approvals import RULE_REASON_PREFIX, Approval, ApprovalState
from app.core.models import Run, RunKind, Task
from app.core.states import RunState

AUTO_ALLOW = "auto-allow"  # the hook's name for Settings' read-only tools (not worth a line)
AGENTRY = "agentry"  # who expired or abandoned a request
_CONTEXT = re.compile(r"\[(\d+(?:\.\d+)?)([kKmM])\]$")


def describe_model(model: str) -> str:
    """The id as the agent reported it, explained: ``claude-opus-4-8[1m]`` is Claude Code's
    name for the model with its 1M-token context window."""
    match = _CONTEXT.search(model)
    if match is None:
        return model
    size = f"{match[1]}{match[2].upper()}"
    return f"{model} ({size} context)"


def clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


def elapsed(seconds: float) -> str:
    """0:02, 1:05, 30:00, 1:02:03: how long, as a stopwatch shows it."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def exit_line(run: Run) -> str | None:
    """How a finished run ended, for the line below its output; None while it runs."""
    if not run.state.is_terminal:
        return None
    took = (
        f" after {elapsed(run.ended_at - run.started_at)}"
        if run.started_at is not None and run.ended_at is not None
        else ""
    )
    if run.state is RunState.TIMED_OUT:
        limit = f" after {elapsed(run.timeout)}" if run.timeout else took
        return f"timed out{limit}"
    if run.state is RunState.CANCELLED:
        return f"cancelled{took}"
    if run.state is RunState.INTERRUPTED:
        return f"interrupted{took} (its runner stopped)"
    if run.exit_code is not None and run.exit_code < 0:
        return f"killed by {_signal_name(-run.exit_code)}{took}"
    if run.exit_code is not None:
        return f"exited {run.exit_code}{took}"
    return f"{run.state.value}{took}" + (f": {run.message}" if run.message else "")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def is_person(decided_by: str | None) -> bool:
    return (
        bool(decided_by)
        and decided_by not in (AUTO_ALLOW, AGENTRY)
        and not (decided_by or "").startswith("rule ")
    )


def decision_text(approval: Approval | None, reason: str, *, me: str) -> str:
    """ "Denied by you: use the Makefile", "Allowed by rule 3", "Denied: no answer in 15 min".

    ``reason`` is what the agent was told (the hook's line); the approval, where Agentry
    recorded one, says who decided. ``me`` is the login name of the person reading.
    """
    if approval is None:
        return f"Denied: {reason}" if reason else "Denied"
    state, by = approval.state, approval.decided_by
    why = (approval.reason or reason).strip()
    if state is ApprovalState.EXPIRED:
        return f"Denied: no answer in {_wait(approval.expires_at - approval.created_at)}"
    if state is ApprovalState.ABANDONED:
        return "Denied: Agentry stopped waiting" + (f" ({why})" if why else "")
    verb = "Allowed" if state is ApprovalState.ALLOWED else "Denied"
    if by and by.startswith("rule "):
        rule = why.removeprefix(RULE_REASON_PREFIX).strip()
        return f"{verb} by {by}" + (f" ({rule})" if rule else "")
    who = "you" if by == me else (by or "someone")
    if state is ApprovalState.ALLOWED:
        return f"{verb} by {who}" + (f": {why}" if approval.reason else "")
    return f"{verb} by {who}: {why}" if why else f"{verb} by {who}"


def _wait(seconds: float) -> str:
    if seconds < 90:
        return f"{round(seconds)} s"
    return f"{round(seconds / 60)} min"


def sent_message(task: Task, run: Run) -> str | None:
    """What the person said to the agent to start this run, shown as a "You" turn: the
    prompt, a follow-up, or (for a workflow step) the text a checkpoint passed on edited.
    A shell command's stdin and a land's check command are not messages."""
    if task.agent == "shell" or run.kind is RunKind.CHECK:
        return None
    text = run.prompt or (task.spec.prompt if run.kind is not RunKind.RESUME else None)
    return text if text and text.strip() else None
