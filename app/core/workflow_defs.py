"""Workflow definitions (DESIGN §7): the steps a workflow file describes, and its parser.

Pure: a workflow file's text goes in, a :class:`WorkflowDef` (or a :class:`WorkflowError`
naming the file, the line and the reason) comes out. The agents a step may name are a
parameter, so this module never has to import the supervisor's adapters.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from app.core.durations import DurationError, parse_duration
from app.core.errors import AgentryError
from app.core.workflow_templates import TemplateError, template_fields


class WorkflowError(AgentryError, ValueError):
    """A workflow file that cannot be used; its str is ``FILE:LINE: reason``."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        super().__init__(f"{source}:{line}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class StepDef:
    name: str
    agent: str
    prompt: str | None = None
    command: tuple[str, ...] = ()  # argv of a "shell" step; may use templates too
    model: str | None = None
    timeout: float | None = None  # seconds; None: the default from Settings; 0: no limit
    checkpoint: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "agent": self.agent,
            "prompt": self.prompt,
            "command": list(self.command),
            "model": self.model,
            "timeout": self.timeout,
            "checkpoint": self.checkpoint,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StepDef:
        return cls(
            name=str(data["name"]),
            agent=str(data["agent"]),
            prompt=data.get("prompt"),
            command=tuple(str(a) for a in data.get("command") or ()),
            model=data.get("model"),
            timeout=data.get("timeout"),
            checkpoint=bool(data.get("checkpoint", False)),
        )


@dataclass(frozen=True)
class WorkflowDef:
    name: str
    steps: tuple[StepDef, ...]
    description: str = ""
    source: str = ""

    @property
    def uses_input(self) -> bool:
        """Whether any step's template reads ``{input}`` (then an empty input is refused)."""
        return any(
            "input" in template_fields(t)
            for step in self.steps
            for t in (step.prompt or "", *step.command)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "steps": [step.to_json() for step in self.steps],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WorkflowDef:
        return cls(
            name=str(data["name"]),
            description=str(data.get("description", "")),
            source=str(data.get("source", "")),
            steps=tuple(StepDef.from_json(s) for s in data["steps"]),
        )


_TOP_KEYS = frozenset({"description", "steps"})
_STEP_KEYS = frozenset({"name", "agent", "prompt", "command", "model", "timeout", "checkpoint"})
_STEP_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column \d+\)|\s*\(at end of document\)")


def parse_workflow(
    text: str, source: str, agents: Collection[str], *, name: str | None = None
) -> WorkflowDef:
    """The workflow a TOML file describes; its name is the file's stem unless given."""
    lines = _Lines(text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, source, lines) from None
    checker = _Checker(source, lines, agents)
    return checker.workflow(data, name or PurePath(source).stem)


def _syntax_error(exc: tomllib.TOMLDecodeError, source: str, lines: _Lines) -> WorkflowError:
    message = str(exc)
    found = _TOML_POSITION.search(message)
    reason = _TOML_POSITION.sub("", message) or "not valid TOML"
    if found is None:
        return WorkflowError(source, 1, f"not valid TOML: {reason}")
    line = int(found.group(1)) if found.group(1) else lines.last
    return WorkflowError(source, line, f"not valid TOML: {reason}")


class _Lines:
    """Where keys and ``[[steps]]`` tables are in the text: tomllib does not say, so a
    schema error is pointed at a line by scanning (outside multi-line strings)."""

    _HEADER = re.compile(r"\s*\[")
    _STEPS = re.compile(r"\s*\[\[\s*steps\s*\]\]")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.code = self._outside_strings(self.lines)

    @property
    def last(self) -> int:
        return max(1, len(self.lines))

    @staticmethod
    def _outside_strings(lines: list[str]) -> list[bool]:
        inside = None
        flags = []
        for line in lines:
            flags.append(inside is None)
            for quote in re.findall(r'"""|\'\'\'', line):
                if inside is None:
                    inside = quote
                elif inside == quote:
                    inside = None
        return flags

    def _steps_headers(self) -> list[int]:
        return [i for i, line in enumerate(self.lines) if self.code[i] and self._STEPS.match(line)]

    def _block(self, step: int | None) -> range | None:
        """Line indexes of the top level (before any table), or of one ``[[steps]]`` table."""
        start = 0
        if step is not None:
            headers = self._steps_headers()
            if step >= len(headers):
                return None
            start = headers[step] + 1
        stop = next(
            (
                i
                for i in range(start, len(self.lines))
                if self.code[i] and self._HEADER.match(self.lines[i])
            ),
            len(self.lines),
        )
        return range(start, stop)

    def step(self, index: int) -> int:
        """The line of the index-th ``[[steps]]`` header (or of ``steps =`` when inline)."""
        headers = self._steps_headers()
        return headers[index] + 1 if index < len(headers) else self.key("steps")

    def key(self, key: str, step: int | None = None) -> int:
        """The line of ``key =`` at the top level or in one step; else the table's line."""
        block = self._block(step)
        if block is None:
            return self.step(step or 0)
        quoted = "|".join(re.escape(k) for k in (key, f'"{key}"', f"'{key}'"))
        pattern = re.compile(rf"\s*(?:{quoted})\s*=")
        for i in block:
            if self.code[i] and pattern.match(self.lines[i]):
                return i + 1
        return block.start if step is not None else 1


@dataclass
class _Checker:
    source: str
    lines: _Lines
    agents: Collection[str]
    names: dict[str, int] = field(default_factory=dict)  # checked steps so far
    all_names: list[object] = field(default_factory=list)  # every step's name, as written

    def fail(self, line: int, reason: str) -> WorkflowError:
        return WorkflowError(self.source, line, reason)

    def workflow(self, data: dict[str, Any], name: str) -> WorkflowDef:
        for key in data:
            if key not in _TOP_KEYS:
                raise self.fail(
                    self.lines.key(key), f"unknown key {key!r}; use description and [[steps]]"
                )
        description = data.get("description", "")
        if not isinstance(description, str):
            raise self.fail(self.lines.key("description"), "description must be text")
        raw_steps = data.get("steps")
        if not raw_steps:
            raise self.fail(
                self.lines.key("steps"), "a workflow needs at least one [[steps]] table"
            )
        if not isinstance(raw_steps, list) or not all(isinstance(s, dict) for s in raw_steps):
            raise self.fail(self.lines.key("steps"), "steps must be [[steps]] tables")
        self.all_names = [raw.get("name") for raw in raw_steps]
        steps = tuple(self.step(i, raw) for i, raw in enumerate(raw_steps))
        return WorkflowDef(name=name, steps=steps, description=description, source=self.source)

    def step(self, index: int, raw: dict[str, Any]) -> StepDef:
        for key in raw:
            if key not in _STEP_KEYS:
                known = ", ".join(sorted(_STEP_KEYS))
                raise self.fail(
                    self.lines.key(key, index), f"unknown step key {key!r}; use {known}"
                )
        name = self.step_name(index, raw)
        agent = self.agent(index, raw, name)
        prompt = self.text(index, raw, "prompt")
        command = self.command(index, raw, agent)
        if agent == "shell" and not command:
            raise self.fail(self.lines.step(index), f"step {name!r} (shell) needs a command")
        if agent != "shell" and not (prompt or "").strip():
            raise self.fail(self.lines.step(index), f"step {name!r} needs a prompt")
        for key, template in (("prompt", prompt or ""), *(("command", c) for c in command)):
            self.template(index, key, template)
        self.names[name] = index
        return StepDef(
            name=name,
            agent=agent,
            prompt=prompt,
            command=command,
            model=self.text(index, raw, "model"),
            timeout=self.timeout(index, raw),
            checkpoint=self.flag(index, raw, "checkpoint"),
        )

    def step_name(self, index: int, raw: dict[str, Any]) -> str:
        name = raw.get("name")
        line = self.lines.key("name", index)
        if name is None:
            raise self.fail(self.lines.step(index), f"step {index + 1} has no name")
        if not isinstance(name, str) or not _STEP_NAME.fullmatch(name):
            raise self.fail(
                line, f"step name {name!r} must start with a letter and use letters, digits, - or _"
            )
        if name in self.names:
            raise self.fail(line, f"duplicate step name {name!r}")
        return name

    def agent(self, index: int, raw: dict[str, Any], name: str) -> str:
        agent = raw.get("agent")
        if agent is None:
            raise self.fail(self.lines.step(index), f"step {name!r} has no agent")
        if agent not in self.agents:
            known = ", ".join(sorted(self.agents))
            raise self.fail(
                self.lines.key("agent", index), f"unknown agent {agent!r}; choose one of: {known}"
            )
        return str(agent)

    def text(self, index: int, raw: dict[str, Any], key: str) -> str | None:
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise self.fail(self.lines.key(key, index), f"{key} must be text")
        return value

    def flag(self, index: int, raw: dict[str, Any], key: str) -> bool:
        value = raw.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(self.lines.key(key, index), f"{key} must be true or false")
        return value

    def command(self, index: int, raw: dict[str, Any], agent: str) -> tuple[str, ...]:
        value = raw.get("command")
        if value is None:
            return ()
        line = self.lines.key("command", index)
        if agent != "shell":
            raise self.fail(line, 'command is only for steps with agent = "shell"')
        if not isinstance(value, list) or not value or not all(isinstance(a, str) for a in value):
            raise self.fail(line, 'command must be a list of words, e.g. ["sh", "-c", "make"]')
        return tuple(value)

    def timeout(self, index: int, raw: dict[str, Any]) -> float | None:
        value = raw.get("timeout")
        if value is None:
            return None
        line = self.lines.key("timeout", index)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(line, "timeout must be seconds (90) or a duration text (30m, 2h)")
        if isinstance(value, str):
            try:
                return parse_duration(value)
            except DurationError as exc:
                raise self.fail(line, f"bad timeout: {exc}") from None
        if value < 0:
            raise self.fail(line, "timeout must be 0 (no limit) or positive")
        return float(value)

    def template(self, index: int, key: str, template: str) -> None:
        line = self.lines.key(key, index)
        try:
            fields = template_fields(template)
        except TemplateError as exc:
            raise self.fail(line, str(exc)) from None
        for name in fields:
            reason = self.field_problem(index, name)
            if reason:
                raise self.fail(line, reason)

    def field_problem(self, index: int, name: str) -> str | None:
        if name in ("input", "notes"):
            return None
        if name == "previous":
            return None if index else "{previous} in the first step: there is no earlier step"
        if name.startswith("steps."):
            return self.step_field_problem(index, name.removeprefix("steps."))
        return (
            f"unknown template field {{{name}}}; use {{input}}, {{previous}}, {{notes}} or "
            "{steps.NAME} (write {{ and }} for literal braces)"
        )

    def step_field_problem(self, index: int, target: str) -> str | None:
        if target in self.names:
            return None
        if self.all_names[index] == target:
            return f"{{steps.{target}}} in step {target!r} itself: use an earlier step's result"
        if target in self.all_names[index:]:
            return f"{{steps.{target}}} names a later step; only earlier steps' results exist"
        return f"{{steps.{target}}} names no step of this workflow"
