"""Services: the month's sessions summed per student service for the minutes rule — what each
minute of a session of each shape adds to delivered, owed, made up and due (``Tally.add``, asked
once per shape), summed in the database where it can (``storage.minute_sums``), else from the
groups (``storage.minutes.minute_groups``). Read by ``bot.services.minutes``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.domain.minutes import WEEKS, Month, SessionFacts, Tally
from storage import minutes as q
from storage.minute_sums import minute_sums

# What one minute of a shape adds: delivered, owed, made up, due (in the month, and its week).
Effect = tuple[int, int, int, int]
DUE = 3  # a tally's sums: [delivered, owed, made up, due in the month, due in week 0, 1, ...]
WEEK0 = 4


def shape_effect(
    status: str,
    reason: str | None,
    makeup: bool,
    note: bool,
    overdue: bool,
    period: str,
    *,
    no_show_owed: bool,
) -> Effect:
    """What one minute of a session of this shape adds (the rule, ``Tally.add``)."""
    one = Tally()
    if period != q.AFTER:
        facts = SessionFacts(status, reason, bool(makeup), bool(note), bool(overdue))
        one = one.add(facts, 1, period == q.IN, no_show_owed=no_show_owed, week=0)
    return (one.delivered, one.owed, one.made_up, one.weeks[0])


def tally_groups(
    groups: Iterable[tuple[Any, ...]],
    *,
    no_show_owed: bool,
    into: dict[tuple[str, str], list[int]] | None = None,
) -> dict[tuple[str, str], list[int]]:
    """Each student service's [delivered, owed, made up, due in the month, due in each week of
    the month], from ``minute_groups`` rows summed by every week (added to ``into``'s). The
    rule is ``Tally.add``, which is linear in the minutes; the groups come in a few dozen
    shapes, so the rule is asked once per shape what one minute of it adds, and the minutes are
    summed with that."""
    effects: dict[tuple[object, ...], Effect] = {}
    sums: dict[tuple[str, str], list[int]] = {} if into is None else into
    for sid, svc, status, reason, makeup, note, overdue, period, minutes, *by_week in groups:
        shape = (status, reason, makeup, note, overdue, period)
        effect = effects.get(shape)
        if effect is None:
            effect = effects[shape] = shape_effect(*shape, no_show_owed=no_show_owed)
        if effect == (0, 0, 0, 0):
            continue
        total = sums.get((sid, svc))
        if total is None:
            total = sums[(sid, svc)] = [0] * (WEEK0 + WEEKS)
        total[0] += effect[0] * minutes
        total[1] += effect[1] * minutes
        total[2] += effect[2] * minutes
        if effect[3] and period == q.IN:
            total[DUE] += minutes
            for i, week in enumerate(by_week, WEEK0):
                total[i] += week
    return sums


def month_tallies(
    s: Session, scope: q.Scope, month: Month, cutoff: datetime, owed: bool
) -> dict[tuple[str, str], list[int]]:
    """``tally_groups`` of the month's sessions, every week of the month summed: per student
    service in the database where it can (``minute_sums``, each shape weighed by the rule
    once), else from the groups."""
    sums = minute_sums(
        s, scope, month.first, month.last, cutoff, None,
        lambda shape: shape_effect(*shape, no_show_owed=owed), width=WEEK0 + WEEKS,
    )  # fmt: skip
    if sums is None:
        groups = q.minute_groups(s, scope, month.first, month.last, cutoff)
        return tally_groups(groups, no_show_owed=owed)
    tallies, edges = sums
    return tally_groups(edges, no_show_owed=owed, into=tallies)
