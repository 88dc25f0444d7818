"""Prompt templates of workflow steps: ``{input}``, ``{previous}``, ``{notes}`` and
``{steps.NAME}`` fields, ``{{``/``}}`` for literal braces. Pure string work.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.workflow_defs import StepDef


class TemplateError(ValueError):
    pass


_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|\{|\}")


def template_fields(template: str) -> list[str]:
    """The ``{field}`` names a template uses, in order; raises TemplateError on stray braces."""
    fields = []
    for match in _TOKEN.finditer(template):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        if token in ("{", "}"):
            raise TemplateError(f"unmatched {token!r} in a template; write {token * 2} for a brace")
        fields.append(match.group(1).strip())
    return fields


@dataclass(frozen=True)
class StepContext:
    """What a step's templates may read."""

    input: str = ""
    results: Mapping[str, str] = field(default_factory=dict)  # earlier step name -> result
    previous: str = ""
    notes: str = ""


def render_prompt(template: str, context: StepContext) -> str:
    """Fill a template's fields; ``{{`` and ``}}`` become literal braces."""

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        if token in ("{", "}"):
            raise TemplateError(f"unmatched {token!r} in a template")
        return _field_value(match.group(1).strip(), context)

    return _TOKEN.sub(fill, template)


def _field_value(name: str, context: StepContext) -> str:
    simple = {"input": context.input, "previous": context.previous, "notes": context.notes}
    if name in simple:
        return simple[name]
    if name.startswith("steps.") and name.removeprefix("steps.") in context.results:
        return context.results[name.removeprefix("steps.")]
    raise TemplateError(f"no value for {{{name}}}")


def render_step(step: StepDef, context: StepContext) -> tuple[str | None, tuple[str, ...]]:
    """The prompt and argv of a step's run."""
    prompt = render_prompt(step.prompt, context) if step.prompt is not None else None
    return prompt, tuple(render_prompt(word, context) for word in step.command)


REVISION_NOTE = (
    "\n\n---\nA reviewer rejected the previous result of this step and asked for another "
    "attempt.\n\nPrevious result:\n{result}\n\nReviewer's notes:\n{notes}\n"
)


def with_notes(prompt: str | None, previous_result: str, notes: str) -> str:
    """The prompt of a re-run after a rejection: the original with the notes appended."""
    return (prompt or "") + REVISION_NOTE.format(result=previous_result, notes=notes or "(none)")
