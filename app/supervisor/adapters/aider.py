"""Aider: one message, no questions asked, plain text out (AGENT-CLIS.md; aider's options.md).

Argv::

    aider --message-file RUN_DIR/prompt.md --yes-always --no-pretty --no-stream
          --no-check-update --no-show-release-notes --chat-history-file HISTORY
          [--restore-chat-history] [--model M] [extra]

Aider has no session ids. A conversation lives in its chat history file, so for this
adapter the *session id is the path of that file*: the supervisor passes a stable
per-task path, and a run whose history file already exists gets
``--restore-chat-history`` so aider reloads the earlier conversation first. With no
session id the history goes to the run folder, where no later run will look for it: a
task that may get follow-ups must be given its path from the first run on.

The prompt is written to ``prompt.md`` in the run folder (:attr:`Invocation.files`).
The agent's working directory is the task folder, not the run folder, so aider must get
the file's absolute path: ``build`` takes the run folder as ``run_dir``. Without one it
falls back to ``--message PROMPT``, which is only possible for prompts that fit on a
command line.
"""

from __future__ import annotations

from pathlib import Path

from app.supervisor.adapters.base import (
    MAX_PROMPT_ARG,
    Adapter,
    AgentOptions,
    HookConfig,
    Invocation,
    prompt_in_argv,
)

PROMPT_FILE = "prompt.md"
# Where a fresh run keeps its history when the supervisor gives no path: the run folder.
DEFAULT_HISTORY_FILE = "aider.chat.history.md"


class AiderAdapter(Adapter):
    name = "aider"
    label = "Aider"
    executables = ("aider",)
    install_hint = "pip install aider-chat"
    structured = False
    supports_resume = True
    session_is_file = True

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
        """``session_id`` is the chat history file; ``run_dir`` is the run folder.

        ``--restore-chat-history`` is added when that file already holds a conversation:
        the supervisor may pass the same per-task path for the first run and for every
        follow-up, and only the follow-ups have something to restore.
        """
        files: dict[str, str] = {}
        if run_dir is not None:
            files[PROMPT_FILE] = prompt
            argv = [executable, "--message-file", str(Path(run_dir) / PROMPT_FILE)]
        elif prompt_in_argv(prompt):
            argv = [executable, "--message", prompt]
        else:
            raise ValueError(
                f"a {len(prompt)}-character prompt cannot go on aider's command line (limit"
                f" {MAX_PROMPT_ARG}, no NUL); pass run_dir so aider reads it from a file"
            )
        argv += ["--yes-always", "--no-pretty", "--no-stream", "--no-check-update",
                 "--no-show-release-notes"]  # fmt: skip
        history = session_id or (str(Path(run_dir) / DEFAULT_HISTORY_FILE) if run_dir else None)
        if history:
            argv += ["--chat-history-file", history]
        if session_id and _has_history(Path(session_id)):
            argv.append("--restore-chat-history")
        if options.model:
            argv += ["--model", options.model]
        argv += list(options.extra_args)
        return Invocation(argv=argv, files=files)


def _has_history(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False
