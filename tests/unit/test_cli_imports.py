"""The short commands import only what they use (issue #14, "a fast CLI"): each `agentry`
command is a process of its own, so what it imports is most of what it costs.

Each command runs as a real process through a small wrapper that writes the modules it
ended with (``sys.modules``) to a file; the tests name the heavy ones that must not be there.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest
from helpers.agentry import ROOT, Home

from app.cli import program
from app.cli.approvals import REMEMBER_SCOPES
from app.core.approvals import RuleScope

WRAPPER = """
import json, sys
from app.cli import main
try:
    code = main(sys.argv[2:])
except SystemExit as exc:  # --help
    code = exc.code
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""

EVERY_COMMAND_AVOIDS: tuple[str, ...] = (
    "PySide6",
    "qasync",
    "app.ui",
    "app.supervisor.supervisor",
    "app.supervisor.lock",  # filelock: only commands that host or check a supervisor
    "app.supervisor.restore",
    "app.supervisor.workflows",
    "app.supervisor.workflow_transitions",
    "app.supervisor.workflow_catalog",
    "app.supervisor.approvals",
    "app.supervisor.rebuild",
    "app.supervisor.git",
    "app.supervisor.adapters.claude",
    "app.supervisor.adapters.codex",
    "app.supervisor.adapters.gemini",
    "app.supervisor.adapters.aider",
    "app.supervisor.adapters.opencode",
    "app.supervisor.adapters.amazonq",
    "app.store.workflow_repo",
    "app.store.approval_repo",
    "app.store.backup",
    "logging",  # loaded when something is logged (app.core.log); these commands log nothing
    "asyncio",
    "psutil",
    "secrets",
    "hashlib",  # OpenSSL, 3.8 ms: the audit chain hashes with the built-in SHA-256
    "app.supervisor.deliveries",  # the deliverer lives in the supervisor's process
    "app.store.notify_repo",
    # `agentry mcp` alone: the MCP SDK and what it brings (pydantic, anyio, starlette)
    "mcp",
    "mcp_types",
    "pydantic",
    "anyio",
    "app.cli.mcp_server",
    "app.supervisor.mcp_tools",
)


def _imported(home: Home, *args: str) -> set[str]:
    out = home.path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(out), *args],
        env=home.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.exists(), done.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["code"] == 0, done.stderr
    return set(result["modules"])


def _heavy(modules: set[str], avoided: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == a or m.startswith(a + ".") for a in avoided))


def test_run_imports_no_adapter_and_no_supervisor_machinery(home: Home) -> None:
    home.cli("run", "--", "true", check=True)  # makes the database (and says so in the log)
    modules = _imported(home, "run", "--", "true")
    assert _heavy(modules, EVERY_COMMAND_AVOIDS) == []
    assert _heavy(modules, ("app.core.agent_events", "subprocess", "app.cli.logfiles")) == []
    # 2 ms each: argparse's terminal width (shutil), a settings file's notification fields
    off_the_path = ("shutil", "app.core.notifications", "app.store.diskspace")
    assert _heavy(modules, off_the_path) == []
    others = ("approvals", "projects", "server", "workflows", "worktrees", "lands", "follow", "mcp")
    assert sorted(modules & {f"app.cli.{m}" for m in others}) == []  # other groups' modules
    assert "app.supervisor.adapters" not in modules  # a command needs no agent's adapter


@pytest.mark.parametrize(
    "args",
    [("list", "--json"), ("logs", "1"), ("approve", "--help"), ("approvals",), ("--help",)],
    ids=["list", "logs", "approve-help", "approvals", "help"],
)
def test_short_commands_import_no_qt_adapters_or_supervisor(
    home: Home, args: tuple[str, ...]
) -> None:
    subprocess.run(
        [sys.executable, "-m", "app", "run", "--", "true"],
        env=home.env,
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=True,
    )  # task 1, for `logs 1`
    modules = _imported(home, *args)
    avoided = EVERY_COMMAND_AVOIDS
    if args[0] == "approvals":  # it reads the approvals: its repository is what it uses
        avoided = tuple(
            a for a in avoided if a not in ("app.store.approval_repo", "secrets", "hashlib")
        )
    assert _heavy(modules, (*avoided, "app.supervisor.adapters", "app.core.agent_events")) == []


# ---------------------------------------------------------------- the lazily built parser


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(action.choices)


def test_groups_name_exactly_the_commands_each_registration_adds() -> None:
    for add, names in program.GROUPS:
        parser = argparse.ArgumentParser()
        program._registration(add)(parser.add_subparsers())
        assert tuple(_commands(parser)) == names, add
    listed = [name for _, names in program.GROUPS for name in names]
    assert _commands(program.build_parser()) == listed


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["run", "--", "true"], "run"),
        (["-v", "list", "--json"], "list"),
        (["--screenshot", "shot.png", "run"], "run"),
        (["--screenshot-size=10x10", "logs", "1"], "logs"),
        (["--screenshot-s", "list", "run"], None),  # an abbreviation: argparse decides
        (["--help"], None),
        ([], None),
        (["--", "run"], None),
    ],
)
def test_the_command_word_is_found_only_when_certain(args: list[str], word: str | None) -> None:
    assert program._command_word(args) == word


def test_a_command_parses_the_same_with_its_group_alone_as_with_every_group() -> None:
    argv = ["-v", "run", "--timeout", "30m", "--title", "t", "--", "make", "-j4"]
    alone = program.build_parser("run").parse_args(argv)
    every = program.build_parser().parse_args(argv)
    assert vars(alone) == vars(every)


def test_remember_offers_the_rule_scopes_a_task_and_a_folder_have() -> None:
    assert (RuleScope.TASK.value, RuleScope.PROJECT.value) == REMEMBER_SCOPES
