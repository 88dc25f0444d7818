"""The adapters that need no CLI of their own: any command (`shell`) and the built-in demo."""

from __future__ import annotations

from pathlib import Path

from app import demo_agent
from app.supervisor.adapters.base import Adapter, AgentOptions, Detection, HookConfig, Invocation


class ShellAdapter(Adapter):
    """Runs the task's own argv; the prompt, if any, goes to its standard input."""

    name = "shell"
    label = "Shell command"
    executables = ()
    install_hint = "(nothing to install)"
    needs_prompt = False

    def detect(self, configured: str | None = None) -> Detection:
        return Detection(self.name, self.label, "(any command)", None, self.install_hint)

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
        raise TypeError("a shell task carries its own argv")


class DemoAdapter(Adapter):
    name = "demo"
    label = "Demo agent (built in)"
    executables = ()
    install_hint = "(built in)"
    needs_prompt = False

    def detect(self, configured: str | None = None) -> Detection:
        return Detection(self.name, self.label, "(built in)", None, self.install_hint)

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
        return Invocation(argv=demo_agent.command())
