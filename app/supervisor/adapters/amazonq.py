"""Amazon Q Developer CLI: ``q chat --no-interactive`` (AGENT-CLIS.md; the Q CLI reference).

Argv: ``q chat --no-interactive [--trust-all-tools] [--resume] [--model M] [extra] PROMPT``.

Output is plain text with ANSI styling; lines are shown as they are (the pane renders
ANSI). ``--resume`` takes no id: it continues "the previous conversation from this
directory", so a follow-up resumes whatever ran last in the task folder, and the
session id handed to :meth:`build` only says *that* it is a follow-up.

A prompt that does not fit on the command line (or starts with ``-``, which the option
parser would read as a flag) goes on stdin with no positional INPUT: with
``--no-interactive`` and no INPUT, ``ChatArgs::execute`` reads a non-terminal stdin as
the prompt (trimmed). Some Q releases rejected piped input instead ("Input must be
supplied when running in non-interactive mode", aws/amazon-q-developer-cli#2195).
"""

from __future__ import annotations

from pathlib import Path

from app.supervisor.adapters.base import (
    Adapter,
    AgentOptions,
    HookConfig,
    Invocation,
    prompt_in_argv,
)

TRUST_ALL = "trust-all"


class AmazonQAdapter(Adapter):
    name = "q"
    label = "Amazon Q Developer CLI"
    executables = ("q",)
    install_hint = (
        "see https://docs.aws.amazon.com/amazonq/latest/qdeveloper-ug/command-line-installing.html"
    )
    structured = False
    supports_resume = True
    permission_modes = ("default", TRUST_ALL)

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
        argv = [executable, "chat", "--no-interactive"]
        if options.permission_mode == TRUST_ALL:
            argv.append("--trust-all-tools")
        if session_id:
            argv.append("--resume")
        if options.model:
            argv += ["--model", options.model]
        argv += list(options.extra_args)
        if prompt_in_argv(prompt) and not prompt.startswith("-"):
            return Invocation(argv=[*argv, prompt])
        return Invocation(argv=argv, stdin_text=prompt)
