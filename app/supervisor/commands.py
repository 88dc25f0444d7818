"""Commands on tasks that any process may run: the supervisor, the CLI, later the GUI.

They touch only the database and run folders, so ``agentry cancel`` works whether or not
a supervisor is running; a running supervisor notices the change within a tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.core.durations import duration_problem
from app.core.errors import AgentryError
from app.core.locations import Locations
from app.core.models import NO_TIMEOUT, Run, RunKind, Task, TaskSpec
from app.core.policies import WAIT_LIMIT
from app.core.settings import Settings
from app.core.states import ExitReason, RunState
from app.store import repo
from app.store.db import Connection, transaction


class CommandRefused(AgentryError, RuntimeError):
    """A command that does not apply to the task as it is now; the message says why."""


def resolve_timeout(requested: float | None, settings: Settings) -> float | None:
    """Seconds a run may take, or None for no limit (only when someone chose that explicitly)."""
    if requested is None:
        requested = settings.default_timeout_s
    problem = duration_problem(requested)
    if problem:
        raise CommandRefused(f"the timeout {requested:g} s {problem}")
    return None if requested == NO_TIMEOUT else float(requested)


def _check_text(spec: TaskSpec) -> None:
    """Refuse text that cannot be stored or passed on as UTF-8 (e.g. a file name in another
    encoding, which Python carries as lone surrogates), naming where it is."""
    fields = [("the command", " ".join(spec.argv)), ("the title", spec.title or ""),
              ("the prompt", spec.prompt or ""), ("the working folder", spec.cwd)]  # fmt: skip
    for name, text in fields:
        ensure_utf8(name, text)


def ensure_utf8(name: str, text: str) -> None:
    """CommandRefused naming ``name`` when ``text`` cannot be written as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = text[max(0, exc.start - 20) : exc.end + 20].encode("utf-8", "replace")
        raise CommandRefused(
            f"{name} has characters that are not valid UTF-8 (near "
            f"{bad.decode('utf-8', 'replace')!r}); rename the file or pass the text in UTF-8"
        ) from None


def submit(conn: Connection, spec: TaskSpec, settings: Settings) -> tuple[int, int]:
    """Enqueue a task; returns (task id, run id)."""
    with transaction(conn):
        return enqueue(conn, spec, settings)


def enqueue(conn: Connection, spec: TaskSpec, settings: Settings) -> tuple[int, int]:
    """:func:`submit` inside the caller's transaction (a schedule moves on in the same one,
    so a crash can neither lose nor double its run)."""
    timeout = check(spec, settings)
    return repo.create_task(conn, spec, timeout, lock_key=lock_key(spec))


def check(spec: TaskSpec, settings: Settings) -> float | None:
    """CommandRefused for a task that cannot be submitted; its resolved timeout otherwise
    (a schedule is checked when it is made, not when it comes due at night)."""
    if spec.agent == "shell":  # any command: its argv is all there is to check
        if not spec.argv or not spec.argv[0].strip():
            raise CommandRefused("nothing to run: give a command (its name may not be empty)")
    else:  # an agent's adapter says what it needs (loaded here: `agentry run -- CMD` does not)
        from app.supervisor.adapters import UnknownAgent, get_adapter

        try:
            adapter = get_adapter(spec.agent)
        except UnknownAgent as exc:
            raise CommandRefused(str(exc)) from None
        if adapter.needs_prompt and not (spec.prompt or "").strip():
            raise CommandRefused(f"{adapter.label} needs a prompt: say what it should do")
    _check_text(spec)
    return resolve_timeout(spec.timeout, settings)


PLAIN_AGENTS = frozenset({"shell", "demo"})  # run commands, not coding agents: no lock unasked


def lock_key(spec: TaskSpec) -> str | None:
    """The folder a task holds while it runs in place (DESIGN §7a): its repository's top,
    or the folder itself outside one. Coding agents hold it unless told not to; commands
    only when asked; a task in its own worktree never needs to."""
    locks = spec.lock if spec.lock is not None else spec.agent not in PLAIN_AGENTS
    if spec.worktree or not locks:
        return None
    folder = Path(spec.cwd).resolve()
    top = next((p for p in (folder, *folder.parents) if (p / ".git").exists()), folder)
    return str(top)


@dataclass(frozen=True)
class CancelResult:
    task_id: int
    run: Run
    requested: bool  # True: the runner was asked to stop; False: it was still queued


def cancel(conn: Connection, locations: Locations, task_ref: str | int) -> CancelResult:
    with transaction(conn):
        task = repo.resolve_task(conn, str(task_ref))
        run = task.latest_run
        if run is None or run.state.is_terminal:
            state = run.state.value if run else "no run"
            raise CommandRefused(f"task {task.id} has already ended ({state}); nothing to cancel")
        if run.state is RunState.QUEUED:
            moved = cancel_queued(conn, run.id, "cancelled before it started")
            assert moved is not None
            return CancelResult(task.id, moved, requested=False)
    # Active: the runner owns the ending; it sees the request within a fraction of a second.
    from app.runner import protocol  # here: submitting, the commands' common case, needs none

    protocol.request_cancel(locations.run_dir(run.dir), (run.runner_pid, run.runner_create_time))
    return CancelResult(task.id, run, requested=True)


def cancel_queued(conn: Connection, run_id: int, message: str) -> Run | None:
    """Cancel a run that has not started, inside the caller's transaction: no runner exists
    to ask, so the database is the whole story. None if it is no longer queued."""
    return repo.transition(
        conn,
        run_id,
        RunState.CANCELLED,
        only_from={RunState.QUEUED},
        reason=ExitReason.CANCELLED,
        message=message,
    )


def retry(conn: Connection, task_ref: str | int, settings: Settings) -> tuple[int, int]:
    """A new run of the same task, queued; returns (task id, run id)."""
    with transaction(conn):
        task = _ended_task(conn, task_ref, "cancel it first or wait for it to end")
        timeout = resolve_timeout(task.spec.timeout, settings)
        return task.id, repo.add_run(
            conn, task.id, timeout, kind=RunKind.RETRY, prompt=task.spec.prompt
        )


def _ended_task(conn: Connection, task_ref: str | int, advice: str) -> Task:
    """The task, refused (with ``advice``) while its latest run has not ended."""
    task = repo.resolve_task(conn, str(task_ref))
    run = task.latest_run
    if run is not None and not run.state.is_terminal:
        raise CommandRefused(f"task {task.id} is still {run.state.value}; {advice}")
    return task


RESUME_MESSAGE = (
    "Your previous run was interrupted before it finished. Continue where you left off."
)


def follow_up(
    conn: Connection,
    task_ref: str | int,
    message: str,
    settings: Settings,
    *,
    kind: RunKind = RunKind.FOLLOW_UP,
) -> tuple[int, int]:
    """Send the next message in the agent's own session: a new run of the same task."""
    if not message.strip():
        raise CommandRefused("the follow-up message is empty")
    with transaction(conn):
        task = _ended_task(conn, task_ref, "wait for it to end, or cancel it")
        session = _session_to_continue(task)
        timeout = resolve_timeout(task.spec.timeout, settings)
        run_id = repo.add_run(conn, task.id, timeout, kind=kind, prompt=message,
                              resume_session=session)  # fmt: skip
        return task.id, run_id


def start_now(conn: Connection, task_ref: str | int) -> tuple[int, Run] | None:
    """A task whose queued run waits for a time (a restart's backoff, a limit's reset) may
    start at once: returns (task id, the run as it waited), or None if it waits for nothing."""
    with transaction(conn):
        task = repo.resolve_task(conn, str(task_ref))
        run = task.latest_run
        if run is None or run.state is not RunState.QUEUED or run.not_before is None:
            return None
        repo.start_now(conn, run.id)
        if run.wait_reason == WAIT_LIMIT:  # the person says the limit is over: for all its tasks
            from app.store import limit_repo  # here: submitting, the common case, needs none

            limit_repo.clear_agent_limit(conn, task.agent)
        waited = {"not_before": run.not_before, "wait_reason": run.wait_reason}
        repo.add_event(conn, "started_now", task_id=task.id, run_id=run.id, detail=waited)
        return task.id, run


def resume(conn: Connection, task_ref: str | int, settings: Settings) -> tuple[int, int]:
    """Continue an interrupted (or failed) task in its agent's session instead of starting over."""
    return follow_up(conn, task_ref, RESUME_MESSAGE, settings, kind=RunKind.RESUME)


def _session_to_continue(task: Task) -> str:
    from app.supervisor.adapters import get_adapter, session_ability

    ability = session_ability(task)
    if not ability.supported:
        label = get_adapter(task.agent).label
        raise CommandRefused(
            f"{label} cannot continue a session; use Retry to run task {task.id} again"
        )
    session = ability.session
    if not session:
        raise CommandRefused(
            f"no session of task {task.id} is known yet (the agent never reported one); "
            "use Retry to start it over"
        )
    return session
