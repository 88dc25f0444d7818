"""The run-folder records as the runner reads and writes them: plain dicts, the same
keys and the same bytes as :mod:`app.runner.protocol`'s dataclasses (which the supervisor
uses, and which check their values here, so the rules are written once).

The runner waits beside its agent for hours, one per running agent, so this module keeps
to what every Python has loaded at start-up: no ``json`` (it brings ``re`` and ``enum``,
over 1 MiB per runner), no ``dataclasses``, no ``enum``. A spec is parsed by the
standard library's own C scanner (``_json``, what ``json.loads`` uses underneath), and
the records the runner writes are flat objects of numbers and text, written exactly as
``json.dumps(indent=2, ensure_ascii=False)`` would write them (a test pins that).
"""

from __future__ import annotations

import os
import sys

from app.core import atomicfile

TYPE_CHECKING = False  # typing itself is too big to import here; mypy reads this as usual
if TYPE_CHECKING:
    from collections.abc import Callable

SPEC = "spec.json"
PROMPT = "prompt.txt"
RUNNER = "runner.json"
EXIT = "exit.json"
CANCEL = "cancel"
HEARTBEAT = "heartbeat"
HEARTBEAT_S = 60.0  # how often a runner touches its heartbeat (tests may shorten it)
SETUP = "setup.json"
OUTPUT = "output.log"
RUNNER_LOG = "runner.log"

# How a run ended: the values of app.core.states.ExitReason (a test checks they agree);
# plain text here, since enum alone would add a third to a waiting runner's memory.
EXIT_REASON = "exit"
TIMEOUT = "timeout"
CANCELLED = "cancelled"
SPAWN_ERROR = "spawn_error"
INTERRUPTED = "interrupted"
SETUP_FAILED = "setup_failed"
MEMORY_LIMIT = "memory_limit"  # the agent's process tree used more memory than its limit

SPEC_DEFAULTS: dict[str, object] = {
    "env": {},
    "stdin": None,
    "timeout": None,
    "grace": 5.0,
    "adapter": "shell",
    "setup": None,
    "setup_command": "",
    "title": "",
    "memory_limit_mb": None,
}
SPEC_REQUIRED = ("run_id", "task_id", "argv", "cwd")
_KEPT = "; the file was kept for inspection"

# The heartbeat's second line, when the runner takes a cancel as a signal: which one. A
# runner of an earlier Agentry has none (it would die of SIGUSR1, not cancel); it polls
# the cancel file, so it is left to that.
CANCEL_SIGNAL_NOTE = "cancel-signal"


def heartbeat_text(now: float, cancel_signal: int | None) -> str:
    """What the heartbeat file holds: the time, then the signal that tells of a cancel."""
    text = f"{now:.3f}\n"
    return text if cancel_signal is None else f"{text}{CANCEL_SIGNAL_NOTE} {cancel_signal}\n"


def cancel_signal_in(heartbeat: str) -> int | None:
    """The cancel signal a heartbeat names, if any."""
    for line in heartbeat.splitlines()[1:]:
        name, _, number = line.partition(" ")
        if name == CANCEL_SIGNAL_NOTE and number.strip().isdigit():
            return int(number)
    return None


class RecordError(ValueError):
    """A run-folder file exists but does not hold what the protocol says; names the file."""


# ------------------------------------------------------------------ checks


def check_spec(values: dict[str, object]) -> None:
    """Raise ValueError when a spec's values are not what the runner can run."""
    argv = values.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise ValueError("argv must be a non-empty list of strings")
    cwd = values.get("cwd")
    if not isinstance(cwd, str) or not cwd:
        raise ValueError("cwd must be a folder path")
    env = values.get("env")
    if not isinstance(env, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        raise ValueError("env must map names to string values")
    stdin = values.get("stdin")
    if stdin is not None and not isinstance(stdin, str):
        raise ValueError("stdin must be a file name or null")
    setup = values.get("setup")
    if setup is not None and (
        not isinstance(setup, list) or not setup or not all(isinstance(a, str) for a in setup)
    ):
        raise ValueError("setup must be null or a non-empty list of strings")
    if not isinstance(values.get("setup_command"), str):
        raise ValueError("setup_command must be text")
    if not isinstance(values.get("title"), str):
        raise ValueError("title must be text")
    check_number("timeout", values.get("timeout"), optional=True)
    check_number("grace", values.get("grace"))
    limit = values.get("memory_limit_mb")
    check_number("memory_limit_mb", limit, optional=True)
    if isinstance(limit, int | float) and limit <= 0:
        raise ValueError("memory_limit_mb must be a positive number of MiB, or null")


def check_pid(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")


def check_number(name: str, value: object, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, not {value!r}")


# ------------------------------------------------------------------ reading


def read_spec(run_dir: str) -> dict[str, object]:
    """The run's spec with defaults filled in; RecordError (naming spec.json) when it is
    not valid, FileNotFoundError when it is missing."""
    path = os.path.join(run_dir, SPEC)
    with open(path, "rb") as f:
        raw = f.read()
    try:
        data = loads(raw.decode("utf-8-sig"))
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise RecordError(f"{path} is not valid JSON ({exc}){_KEPT}") from exc
    if not isinstance(data, dict):
        raise RecordError(f"{path} does not hold a JSON object{_KEPT}")
    values = {**SPEC_DEFAULTS, **data}
    try:
        for name in SPEC_REQUIRED:
            if name not in data:
                raise ValueError(f"{name} is missing")
        check_spec(values)
    except ValueError as exc:
        raise RecordError(f"{path} is not a valid {SPEC} ({exc}){_KEPT}") from exc
    return values


class _Context:
    """What the C scanner reads off ``json.JSONDecoder``: strict JSON, plain objects."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


def loads(text: str) -> object:
    """``json.loads`` without importing ``json`` for a valid document: CPython's scanner
    itself. Anything else goes to ``json.loads`` after all, for its error (the scanner
    needs ``json.decoder`` loaded to raise one): only a broken file pays for it."""
    try:
        from _json import make_scanner
    except ImportError:  # not CPython
        pass
    else:
        context = _Context()
        context.parse_constant = _Context.parse_constant.__getitem__  # type: ignore[assignment]
        start = len(text) - len(text.lstrip(" \t\n\r"))
        try:
            value, end = make_scanner(context)(text, start)  # type: ignore[arg-type]
        except (StopIteration, SystemError, ValueError):
            pass
        else:
            if not text[end:].strip(" \t\n\r"):
                return value
    import json

    return json.loads(text)


# ------------------------------------------------------------------ writing


def dumps_flat(record: dict[str, object]) -> str:
    """``json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False) + "\\n"`` for a
    flat record (numbers, text, booleans, null), without the ``json`` module."""
    try:
        from _json import encode_basestring as text
    except ImportError:  # not CPython
        from json.encoder import py_encode_basestring as text

    lines = [f"  {text(key)}: {_value(value, text)}" for key, value in record.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _value(value: object, text: Callable[[str], str]) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{value!r} is not allowed in strict JSON")
        return float.__repr__(value)
    if isinstance(value, str):
        return text(value)
    raise TypeError(f"a flat record holds numbers, text and null, not {type(value).__name__}")


def write_record(run_dir: str, name: str, record: dict[str, object]) -> None:
    """Write a record atomically, private, durably (temp beside it, fsync, rename, fsync
    the folder). Windows goes through fsops, which retries a file briefly held open by an
    antivirus or indexer; elsewhere a rename does not meet such locks."""
    payload = dumps_flat(record).encode("utf-8")
    path = os.path.join(run_dir, name)
    if sys.platform == "win32":
        from app.store import fsops

        fsops.atomic_write(path, payload)
    else:
        atomicfile.replace(path, payload)
