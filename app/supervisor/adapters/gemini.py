"""Gemini CLI: ``gemini -o stream-json`` (AGENT-CLIS.md; gemini-cli docs/cli/headless.md).

Argv: ``gemini -o stream-json [-m M] [--approval-mode MODE] [--resume ID] -p PROMPT``.

How the prompt travels: headless.md says "When stdin is not a TTY, the CLI reads its
content and prepends it to the prompt. If you also pass ``-p``, the stdin content and the
prompt value are combined" (``packages/cli/src/gemini.tsx``: ``input =
`${stdinData}\\n\\n${input}```), and a non-TTY stdin alone is enough for headless mode
(``echo "Summarize this" | gemini``). So a prompt too long for the command line (or one
that starts with ``-``, which the option parser would take for a flag) goes on stdin with
no ``-p``; every other prompt goes in ``-p`` and nothing is sent on stdin — sending both
would make Gemini see the prompt twice.

Approvals: Gemini CLI's ``BeforeTool`` hook (docs/hooks/reference.md) asks Agentry before
every tool call. Hooks come only from settings files, and the only one Agentry may
choose per run without writing into the user's home or project is the user settings
file under ``GEMINI_CLI_HOME`` (system settings are ignored unless root-owned). So a run
with approvals gets a Gemini home of its own in its run folder: ``.gemini/settings.json``
is the user's settings plus Agentry's hook, and every other entry of the real
``~/.gemini`` (credentials, sessions under ``tmp/``, trusted folders, GEMINI.md,
extensions…) is linked, so sessions and logins stay where the user's Gemini keeps them.
Gemini concatenates hook lists across its settings layers, but a workspace or system
settings file can switch all hooks off (``hooksConfig.enabled: false``) and wins over the
user layer, so such a run is refused before it starts; the hook's name is random per
run, so no ``hooksConfig.disabled`` list can name it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sys
from pathlib import Path
from typing import Any

from app.core.agent_events import (
    AgentEvent,
    Error,
    Limit,
    Result,
    Session,
    Text,
    ToolCall,
    ToolResult,
    as_float,
    as_int,
)
from app.core.platform import IS_WINDOWS, powershell_line
from app.supervisor.adapters.base import (
    Adapter,
    AgentOptions,
    HookConfig,
    Invocation,
    JsonLineParser,
    LaunchError,
    prompt_in_argv,
)
from app.supervisor.adapters.limits import PACIFIC, next_midnight, one_line, parse_timestamp

HOME_DIR = "gemini-home"  # in the run folder: GEMINI_CLI_HOME of a run with approvals
HOOK_NAME = "agentry-approvals"


class GeminiAdapter(Adapter):
    name = "gemini"
    label = "Gemini CLI"
    reports_tokens = True
    executables = ("gemini",)
    install_hint = "npm install -g @google/gemini-cli"
    structured = True
    supports_resume = True
    # Gemini CLI saves a session only once the model answered: "--resume" of one whose
    # first request hit the quota says "No previous sessions found for this project".
    keeps_unanswered_sessions = False
    permission_modes = ("default", "auto_edit", "yolo", "plan")
    hook_kind = "gemini-pretool"

    def build(
        self,
        prompt: str,
        options: AgentOptions,
        *,
        executable: str,
        session_id: str | None = None,
        run_dir: Path | None = None,
        hook: HookConfig | None = None,
    ) -> Invocation:
        argv = [executable, "-o", "stream-json"]
        if options.model:
            argv += ["-m", options.model]
        mode = options.permission_mode
        env: dict[str, str] = {}
        files: dict[str, str] = {}
        links: dict[str, str] = {}
        if hook is not None and run_dir is not None:
            # Agentry's hook is the gatekeeper now. Headless Gemini refuses every call that
            # would need its own confirmation, so a person's yes could never take effect
            # in its default mode: unless the user chose a mode, the hook decides alone.
            mode = mode or "yolo"
            env["GEMINI_CLI_HOME"] = str(Path(run_dir) / HOME_DIR)
            files, links = hook_home(hook, real_home(), self.hook_line(hook))
        if mode:
            argv += ["--approval-mode", mode]
        if session_id:
            argv += ["--resume", session_id]
        argv += list(options.extra_args)
        if prompt_in_argv(prompt) and not prompt.startswith("-"):
            return Invocation(argv=[*argv, "-p", prompt], env=env, files=files, links=links)
        return Invocation(argv=argv, stdin_text=prompt, env=env, files=files, links=links)

    def parser(self) -> GeminiParser:
        return GeminiParser()

    def hook_line(self, hook: HookConfig) -> str:
        # Gemini runs hooks with PowerShell on Windows, where "C:\\…" args would not parse.
        return powershell_line(hook.command) if IS_WINDOWS else hook.shell_command()

    def hook_shell(self, env: dict[str, str]) -> list[str] | None:
        """As Gemini's getShellConfiguration: bash -c, or PowerShell on Windows."""
        if not IS_WINDOWS:
            return ["bash", "-c"]
        comspec = env.get("ComSpec") or env.get("COMSPEC") or ""
        if comspec.lower().endswith(("powershell.exe", "pwsh.exe")):
            return [comspec, "-NoProfile", "-NonInteractive", "-Command"]
        pwsh = shutil.which("pwsh.exe")
        if pwsh:
            return [pwsh, "-NoProfile", "-Command"]
        return ["powershell.exe", "-NoProfile", "-NonInteractive", "-Command"]

    def preflight(self, cwd: Path) -> None:
        for path in (system_settings_path(), cwd / ".gemini" / "settings.json"):
            if _hooks_off(path):
                raise LaunchError(
                    f"{path} turns Gemini's hooks off (hooksConfig.enabled: false), so "
                    "Agentry could not ask you before Gemini's tool calls; the run was not "
                    "started. Remove that setting, or turn off approvals in Settings."
                )


def real_home() -> Path:
    """The home whose ``.gemini`` the user's Gemini CLI uses."""
    return Path(os.environ.get("GEMINI_CLI_HOME") or Path.home()).expanduser().resolve()


def system_settings_path() -> Path:
    """Where Gemini reads system settings (they override the user's)."""
    configured = os.environ.get("GEMINI_CLI_SYSTEM_SETTINGS_PATH")
    if configured:
        return Path(configured)
    if sys.platform == "darwin":
        return Path("/Library/Application Support/GeminiCli/settings.json")
    if IS_WINDOWS:
        return Path("C:/ProgramData/gemini-cli/settings.json")
    return Path("/etc/gemini-cli/settings.json")


def _hooks_off(path: Path) -> bool:
    try:
        settings = json.loads(strip_json_comments(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return False  # absent or unreadable: Gemini skips it too
    config = settings.get("hooksConfig") if isinstance(settings, dict) else None
    return isinstance(config, dict) and config.get("enabled") is False


def hook_home(
    hook: HookConfig, home: Path, line: str | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """Files and links (relative to the run folder) of a Gemini home with Agentry's hook."""
    real = home / ".gemini"
    user_settings = real / "settings.json"
    settings = read_settings(user_settings)
    # Sessions must land in the real home, or a later run could not resume them.
    (real / "tmp").mkdir(parents=True, exist_ok=True)
    files = {f"{HOME_DIR}/.gemini/settings.json": json.dumps(
        with_hook(settings, hook, line), indent=2, ensure_ascii=False)}  # fmt: skip
    links = {
        f"{HOME_DIR}/.gemini/{entry.name}": str(entry)
        for entry in sorted(real.iterdir())
        if entry.name != "settings.json" and entry.exists()  # not a dangling link
    }
    for name in (".agents", ".env"):  # the other things Gemini looks for in its home
        if (home / name).exists():
            links[f"{HOME_DIR}/{name}"] = str(home / name)
    return files, links


def read_settings(path: Path) -> dict[str, Any]:
    """The user's Gemini settings (JSON with comments, as Gemini reads them); {} if none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise LaunchError(f"cannot read Gemini's settings {path}: {exc}") from None
    try:
        data = json.loads(strip_json_comments(text))
    except ValueError as exc:
        raise LaunchError(
            f"Gemini's settings {path} are not valid JSON ({exc}). Fix the file, or turn "
            "off approvals in Settings to run Gemini without Agentry's hook."
        ) from None
    if not isinstance(data, dict):
        raise LaunchError(f"Gemini's settings {path} are not a JSON object; fix the file.")
    return data


def with_hook(
    settings: dict[str, Any], hook: HookConfig, line: str | None = None
) -> dict[str, Any]:
    """The user's settings with Agentry's BeforeTool hook and hooks switched on.

    Agentry's hook goes last, so what it shows a person is the input after any hook of
    the user's has rewritten it; its name is random so no ``disabled`` list can name it.
    """
    merged = dict(settings)
    hooks = dict(merged.get("hooks") or {})
    entry = {
        "type": "command",
        "name": f"{HOOK_NAME}-{secrets.token_hex(4)}",
        "command": line or hook.shell_command(),
        "timeout": hook.timeout_s * 1000,  # Gemini counts milliseconds
    }
    own = {"matcher": ".*", "sequential": True, "hooks": [entry]}
    hooks["BeforeTool"] = [*(hooks.get("BeforeTool") or []), own]
    merged["hooks"] = hooks
    config = dict(merged.get("hooksConfig") or {})
    config["enabled"] = True
    merged["hooksConfig"] = config
    return merged


_JSON_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', re.DOTALL)


def strip_json_comments(text: str) -> str:
    """Remove // and /* */ comments outside strings (Gemini's settings may have them)."""
    return _JSON_TOKEN.sub(lambda m: m[0] if m[0].startswith('"') else " ", text)


class GeminiParser(JsonLineParser):
    """``--output-format stream-json`` lines (``packages/core/src/output/types.ts``).

    Assistant ``message`` events with ``delta: true`` are fragments of one reply; each is
    returned as its own :class:`Text` and the renderer concatenates adjacent assistant
    Text, so nothing is buffered here (a run that dies mid-reply still shows what came).
    The user's own ``message`` (the prompt echoed back) is not shown. A limit (see
    :func:`gemini_limit`) is read from the failed ``result`` only, which carries the
    error the CLI gave up on after its own retries; "now" is the line's ``timestamp``,
    else ``clock``
    (:class:`LineParser`).
    """

    def event(self, data: dict[str, Any]) -> list[AgentEvent] | None:
        kind = data.get("type")
        if kind == "init":
            model = data.get("model")
            return [Session(str(data["session_id"]), str(model) if model else None)]
        if kind == "message":
            if data.get("role") == "assistant":
                content = data.get("content")
                return [Text(content)] if isinstance(content, str) and content else []
            return [] if data.get("role") == "user" else None
        if kind == "tool_use":
            parameters = data.get("parameters")
            tool_input = dict(parameters) if isinstance(parameters, dict) else {}
            return [ToolCall(str(data.get("tool_name", "?")), tool_input,
                             str(data.get("tool_id", "")))]  # fmt: skip
        if kind == "tool_result":
            ok = data.get("status") == "success"
            output = data.get("output")
            if not isinstance(output, str):
                output = _message(data.get("error"))
            return [ToolResult(str(data.get("tool_id", "")), ok, output)]
        if kind == "error":
            message = str(data["message"])
            if data.get("severity") == "warning":
                message = f"warning: {message}"
            return [Error(message)]
        if kind == "result":
            return self._result(data)
        return None

    def _result(self, data: dict[str, Any]) -> list[AgentEvent]:
        stats = data.get("stats") or {}
        ok = data.get("status") == "success"
        events: list[AgentEvent] = []
        message = _message(data.get("error"))
        if not ok:
            events.append(Error(message or str(data.get("status") or "error")))
            now = parse_timestamp(data.get("timestamp")) or self.clock()
            found = gemini_limit(message, now)
            events += [found] if found is not None else []
        events.append(Result(
            ok=ok, text=message, input_tokens=as_int(stats.get("input_tokens")),
            output_tokens=as_int(stats.get("output_tokens")),
            duration_ms=as_float(stats.get("duration_ms")),
        ))  # fmt: skip
        return events


# Gemini CLI 0.61.0 (seen) words a 429 it gave up on as "[API Error: You have exhausted
# your daily quota on this model.]" (a per-day quota: it does not retry) or "[API Error: You
# exceeded your current quota, … Quota exceeded for metric: …]" (per minute, after its
# retries); older builds quote the API's JSON ("code":429, "RESOURCE_EXHAUSTED").
QUOTA = re.compile(r"\bexhausted your \w+ quota\b|\bexceeded your current quota\b"
                   r"|\bQuota exceeded\b|\bRESOURCE_EXHAUSTED\b|\b(?:code|status)\W+429\b"
                   r"|\bAPI Error: 429\b|\bToo Many Requests\b", re.IGNORECASE)  # fmt: skip
PER_DAY = re.compile(r"\bdaily quota\b|\bper day\b|PerDay", re.IGNORECASE)
OVERLOADED = re.compile(r"\bmodel is overloaded\b|\bUNAVAILABLE\b|\b(?:code|status)\W+503\b"
                        r"|\bAPI Error: 503\b", re.IGNORECASE)  # fmt: skip


def gemini_limit(message: str, now: float) -> Limit | None:
    """The limit a failed run's error reports, if any.

    Gemini names no reset time; a per-day quota resets at midnight Pacific time (Google's
    quota day), so that is its ``resets_at``; other quotas reset within the minute and
    give none.
    """
    if QUOTA.search(message):
        if PER_DAY.search(message):
            return Limit("usage", one_line(message), next_midnight(PACIFIC, now))
        return Limit("rate", one_line(message))
    if OVERLOADED.search(message):
        return Limit("overloaded", one_line(message))
    return None


def _message(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or "")
    return ""
