"""``agentry hook KIND --run RUN_ID``: an agent's pre-tool hook (DESIGN §7).

The agent (Claude Code's and Codex's PreToolUse, Gemini CLI's BeforeTool) starts this
process before every tool call and waits for its answer. It reads the call from stdin, applies the
rules, otherwise records a pending approval and waits for a person's decision in the
database, then answers. It fails closed: unreadable input, an unknown run, expiry, a
signal or any error of ours means deny.

The agents let a call through on anything but a clean deny (a hook that crashes, times
out or prints something unreadable counts as yes), so a deny never depends on stdout:
it is exit code 2 with the reason on stderr, which all three agents read as "block, and
tell the model why". An allow is the agent's JSON on stdout (Claude and Gemini need it
to skip their own permission prompts) or, for Codex, a clean exit. ``--probe`` answers
without reading anything, so Agentry can check before a launch that the hook command
really reaches this code from the agent's shell and working folder.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

import psutil

from app.core.approvals import (
    RULE_REASON_PREFIX,
    Approval,
    ApprovalState,
    Decision,
    Rule,
    RuleScope,
    first_match,
    main_argument,
)
from app.core.log import get_logger
from app.core.settings import Settings
from app.runner import procs
from app.store import approval_repo, repo
from app.store.db import Connection, StoreError, open_database, transaction
from app.store.locations import locations_from_env
from app.store.settings import load_settings

log = get_logger(__name__)

# Hook kind -> the agent whose answer format it speaks. The agents send the same input
# fields we need (tool_name, tool_input, cwd); only the answer differs.
KINDS = {
    "claude-pretool": "claude",
    "claude-pretooluse": "claude",
    "codex-pretool": "codex",
    "gemini-pretool": "gemini",
    "gemini-beforetool": "gemini",
}
POLL_S = 0.25
ASKER_CHECK_S = 2.0
PROBE_ANSWER = "agentry-hook-ready"
DENY_EXIT = 2


class HookInputError(ValueError):
    pass


class HookStopped(BaseException):
    """A signal ended the wait; the call is denied (and the request marked abandoned)."""


@dataclass(frozen=True)
class ToolRequest:
    tool: str
    input: dict[str, Any]
    cwd: str | None
    tool_use_id: str | None
    mcp: bool = False  # a tool of an MCP server, whatever its name looks like


def parse_request(raw: str | bytes) -> ToolRequest:
    """The hook JSON the agent sends (Claude's PreToolUse, Gemini's BeforeTool); never guessed."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HookInputError(f"the hook input is not UTF-8 text (byte {exc.start})") from None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise HookInputError(f"the hook input is not JSON ({exc})") from None
    except RecursionError:
        raise HookInputError("the hook input is JSON nested too deeply to read") from None
    if not isinstance(data, dict):
        raise HookInputError("the hook input is not a JSON object")
    tool, tool_input = data.get("tool_name"), data.get("tool_input", {})
    if not isinstance(tool, str) or not tool:
        raise HookInputError("the hook input names no tool (tool_name)")
    if not isinstance(tool_input, dict):
        raise HookInputError("the hook input's tool_input is not an object")
    cwd, use_id = data.get("cwd"), data.get("tool_use_id")
    return ToolRequest(
        tool,
        tool_input,
        cwd if isinstance(cwd, str) else None,
        use_id if isinstance(use_id, str) else None,
        # Gemini names MCP tools <server>_<tool>: a server called "read" with a tool
        # "file" must not pass as the read-only read_file.
        mcp=bool(data.get("mcp_context")) or tool.startswith("mcp__"),
    )


def answer(decision: str, reason: str, agent: str = "claude") -> str:
    """The decision in the agent's own hook answer format (AGENT-CLIS.md)."""
    if agent == "gemini":  # BeforeTool: the reason of a deny reaches the model as the error
        return json.dumps({"decision": decision, "reason": reason})
    return json.dumps(
        {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": decision,
                "permissionDecisionReason": reason,
            }
        }
    )


def main(
    kind: str,
    run_id: int,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    *,
    timeout: float | None = None,
    probe: bool = False,
) -> int:
    """Answer one tool call; returns the exit code. ``timeout`` caps the wait at the expiry
    the agent was launched with (its own hook timeout was set from it)."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    agent = KINDS.get(kind)
    if agent is None:
        known = ", ".join(KINDS)
        stderr.write(f"agentry hook: unknown hook kind {kind!r}; expected one of {known}\n")
        return DENY_EXIT
    if probe:
        stdout.write(PROBE_ANSWER + "\n")
        stdout.flush()
        return 0
    try:
        raw = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read()
        decision, reason = _decide(run_id, raw, timeout)
    except HookStopped as stop:
        decision, reason = "deny", f"Agentry stopped waiting for an answer ({stop}); denied."
    except BaseException as exc:  # fail closed on anything, Ctrl-C included
        log.exception("hook failed")
        decision, reason = (
            "deny",
            f"Agentry could not check this call ({exc!r}); denied to be safe.",
        )
    return respond(agent, decision, reason, stdout, stderr)


def respond(agent: str, decision: str, reason: str, stdout: TextIO, stderr: TextIO) -> int:
    """Give the answer; returns the hook's exit code (see the module docstring)."""
    if decision != "allow":
        # An empty reason would make Codex ignore the exit code and run the call; the
        # agents read stderr as the reason, so it is one plain line.
        stderr.write((" ".join(reason.split()) or "Denied in Agentry.") + "\n")
        stderr.flush()
        return DENY_EXIT
    if agent != "codex":  # Codex: a clean exit; its stdout passes through a login shell
        stdout.write(answer(decision, reason, agent) + "\n")
        stdout.flush()
    return 0


def _decide(run_id: int, raw: str | bytes, timeout: float | None = None) -> tuple[str, str]:
    try:
        request = parse_request(raw)
    except HookInputError as exc:
        return "deny", f"Agentry could not read this request: {exc}. Denied to be safe."
    locations = locations_from_env()
    try:
        conn = open_database(locations.database)
    except StoreError as exc:
        return "deny", f"Agentry's database is unavailable ({exc}); denied to be safe."
    try:
        settings = load_settings(locations.settings)
        if timeout is not None and timeout < settings.approval_timeout_s:
            # The agent kills its hook (and runs the call) at the timeout it was launched
            # with: a longer expiry set since then must not outlast it.
            settings = dataclasses.replace(settings, approval_timeout_s=timeout)
        return _ask(conn, settings, run_id, request)
    finally:
        conn.close()


def _ask(
    conn: Connection, settings: Settings, run_id: int, request: ToolRequest
) -> tuple[str, str]:
    try:
        run = repo.get_run(conn, run_id)
    except LookupError:
        return "deny", f"Agentry knows no run {run_id}; denied to be safe."
    if run.state.is_terminal:
        return "deny", f"This run has ended ({run.state.value}) as far as Agentry knows."
    task = repo.get_task(conn, run.task_id)
    cwd = request.cwd or task.spec.cwd
    rule = first_match(
        _rules(conn, settings, request.mcp),
        request.tool,
        main_argument(request.tool, request.input),
        task_id=task.id,
        cwd=cwd,
    )
    call = _Call(run.id, task.id, task.agent, request, cwd)
    if rule is not None:
        return _by_rule(conn, call, rule)
    return _wait_for_person(conn, settings, call)


def _rules(conn: Connection, settings: Settings, mcp: bool = False) -> list[Rule]:
    builtin = [
        Rule(id=-i - 1, scope=RuleScope.ANY, tool=tool, decision=Decision.ALLOW)
        for i, tool in enumerate(settings.approval_auto_allow)
        if not mcp  # the read-only list names built-in tools only
    ]
    return [*approval_repo.rules(conn), *builtin]


@dataclass(frozen=True)
class _Call:
    """One tool call of one run, as the approvals table records it."""

    run_id: int
    task_id: int
    agent: str
    request: ToolRequest
    cwd: str

    def record(self, conn: Connection, *, expires_in: float, **extra: Any) -> Approval:
        return approval_repo.create(
            conn,
            run_id=self.run_id,
            task_id=self.task_id,
            agent=self.agent,
            tool=self.request.tool,
            tool_input=self.request.input,
            cwd=self.cwd,
            expires_in=expires_in,
            tool_use_id=self.request.tool_use_id,
            **extra,
        )


def _by_rule(conn: Connection, call: _Call, rule: Rule) -> tuple[str, str]:
    allowed = rule.decision is Decision.ALLOW
    reason = f"{RULE_REASON_PREFIX}{rule.describe()}" if rule.id > 0 else "read-only tool"
    with transaction(conn):
        call.record(
            conn,
            expires_in=0,
            decided=(
                ApprovalState.ALLOWED if allowed else ApprovalState.DENIED,
                reason,
                f"rule {rule.id}" if rule.id > 0 else "auto-allow",
            ),
        )
    return ("allow" if allowed else "deny"), reason


def _wait_for_person(conn: Connection, settings: Settings, call: _Call) -> tuple[str, str]:
    me = psutil.Process()
    with transaction(conn):
        approval = call.record(
            conn, expires_in=settings.approval_timeout_s, hook=procs.identity(me)
        )
    _abandon_on_signal(conn, approval.id)
    next_check = time.monotonic() + ASKER_CHECK_S
    while True:
        if time.monotonic() >= next_check:
            next_check = time.monotonic() + ASKER_CHECK_S
            gone = _asker_gone(conn, call.run_id)
            if gone:
                _abandon(conn, approval.id, gone)
        current = approval_repo.get(conn, approval.id)
        if current.state is ApprovalState.ALLOWED:
            return "allow", current.reason or "Allowed in Agentry."
        if current.state is not ApprovalState.PENDING:
            return "deny", current.reason or f"Agentry: {current.state.value}."
        if time.time() >= current.expires_at:
            return _expire(conn, approval.id, settings.approval_timeout_s)
        time.sleep(POLL_S)


def _expire(conn: Connection, approval_id: str, waited: float) -> tuple[str, str]:
    reason = (
        f"No one answered within {waited / 60:.0f} minutes, so Agentry denied this call "
        "(it fails closed). Ask again later or continue without it."
    )
    with transaction(conn):
        expired = approval_repo.decide(
            conn, approval_id, ApprovalState.EXPIRED, reason=reason, by="agentry"
        )
    if expired:
        return "deny", reason
    current = approval_repo.get(conn, approval_id)  # a person answered in the last instant
    if current.state is ApprovalState.ALLOWED:
        return "allow", current.reason or "Allowed in Agentry."
    return "deny", current.reason or reason


def _asker_gone(conn: Connection, run_id: int) -> str | None:
    """Why no one is waiting for our answer any more, if that is so.

    Agents start hooks in a session of their own, so stopping an agent's process group
    does not stop its hook: the hook must notice by itself that the agent is gone.
    """
    run = repo.get_run(conn, run_id)
    if run.state.is_terminal:
        return f"the run ended ({run.state.value})"
    if run.agent_pid and not procs.is_alive(run.agent_pid, run.agent_create_time):
        return f"the agent that asked (pid {run.agent_pid}) is gone"
    return None


def _abandon(conn: Connection, approval_id: str, why: str) -> None:
    with transaction(conn):
        approval_repo.decide(conn, approval_id, ApprovalState.ABANDONED, by="agentry", reason=why)


def _abandon_on_signal(conn: Connection, approval_id: str) -> None:
    """The agent gave up on us (its own hook timeout, or it was stopped): mark it so, and
    answer deny on the way out in case anyone still reads the answer."""

    def handler(signum: int, _frame: object) -> None:
        try:
            with transaction(conn):
                approval_repo.decide(
                    conn,
                    approval_id,
                    ApprovalState.ABANDONED,
                    by="agentry",
                    reason=f"the hook was stopped (signal {signum})",
                )
        finally:
            raise HookStopped(f"signal {signum}")

    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), handler)
