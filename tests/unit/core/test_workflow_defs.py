"""Tests for app.core.workflow_defs: parsing, and every kind of error with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.workflow_defs import WorkflowDef, WorkflowError, parse_workflow

AGENTS = frozenset({"shell", "demo", "claude", "codex"})
BUILTINS = Path(__file__).resolve().parents[3] / "app" / "workflows"

GOOD = """\
description = "plan, check, build"

[[steps]]
name = "plan"
agent = "claude"
model = "opus"
timeout = "30m"
checkpoint = true
prompt = \"\"\"
Plan {input}; keep {{braces}}.
\"\"\"

[[steps]]
name = "build"
agent = "shell"
timeout = 90
command = ["sh", "-c", "echo $1", "build", "{steps.plan}"]

[[steps]]
name = "review"
agent = "codex"
prompt = "Review {previous} against {steps.plan} (notes: {notes})"
"""


def parse(text: str) -> WorkflowDef:
    return parse_workflow(text, "flows/test.toml", AGENTS)


def error_of(text: str) -> WorkflowError:
    with pytest.raises(WorkflowError) as caught:
        parse(text)
    return caught.value


# ---------------------------------------------------------------- parsing


def test_a_good_file_gives_its_steps_in_order_with_every_setting() -> None:
    flow = parse(GOOD)
    assert flow.name == "test" and flow.description == "plan, check, build"
    assert [s.name for s in flow.steps] == ["plan", "build", "review"]
    plan, build, review = flow.steps
    assert (plan.agent, plan.model, plan.timeout, plan.checkpoint) == ("claude", "opus", 1800, True)
    assert build.command == ("sh", "-c", "echo $1", "build", "{steps.plan}")
    assert (build.timeout, build.checkpoint, build.prompt) == (90.0, False, None)
    assert review.timeout is None


def test_a_definition_survives_its_json_round_trip() -> None:
    flow = parse(GOOD)
    assert WorkflowDef.from_json(flow.to_json()) == flow


def test_timeout_none_means_no_limit_and_a_name_can_be_given() -> None:
    flow = parse_workflow(
        '[[steps]]\nname = "a"\nagent = "demo"\nprompt = "x"\ntimeout = "none"\n',
        "x.toml",
        AGENTS,
        name="other",
    )
    assert flow.name == "other" and flow.steps[0].timeout == 0.0


def test_uses_input_says_whether_an_empty_input_makes_sense() -> None:
    assert parse(GOOD).uses_input
    assert not parse('[[steps]]\nname = "a"\nagent = "demo"\nprompt = "hi {{input}}"\n').uses_input


@pytest.mark.parametrize("path", sorted(BUILTINS.glob("*.toml")), ids=lambda p: p.name)
def test_every_builtin_workflow_parses(path: Path) -> None:
    flow = parse_workflow(path.read_text(), str(path), AGENTS)
    assert flow.steps and flow.description
    assert any(step.checkpoint for step in flow.steps)


# ---------------------------------------------------------------- errors and their lines

STEP = '[[steps]]\nname = "{name}"\nagent = "demo"\nprompt = "p"\n'


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (
            'description = "x"\n\n[[steps]]\nname = "a"\nagent = "demo"\nprompt = ',
            6,
            "not valid TOML",
        ),
        ('[[steps]]\nname = "a" x\n', 2, "not valid TOML"),
        ('description = "x"\n', 1, "at least one [[steps]]"),
        ('title = "x"\n' + STEP.format(name="a"), 1, "unknown key 'title'"),
        ("description = 3\n" + STEP.format(name="a"), 1, "description must be text"),
        ('steps = "plan"\n', 1, "steps must be [[steps]] tables"),
        (
            STEP.format(name="a") + "\n" + STEP.format(name="b") + "colour = 1\n",
            10,
            "unknown step key 'colour'",
        ),
        (
            STEP.format(name="a") + '\n[[steps]]\nagent = "demo"\nprompt = "p"\n',
            6,
            "step 2 has no name",
        ),
        (STEP.format(name="a") + "\n" + STEP.format(name="a"), 7, "duplicate step name 'a'"),
        (STEP.format(name="2x"), 2, "must start with a letter"),
        ('[[steps]]\nname = "a"\nprompt = "p"\n', 1, "step 'a' has no agent"),
        ('[[steps]]\nname = "a"\nagent = "gpt"\nprompt = "p"\n', 3, "unknown agent 'gpt'"),
        ('\n[[steps]]\nname = "a"\nagent = "claude"\n', 2, "step 'a' needs a prompt"),
        ('[[steps]]\nname = "a"\nagent = "shell"\n', 1, "needs a command"),
        ('[[steps]]\nname = "a"\nagent = "shell"\ncommand = "make"\n', 4, "list of words"),
        (
            '[[steps]]\nname = "a"\nagent = "demo"\nprompt = "p"\ncommand = ["x"]\n',
            5,
            "only for steps",
        ),
        (STEP.format(name="a") + 'timeout = "soon"\n', 5, "bad timeout"),
        (STEP.format(name="a") + "timeout = -5\n", 5, "0 (no limit) or positive"),
        (STEP.format(name="a") + "timeout = true\n", 5, "timeout must be seconds"),
        (STEP.format(name="a") + 'checkpoint = "yes"\n', 5, "checkpoint must be true or false"),
        (STEP.format(name="a") + "model = 4\n", 5, "model must be text"),
    ],
)
def test_a_bad_file_is_refused_with_the_line_and_the_reason(
    text: str, line: int, reason: str
) -> None:
    error = error_of(text)
    assert (error.source, error.line) == ("flows/test.toml", line), str(error)
    assert reason in error.reason
    assert str(error).startswith(f"flows/test.toml:{line}: ")


@pytest.mark.parametrize(
    ("prompt", "reason"),
    [
        ("use {steps.b}", "names a later step"),
        ("use {steps.a}", "in step 'a' itself"),
        ("use {steps.zzz}", "names no step"),
        ("use {colour}", "unknown template field {colour}"),
        ("a { b", "unmatched '{'"),
        ("a } b", "unmatched '}'"),
    ],
)
def test_a_bad_template_points_at_its_prompt_line(prompt: str, reason: str) -> None:
    text = (
        f'[[steps]]\nname = "a"\nagent = "demo"\n\nprompt = "{prompt}"\n\n'
        '[[steps]]\nname = "b"\nagent = "demo"\nprompt = "p"\n'
    )
    error = error_of(text)
    assert error.line == 5
    assert reason in error.reason


def test_previous_in_the_first_step_is_refused_at_its_line() -> None:
    error = error_of('[[steps]]\nname = "a"\nagent = "demo"\nprompt = "{previous}"\n')
    assert (error.line, "no earlier step" in error.reason) == (4, True)


def test_a_bad_template_in_a_command_points_at_the_command_line() -> None:
    error = error_of('[[steps]]\nname = "a"\nagent = "shell"\ncommand = ["echo", "{nope}"]\n')
    assert error.line == 4 and "{nope}" in error.reason


def test_keys_inside_a_multiline_prompt_do_not_mislead_the_line_finder() -> None:
    text = (
        '[[steps]]\nname = "a"\nagent = "demo"\nprompt = """\nmodel = 4\n[[steps]]\n"""\n'
        "model = 4\n"
    )
    assert error_of(text).line == 8
