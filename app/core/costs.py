"""How a cost in US dollars is written for people.

A column of costs rounds to cents, where a task that cost $0.0005 would read "$0.00" and
look free while a footer says otherwise; below a cent it says "<$0.01" instead. Where
there is room for the exact figure (a run's footer, the Details tab) it keeps four
places below a dollar.
"""

from __future__ import annotations


def format_cost(usd: float | None, *, exact: bool = False) -> str:
    """ "$1.25", "<$0.01"; with ``exact``, "$0.0005" below a dollar. "" when unknown."""
    if usd is None:
        return ""
    if usd <= 0:
        return "$0.00"
    if exact and usd < 1:
        return f"${usd:.4f}"
    if usd < 0.01:
        return "<$0.01"
    return f"${usd:,.2f}"
