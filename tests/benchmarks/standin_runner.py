"""A stand-in runner for the throughput benchmark: the run-folder protocol, nothing else.

Started as ``python -I -S standin_runner.py RUN_DIR``, it imports only ``json`` and ``os``
(no Agentry module, no psutil), so a drain timed with it shows what the supervisor itself
costs per job, apart from the runner's start-up. It honours what the supervisor reads:
``runner.json`` once the agent started, ``exit.json`` once it ended, both written
atomically and fsynced as the real runner writes them; the agent writes straight to
``output.log``. No timeout, cancel or heartbeat: the benchmark's agents are ``true``.
Linux only (process start stamps are read from /proc, as app.runner.procs does there).
"""

import json
import os
import sys
import time


def _stamp(pid: int) -> float:
    """Seconds since boot when ``pid`` started: app.runner.procs.start_stamp on Linux."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    return int(stat[stat.rindex(b")") + 2 :].split()[19]) / os.sysconf("SC_CLK_TCK")


def _write(folder: str, name: str, record: dict[str, object]) -> None:
    tmp = os.path.join(folder, f".{name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, json.dumps(record).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, os.path.join(folder, name))
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def main(folder: str) -> int:
    with open(os.path.join(folder, "spec.json"), "rb") as f:
        spec = json.load(f)
    out = os.open(os.path.join(folder, "output.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.chdir(spec["cwd"])
    started = time.time()
    agent = os.posix_spawnp(
        spec["argv"][0],
        spec["argv"],
        {**os.environ, **spec["env"]},
        file_actions=[
            (os.POSIX_SPAWN_DUP2, null, 0),
            (os.POSIX_SPAWN_DUP2, out, 1),
            (os.POSIX_SPAWN_DUP2, out, 2),
        ],
        setsid=True,
    )
    try:
        agent_stamp = _stamp(agent)
    except (OSError, ValueError):
        agent_stamp = _stamp(os.getpid())  # already gone: any stamp; exit.json follows
    me = os.getpid()
    runner: dict[str, object] = {
        "runner_pid": me,
        "runner_create_time": _stamp(me),
        "agent_pid": agent,
        "agent_create_time": agent_stamp,
        "started_at": started,
        "deadline": None,
    }
    _write(folder, "runner.json", runner)
    status = os.waitpid(agent, 0)[1]
    code = os.waitstatus_to_exitcode(status)
    ended: dict[str, object] = {"returncode": code, "reason": "exit", "ended_at": time.time()}
    _write(folder, "exit.json", ended)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
