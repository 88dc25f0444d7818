"""What each agent's permission choice means, said where it is chosen (the New task dialog).

The words follow each CLI's own documentation (shared/AGENT-CLIS.md). How a mode meets
Agentry's approvals: Agentry's pre-tool hook runs before the agent's own permission check,
so while approvals are on it asks you about each call in every mode but one. Claude Code's
``bypassPermissions`` is that one: Claude Code's issue tracker reports hooks there that do
not run, or that run without the call waiting for them, so Agentry cannot promise to ask.
Gemini CLI's ``yolo`` is treated the same way, as nobody has confirmed otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModeText:
    """A permission choice in plain words: ``label`` for the list, ``detail`` beneath it."""

    label: str
    detail: str
    bypasses_approvals: bool = False


BYPASS = " Bypasses Agentry's approvals: use it only in a throwaway container or VM."

_MODES: dict[tuple[str, str], ModeText] = {
    ("claude", "default"): ModeText(
        "default — asks before changes", "Claude Code reads freely; edits and commands need a yes."
    ),
    ("claude", "acceptEdits"): ModeText(
        "acceptEdits — edits files without asking",
        "Claude Code also makes file edits and simple file commands (mkdir, mv, cp) on its own.",
    ),
    ("claude", "plan"): ModeText(
        "plan — reads and plans, changes nothing",
        "Claude Code only reads and writes a plan; it edits nothing and runs no changes.",
    ),
    ("claude", "auto"): ModeText(
        "auto — a classifier decides",
        "A background safety check of Claude Code decides instead of asking.",
    ),
    ("claude", "dontAsk"): ModeText(
        "dontAsk — refuses what would ask",
        "Whatever Claude Code would ask about is refused; reads and pre-approved tools run.",
    ),
    ("claude", "bypassPermissions"): ModeText(
        "bypassPermissions — runs everything, asks no one",
        "Claude Code runs every tool call without any check." + BYPASS,
        bypasses_approvals=True,
    ),
    ("codex", "read-only"): ModeText(
        "read-only — the sandbox allows reading only",
        "Codex's sandbox lets commands read files but not write them or use the network.",
    ),
    ("codex", "workspace-write"): ModeText(
        "workspace-write — writes inside the folder",
        "Codex's sandbox lets commands write in the working folder only, without network.",
    ),
    ("codex", "danger-full-access"): ModeText(
        "danger-full-access — no sandbox",
        "Commands can change anything your account can, and use the network.",
    ),
    ("gemini", "default"): ModeText(
        "default — asks before changes", "Gemini CLI asks before edits and shell commands."
    ),
    ("gemini", "auto_edit"): ModeText(
        "auto_edit — edits files without asking", "Gemini CLI makes file edits on its own."
    ),
    ("gemini", "plan"): ModeText(
        "plan — reads and plans, changes nothing", "Gemini CLI only reads and plans."
    ),
    ("gemini", "yolo"): ModeText(
        "yolo — runs everything, asks no one",
        "Gemini CLI approves every tool call itself." + BYPASS,
        bypasses_approvals=True,
    ),
    ("q", "default"): ModeText(
        "default — refuses what would ask",
        "Amazon Q refuses tool calls it would ask about: nobody can answer it here.",
    ),
    ("q", "trust-all"): ModeText(
        "trust-all — runs every tool", "Amazon Q runs every tool call without asking."
    ),
    ("opencode", "default"): ModeText(
        "default — refuses what would ask", "opencode refuses tool calls that would need a yes."
    ),
    ("opencode", "auto"): ModeText(
        "auto — approves what would ask", "opencode approves every tool call that would ask."
    ),
}


def mode_text(agent: str, mode: str, *, agentry_asks: bool) -> ModeText:
    """The words for ``mode`` of ``agent`` ("" is the agent's default, as the list's first
    item); ``agentry_asks`` says whether Agentry's approvals apply to this run."""
    if not mode:
        if agentry_asks:
            return ModeText(
                "(you approve each tool call)",
                "Agentry asks you before each tool call (your rules in Settings may answer).",
            )
        return ModeText("(the agent's default)", "The agent follows its own permission settings.")
    known = _MODES.get((agent, mode), ModeText(mode, f"The agent's {mode!r} mode."))
    if agentry_asks and not known.bypasses_approvals:
        return ModeText(known.label, known.detail + " Agentry still asks you first.")
    return known
