"""The contract every agent adapter keeps (DESIGN §6), checked for each registered adapter:
its facts, detection of its CLI, the argv of a fresh and of a resumed run, and the parsing of
its recorded output (tests/fixtures/agents/<agent>/). What one adapter does that the others
do not is tested in test_adapters_<agent>.py."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.agent_cli import (
    FIXTURES,
    fake_cli,
    fixture_lines,
    fixture_names,
    only_path,
    sources_name_every_fixture,
)

from app import demo_agent
from app.core.agent_events import AgentEvent, Raw, Result, Session
from app.supervisor import adapters
from app.supervisor.adapters import Adapter, AgentOptions, all_adapters, get_adapter
from app.supervisor.adapters.base import MAX_PROMPT_ARG, LineParser

EXE = "/opt/bin/agent"
RUN_DIR = Path("/data/runs/7-abc")
PROMPT = "fix the bug"
SESSION = "0199a213-81c0-7800-8aa1-bbab2a035a53"
AIDER_FLAGS = ["--yes-always", "--no-pretty", "--no-stream", "--no-check-update",
               "--no-show-release-notes"]  # fmt: skip


@dataclass(frozen=True)
class Contract:
    label: str
    executables: tuple[str, ...]
    install_hint: str
    structured: bool
    supports_resume: bool
    # argv and stdin of ``build(PROMPT, AgentOptions(), executable=EXE, run_dir=RUN_DIR)``;
    # None: the adapter builds no argv (a shell task carries its own).
    fresh: tuple[list[str], str | None] | None
    # argv of the same with ``session_id=SESSION`` (stdin as fresh); None: no resume.
    resume: list[str] | None = None
    # What a fake CLI prints for --version; None: built in, nothing to find.
    version: str | None = None
    # A recording of real output that opens a session: (fixture, session id).
    session: tuple[str, str] | None = None
    # The `agentry hook KIND` its pre-tool hook calls (approvals); None: no usable hook.
    hook_kind: str | None = None


CONTRACTS: dict[str, Contract] = {
    "shell": Contract("Shell command", (), "(nothing to install)", False, False, fresh=None),
    "demo": Contract(
        "Demo agent (built in)", (), "(built in)", False, False,
        fresh=(demo_agent.command(), None),
    ),
    "claude": Contract(
        "Claude Code", ("claude",), "npm install -g @anthropic-ai/claude-code", True, True,
        fresh=([EXE, "-p", "--output-format", "stream-json", "--verbose"], PROMPT),
        resume=[EXE, "-p", "--output-format", "stream-json", "--verbose", "--resume", SESSION],
        version="2.1.197 (Claude Code)",
        session=("text_only.jsonl", "45e832c5-037d-430a-95c0-74b1fea4fbb2"),
        hook_kind="claude-pretool",
    ),
    "codex": Contract(
        "Codex CLI", ("codex",), "npm install -g @openai/codex", True, True,
        fresh=([EXE, "exec", "--json", "--skip-git-repo-check", "-"], PROMPT),
        resume=[EXE, "exec", "--json", "--skip-git-repo-check", "resume", SESSION, "-"],
        version="codex-cli 0.171.0",
        session=("real_0.171.0_approved_command.jsonl", "01a22806-3b9a-7281-8c75-1e0d0c7b251f"),
        hook_kind="codex-pretool",
    ),
    "gemini": Contract(
        "Gemini CLI", ("gemini",), "npm install -g @google/gemini-cli", True, True,
        fresh=([EXE, "-o", "stream-json", "-p", PROMPT], None),
        resume=[EXE, "-o", "stream-json", "--resume", SESSION, "-p", PROMPT],
        version="0.61.0",
        session=("real_0.61.0_approved_command.jsonl", "dc22535f-2984-4f9d-b1ca-da03b8af15a1"),
        hook_kind="gemini-pretool",
    ),
    "aider": Contract(
        "Aider", ("aider",), "pip install aider-chat", False, True,
        fresh=([EXE, "--message-file", str(RUN_DIR / "prompt.md"), *AIDER_FLAGS,
                "--chat-history-file", str(RUN_DIR / "aider.chat.history.md")], None),
        # Aider's "session" is its chat history file; one that does not exist yet is not
        # restored (test_adapters_aider.py covers restoring one).
        resume=[EXE, "--message-file", str(RUN_DIR / "prompt.md"), *AIDER_FLAGS,
                "--chat-history-file", SESSION],
        version="aider 0.86.1",
    ),
    "opencode": Contract(
        "opencode", ("opencode",), "npm install -g opencode-ai", True, True,
        fresh=([EXE, "run", "--format", "json"], PROMPT),
        resume=[EXE, "run", "--format", "json", "--session", SESSION],
        version="1.18.29",
        session=("pr2810_steps.jsonl", "ses_6783457c2ffeICANaRjenHkVxv"),
    ),
    "q": Contract(
        "Amazon Q Developer CLI", ("q",),
        "see https://docs.aws.amazon.com/amazonq/latest/qdeveloper-ug/command-line-installing.html",
        False, True,
        fresh=([EXE, "chat", "--no-interactive", PROMPT], None),
        # --resume takes no id: it continues the last conversation of the folder.
        resume=[EXE, "chat", "--no-interactive", "--resume", PROMPT],
        version="q 1.19.3",
    ),
}  # fmt: skip

NAMES = list(CONTRACTS)
WITH_CLI = [name for name in NAMES if CONTRACTS[name].executables]
BUILT_IN = [name for name in NAMES if not CONTRACTS[name].executables]
RESUMING = [name for name in NAMES if CONTRACTS[name].resume is not None]
RECORDED = sorted(path.name for path in FIXTURES.iterdir() if path.is_dir())
FIXTURE_FILES = [(agent, name) for agent in RECORDED for name in fixture_names(agent)]
SESSIONS = [name for name in NAMES if CONTRACTS[name].session is not None]


def _feed(parser: LineParser, lines: list[str]) -> list[AgentEvent]:
    return [event for line in lines for event in parser.feed(line)]


# --- every adapter has a contract ------------------------------------------------------


def test_every_adapter_class_is_registered_and_has_a_contract() -> None:
    classes = set()
    for info in pkgutil.iter_modules(adapters.__path__, f"{adapters.__name__}."):
        module = importlib.import_module(info.name)
        classes |= {
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, Adapter) and cls is not Adapter and "name" in vars(cls)
        }
    registered = {type(adapter) for adapter in all_adapters()}
    assert classes == registered
    assert sorted(a.name for a in all_adapters()) == sorted(CONTRACTS)


def test_every_agent_with_recordings_is_an_adapter_with_a_cli() -> None:
    assert set(RECORDED) == set(WITH_CLI)


# --- facts -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_facts(name: str) -> None:
    adapter, contract = get_adapter(name), CONTRACTS[name]
    assert adapter.name == name
    assert (adapter.label, adapter.executables, adapter.install_hint) == (
        contract.label,
        contract.executables,
        contract.install_hint,
    )
    assert (adapter.structured, adapter.supports_resume, adapter.hook_kind) == (
        contract.structured,
        contract.supports_resume,
        contract.hook_kind,
    )
    parser = adapter.parser()
    assert (type(parser) is LineParser) == (not contract.structured), (
        "structured output has a parser of its own, plain text is shown as it is"
    )
    assert adapter.needs_prompt == bool(contract.executables)


# --- detection -------------------------------------------------------------------------


@pytest.mark.parametrize("name", WITH_CLI)
def test_detection_finds_the_cli_on_path_with_its_version(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract = CONTRACTS[name]
    exe = fake_cli(tmp_path / "bin", contract.executables[0], contract.version or "")
    only_path(monkeypatch, tmp_path / "bin")
    found = get_adapter(name).detect()
    assert found.found and Path(found.path or "") == exe
    assert found.version == contract.version
    assert str(exe) in found.describe()


@pytest.mark.parametrize("name", WITH_CLI)
def test_detection_without_the_cli_says_how_to_install_it(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_path(monkeypatch, tmp_path / "empty")
    found = get_adapter(name).detect()
    assert not found.found and found.path is None and found.problem is None
    assert CONTRACTS[name].install_hint in found.describe()


@pytest.mark.parametrize("name", WITH_CLI)
def test_a_configured_path_that_does_not_exist_is_a_problem(name: str, tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere" / name)
    found = get_adapter(name).detect(missing)
    assert not found.found and found.problem == f"{missing} does not exist"


@pytest.mark.parametrize("name", BUILT_IN)
def test_a_built_in_agent_is_always_found(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_path(monkeypatch, tmp_path / "empty")
    assert get_adapter(name).detect().found


# --- argv ------------------------------------------------------------------------------


def _build(name: str, session_id: str | None = None) -> tuple[list[str], str | None]:
    inv = get_adapter(name).build(PROMPT, AgentOptions(), executable=EXE,
                                  session_id=session_id, run_dir=RUN_DIR)  # fmt: skip
    return inv.argv, inv.stdin_text


@pytest.mark.parametrize("name", NAMES)
def test_argv_of_a_fresh_run(name: str) -> None:
    contract = CONTRACTS[name]
    if contract.fresh is None:
        with pytest.raises(TypeError):
            _build(name)
        return
    assert _build(name) == contract.fresh


@pytest.mark.parametrize("name", NAMES)
def test_argv_of_a_resumed_run(name: str) -> None:
    contract = CONTRACTS[name]
    assert get_adapter(name).supports_resume == (contract.resume is not None)
    if contract.resume is None:
        return
    assert contract.fresh is not None
    assert _build(name, session_id=SESSION) == (contract.resume, contract.fresh[1])


@pytest.mark.parametrize("name", WITH_CLI)
@pytest.mark.parametrize("session_id", [None, SESSION])
def test_a_long_prompt_never_reaches_the_command_line(name: str, session_id: str | None) -> None:
    prompt = "p" * (MAX_PROMPT_ARG + 1)
    inv = get_adapter(name).build(prompt, AgentOptions(), executable=EXE,
                                  session_id=session_id, run_dir=RUN_DIR)  # fmt: skip
    assert all(len(arg) < MAX_PROMPT_ARG for arg in inv.argv)
    assert prompt in (inv.stdin_text, *inv.files.values()), "the prompt still reaches the agent"


# --- parsing of recorded output --------------------------------------------------------


@pytest.mark.parametrize("agent", RECORDED)
def test_every_fixture_says_where_it_comes_from(agent: str) -> None:
    assert sources_name_every_fixture(agent) == []


@pytest.mark.parametrize(("agent", "fixture"), FIXTURE_FILES)
def test_every_recorded_line_parses_without_raising(agent: str, fixture: str) -> None:
    parser = get_adapter(agent).parser()
    for line in fixture_lines(agent, fixture):
        events = parser.feed(line)
        assert isinstance(events, list) and all(isinstance(e, AgentEvent) for e in events)


@pytest.mark.parametrize("agent", RECORDED)
def test_lines_the_parser_cannot_read_come_back_raw(agent: str) -> None:
    lines = fixture_lines(agent, "malformed.txt")
    assert any("\ufffd" in line for line in lines), "the fixture holds invalid UTF-8"
    shared = get_adapter(agent).parser()  # one parser for all, as in a run: state must not leak
    for line in lines:
        expected = [Raw(line)] if line.strip() else []
        assert get_adapter(agent).parser().feed(line) == expected
        assert shared.feed(line) == expected


@pytest.mark.parametrize("name", SESSIONS)
def test_a_recorded_run_names_its_session_first_and_ends_with_a_result(name: str) -> None:
    fixture, session_id = CONTRACTS[name].session or ("", "")
    events = _feed(get_adapter(name).parser(), fixture_lines(name, fixture))
    sessions = [e for e in events if isinstance(e, Session)]
    assert isinstance(events[0], Session) and events[0].session_id == session_id
    assert {s.session_id for s in sessions} == {session_id}
    assert isinstance(events[-1], Result) and events[-1].ok


@pytest.mark.parametrize("name", [n for n in WITH_CLI if not CONTRACTS[n].structured])
def test_plain_text_output_is_shown_as_it_is(name: str) -> None:
    for fixture in fixture_names(name):
        if fixture == "malformed.txt":
            continue
        lines = fixture_lines(name, fixture)
        assert _feed(get_adapter(name).parser(), lines) == [Raw(ln) for ln in lines if ln.strip()]
