"""Domain records shared by every layer. Plain frozen dataclasses, no I/O."""

from __future__ import annotations

import enum
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from app.core.policies import LimitPolicy, RestartPolicy
from app.core.states import ExitReason, RunState

SHELL_COMMAND_OPTION = "shell_command"
"""The option of a shell task that keeps its command line as typed (its argv runs it)."""

NO_TIMEOUT = 0.0
"""A task timeout of 0 means the user explicitly chose to let it run without a limit."""

ORIGIN_LABELS = {"mcp": "MCP"}
"""How each way in is named to a person (an unknown one, from a newer version, as it is)."""


@dataclass(frozen=True)
class TaskOrigin:
    """Where a task was asked for when it was not the person at Agentry itself: ``via``
    "mcp" for `agentry mcp`, with the name the MCP client gave itself ("claude-code"). Kept
    with the task so that someone looking at their list can tell which tasks another agent
    started for them, and which tool that was."""

    via: str
    client: str | None = None

    def to_json(self) -> dict[str, str]:
        return {"via": self.via, **({"client": self.client} if self.client else {})}

    @classmethod
    def from_json(cls, data: object) -> TaskOrigin | None:
        """None for no origin, or for one that is not an object naming its way in."""
        if not isinstance(data, dict) or not isinstance(data.get("via"), str) or not data["via"]:
            return None
        client = data.get("client")
        return cls(data["via"], client if isinstance(client, str) and client else None)

    @property
    def label(self) -> str:
        return ORIGIN_LABELS.get(self.via, self.via)

    def who(self) -> str:
        """The way in, and the client when it named itself: "MCP (claude-code)" (Details)."""
        return self.label + (f" ({self.client})" if self.client else "")

    def describe(self) -> str:
        """As `agentry list` says it within its parentheses: "started by MCP: claude-code"."""
        return f"started by {self.label}" + (f": {self.client}" if self.client else "")


@dataclass(frozen=True)
class TaskSpec:
    """What the user asked to run. ``timeout`` None means "the default from Settings"."""

    argv: tuple[str, ...]
    cwd: str
    title: str = ""
    agent: str = "shell"
    env: dict[str, str] = field(default_factory=dict)
    prompt: str | None = None
    timeout: float | None = None
    priority: int = 0
    options: dict[str, Any] = field(default_factory=dict)  # agent options: model, permissions
    worktree: bool = False  # run in a git worktree of its own (DESIGN §7a)
    base: str | None = None  # the worktree's base branch or commit; None: the checked-out one
    lock: bool | None = None  # hold its folder while it runs in place; None: coding agents do
    restart: RestartPolicy = field(default_factory=RestartPolicy)  # after a run ends (never)
    limits: LimitPolicy = field(default_factory=LimitPolicy)  # on its agent's usage limit
    memory_limit_mb: float | None = None  # its tree is stopped above; 0: none; None: Settings
    origin: TaskOrigin | None = None  # who asked for it, when not the person (an MCP client)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["argv"] = list(self.argv)
        if self.restart.restarts:
            data["restart"] = self.restart.to_json()
        else:
            del data["restart"]  # the default: specs without a policy read as before
        if self.memory_limit_mb is None:
            del data["memory_limit_mb"]  # the default: specs without a limit read as before
        if self.limits.is_default:
            del data["limits"]
        else:
            data["limits"] = self.limits.to_json()
        if self.origin is None:
            del data["origin"]  # the usual case: specs without an origin read as before
        else:
            data["origin"] = self.origin.to_json()
        return data

    @property
    def model(self) -> str | None:
        value = self.options.get("model")
        return str(value) if value else None

    @property
    def shell_command(self) -> str | None:
        """The command line as the person typed it, when the argv runs it through a shell
        (:func:`app.core.command_shell.command_argv`); None for an argv given as words."""
        value = self.options.get(SHELL_COMMAND_OPTION)
        return str(value) if isinstance(value, str) and value else None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskSpec:
        return cls(
            argv=tuple(str(a) for a in data["argv"]),
            cwd=str(data["cwd"]),
            title=str(data.get("title", "")),
            agent=str(data.get("agent", "shell")),
            env={str(k): str(v) for k, v in dict(data.get("env") or {}).items()},
            prompt=data.get("prompt"),
            timeout=data.get("timeout"),
            priority=int(data.get("priority", 0)),
            options=dict(data.get("options") or {}),
            worktree=bool(data.get("worktree", False)),
            base=str(data["base"]) if data.get("base") else None,
            lock=None if data.get("lock") is None else bool(data["lock"]),
            restart=RestartPolicy.from_json(data.get("restart")),
            limits=LimitPolicy.from_json(data.get("limits")),
            memory_limit_mb=_size_mb(data.get("memory_limit_mb")),
            origin=TaskOrigin.from_json(data.get("origin")),
        )


def _size_mb(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None  # absent or not a size: as Settings say
    return float(value)


class RunKind(enum.StrEnum):
    """Why a run of a task exists (its first, or which later command queued it)."""

    START = "start"
    RETRY = "retry"
    RESUME = "resume"  # continue an interrupted run in the agent's own session
    FOLLOW_UP = "follow_up"  # the next message in the agent's session
    CHECK = "check"  # a land's check command (its argv is the run's own), not the agent
    RESTART = "restart"  # queued by the task's restart policy after a run ended
    AFTER_LIMIT = "after_limit"  # resumes the session once the agent's usage limit reset


@dataclass(frozen=True)
class Run:
    id: int
    task_id: int
    attempt: int
    state: RunState
    dir: str
    priority: int
    timeout: float | None
    created_at: float
    started_at: float | None = None
    ended_at: float | None = None
    exit_code: int | None = None
    reason: ExitReason | None = None  # how the run ended, once it has
    message: str | None = None
    runner_pid: int | None = None
    runner_create_time: float | None = None
    agent_pid: int | None = None
    agent_create_time: float | None = None
    kind: RunKind = RunKind.START
    prompt: str | None = None
    resume_session: str | None = None
    argv: tuple[str, ...] = ()
    session_id: str | None = None
    model: str | None = None
    cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    turns: int | None = None
    not_before: float | None = None  # a queued run starts no earlier (a restart's backoff)
    wait_reason: str | None = None  # why it waits for not_before: "restart" or "limit"


@dataclass(frozen=True)
class Task:
    id: int
    title: str
    agent: str
    spec: TaskSpec
    priority: int
    created_at: float
    latest_run: Run | None
    total_cost_usd: float | None = None
    session_id: str | None = None  # the newest agent session any of its runs reported
    lock_key: str | None = None  # the folder it holds while a run of it is active
    waiting_for: int | None = None  # queued behind this task's hold on lock_key
    archived_at: float | None = None  # when the person archived it (out of the default view)
    dismissed_at: float | None = None  # when the person last dismissed how it ended
    limit_until: float | None = None  # queued while its agent's usage limit holds: until then

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    @property
    def dismissed(self) -> bool:
        """The person dismissed how its latest run ended (a later run is news again)."""
        run = self.latest_run
        if self.dismissed_at is None or run is None:
            return False
        return self.dismissed_at >= (run.ended_at or run.created_at)

    @property
    def model(self) -> str | None:
        run = self.latest_run
        return self.spec.model or (run.model if run else None)

    @property
    def state(self) -> RunState | None:
        return self.latest_run.state if self.latest_run else None

    def summary(self) -> dict[str, Any]:
        """The stable, documented shape of ``agentry list --json``."""
        run = self.latest_run
        return {
            "id": self.id,
            "title": self.title,
            "agent": self.agent,
            "state": run.state.value if run else None,
            "exit_code": run.exit_code if run else None,
            "created_at": self.created_at,
            "started_at": run.started_at if run else None,
            "ended_at": run.ended_at if run else None,
            "attempt": run.attempt if run else 0,
            "run_id": run.id if run else None,
            "reason": run.reason if run else None,
            "message": run.message if run else None,
            "cwd": self.spec.cwd,
            "argv": list(run.argv or self.spec.argv) if run else list(self.spec.argv),
            "model": self.model,
            "cost_usd": self.total_cost_usd,
            "session_id": self.session_id,
            "archived": self.archived,
            "not_before": self.waits_until,  # a queued run waits for it (a restart's backoff)
            "wait_reason": self.wait_reason,
            "origin": self.spec.origin.to_json() if self.spec.origin else None,
        }

    @property
    def waits_until(self) -> float | None:
        """When its queued run may start, if it waits for a time (None: when its turn comes):
        its own ``not_before`` or its agent's limit, whichever is later."""
        return waits_until(self.latest_run, self.limit_until)[0]

    @property
    def wait_reason(self) -> str | None:
        """What it waits for until :attr:`waits_until`: "restart", "limit"; None if nothing."""
        return waits_until(self.latest_run, self.limit_until)[1]


def waits_until(run: Run | None, limit_until: float | None) -> tuple[float | None, str | None]:
    """A run's wait: (until when, why); (None, None) if it is not queued or waits for no time."""
    if run is None or run.state is not RunState.QUEUED:
        return None, None
    return queued_wait(run.not_before, run.wait_reason, limit_until)


def queued_wait(
    not_before: float | None, reason: str | None, limit_until: float | None
) -> tuple[float | None, str | None]:
    """A queued run's wait from its own ``not_before`` and its agent's limit: the later."""
    if limit_until is not None and (not_before is None or limit_until >= not_before):
        return limit_until, "limit"
    return (not_before, reason) if not_before is not None else (None, None)


class RecoveryCause(enum.StrEnum):
    """What recovery found for one task: what the UI and CLI decide on (never the note)."""

    REATTACHED = "reattached"  # its runner is alive: followed again
    QUEUED = "queued"  # still waiting its turn
    FINISHED_AWAY = "finished_away"  # exit.json says how it ended while Agentry was away
    RUNNER_DIED = "runner_died"  # runner gone with no exit.json; nothing left running
    AGENT_ORPHANED = "agent_orphaned"  # runner gone, its agent was left behind and is stopped
    REQUEUED = "requeued"  # Agentry stopped before its runner could start: queued again
    NEVER_STARTED = "never_started"  # Agentry stopped between committing and starting the runner
    CORRUPT_FILE = "corrupt_file"  # a run file could not be read
    CORRUPT_FILE_STOPPED = "corrupt_file_stopped"  # ... and its still-running runner was stopped
    INTERRUPTED = "interrupted"  # interrupted for a reason older reports did not record


class WorktreeRepair(enum.StrEnum):
    """What start-up did to a worktree a crash left half done (its row said so)."""

    CREATED = "created"  # `git worktree add` had finished: the row caught up with it
    REMOVED = "removed"  # a discard was cut short: the worktree and its branch are now gone


@dataclass
class RecoveryReport:
    """What start-up reconciliation found; stored, printed, and shown on the recovery screen."""

    started_at: float
    previous_clean: bool = True
    duration_ms: float = 0.0
    reattached: list[int] = field(default_factory=list)
    finished: list[int] = field(default_factory=list)
    interrupted: list[int] = field(default_factory=list)
    queued: list[int] = field(default_factory=list)
    notes: dict[int, str] = field(default_factory=dict)  # task id -> what happened and why
    causes: dict[int, RecoveryCause] = field(default_factory=dict)  # task id -> what happened
    exit_codes: dict[int, int | None] = field(default_factory=dict)  # of finished_away tasks
    temp_files_removed: int = 0
    approvals: list[str] = field(default_factory=list)  # tool calls still waiting for a person
    # task id -> what was completed of a worktree a crash left half made or half removed
    worktrees: dict[int, WorktreeRepair] = field(default_factory=dict)
    # tasks of finished / interrupted whose end another agentry command recorded (it
    # reconciled while the app was closed): news to the person, but not to the supervisor
    recorded_elsewhere: list[int] = field(default_factory=list)
    # task id -> what already follows a run that ended while Agentry was away, decided in
    # the transaction that took the ending in: a restart, a pause for a limit, giving up
    next_steps: dict[int, str] = field(default_factory=dict)

    @property
    def needs_attention(self) -> bool:
        """Worth the recovery screen: a crash, or anything that changed or waits meanwhile
        (a worktree completed at start counts: the person did not see it happen)."""
        return not self.previous_clean or bool(
            self.interrupted or self.finished or self.approvals or self.worktrees
        )

    def counts(self) -> dict[str, int]:
        return {
            "reattached": len(self.reattached),
            "finished": len(self.finished),
            "interrupted": len(self.interrupted),
            "queued": len(self.queued),
        }

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["notes"] = {str(k): v for k, v in self.notes.items()}
        data["causes"] = {str(k): v.value for k, v in self.causes.items()}
        data["exit_codes"] = {str(k): v for k, v in self.exit_codes.items()}
        data["worktrees"] = {str(k): v.value for k, v in self.worktrees.items()}
        data["next_steps"] = {str(k): v for k, v in self.next_steps.items()}
        data["counts"] = self.counts()
        return data

    def cause(self, task_id: int) -> RecoveryCause:
        """What happened to one task of the report (reports stored before causes: by group)."""
        found = self.causes.get(task_id)
        if found is not None:
            return found
        if task_id in self.reattached:
            return RecoveryCause.REATTACHED
        if task_id in self.finished:
            return RecoveryCause.FINISHED_AWAY
        if task_id in self.queued:
            return RecoveryCause.QUEUED
        return RecoveryCause.INTERRUPTED

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecoveryReport:
        notes = {int(k): str(v) for k, v in dict(data.get("notes", {})).items()}
        exit_codes = {
            int(k): (None if v is None else int(v))
            for k, v in dict(data.get("exit_codes", {})).items()
        }
        if "exit_codes" not in data:  # stored before exit codes had a field of their own
            exit_codes = _legacy_exit_codes(notes, data.get("finished", []))
        return cls(
            started_at=float(data["started_at"]),
            previous_clean=bool(data.get("previous_clean", True)),
            duration_ms=float(data.get("duration_ms", 0.0)),
            reattached=list(data.get("reattached", [])),
            finished=list(data.get("finished", [])),
            interrupted=list(data.get("interrupted", [])),
            queued=list(data.get("queued", [])),
            notes=notes,
            causes={
                int(k): RecoveryCause(v)
                for k, v in dict(data.get("causes", {})).items()
                if v in {c.value for c in RecoveryCause}
            },
            exit_codes=exit_codes,
            temp_files_removed=int(data.get("temp_files_removed", 0)),
            approvals=[str(a) for a in data.get("approvals", [])],
            worktrees={
                int(k): WorktreeRepair(v)
                for k, v in dict(data.get("worktrees", {})).items()
                if v in {r.value for r in WorktreeRepair}
            },
            recorded_elsewhere=[int(t) for t in data.get("recorded_elsewhere", [])],
            next_steps={int(k): str(v) for k, v in dict(data.get("next_steps", {})).items()},
        )

    def describe(self) -> str:
        c = self.counts()
        head = (
            "previous session ended cleanly"
            if self.previous_clean
            else ("previous session did not end cleanly")
        )
        return (
            f"Recovery in {self.duration_ms:.1f} ms ({head}): {c['reattached']} reattached, "
            f"{c['finished']} finished while away, {c['interrupted']} interrupted, "
            f"{c['queued']} queued"
            + (f", {len(self.approvals)} tool call(s) waiting for you" if self.approvals else "")
            + (f", {len(self.worktrees)} worktree(s) repaired" if self.worktrees else "")
        )


_LEGACY_EXIT_CODE = re.compile(r"exit code (-?\d+)")


def _legacy_exit_codes(notes: dict[int, str], finished: list[int]) -> dict[int, int | None]:
    """Exit codes of a report stored before they had their own field: from its notes."""
    codes: dict[int, int | None] = {}
    for task_id in finished:
        match = _LEGACY_EXIT_CODE.search(notes.get(int(task_id), ""))
        codes[int(task_id)] = int(match.group(1)) if match else None
    return codes
