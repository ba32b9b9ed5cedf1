"""Storage: a month's minutes summed per student service in PostgreSQL (the fast path of
``storage.minutes.minute_groups``).

``minute_groups`` sums the sessions per student service *and shape* (status, reason, make-up,
note, overdue, before or in the month) and the caller weighs each shape by the minutes rule: a
whole organisation's month is a quarter of a million groups to hash on eight keys and read. Here
the caller's weights (what one minute of each shape adds to delivered, owed, made up and due,
worked out by the rule once per shape of the vocabulary) go into the query as arrays indexed by a
shape number, and the database sums straight into one row per student service. A session whose
status or reason is outside the vocabulary has no number: then nothing is summed here (None) and
the caller reads the groups instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import ARRAY, DateTime, Integer, case, cast, func, literal, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import Grouping

from bot.domain.vocabulary import CancelReason, SessionStatus
from storage import models as m
from storage.db import driver_named
from storage.minutes import BEFORE, IN, Scope, month_reads

TS = m.TherapySession
STATUSES: tuple[str, ...] = tuple(SessionStatus)
REASONS: tuple[str | None, ...] = (None, *CancelReason)


class Shape(NamedTuple):
    """What the minutes rule looks at in a session (``MinuteGroup`` without its sums)."""

    status: str
    cancel_reason: str | None
    makeup: bool
    note_written: bool
    unmarked_overdue: bool
    period: str  # before | in


# What one minute of a shape adds: delivered, owed, made up, due (in the month and its week).
Weights = tuple[int, int, int, int]


def shapes() -> Iterator[Shape]:
    """Every shape of the vocabulary, in the order of its number (``shape_number``)."""
    for status in STATUSES:
        for reason in REASONS:
            for makeup in (False, True):
                for note in (False, True):
                    for overdue in (False, True):
                        for period in (IN, BEFORE):
                            yield Shape(status, reason, makeup, note, overdue, period)


def _number(before: Any, overdue: Any, note: Any) -> Any:
    """The session's shape number in SQL (NULL: a status or reason outside the vocabulary)."""
    status = case({v: i for i, v in enumerate(STATUSES)}, value=TS.status)
    reason = case(
        (TS.cancel_reason.is_(None), literal(0)),
        else_=case({v: i for i, v in enumerate(REASONS) if v is not None}, value=TS.cancel_reason),
    )
    flags = [TS.makeup, note, overdue, before]
    number: Any = status * len(REASONS) + reason
    for flag in flags:
        number = number * 2 + cast(flag, Integer)
    return number


def minute_sums(
    s: Session,
    scope: Scope,
    first: date,
    last: date,
    overdue_before: datetime,
    weeks: Sequence[int] | None,
    weigh: Callable[[Shape], Weights],
    width: int = 0,
) -> tuple[dict[tuple[str, str], list[int]], list[tuple[Any, ...]]] | None:
    """(sums, edge groups) on PostgreSQL, else None. ``sums``: per (student, service),
    ``[delivered, owed, made up, due, *due in each of weeks]`` (``weeks`` None: every week of
    the month; zeros added up to ``width`` sums) over the sessions away from the edges, each
    session's minutes times its shape's ``weigh``; ``edge groups``: the sessions near a week's
    or the month's edge, as ``minute_groups`` rows (the caller weighs them). None too when a
    session has a status or reason outside the vocabulary, or no school is in scope."""
    if s.get_bind().dialect.name != "postgresql":
        return None
    reads = month_reads(s, scope, first, last, overdue_before)
    if reads is None:
        return None
    if weeks is None:
        weeks = range(len(reads.bands) - 1)
    table = [weigh(shape) for shape in shapes()]
    student, service, *_, note, overdue = reads.cols
    # Each session's shape number and week worked out once (arrays count from 1), then its
    # minutes weighed once per sum. PostgreSQL would inline a plain subquery's expressions into
    # every sum that reads them (eleven shape numbers a row): OFFSET 0 keeps each layer whole.
    number = _number(TS.starts_at < reads.bands[0][0], overdue, note) + 1
    # 0 before the month, w + 1 in week w (no session read here is in a band between weeks).
    cuts = [lo for lo, _ in reads.bands[:-1]]
    week = func.width_bucket(TS.starts_at, literal(cuts, ARRAY(DateTime(timezone=True))))
    one = (
        select(student, service, TS.minutes, week.label("week"), number.label("number"))
        .where(*reads.where)
        .offset(0)
        .subquery()
    )

    def weighed(i: int) -> Any:
        weights = Grouping(literal([w[i] for w in table], ARRAY(Integer)))
        return (one.c.minutes * type_coerce(weights, ARRAY(Integer))[one.c.number]).label(f"w{i}")

    two = (
        select(one.c.student_id, one.c.service, one.c.week, one.c.number)
        .add_columns(*(weighed(i) for i in range(4)))
        .offset(0)
        .subquery()
    )
    sums: list[Any] = [func.sum(two.c[f"w{i}"]) for i in range(4)]
    sums += [func.coalesce(func.sum(two.c.w3).filter(two.c.week == w + 1), 0) for w in weeks]
    odd = func.count().filter(two.c.number.is_(None))
    q = select(two.c.student_id, two.c.service, odd, *sums).group_by(
        two.c.student_id, two.c.service
    )
    # Each row made its entry as the driver reads it: a whole organisation's month is a hundred
    # thousand and more, and a list of rows beside the entries would double them.
    pad = [0] * max(0, width - 4 - len(weeks))
    unknown = 0

    def entry(sid: str, svc: str, n: int, *sums: int) -> tuple[tuple[str, str], list[int]]:
        nonlocal unknown
        unknown += n
        return (sid, svc), [*sums, *pad]

    entries = driver_named(s, q, entry)
    if unknown:
        return None
    return dict(entries), reads.edge_rows(s, weeks)
