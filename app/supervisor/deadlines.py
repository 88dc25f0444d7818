"""Time limits of agents whose runner is gone while no supervisor runs (#12 §5).

The runner enforces a run's limit; a supervisor stops the agents whose runner died
(orphans) when it next looks. Between the two, a runner killed while no supervisor runs
left its agent running past its limit for as long as nobody started Agentry. Any
``agentry`` command now closes that window when it notices: it stops such an agent the
moment its recorded deadline (``runner.json``) has passed, and records the run as timed
out. The agent's life is never tied to the runner's: an agent within its limit runs on.
"""

from __future__ import annotations

import time
from pathlib import Path

from app.core.locations import Locations
from app.core.log import get_logger
from app.core.states import ExitReason, RunState
from app.runner import procs, protocol
from app.store import repo
from app.store.db import Connection, transaction
from app.supervisor.lock import is_locked

log = get_logger(__name__)

GRACE_S = 5.0


def enforce(conn: Connection, locations: Locations, *, now: float | None = None) -> list[int]:
    """Stop the agents past their deadline whose runner is gone; returns their task ids.
    Does nothing while a supervisor holds the data folder (it does this itself)."""
    runs = repo.active_runs(conn)
    if not runs or is_locked(locations.lock):
        return []
    now = time.time() if now is None else now
    stopped = []
    for run in runs:
        run_dir = locations.run_dir(run.dir)
        try:
            info = protocol.read_runner_info(run_dir)
        except protocol.ProtocolError:
            continue  # recovery reports a damaged file; nothing to go by here
        if info is None or info.deadline is None or info.deadline > now:
            continue
        if procs.is_alive(info.runner_pid, info.runner_create_time):
            continue  # the runner enforces it itself
        agent = procs.find_process(info.agent_pid, info.agent_create_time)
        if agent is None:
            continue  # nothing left running: the next supervisor records how it ended
        limit = info.deadline - info.started_at
        _note(run_dir, limit)
        procs.kill_tree(agent, GRACE_S)
        message = (f"timed out after {limit:g} s; its runner was gone, so Agentry stopped "
                   "the agent when it noticed")  # fmt: skip
        with transaction(conn):
            moved = repo.transition(conn, run.id, RunState.TIMED_OUT,
                                    only_from={RunState.STARTING, RunState.RUNNING},
                                    reason=ExitReason.TIMEOUT, message=message,
                                    ended_at=time.time())  # fmt: skip
        if moved is not None:
            log.warning("task %s: %s", run.task_id, message)
            stopped.append(run.task_id)
    return stopped


def _note(run_dir: Path, limit: float) -> None:
    """The transcript says why the agent stopped, as the runner's own note would."""
    line = f"\n[agentry] timed out after {limit:g} s; stopped the agent (its runner was gone)\n"
    try:
        with open(protocol.output_log(run_dir), "ab") as output:
            output.write(line.encode())
    except OSError as exc:
        log.warning("could not note the timeout in %s: %s", run_dir, exc)
