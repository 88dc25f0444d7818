"""The usage record: sums that keep "no cost reported" apart from "$0", every day of the
period, and folders merged under their project."""

from __future__ import annotations

from datetime import date

from app.core.usage import Usage, UsageReport, UsageRow, format_tokens

MON, TUE, WED = date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11)


def test_a_sum_has_a_cost_only_where_some_run_reported_one() -> None:
    tokens_only = Usage(None, 100, 10, 1)
    assert (tokens_only + tokens_only).cost_usd is None
    assert (tokens_only + Usage(0.5, 1, 1, 1)) == Usage(0.5, 101, 11, 2)
    assert Usage(0.0) + Usage() == Usage(0.0)


def test_days_lists_every_day_of_the_period_those_without_runs_too() -> None:
    report = UsageReport(MON, WED, (UsageRow(TUE, "claude", "/p", Usage(1.0, runs=1)),))
    assert report.days() == [(MON, Usage()), (TUE, Usage(1.0, runs=1)), (WED, Usage())]


def test_agents_and_projects_come_dearest_first_then_by_tokens() -> None:
    report = UsageReport(MON, WED, (
        UsageRow(MON, "codex", "/a", Usage(None, 9000, 0, 1)),
        UsageRow(MON, "claude", "/b", Usage(0.25, 10, 0, 1)),
        UsageRow(TUE, "gemini", "/a", Usage(None, 50, 0, 1)),
        UsageRow(WED, "claude", "/a", Usage(1.0, 10, 0, 1)),
    ))  # fmt: skip
    assert [a for a, _ in report.by_agent()] == ["claude", "codex", "gemini"]
    assert report.by_project() == [("/a", Usage(1.0, 9060, 0, 3)), ("/b", Usage(0.25, 10, 0, 1))]
    assert report.total() == Usage(1.25, 9070, 0, 4)


def test_regrouped_merges_the_folders_of_one_project() -> None:
    report = UsageReport(MON, MON, (
        UsageRow(MON, "claude", "/repo", Usage(1.0, 1, 1, 1)),
        UsageRow(MON, "claude", "/repo/sub", Usage(2.0, 1, 1, 1)),
        UsageRow(MON, "claude", "/other", Usage(4.0, 1, 1, 1)),
    ))  # fmt: skip
    merged = report.regrouped(lambda folder: "/repo" if folder.startswith("/repo") else folder)
    assert [(r.project, r.usage.cost_usd) for r in merged.rows] == [("/other", 4.0),
                                                                    ("/repo", 3.0)]  # fmt: skip


def test_json_has_stable_keys() -> None:
    report = UsageReport(MON, TUE, (UsageRow(TUE, "claude", "/p", Usage(1.0, 2, 3, 1)),))
    data = report.to_json()
    assert list(data) == ["since", "until", "days", "agents", "projects", "total"]
    assert data["days"][0] == {"day": "2026-03-09", "cost_usd": None, "input_tokens": 0,
                               "output_tokens": 0, "runs": 0}  # fmt: skip
    assert data["agents"] == [{"agent": "claude", "cost_usd": 1.0, "input_tokens": 2,
                               "output_tokens": 3, "runs": 1}]  # fmt: skip


def test_token_counts_read_at_a_glance() -> None:
    assert [format_tokens(n) for n in (950, 12_345, 4_100_000)] == ["950", "12.3k", "4.1M"]
