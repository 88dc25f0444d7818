"""A stand-in runner for the throughput benchmark: the run-folder protocol, nothing else.

Started as ``python -I -S standin_runner.py RUN_DIR``, it imports nothing Python has not
loaded at start-up (no Agentry module, no psutil, not even ``json``: CPython's C scanner
reads spec.json), so a drain timed with it shows what the supervisor itself costs per
job, apart from the runner's start-up. It honours what the supervisor reads:
``runner.json`` once the agent started, ``exit.json`` once it ended, both written
atomically and fsynced as the real runner writes them; the agent writes straight to
``output.log``. No timeout, cancel or heartbeat: the benchmark's agents are ``true``.
Linux only (process start stamps are read from /proc, as app.runner.procs does there).
"""

import _json
import os
import sys
import time


def _stamp(pid: int) -> float:
    """Seconds since boot when ``pid`` started: app.runner.procs.start_stamp on Linux."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    return int(stat[stat.rindex(b")") + 2 :].split()[19]) / os.sysconf("SC_CLK_TCK")


class _Strict:
    """What the C scanner reads off a ``json.JSONDecoder``."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = None
    memo: dict[str, str] = {}


def _read(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        record, _end = _json.make_scanner(_Strict())(f.read(), 0)  # type: ignore[arg-type]
    return record


def _dump(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):  # the stand-in writes only plain words
        return f'"{value}"'
    return repr(value)


def _write(folder: str, name: str, record: dict[str, object]) -> None:
    tmp = os.path.join(folder, f".{name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        text = ", ".join(f'"{key}": {_dump(value)}' for key, value in record.items())
        os.write(fd, ("{" + text + "}\n").encode())
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
    spec = _read(os.path.join(folder, "spec.json"))
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
