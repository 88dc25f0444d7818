"""Tests for app.core.workflow_templates: fields, filling, re-run prompts."""

from __future__ import annotations

import pytest

from app.core.workflow_defs import StepDef
from app.core.workflow_templates import (
    StepContext,
    TemplateError,
    render_prompt,
    render_step,
    template_fields,
    with_notes,
)


def test_templates_fill_input_previous_notes_and_named_results() -> None:
    context = StepContext("the bug", {"plan": "P"}, previous="prev", notes="N")
    text = "{input}|{previous}|{steps.plan}|{notes}|{{literal}}|{ input }"
    assert render_prompt(text, context) == "the bug|prev|P|N|{literal}|the bug"
    assert template_fields(text) == ["input", "previous", "steps.plan", "notes", "input"]


def test_a_value_containing_braces_is_inserted_verbatim() -> None:
    assert render_prompt("x {input} y", StepContext("{steps.z} }{")) == "x {steps.z} }{ y"


def test_rendering_a_field_without_a_value_raises() -> None:
    with pytest.raises(TemplateError):
        render_prompt("{steps.missing}", StepContext())


def test_render_step_fills_the_prompt_and_every_word_of_the_command() -> None:
    step = StepDef(name="s", agent="shell", prompt="say {input}", command=("echo", "{input}!"))
    assert render_step(step, StepContext("hi")) == ("say hi", ("echo", "hi!"))


def test_a_rerun_prompt_keeps_the_original_and_appends_the_result_and_notes() -> None:
    prompt = with_notes("Plan it", "old plan", "add tests")
    assert prompt.startswith("Plan it\n") and "old plan" in prompt
    assert prompt.rstrip().endswith("add tests")
