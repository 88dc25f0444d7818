"""``agentry workflow …``, ``agentry checkpoint …`` and ``agentry checkpoints``.

They work on the database directly, with or without a supervisor running (like
``agentry cancel``): a transition made here queues the next step's run, and whichever
supervisor runs (the app or ``agentry serve``) starts it within a tick.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.common import EXIT_OK, EXIT_USAGE, Handler, Subparsers, open_store, print_json

if TYPE_CHECKING:
    from app.core.workflow_models import Checkpoint, Step, Workflow
    from app.core.workflow_states import Resolution

# The workflow engine's modules (app.supervisor.workflow_catalog, .workflow_transitions,
# .workflows), the workflow store and the supervisor's lock are imported inside the
# commands: `agentry run` and `agentry list` must not pay for them (app.cli.program).

PREVIEW_LINES = 12


def add_commands(subparsers: Subparsers) -> None:
    """Register the workflow and checkpoint commands on ``agentry``'s subparsers."""
    _add_workflow(subparsers)
    _add_checkpoint(subparsers)
    p = subparsers.add_parser("checkpoints", help="list checkpoints waiting for you")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_checkpoints)


def _add_workflow(subparsers: Subparsers) -> None:
    sub = _add_group(subparsers, "workflow", "run workflows: agent steps with checkpoints")

    p = sub.add_parser("run", help="start a workflow")
    p.add_argument("name", help="the workflow (see `agentry workflow list`)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--input", default=None, help="what the workflow is about ({input})")
    source.add_argument("--input-file", type=Path, default=None, help="read the input (- stdin)")
    p.add_argument("--cwd", type=Path, default=None, help="working folder (default: here)")
    p.set_defaults(handler=cmd_workflow_run)

    p = sub.add_parser("list", help="the workflows there are, and the ones started")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_workflow_list)

    p = sub.add_parser("show", help="a workflow's steps, results and checkpoints")
    p.add_argument("id", type=int, help="workflow id")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_workflow_show)

    p = sub.add_parser(
        "retry", help="retry the transition that failed, or the step that failed or was cancelled"
    )
    p.add_argument("id", type=int, help="workflow id")
    p.set_defaults(handler=cmd_workflow_retry)

    p = sub.add_parser("cancel", help="cancel a workflow (and its running step)")
    p.add_argument("id", type=int, help="workflow id")
    p.set_defaults(handler=cmd_workflow_cancel)


def _add_checkpoint(subparsers: Subparsers) -> None:
    sub = _add_group(subparsers, "checkpoint", "approve, edit or reject a checkpoint")

    p = sub.add_parser("approve", help="the next step starts with this result")
    p.add_argument("id", type=int, help="checkpoint id (see `agentry checkpoints`)")
    p.set_defaults(handler=cmd_checkpoint_approve)

    p = sub.add_parser("edit", help="later steps receive your text instead (the original is kept)")
    p.add_argument("id", type=int, help="checkpoint id")
    text = p.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", default=None, help="the edited result")
    text.add_argument("--file", type=Path, default=None, help="read the edited result (- stdin)")
    p.set_defaults(handler=cmd_checkpoint_edit)

    p = sub.add_parser("reject", help="end the workflow, or re-run the step with your notes")
    p.add_argument("id", type=int, help="checkpoint id")
    p.add_argument("--notes", default=None, help="why; with --rerun, what to do differently")
    p.add_argument("--rerun", action="store_true", help="re-run the step with the notes appended")
    p.set_defaults(handler=cmd_checkpoint_reject)


def _add_group(subparsers: Subparsers, name: str, summary: str) -> Subparsers:
    """``agentry NAME COMMAND``; ``agentry NAME`` alone prints its help (a usage error)."""
    parser = subparsers.add_parser(name, help=summary)
    parser.set_defaults(handler=_usage_of(parser))
    return parser.add_subparsers(title=f"{name} commands", metavar="COMMAND")


def _usage_of(parser: argparse.ArgumentParser) -> Handler:
    def usage(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return EXIT_USAGE

    return usage


def _read(path: Path) -> str:
    from app.supervisor.commands import CommandRefused

    if str(path) == "-":
        return sys.stdin.read()
    try:
        return path.expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandRefused(f"cannot read {path}: {exc}") from None


# ---------------------------------------------------------------------- workflow commands


def cmd_workflow_run(args: argparse.Namespace) -> int:
    from app.store.settings import load_settings
    from app.supervisor.commands import CommandRefused
    from app.supervisor.lock import running_holder
    from app.supervisor.workflow_catalog import load_catalog
    from app.supervisor.workflow_transitions import start_workflow

    cwd = (args.cwd or Path.cwd()).expanduser().resolve()
    if not cwd.is_dir():
        raise CommandRefused(f"working folder {cwd} does not exist; create it or pass --cwd")
    input_text = _read(args.input_file) if args.input_file else (args.input or "")
    locations, conn = open_store()
    definition = load_catalog(locations).get(args.name)
    settings = load_settings(locations.settings)
    workflow_id, outcome = start_workflow(conn, settings, definition, input_text, str(cwd))
    task_id = outcome.queued[0][0] if outcome.queued else None
    print(
        f"Workflow {workflow_id} ({definition.name}) started: step "
        f"{definition.steps[0].name!r} queued as task {task_id}."
    )
    if running_holder(locations) is None:
        print("No supervisor is running: open Agentry or run `agentry serve` to run it.")
    return EXIT_OK


def cmd_workflow_list(args: argparse.Namespace) -> int:
    from app.store import workflow_repo as wrepo
    from app.supervisor.workflow_catalog import load_catalog, user_folder

    locations, conn = open_store()
    catalog = load_catalog(locations)
    started = wrepo.list_workflows(conn)
    if args.json:
        print_json(
            {
                "definitions": [
                    {**d.to_json(), "builtin": d.name in catalog.builtin}
                    for d in catalog.workflows.values()
                ],
                "problems": catalog.problems,
                "workflows": [w.summary() for w in started],
            }
        )
        return EXIT_OK
    folder = user_folder(locations)
    print(f"Workflows (yours go in {folder}):")
    for name, definition in sorted(catalog.workflows.items()):
        steps = " → ".join(
            s.name + (" (checkpoint)" if s.checkpoint else "") for s in definition.steps
        )
        print(f"  {name:<24} {steps}")
        if definition.description:
            print(f"  {'':<24} {definition.description}")
    for problem in catalog.problems:
        print(f"  skipped: {problem}")
    if started:
        print(f"\n{'ID':>5}  {'STATE':<20} {'STEP':<14} {'CREATED':<16}  NAME")
    for workflow in started:
        _print_workflow_line(workflow)
    return EXIT_OK


def _print_workflow_line(workflow: Workflow) -> None:
    summary = workflow.summary()
    created = time.strftime("%Y-%m-%d %H:%M", time.localtime(workflow.created_at))
    flag = "  (transition failed: retry)" if workflow.error else ""
    print(
        f"{workflow.id:>5}  {workflow.state.value:<20} {summary['current_step_name']:<14} "
        f"{created:<16}  {workflow.name}{flag}"
    )


def cmd_workflow_show(args: argparse.Namespace) -> int:
    from app.store import workflow_repo as wrepo
    from app.supervisor.commands import CommandRefused
    from app.supervisor.workflow_transitions import retryable_step
    from app.supervisor.workflows import workflow_detail

    _, conn = open_store()
    try:
        detail = workflow_detail(conn, args.id)
    except wrepo.NotFound as exc:
        raise CommandRefused(str(exc)) from None
    if args.json:
        print_json(detail.to_json())
        return EXIT_OK
    workflow = detail.workflow
    print(f"Workflow {workflow.id} ({workflow.name}): {workflow.state.value}")
    print(f"  input: {workflow.input}\n  folder: {workflow.cwd}")
    if workflow.message:
        print(f"  {workflow.message}")
    if workflow.error:
        print(f"  TRANSITION FAILED: {workflow.error}")
        print(f"  Fix the cause, then: agentry workflow retry {workflow.id}")
    elif retryable_step(conn, workflow.id) is not None:
        print(f"  To run that step again: agentry workflow retry {workflow.id}")
    checkpoints = {c.step_id: c for c in detail.checkpoints}
    for step in detail.steps:
        _print_step(step, checkpoints.get(step.id))
    return EXIT_OK


def _print_step(step: Step, checkpoint: Checkpoint | None) -> None:
    attempt = f" (attempt {step.attempt})" if step.attempt > 1 else ""
    print(f"\n  step {step.name}{attempt}: {step.state.value}, task {step.task_id}")
    if step.result_text is not None:
        print(_indent(step.result_text, "    | "))
    if checkpoint is None:
        return
    print(
        f"    checkpoint {checkpoint.id}: {checkpoint.state.value}"
        + (f" by {checkpoint.resolved_by}" if checkpoint.resolved_by else "")
    )
    if checkpoint.edited_text is not None:
        print("    edited to:\n" + _indent(checkpoint.edited_text, "    | "))
    if checkpoint.notes:
        print(f"    notes: {checkpoint.notes}" + ("  (re-run)" if checkpoint.rerun else ""))


def cmd_workflow_retry(args: argparse.Namespace) -> int:
    from app.store.settings import load_settings
    from app.supervisor.workflow_transitions import retry_transition, retryable_step

    locations, conn = open_store()
    settings = load_settings(locations.settings)
    step = retryable_step(conn, args.id)
    outcome = retry_transition(conn, locations, settings, args.id)
    queued = f"; queued task {outcome.queued[0][0]}" if outcome and outcome.queued else ""
    done = "transition made" if step is None else f"running step {step.name!r} again"
    print(f"Workflow {args.id}: {done}{queued}.")
    return EXIT_OK


def cmd_workflow_cancel(args: argparse.Namespace) -> int:
    from app.core.platform import current_user
    from app.supervisor.workflow_transitions import cancel_workflow

    locations, conn = open_store()
    outcome = cancel_workflow(conn, locations, args.id, who=current_user())
    stopping = " (asked its running step to stop)" if outcome.stopping_runs else ""
    print(f"Workflow {args.id}: cancelled{stopping}.")
    return EXIT_OK


# ---------------------------------------------------------------------- checkpoints


def cmd_checkpoint_approve(args: argparse.Namespace) -> int:
    from app.core.workflow_states import Resolution

    return _resolve(args.id, Resolution.APPROVE)


def cmd_checkpoint_edit(args: argparse.Namespace) -> int:
    from app.core.workflow_states import Resolution

    text = args.text if args.text is not None else _read(args.file)
    return _resolve(args.id, Resolution.EDIT, edited_text=text)


def cmd_checkpoint_reject(args: argparse.Namespace) -> int:
    from app.core.workflow_states import Resolution

    return _resolve(args.id, Resolution.REJECT, notes=args.notes, rerun=args.rerun)


_DONE = {"approve": "approved", "edit": "edited", "reject": "rejected"}
"""What a resolution did, by Resolution value."""


def _resolve(
    checkpoint_id: int,
    action: Resolution,
    *,
    edited_text: str | None = None,
    notes: str | None = None,
    rerun: bool = False,
) -> int:
    from app.core.platform import current_user
    from app.store import workflow_repo as wrepo
    from app.store.settings import load_settings
    from app.supervisor.workflow_transitions import resolve_checkpoint

    locations, conn = open_store()
    settings = load_settings(locations.settings)
    outcome = resolve_checkpoint(
        conn,
        settings,
        checkpoint_id,
        action,
        edited_text=edited_text,
        notes=notes,
        rerun=rerun,
        who=current_user(),
    )
    workflow = wrepo.get_workflow(conn, outcome.workflow_id)
    what = f"step {workflow.definition.steps[workflow.current_step].name!r} queued"
    if not outcome.queued:
        what = workflow.state.value
    print(f"Checkpoint {checkpoint_id}: {_DONE[action.value]}; workflow {workflow.id} {what}.")
    return EXIT_OK


def cmd_checkpoints(args: argparse.Namespace) -> int:
    from app.store import workflow_repo as wrepo

    _, conn = open_store()
    pending = wrepo.pending_checkpoints(conn)
    if args.json:
        print_json([c.summary() for c in pending])
        return EXIT_OK
    if not pending:
        print("No checkpoints are waiting.")
    for checkpoint in pending:
        print(
            f"Checkpoint {checkpoint.id}: workflow {checkpoint.workflow_id} "
            f"({checkpoint.workflow_name}), after step {checkpoint.step_name!r}"
        )
        print(_indent(_preview(checkpoint.result_text), "  | "))
        print(
            f"  agentry checkpoint approve {checkpoint.id}  |  edit {checkpoint.id} --text …"
            f"  |  reject {checkpoint.id} --notes … [--rerun]\n"
        )
    return EXIT_OK


# ---------------------------------------------------------------------- output helpers


def _preview(text: str) -> str:
    lines = text.splitlines()
    if len(lines) <= PREVIEW_LINES:
        return text
    return "\n".join([*lines[:PREVIEW_LINES], f"… ({len(lines) - PREVIEW_LINES} more lines)"])


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in (text.splitlines() or [""]))
